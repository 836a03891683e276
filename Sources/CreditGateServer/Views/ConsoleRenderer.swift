import CreditGateCore
import Foundation
import Hummingbird
import Mustache

/// The files shipped inside the server: templates, the stylesheet, the OpenAPI document.
enum BundledResources {
    static var directory: URL {
        Bundle.module.url(forResource: "Resources", withExtension: nil)
            ?? Bundle.module.bundleURL.appendingPathComponent("Resources")
    }

    static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(relativePath))
    }
}

/// A console navigation entry, shown only to users whose roles grant its permission.
struct NavigationItem: Sendable {
    let path: String
    let labelKey: String
    let permission: Permission

    static let all: [NavigationItem] = [
        .init(path: "/console/home", labelKey: "nav_home", permission: .consoleUse),
        .init(path: "/console/organisations", labelKey: "nav_organisations", permission: .organisationsRead),
        .init(path: "/console/users", labelKey: "nav_users", permission: .usersRead),
        .init(path: "/console/queries", labelKey: "nav_queries", permission: .queriesMake),
        .init(path: "/console/consents", labelKey: "nav_consents", permission: .consentsRead),
        .init(path: "/console/special-cases", labelKey: "nav_special_cases", permission: .specialCasesApprove),
        .init(path: "/console/exceptions", labelKey: "nav_exceptions", permission: .exceptionsApprove),
        .init(path: "/console/report-views", labelKey: "nav_report_views", permission: .reportsTrace),
        .init(path: "/console/retention", labelKey: "nav_retention", permission: .recordsRetention),
        .init(path: "/console/loans", labelKey: "nav_loans", permission: .loansRead),
        .init(path: "/console/client-apps", labelKey: "nav_client_apps", permission: .clientAppsRead),
        .init(path: "/console/policy", labelKey: "nav_policy", permission: .policyRead),
        .init(path: "/console/exam", labelKey: "nav_exam", permission: .examTake),
        .init(path: "/console/access-requests", labelKey: "nav_access_requests", permission: .consoleUse),
        .init(path: "/console/responsibility", labelKey: "nav_responsibility", permission: .responsibilityRead),
        .init(path: "/console/status", labelKey: "nav_status", permission: .systemStatusRead),
        .init(path: "/console/audit-log", labelKey: "nav_audit_log", permission: .auditLogRead),
        .init(path: "/console/preferences", labelKey: "nav_preferences", permission: .profileUpdate),
    ]
}

/// Renders console pages: the layout (user, navigation by role, CSRF token) around a page's own data.
struct ConsoleRenderer: Sendable {
    let library: MustacheLibrary

    static func load() async throws -> ConsoleRenderer {
        let library = try await MustacheLibrary(directory: BundledResources.directory.appendingPathComponent("templates").path)
        return ConsoleRenderer(library: library)
    }

    /// The names of the templates, for the catalogue test.
    static let templateNames = ["base", "sign-in", "home", "organisations", "users", "status", "preferences", "error", "audit-log", "audit-entry",
                                "account-password", "account-second-factor", "exam", "access-requests", "user-detail", "responsibility",
                                "consents", "queries", "query-detail", "loans", "client-apps", "special-cases", "policy", "exceptions", "report", "report-views", "retention"]

    func page(
        _ template: String, titleKey: String, context: AppRequestContext, language: Language? = nil,
        page: [String: Any] = [:], extra: [String: Any] = [:], status: HTTPResponse.Status = .ok
    ) -> Response {
        let language = language ?? context.language
        let local = Localizer(language)
        var data: [String: Any] = [
            "t": local.strings,
            "lang": language.htmlLang,
            "title": local(titleKey),
            "page": page,
        ]
        if let identity = context.identity, identity.via == .cookie {
            data["user"] = [
                "name": identity.user.displayName,
                "employeeID": identity.user.employeeID.value,
                "organisation": identity.organisation?.name ?? "",
            ]
            data["csrf"] = identity.session.csrfToken
            data["nav"] = NavigationItem.all.filter { identity.permissions.contains($0.permission) }.map { item -> [String: Any] in
                ["href": item.path, "label": local(item.labelKey), "current": item.path == context.endpointPath]
            }
        }
        data.merge(extra) { _, new in new }
        let html = library.render(data, withTemplate: template) ?? ""
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .contentLanguage: language.rawValue],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    func errorPage(kind: ProblemKind, detailKey: String?, context: AppRequestContext) -> Response {
        let local = Localizer(context.language)
        var response = page("error", titleKey: "error_title", context: context, page: [
            "status": kind.status,
            "title": local(kind.titleKey),
            "detail": detailKey.map { local($0) } ?? "",
            "requestID": context.requestID,
        ], status: .init(code: kind.status))
        if kind.status == 503 { response.headers[.retryAfter] = "5" }
        return response
    }
}
