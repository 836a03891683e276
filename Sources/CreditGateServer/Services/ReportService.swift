import CreditGateBureau
import CreditGateCore
import CreditGateStore
import Foundation
import Logging

/// 只准许查询人本人在线浏览: opens a stored report for the person who queried it, inside the viewing window,
/// after recording the opening — so that every view is in the audit log before anything of the report is shown, and
/// the watermark can name the view.
public struct ReportService: Sendable {
    let queries: any QueryRepository
    let views: any ReportViewRepository
    let sealer: EnvelopeSealer
    let audit: AuditTrail
    /// How long after the answer the querier may open the report (24 hours by default).
    let viewingWindow: TimeInterval
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(queries: any QueryRepository, views: any ReportViewRepository, sealer: EnvelopeSealer, audit: AuditTrail, viewingWindow: TimeInterval,
                clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.queries = queries
        self.views = views
        self.sealer = sealer
        self.audit = audit
        self.viewingWindow = viewingWindow
        self.clock = clock
        self.logger = logger
    }

    /// A report opened for one view.
    public struct Opened: Sendable {
        public let query: CreditQuery
        public let report: CreditReport
        public let view: ReportView
        /// Until when the querier may open it again.
        public let openUntil: Date
    }

    /// Opens the report of the query. Anyone but the querier, a report outside its window or destroyed, and an unknown
    /// query all get the same 404; each refusal is in the audit log with its reason.
    public func open(_ queryID: CreditQuery.ID, by actor: AuthenticatedUser, clientIP: String) async throws -> Opened {
        let now = clock()
        let query = try await queries.query(queryID)
        var stored: StoredReport?
        if let reportID = query?.reportID { stored = try await queries.report(reportID) }
        func refuse(_ reason: String) async throws -> Never {
            try await audit.record(AuditEvent(
                kind: .reportViewed, occurredAt: now, actor: .init(actor.user), clientIP: clientIP,
                subjectHash: query.map { audit.subjects.hash(identifierType: $0.subject.type.rawValue, identifier: $0.subject.number) },
                outcome: .denied, reasonCodes: [reason], details: ["query": String(queryID.rawValue.prefix(64))]
            ))
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "report not shown: \(reason)")
        }
        guard let query else { try await refuse("report_unknown_query") }
        if let refusal = ReportAccess.refusal(for: query, viewer: actor.user.id, reportExists: stored != nil, at: now, window: viewingWindow) {
            try await refuse(refusal.rawValue)
        }
        guard let stored, let answeredAt = query.answeredAt else { try await refuse(ReportAccess.Refusal.destroyed.rawValue) }
        // A ciphertext or wrapped key that does not authenticate — tampered with, or moved from another report — is
        // never shown; the refusal is logged for the compliance officer.
        let report: CreditReport
        do {
            report = try Self.decoder.decode(CreditReport.self, from: try sealer.open(stored.envelope, binding: StoredReport.binding(stored.id)))
        } catch {
            logger.error("report did not open", metadata: ["query": .string(query.id.rawValue), "error": .string(String(describing: error))])
            try await audit.record(AuditEvent(
                kind: .reportViewed, occurredAt: now, actor: .init(actor.user), clientIP: clientIP,
                subjectHash: audit.subjects.hash(identifierType: query.subject.type.rawValue, identifier: query.subject.number),
                outcome: .failed, reasonCodes: ["report_unreadable"], details: ["query": query.id.rawValue, "report": stored.id.rawValue]
            ))
            throw CreditGateError(.conflict, detailKey: "report_unreadable", cause: "report \(stored.id) failed authentication")
        }
        let viewID = ReportView.newID()
        let index = try await audit.record(AuditEvent(
            kind: .reportViewed, occurredAt: now, actor: .init(actor.user), clientIP: clientIP,
            subjectHash: audit.subjects.hash(identifierType: query.subject.type.rawValue, identifier: query.subject.number),
            consentID: query.consentID?.rawValue, purposeCode: query.purpose.code, outcome: .success,
            details: ["view": viewID.rawValue, "query": query.id.rawValue, "report": stored.id.rawValue]
        ))
        let view = ReportView(id: viewID, queryID: query.id, reportID: stored.id, userID: actor.user.id, organisationID: actor.user.organisationID,
                              viewedAt: now, clientIP: clientIP, logIndex: index)
        try await views.record(view)
        return Opened(query: query, report: report, view: view, openUntil: answeredAt.addingTimeInterval(viewingWindow))
    }

    /// A view traced back from its ID (read off a screenshot): who, when, from where, which query and consent.
    public struct Trace: Sendable {
        public let view: ReportView
        public let query: CreditQuery?
    }

    public func trace(_ text: String, by actor: AuthenticatedUser, clientIP: String) async throws -> Trace {
        guard let id = ReportView.normalisedID(text) else {
            throw CreditGateError(.validationFailed, detailKey: "report_view_id_format", cause: "view ID not 16 hex digits")
        }
        let view = try await views.view(id)
        try await audit.record(AuditEvent(
            kind: .reportViewTraced, occurredAt: clock(), actor: .init(actor.user), clientIP: clientIP, outcome: view == nil ? .denied : .success,
            details: ["view": id.rawValue]
        ))
        guard let view else { throw CreditGateError(.notFound, detailKey: "report_view_unknown", cause: "view ID unknown") }
        return Trace(view: view, query: try await queries.query(view.queryID))
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
