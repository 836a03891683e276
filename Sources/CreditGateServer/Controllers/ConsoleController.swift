import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird

/// The server-rendered console under `/console`.
struct ConsoleController {
    let authentication: AuthenticationService
    let directory: DirectoryService
    let status: SystemStatusService
    let renderer: ConsoleRenderer
    let cookies: SessionCookies
    let sessionPolicy: SessionPolicy
    let stylesheet: Data
    let liveScript: Data
    let reportScript: Data
    let clock: @Sendable () -> Date

    func addRoutes(to console: RouterGroup<AppRequestContext>) {
        console.get(use: root)
        console.get("static/app.css", use: css)
        console.get("static/live.js", use: script)
        console.get("static/report.js", use: viewerScript)
        console.get("sign-in", use: signInForm)
        console.post("sign-in", use: signIn)
        console.group().add(middleware: RequirePermission(.consoleUse)).get("home", use: home)
        console.group().add(middleware: RequireSession())
            .post("sign-out", use: signOut)
            .get("account/password", use: passwordForm)
            .post("account/password", use: changePassword)
            .get("account/second-factor", use: enrolmentForm)
            .post("account/second-factor", use: confirmEnrolment)
        console.group().add(middleware: RequirePermission(.systemStatusRead)).get("status", use: systemStatus)
        console.group().add(middleware: RequirePermission(.profileUpdate))
            .get("preferences", use: preferences)
            .post("preferences", use: savePreferences)
    }

    @Sendable func root(_ request: Request, context: AppRequestContext) async throws -> Response {
        .redirect(to: context.identity == nil ? "/console/sign-in" : "/console/home", type: .normal)
    }

