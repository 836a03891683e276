import CreditGateCore
import CreditGateStore
import Foundation
import Logging

/// Retention and destruction. A report's contents are destroyed once its viewing window and a grace period
/// (30 days by default) have passed; a consent's scanned document 5 years after the consent ended; audit payloads
/// 5 years after they were written, leaving the log verifiable. A legal hold on a query keeps its report and
/// consent. Each destruction is in the audit log before it happens, and a report's leaves a destruction record.
public struct RetentionService: Sendable {
    let retention: any RetentionRepository
    let queries: any QueryRepository
    let auditLog: any AuditLogRepository
    let audit: AuditTrail
    /// After the answer: the viewing window plus the grace.
    let reportRetention: TimeInterval
    let recordRetention: TimeInterval
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(retention: any RetentionRepository, queries: any QueryRepository, auditLog: any AuditLogRepository, audit: AuditTrail,
                reportRetention: TimeInterval, recordRetention: TimeInterval, clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.retention = retention
        self.queries = queries
        self.auditLog = auditLog
        self.audit = audit
        self.reportRetention = reportRetention
        self.recordRetention = recordRetention
        self.clock = clock
        self.logger = logger
    }

    /// What one run destroyed.
    public struct Run: Sendable, Equatable {
        public var reports = 0
        public var consentDocuments = 0
        public var auditPayloads = 0
    }

    /// Destroys what is due, in batches, each item logged first.
    public func runDue(batch: Int = 500) async throws -> Run {
        var run = Run()
        let now = clock()
        for (report, query) in try await retention.reportsDue(answeredBefore: now.addingTimeInterval(-reportRetention), limit: batch) {
            if try await destroy(report: report, query: query, reason: "retention", actor: nil, clientIP: "scheduler") { run.reports += 1 }
        }
        for consent in try await retention.consentDocumentsDue(endedBefore: now.addingTimeInterval(-recordRetention), limit: batch) {
            try await audit.record(AuditEvent(kind: .destroyed, occurredAt: clock(), actor: nil, clientIP: "scheduler", consentID: consent.rawValue,
                                              outcome: .success, reasonCodes: ["retention"], details: ["item": "consent_document"]))
            if try await retention.destroyConsentDocument(consent) { run.consentDocuments += 1 }
        }
        run.auditPayloads = try await eraseOldAuditPayloads(before: now.addingTimeInterval(-recordRetention), limit: batch)
        if run != Run() {
            logger.notice("retention", metadata: ["reports": .stringConvertible(run.reports), "consent_documents": .stringConvertible(run.consentDocuments),
                                                  "audit_payloads": .stringConvertible(run.auditPayloads)])
        }
        return run
    }

    /// Crypto-shreds one report: the log entry first (fail closed), then its keys and ciphertext go and the
    /// destruction record is written, in one transaction. `false` when it was already gone or is under a hold.
    func destroy(report: StoredReport.ID, query: CreditQuery.ID, reason: String, actor: AuthenticatedUser?, clientIP: String) async throws -> Bool {
        let now = clock()
        let index = try await audit.record(AuditEvent(
            kind: .destroyed, occurredAt: now, actor: actor.map { .init($0.user) }, clientIP: clientIP, outcome: .success, reasonCodes: [reason],
            details: ["item": "report", "report": report.rawValue, "query": query.rawValue]
        ))
        return try await retention.shred(ReportDestruction(reportID: report, queryID: query, destroyedAt: now, reason: reason, logIndex: index))
    }

    /// Erases the payloads of entries written before `cutoff`; their hashes stay, so the log still verifies.
    func eraseOldAuditPayloads(before cutoff: Date, limit: Int) async throws -> Int {
        let cutoffMilliseconds = Int64((cutoff.timeIntervalSince1970 * 1000).rounded(.down))
        var erased = 0
        var start: UInt64 = 0
        while erased < limit {
            let entries = try await auditLog.entries(startingAt: start, limit: 1000)
            guard let last = entries.last else { break }
            for entry in entries where entry.occurredAt < cutoffMilliseconds && !entry.erased {
                try await auditLog.erasePayload(at: entry.index, now: clock())
                erased += 1
                if erased >= limit { break }
            }
            // Entries are in the order they were written: past the cutoff there is nothing more to erase.
            if last.occurredAt >= cutoffMilliseconds { break }
            start = last.index + 1
        }
        return erased
    }

    // MARK: Legal holds

    public func placeHold(on query: CreditQuery.ID, reason: String, by actor: AuthenticatedUser, clientIP: String) async throws -> LegalHold {
        let text = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (2...500).contains(text.count) else {
            throw CreditGateError(.validationFailed, detailKey: "legal_hold_reason_required", cause: "hold without a reason")
        }
        guard try await queries.query(query) != nil else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "hold on an unknown query")
        }
        let hold = LegalHold(queryID: query, reason: text, placedBy: actor.user.id, placedAt: clock())
        try await audit.record(AuditEvent(kind: .settingChanged, occurredAt: hold.placedAt, actor: .init(actor.user), clientIP: clientIP, outcome: .success,
                                          details: ["setting": "legal_hold", "query": query.rawValue, "change": "placed"]))
        guard try await retention.placeHold(hold) else {
            throw CreditGateError(.conflict, detailKey: "legal_hold_exists", cause: "hold already in force")
        }
        return hold
    }

    public func releaseHold(on query: CreditQuery.ID, by actor: AuthenticatedUser, clientIP: String) async throws {
        try await audit.record(AuditEvent(kind: .settingChanged, occurredAt: clock(), actor: .init(actor.user), clientIP: clientIP, outcome: .success,
                                          details: ["setting": "legal_hold", "query": query.rawValue, "change": "released"]))
        guard try await retention.releaseHold(on: query, by: actor.user.id, at: clock()) else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "no hold in force")
        }
    }

    public func holds() async throws -> [LegalHold] {
        try await retention.holds(limit: 500)
    }

    public func destructions() async throws -> [ReportDestruction] {
        try await retention.destructions(limit: 500)
    }
}
