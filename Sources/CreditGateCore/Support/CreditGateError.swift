/// The kinds of failure a client can see, each with a stable code and an HTTP status (RFC 9457 `type`/`status`).
///
/// The code never changes once shipped: clients and monitoring key on it. Titles come from the catalogue
/// (`problem_<code>`), in both languages.
public struct ProblemKind: Sendable, Hashable {
    public let code: String
    public let status: Int

    public init(code: String, status: Int) {
        self.code = code
        self.status = status
    }

    /// The RFC 9457 `type` URI.
    public var typeURI: String { "urn:creditgate:problem:\(code)" }
    /// The catalogue key of the title.
    public var titleKey: String { "problem_\(code.replacingOccurrences(of: "-", with: "_"))" }

    public static let badRequest = ProblemKind(code: "bad-request", status: 400)
    public static let malformedJSON = ProblemKind(code: "malformed-json", status: 400)
    public static let invalidParameter = ProblemKind(code: "invalid-parameter", status: 400)
    public static let unauthenticated = ProblemKind(code: "unauthenticated", status: 401)
    public static let invalidCredentials = ProblemKind(code: "invalid-credentials", status: 401)
    public static let forbidden = ProblemKind(code: "forbidden", status: 403)
    public static let csrfRejected = ProblemKind(code: "csrf-rejected", status: 403)
    /// Signed in, but the account's set-up (a new password, a second factor) must be finished first.
    public static let setupRequired = ProblemKind(code: "account-setup-required", status: 403)
    public static let notFound = ProblemKind(code: "not-found", status: 404)
    public static let methodNotAllowed = ProblemKind(code: "method-not-allowed", status: 405)
    public static let conflict = ProblemKind(code: "conflict", status: 409)
    public static let payloadTooLarge = ProblemKind(code: "payload-too-large", status: 413)
    public static let unsupportedMediaType = ProblemKind(code: "unsupported-media-type", status: 415)
    public static let validationFailed = ProblemKind(code: "validation-failed", status: 422)
    public static let tooManyRequests = ProblemKind(code: "too-many-requests", status: 429)
    public static let internalError = ProblemKind(code: "internal-error", status: 500)
    /// The query was refused before the bureau was called; the body names every reason (R-23).
    public static let queryRefused = ProblemKind(code: "query-refused", status: 403)
    /// The credit bureau has no record of the subject.
    public static let subjectNotOnFile = ProblemKind(code: "subject-not-on-file", status: 404)
    /// The credit bureau answered with an error, or with something that is not a report.
    public static let badGateway = ProblemKind(code: "bad-gateway", status: 502)
    /// The credit bureau did not answer in time.
    public static let gatewayTimeout = ProblemKind(code: "gateway-timeout", status: 504)
    public static let serviceUnavailable = ProblemKind(code: "service-unavailable", status: 503)

    /// Every kind, for the catalogue test and the OpenAPI document.
    public static let all: [ProblemKind] = [
        .badRequest, .malformedJSON, .invalidParameter, .unauthenticated, .invalidCredentials, .forbidden,
        .csrfRejected, .setupRequired, .notFound, .methodNotAllowed, .conflict, .payloadTooLarge, .unsupportedMediaType,
        .validationFailed, .tooManyRequests, .internalError, .serviceUnavailable, .queryRefused, .subjectNotOnFile, .badGateway,
        .gatewayTimeout,
    ]
}

/// An error a user may be told about: a problem kind, an optional detail (catalogue key), and a cause that is
/// logged but never shown.
public struct CreditGateError: Error, Sendable {
    public let kind: ProblemKind
    /// Catalogue key of a sentence saying what to do about it; `nil` shows only the title.
    public let detailKey: String?
    /// For the log only: may name internal state, never secrets or unmasked identifiers.
    public let cause: String?
    /// Further members of the problem body (RFC 9457 extensions), e.g. the ID of the query that failed.
    public let extensions: [String: String]

    public init(_ kind: ProblemKind, detailKey: String? = nil, cause: String? = nil, extensions: [String: String] = [:]) {
        self.kind = kind
        self.detailKey = detailKey
        self.cause = cause
        self.extensions = extensions
    }
}
