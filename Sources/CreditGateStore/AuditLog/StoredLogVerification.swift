import CreditGateCore

/// Verifies the log as stored in the database (`creditgate log verify --database`, the console's "verify now", and
/// the tamper tests).
public struct StoredLogVerification: Sendable {
    let repository: any AuditLogRepository
    let verifier: NoteVerifier
    let origin: String?

    public init(repository: any AuditLogRepository, verifier: NoteVerifier, origin: String?) {
        self.repository = repository
        self.verifier = verifier
        self.origin = origin
    }

    /// Reads everything in one consistent snapshot, so that appends made while it runs cannot look like tampering.
    /// A row that cannot even be read (malformed hash, impossible node) is reported as a problem, not thrown.
    public func run(pageSize: Int = 10_000) async throws -> LogAuditor.Verdict {
        let verifier = self.verifier, origin = self.origin
        do {
            return try await repository.inSnapshot { repository in
                var checkpoints: [(size: UInt64, note: String, storedRoot: TreeHash?)] = []
                while true {
                    let from = checkpoints.last.map { $0.size + 1 } ?? 0
                    let page = try await repository.checkpoints(sizes: from...UInt64(Int64.max), limit: 10_000)
                    checkpoints += page.map { (size: $0.size, note: $0.note, storedRoot: Optional($0.root)) }
                    if page.count < 10_000 { break }
                }
                var auditor = LogAuditor(storedNodes: try await repository.allInteriorNodes(), checkpointSizes: checkpoints.map(\.size))
                let recordedSize = try await repository.size()
                // Every stored row in index order, also any beyond the recorded size: those are tampering too.
                var next: UInt64 = 0
                while true {
                    let page = try await repository.entries(startingAt: next, limit: pageSize)
                    for entry in page {
                        auditor.consume(index: entry.index, leaf: entry.leaf, erased: entry.erased, storedLeafHash: entry.leafHash)
                    }
                    guard let last = page.last, page.count == pageSize else { break }
                    next = last.index + 1
                }
                return auditor.finish(recordedSize: recordedSize, recordedEdge: try await repository.recordedEdge(),
                                      checkpoints: checkpoints, verifier: verifier, origin: origin)
            }
        } catch let StoreError.corruptRow(what) {
            return LogAuditor.Verdict(size: 0, checkpointsChecked: 0, firstBadIndex: 0, problems: ["a stored row cannot be read: \(what)"])
        }
    }
}