    @Sendable func css(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                 body: .init(byteBuffer: ByteBuffer(data: stylesheet)))
    }

    /// The console's one script: live parts of a page (the approver's queue), served from here like the stylesheet.
    @Sendable func script(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=3600"],
                 body: .init(byteBuffer: ByteBuffer(data: liveScript)))
    }

    /// The report viewer's script: no selection, copy, context menu or print shortcuts.
    @Sendable func viewerScript(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=3600"],
                 body: .init(byteBuffer: ByteBuffer(data: reportScript)))
    }

    // MARK: Signing in and out

    @Sendable func signInForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        if context.identity?.via == .cookie { return .redirect(to: "/console/home", type: .normal) }
        let message: String? = switch request.uri.queryParameters["m"].map(String.init) {
        case "signed_out": "signin_signed_out"
        case "expired": "signin_session_expired"
        case "superseded": "signin_superseded"
        case "password_changed": "signin_password_changed"
        default: nil
        }
        return signInPage(request: request, context: context, language: Self.chosenLanguage(request.uri.queryParameters["lang"].map(String.init)),
                          messageKey: message, errorKey: nil, employeeID: "", status: .ok)
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        let language = Self.chosenLanguage(form["lang"])
        do {
            let signIn = try await authentication.signIn(employeeID: form["employee_id"] ?? "", password: form["password"] ?? "",
                                                         code: form["code"], clientIP: context.clientIP)
            let target = signIn.session.stage == .full ? (signIn.endedOtherSessions > 0 ? "/console/home?ended=1" : "/console/home")
                : AccountSetup.path(for: signIn.session.stage)
            var response = Response.redirect(to: target, type: .normal)
            response.setCookie(Cookie(name: cookies.sessionName, value: signIn.token, maxAge: Int(sessionPolicy.absoluteLifetime),
                                      path: "/", secure: cookies.secure, httpOnly: true, sameSite: .strict))
            response.setCookie(Cookie(name: cookies.csrfName, value: "", maxAge: 0, path: "/", secure: cookies.secure, httpOnly: true, sameSite: .strict))
            return response
        } catch let error as CreditGateError where [.invalidCredentials, .forbidden, .tooManyRequests].contains(error.kind) {
            return signInPage(request: request, context: context, language: language, messageKey: nil,
                              errorKey: error.detailKey ?? "signin_failed", employeeID: form["employee_id"] ?? "",
                              status: .init(code: error.kind.status))
        }
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await authentication.signOut(try context.requireIdentity(), clientIP: context.clientIP)
        var response = Response.redirect(to: "/console/sign-in?m=signed_out", type: .normal)
        response.setCookie(Cookie(name: cookies.sessionName, value: "", maxAge: 0, path: "/", secure: cookies.secure, httpOnly: true, sameSite: .strict))
        return response
    }

    /// The sign-in page with a fresh anonymous CSRF token in a SameSite=Strict cookie and the form.
    private func signInPage(request: Request, context: AppRequestContext, language: Language?, messageKey: String?,
                            errorKey: String?, employeeID: String, status: HTTPResponse.Status) -> Response {
        let token = AuthenticationService.randomToken()
        let local = Localizer(language ?? context.language)
        var response = renderer.page("sign-in", titleKey: "signin_title", context: context, language: language, extra: [
            "csrf": token,
            "message": messageKey.map { local($0) } ?? false,
            "error": errorKey.map { local($0) } ?? false,
            "employeeID": employeeID,
        ], status: status)
        response.setCookie(Cookie(name: cookies.csrfName, value: token, path: "/", secure: cookies.secure, httpOnly: true, sameSite: .strict))
        return response
    }

    static func chosenLanguage(_ code: String?) -> Language? {
        code.flatMap(Language.init(code:))
    }

    // MARK: Pages

    @Sendable func home(_ request: Request, context: AppRequestContext) async throws -> Response {
        var page = ConsolePages.home(try context.requireIdentity(), policy: sessionPolicy, Localizer(context.language))
        page["endedOthers"] = request.uri.queryParameters["ended"] != nil
        return renderer.page("home", titleKey: "home_title", context: context, page: page)
    }

    // MARK: Finishing the account's set-up

    @Sendable func passwordForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        renderer.page("account-password", titleKey: "account_password_title", context: context,
                      page: ["required": context.identity?.session.stage == .passwordChange, "error": false])
    }

    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        guard form["new_password"] == form["confirm_password"] else {
            return renderer.page("account-password", titleKey: "account_password_title", context: context,
                                 page: ["required": identity.session.stage == .passwordChange, "error": Localizer(context.language)("password_mismatch")],
                                 status: .unprocessableContent)
        }
        do {
            let stage = try await authentication.changePassword(identity, current: form["current_password"] ?? "", new: form["new_password"] ?? "",
                                                                clientIP: context.clientIP)
            return .redirect(to: stage == .full ? "/console/home" : AccountSetup.path(for: stage), type: .normal)
        } catch let error as CreditGateError where error.kind == .validationFailed {
            return renderer.page("account-password", titleKey: "account_password_title", context: context,
                                 page: ["required": identity.session.stage == .passwordChange,
                                        "error": Localizer(context.language)(error.detailKey ?? "password_too_short")],
                                 status: .unprocessableContent)
        }
    }

    @Sendable func enrolmentForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let local = Localizer(context.language)
        do {
            let enrolment = try await authentication.beginEnrolment(identity, label: local("totp_qr_label"))
            return renderer.page("account-second-factor", titleKey: "totp_title", context: context,
                                 page: ["qr": enrolment.qrSVG, "secret": ConsolePages.grouped(enrolment.secret), "error": false], status: .ok)
        } catch let error as CreditGateError where error.kind == .conflict {
            return renderer.page("account-second-factor", titleKey: "totp_title", context: context,
                                 page: ["enrolled": true, "error": local(error.detailKey ?? "totp_already_enrolled")], status: .ok)
        }
    }

    @Sendable func confirmEnrolment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        do {
            let stage = try await authentication.confirmEnrolment(identity, code: form["code"] ?? "", clientIP: context.clientIP)
            return .redirect(to: stage == .full ? "/console/home" : AccountSetup.path(for: stage), type: .normal)
        } catch let error as CreditGateError where error.kind == .validationFailed || error.kind == .conflict {
            // A wrong code: show a fresh secret, since the page's old one may have been seen.
            let local = Localizer(context.language)
            let enrolment = try await authentication.beginEnrolment(identity, label: local("totp_qr_label"))
            return renderer.page("account-second-factor", titleKey: "totp_title", context: context,
                                 page: ["qr": enrolment.qrSVG, "secret": ConsolePages.grouped(enrolment.secret),
                                        "error": local(error.detailKey ?? "signin_code_invalid")], status: .unprocessableContent)
        }
    }

    @Sendable func systemStatus(_ request: Request, context: AppRequestContext) async throws -> Response {
        renderer.page("status", titleKey: "status_title", context: context, page: ConsolePages.status(await status.current()))
    }

    @Sendable func preferences(_ request: Request, context: AppRequestContext) async throws -> Response {
        let page = ConsolePages.preferences(current: context.identity?.user.preferredLanguage,
                                            saved: request.uri.queryParameters["saved"] != nil, Localizer(context.language))
        return renderer.page("preferences", titleKey: "prefs_title", context: context, page: page)
    }

    @Sendable func savePreferences(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        let choice = form["language"] ?? ""
        let language: Language?
        if choice == "browser" {
            language = nil
        } else if let chosen = Language(code: choice) {
            language = chosen
        } else {
            throw CreditGateError(.validationFailed, cause: "unknown language choice")
        }
        try await directory.setLanguage(for: identity, to: language, clientIP: context.clientIP, now: clock())
        return .redirect(to: "/console/preferences?saved=1", type: .normal)
    }
}
