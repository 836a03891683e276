import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird

/// The compliance auditor's log page: the latest checkpoint, a search, one entry with its inclusion proof checked
/// against the signed checkpoint, and a full verification on demand.
struct AuditLogConsoleController {
    let repository: any AuditLogRepository
    let users: any UserRepository
    let signer: NoteSigner
    let origin: String
    let audit: AuditTrail
    let renderer: ConsoleRenderer
    let clock: @Sendable () -> Date

    func addRoutes(to console: RouterGroup<AppRequestContext>) {
        console.group("audit-log").add(middleware: RequirePermission(.auditLogRead))
            .get(use: index)
            .get("entries/:index", use: entry)
            .post("verify", use: verify)
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) async throws -> Response {
        let local = Localizer(context.language)
        let parameters = request.uri.queryParameters
        let from = parameters["from"].map(String.init) ?? ""
        let until = parameters["until"].map(String.init) ?? ""
        let employee = parameters["user"].map(String.init) ?? ""
        let kind = parameters["kind"].map(String.init).flatMap(AuditEvent.Kind.init(rawValue:))
        var query = AuditEntryQuery(kind: kind?.rawValue, limit: 200)
        var problem: String?
        if !from.isEmpty { if let time = Self.time(from) { query.from = time } else { problem = local("audit_invalid_time") } }
        if !until.isEmpty { if let time = Self.time(until) { query.until = time } else { problem = local("audit_invalid_time") } }
        var found: [StoredAuditEntry] = []
        if !employee.isEmpty {
            // An unknown employee ID matches nothing rather than everything.
            query.actorUserID = try await EmployeeID(employee).asyncFlatMap { try await users.credentials(for: $0)?.user.id.rawValue } ?? "-"
        }
        if problem == nil { found = try await repository.search(query) }
        let page = ConsolePages.auditLog(
            checkpoint: try await repository.latestCheckpoint(), entries: found, filters: (from, until, employee, kind),
            problem: problem, verdict: nil, local
        )
        return renderer.page("audit-log", titleKey: "audit_title", context: context, page: page)
    }

    @Sendable func entry(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let index = context.parameters.get("index", as: UInt64.self), index < UInt64(Int64.max),
              let stored = try await repository.entries(in: index..<(index + 1)).first
        else { throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "no such audit entry") }
        var proofState = "pending"
        var proofHashes: [TreeHash] = []
        var checkpointSize: UInt64 = 0
        if let checkpoint = try await repository.latestCheckpoint(), checkpoint.size > index {
            checkpointSize = checkpoint.size
            let head = try? Checkpoint(body: signer.verifier.verify(checkpoint.note))
            proofHashes = (try? await AuditLogProofs(repository: repository).inclusionProof(index: index, size: checkpoint.size)) ?? []
            let leafHash = stored.leaf.map(MerkleHasher.leafHash) ?? stored.leafHash
            let verified = head.map { (try? MerkleVerifier.verifyInclusion(leafHash: leafHash, index: index, size: $0.size, proof: proofHashes, root: $0.root)) != nil } ?? false
            proofState = verified ? "verified" : "failed"
        }
        let page = ConsolePages.auditEntry(stored, proof: proofHashes, checkpointSize: checkpointSize, proofState: proofState, Localizer(context.language))
        return renderer.page("audit-entry", titleKey: "audit_entry_title", context: context, page: page)
    }

    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let verdict = try await StoredLogVerification(repository: repository, verifier: signer.verifier, origin: origin).run()
        try await audit.record(AuditEvent(
            kind: .logVerified, occurredAt: clock(), actor: .init(identity.user), clientIP: context.clientIP,
            outcome: verdict.isIntact ? .success : .failed, reasonCodes: verdict.isIntact ? ["intact"] : ["not_intact"],
            details: ["size": String(verdict.size), "first_bad_index": verdict.firstBadIndex.map(String.init) ?? ""]
        ))
        let page = ConsolePages.auditLog(
            checkpoint: try await repository.latestCheckpoint(), entries: try await repository.search(AuditEntryQuery(limit: 50)),
            filters: ("", "", "", nil), problem: nil, verdict: verdict, Localizer(context.language)
        )
        return renderer.page("audit-log", titleKey: "audit_title", context: context, page: page)
    }

    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` in UTC, as milliseconds since the epoch.
    static func time(_ text: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        }
        return nil
    }
}

extension Optional {
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
