import CreditGateBureau
import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird

/// The report viewer and the compliance officer's trace from a view ID back to the view.
struct ReportConsoleController {
    let reports: ReportService
    let retention: RetentionService
    let users: any UserRepository
    let renderer: ConsoleRenderer

    func addRoutes(to console: RouterGroup<AppRequestContext>) {
        console.group().add(middleware: RequirePermission(.queriesMake)).get("queries/{id}/report", use: viewer)
        console.group().add(middleware: RequirePermission(.reportsTrace))
            .get("report-views", use: tracePage)
            .post("report-views", use: trace)
        console.group().add(middleware: RequirePermission(.recordsRetention))
            .get("retention", use: retentionPage)
            .post("retention/holds", use: placeHold)
            .post("retention/holds/{id}/release", use: releaseHold)
    }

    // MARK: Retention

    @Sendable func retentionPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await retentionPage(context: context, extra: [:], status: .ok)
    }

    func retentionPage(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let local = Localizer(context.language)
        let people = Dictionary(try await users.all().map { ($0.id, "\($0.displayName) (\($0.employeeID))") }, uniquingKeysWith: { first, _ in first })
        var page: [String: Any] = [
            "holds": try await retention.holds().map { hold -> [String: Any] in
                var row: [String: Any] = [
                    "queryId": hold.queryID.rawValue, "reason": hold.reason, "placedAt": ConsolePages.time(hold.placedAt, local),
                    "placedBy": people[hold.placedBy] ?? hold.placedBy.rawValue, "active": hold.releasedAt == nil,
                ]
                if let released = hold.releasedAt {
                    row["releasedAt"] = ConsolePages.time(released, local) + (hold.releasedBy.flatMap { " · " + (people[$0] ?? $0.rawValue) } ?? "")
                }
                return row
            },
            "destructions": try await retention.destructions().map { destruction -> [String: Any] in
                ["at": ConsolePages.time(destruction.destroyedAt, local), "queryId": destruction.queryID.rawValue,
                 "reason": local("destruction_reason_\(destruction.reason)"), "logIndex": destruction.logIndex]
            },
        ]
        page.merge(extra) { _, new in new }
        return renderer.page("retention", titleKey: "retention_title", context: context, page: page, status: status)
    }

    @Sendable func placeHold(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, keepNotFound: true, {
            _ = try await retention.placeHold(on: try RequestValues.formID(form["query_id"]), reason: form["reason"] ?? "", by: try context.requireIdentity(),
                                              clientIP: context.clientIP)
            return try await retentionPage(context: context, extra: ["done": Localizer(context.language)("legal_hold_placed_done")], status: .created)
        }, showingRefusalOn: { try await retentionPage(context: context, extra: $0, status: $1) })
    }

    @Sendable func releaseHold(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        _ = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, keepNotFound: true, {
            try await retention.releaseHold(on: try QueryAPIController.id(context), by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await retentionPage(context: context, extra: ["done": Localizer(context.language)("legal_hold_released_done")], status: .ok)
        }, showingRefusalOn: { try await retentionPage(context: context, extra: $0, status: $1) })
    }

    /// The report, for its querier only, inside the viewing window; the watermark names this view.
    @Sendable func viewer(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let opened = try await reports.open(try QueryAPIController.id(context), by: identity, clientIP: context.clientIP)
        let local = Localizer(context.language)
        let kindKey = opened.report.kind == .personal ? "report_kind_personal" : "report_kind_corporate"
        return renderer.page("report", titleKey: kindKey, context: context, page: [
            "kindTitle": "\(Localizer(.zhCN)(kindKey)) \(Localizer(.en)(kindKey))",
            "viewId": opened.view.id.rawValue, "logIndex": opened.view.logIndex,
            "openUntil": ConsolePages.time(opened.openUntil, local),
            "watermark": opened.view.watermark(name: identity.user.displayName, employeeID: identity.user.employeeID),
            "sections": ReportPresentation.sections(of: opened.report),
        ])
    }

    @Sendable func tracePage(_ request: Request, context: AppRequestContext) async throws -> Response {
        renderer.page("report-views", titleKey: "report_trace_title", context: context)
    }

    @Sendable func trace(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        let local = Localizer(context.language)
        return try await ConsoleForms.submitting(context, keepNotFound: true, {
            let trace = try await reports.trace(form["view_id"] ?? "", by: try context.requireIdentity(), clientIP: context.clientIP)
            let viewer = try await users.find(trace.view.userID)
            var found: [String: Any] = [
                "viewId": trace.view.id.rawValue, "at": ConsolePages.time(trace.view.viewedAt, local), "ip": trace.view.clientIP,
                "viewer": viewer.map { "\($0.displayName) (\($0.employeeID))" } ?? trace.view.userID.rawValue,
                "queryId": trace.view.queryID.rawValue, "reportId": trace.view.reportID.rawValue, "logIndex": trace.view.logIndex,
            ]
            if let query = trace.query {
                found["subject"] = "\(query.subjectName) \(Masking.identifier(query.subject.number))"
                found["purpose"] = "\(query.purpose.code) \(local(query.purpose.nameKey))"
                found["consentId"] = query.consentID?.rawValue ?? local("empty_value")
                found["queriedAt"] = ConsolePages.time(query.requestedAt, local)
            }
            return renderer.page("report-views", titleKey: "report_trace_title", context: context, page: ["trace": found])
        }, showingRefusalOn: { renderer.page("report-views", titleKey: "report_trace_title", context: context, page: $0, status: $1) })
    }
}
