import CreditGateCore
import CreditGateStore
import Hummingbird
import NIOCore

/// The signed-in person behind a request, with the session that proves it.
public struct AuthenticatedUser: Sendable {
    public let user: User
    public let organisation: Organisation?
    public let session: StoredSession
    public let permissions: Set<Permission>
    /// How the request proved the session: a console cookie or an API bearer token. CSRF checks apply only to
    /// cookie-authenticated requests, which a browser sends by itself.
    public let via: Credential
    /// The reference data (tree, policy, calendar, applications) as it stood when the request was authenticated;
    /// `nil` when it could not be read. A credit query is decided on it while it is fresh (see ``freshReference``),
    /// so that a request reads the reference version once. Requests that change reference data read it again after
    /// the change.
    public let reference: ReferenceData?
    /// When ``reference`` was confirmed current.
    public let referenceCheckedAt: ContinuousClock.Instant

    /// The reference data read at authentication, if that was at most `age` ago: a request whose body arrives slowly
    /// must not be decided on data older than that (a revoked application, a lowered cap).
    public func freshReference(maximumAge age: Duration = .milliseconds(50)) -> ReferenceData? {
        referenceCheckedAt.duration(to: .now) <= age ? reference : nil
    }

    public enum Credential: Sendable { case cookie, bearer }
}

/// Per-request state shared by middleware and handlers.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address as the socket saw it; `nil` in in-process tests.
    public let peerAddress: String?
    /// The client's address after applying trusted proxies; set by ``RequestLoggingMiddleware``.
    public var clientIP: String = "unknown"
    public var identity: AuthenticatedUser?
    /// A session token was presented but is expired or unknown; the console then says the session ended.
    public var sessionRejected = false
    /// Why the presented session ended, when it did (e.g. a newer sign-in superseded it).
    public var sessionEndReason: SessionEndReason?
    /// The language to answer in; set by ``SessionMiddleware`` (user setting, then `Accept-Language`).
    public var language: Language = .fallback
    /// The request's correlation ID, also in every log line and the `X-Request-ID` header.
    public var requestID: String = ""
    /// The largest request body, from configuration; set by ``RequestLoggingMiddleware``.
    public var bodyLimit: Int = 1_048_576

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The larger limit of a route that takes a scanned document, set when the request is for one.
    public var documentUploadLimit: Int?

    /// The larger document limit applies only to a signed-in person allowed to upload: an anonymous request never
    /// makes the server buffer more than the ordinary limit.
    public var maxUploadSize: Int {
        guard let documentUploadLimit, identity?.permissions.contains(.consentsUpload) == true else { return bodyLimit }
        return max(bodyLimit, documentUploadLimit)
    }
}
