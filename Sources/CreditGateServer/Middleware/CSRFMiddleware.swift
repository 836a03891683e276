import CreditGateCore
import Foundation
import Hummingbird

/// Protects every state-changing console request against cross-site request forgery, two ways:
///
/// 1. The browser's own word: a request whose `Sec-Fetch-Site` says `cross-site` or `same-site`, or whose `Origin`
///    names another server, is refused.
/// 2. A synchroniser token: the form's `_csrf` field must equal the session's token (signed in) or the
///    `cg_csrf` cookie set with the sign-in form (not yet signed in; SameSite=Strict keeps it first-party).
///
/// The comparison is constant-time. It is attached to the console's route group, so every console route has it
/// whatever the path looked like; the API is exempt because it accepts bearer tokens only, never cookies.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let cookies: SessionCookies
    let publicBaseURL: String

    static let fieldName = "_csrf"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard ![.get, .head, .options].contains(request.method) else {
            return try await next(request, context)
        }
        // `same-site` is refused too: a sibling host of the bank's domain is not this application.
        if let site = request.headers[.secFetchSite]?.lowercased(), site == "cross-site" || site == "same-site" {
            throw CreditGateError(.csrfRejected, detailKey: "detail_csrf", cause: "Sec-Fetch-Site \(site)")
        }
        // Browsers send `Origin: null` for same-origin forms under `Referrer-Policy: no-referrer`, so "null" proves
        // nothing either way; the token below still has to match.
        if let origin = request.headers[.origin], origin != "null", !isSameOrigin(origin, request: request) {
            throw CreditGateError(.csrfRejected, detailKey: "detail_csrf", cause: "foreign Origin")
        }
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        let submitted = form[Self.fieldName] ?? ""
        let expected: String?
        if let identity = context.identity, identity.via == .cookie {
            expected = identity.session.csrfToken
        } else {
            expected = request.cookies[cookies.csrfName]?.value
        }
        guard let expected, !submitted.isEmpty, ConstantTime.equals(submitted, expected) else {
            throw CreditGateError(.csrfRejected, detailKey: "detail_csrf", cause: "token mismatch")
        }
        return try await next(request, context)
    }

    /// Same scheme, host and port as the configured public address, or as the `Host` the request came to.
    func isSameOrigin(_ origin: String, request: Request) -> Bool {
        guard let originURL = URLComponents(string: origin), let originHost = originURL.host else { return false }
        let originAuthority = originHost + (originURL.port.map { ":\($0)" } ?? "")
        if let base = URLComponents(string: publicBaseURL), let baseHost = base.host,
           originURL.scheme == base.scheme, originAuthority == baseHost + (base.port.map { ":\($0)" } ?? "") {
            return true
        }
        return request.head.authority == originAuthority
    }
}

/// A URL-encoded form body, read once and kept on the request so that the handler can read it again.
enum FormBody {
    /// The fields of a form: the first value of each name, and every value of names that repeat (check boxes).
    struct Form {
        var fields: [String: String] = [:]
        var all: [String: [String]] = [:]
        /// Files of a `multipart/form-data` form, by field name.
        var files: [String: UploadedFile] = [:]

        subscript(_ name: String) -> String? { fields[name] }
    }

    static func parse(_ request: inout Request, context: AppRequestContext) async throws -> Form {
        let contentType = request.headers[.contentType] ?? ""
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            let buffer = try await request.collectBody(upTo: context.maxUploadSize)
            return try MultipartForm.parse(Data(buffer: buffer), contentType: contentType)
        }
        guard contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            throw CreditGateError(.unsupportedMediaType, cause: "console form with \(contentType.isEmpty ? "no content type" : contentType)")
        }
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        let text = String(buffer: buffer)
        var form = Form()
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            if form.fields[name] == nil { form.fields[name] = value }
            form.all[name, default: []].append(value)
        }
        return form
    }

    private static func decode(_ text: Substring) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
    }
}
