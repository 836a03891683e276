import CreditGateCore
import HTTPTypes
import Hummingbird

/// Finds who is asking and in which language to answer.
///
/// The console authenticates by the session cookie only; the API by a bearer token only. Keeping the two apart
/// means no API call can be forged by a page in another tab (a browser attaches cookies by itself, never a
/// bearer token). An expired session is ended in the database and the request continues anonymous.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let authentication: AuthenticationService
    let cookies: SessionCookies
    let problems: ProblemRenderer

    /// Requests a page makes by itself — the live event stream, and the refresh it triggers — are not the person's
    /// activity and do not extend the session.
    static func isBackground(_ request: Request) -> Bool {
        request.uri.path == "/console/exceptions/events" || request.headers[.creditGateBackground] == "1"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.language = Language.negotiate(acceptLanguage: request.headers[.acceptLanguage]) ?? .fallback
        let path = request.uri.path
        let token: (String, AuthenticatedUser.Credential)?
        if path.hasPrefix("/console"), let value = request.cookies[cookies.sessionName]?.value {
            token = (value, .cookie)
        } else if path.hasPrefix("/api/"), let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            token = (String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces), .bearer)
        } else {
            token = nil
        }
        if let (value, credential) = token {
            do {
                switch try await authentication.authenticate(token: value, via: credential, touching: !Self.isBackground(request)) {
                case .recognised(let identity):
                    context.identity = identity
                case .rejected(let reason):
                    context.sessionRejected = true
                    context.sessionEndReason = reason
                }
            } catch {
                // Without the database nobody can be recognised: answer 503 rather than treat them as anonymous.
                return problems.response(for: error, request: request, context: context)
            }
            if let preferred = context.identity?.user.preferredLanguage {
                context.language = preferred
            }
        }
        context.logger[metadataKey: "user"] = context.identity.map { .string($0.user.id.rawValue) }
        return try await next(request, context)
    }
}

/// Requires a signed-in user whose roles grant `permission`: the one authorisation mechanism, attached to route
/// groups, never re-implemented in handlers.
///
/// An anonymous console request is sent to the sign-in page; an anonymous API request gets 401. A signed-in
/// user whose set-up is unfinished (a password to change, a second factor to enrol) is sent to that step in the
/// console and gets 403 `account-setup-required` from the API. A signed-in user without the permission gets 403.
struct RequirePermission: RouterMiddleware {
    typealias Context = AppRequestContext
    let permission: Permission

    init(_ permission: Permission) {
        self.permission = permission
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let identity = context.identity else {
            if request.uri.path.hasPrefix("/console") {
                let message = context.sessionEndReason == .superseded ? "superseded" : "expired"
                return .redirect(to: context.sessionRejected ? "/console/sign-in?m=\(message)" : "/console/sign-in", type: .normal)
            }
            throw CreditGateError(.unauthenticated, detailKey: context.sessionEndReason == .superseded ? "signin_superseded" : "detail_sign_in_required")
        }
        guard identity.session.stage == .full else {
            if request.uri.path.hasPrefix("/console") {
                return .redirect(to: AccountSetup.path(for: identity.session.stage), type: .normal)
            }
            throw CreditGateError(.setupRequired, detailKey: AccountSetup.detailKey(for: identity.session.stage), cause: "session stage \(identity.session.stage.rawValue)")
        }
        guard identity.permissions.contains(permission) else {
            throw CreditGateError(.forbidden, detailKey: "detail_forbidden", cause: "missing \(permission.rawValue)")
        }
        return try await next(request, context)
    }
}

/// Requires a signed-in user at any stage: the routes that finish an account's set-up (change the password, enrol a
/// second factor) and signing out.
struct RequireSession: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.identity != nil else {
            if request.uri.path.hasPrefix("/console") { return .redirect(to: "/console/sign-in", type: .normal) }
            throw CreditGateError(.unauthenticated, detailKey: "detail_sign_in_required")
        }
        return try await next(request, context)
    }
}

/// Where an unfinished account is sent.
enum AccountSetup {
    static func path(for stage: SessionStage) -> String {
        switch stage {
        case .passwordChange: "/console/account/password"
        case .secondFactorEnrolment: "/console/account/second-factor"
        case .full: "/console/home"
        }
    }

    static func detailKey(for stage: SessionStage) -> String {
        switch stage {
        case .passwordChange: "setup_password_change"
        case .secondFactorEnrolment: "setup_second_factor"
        case .full: "detail_forbidden"
        }
    }
}

extension HTTPField.Name {
    /// Set by the console's own script on requests it makes without the person doing anything.
    static let creditGateBackground = Self("CreditGate-Background")!
}
