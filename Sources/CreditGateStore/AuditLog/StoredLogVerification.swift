import CreditGateCore


/// Verifies the log as stored in the database (`creditgate log verify --database`, and the tamper tests).
public struct StoredLogVerification: Sendable {
    let repository: any AuditLogRepository
    let verifier: NoteVerifier
    let origin: String?

    public init(repository: any AuditLogRepository, verifier: NoteVerifier, origin: String?) {
        self.repository = repository
        self.verifier = verifier
        self.origin = origin
    }

    public func run(pageSize: UInt64 = 10_000) async throws -> LogAuditor.Verdict {
        var checkpoints: [(size: UInt64, note: String)] = []
        while true {
            let from = checkpoints.last.map { $0.size + 1 } ?? 0
            let page = try await repository.checkpoints(sizes: from...UInt64(Int64.max), limit: 10_000)
            checkpoints += page.map { (size: $0.size, note: $0.note) }
            if page.count < 10_000 { break }
        }
        var auditor = LogAuditor(storedNodes: try await repository.allInteriorNodes(), checkpointSizes: checkpoints.map(\.size))
        let recordedSize = try await repository.size()
        var start: UInt64 = 0
        // Read on past the recorded size until a page is empty: rows inserted beyond it are tampering too.
        while true {
            let page = try await repository.entries(in: start..<(start + pageSize))
            for entry in page {
                auditor.consume(index: entry.index, leaf: entry.leaf, storedLeafHash: entry.leafHash)
            }
            start += pageSize
            if page.isEmpty && start > recordedSize { break }
        }
        return auditor.finish(recordedSize: recordedSize, recordedEdge: try await repository.recordedEdge(),
                              checkpoints: checkpoints, verifier: verifier, origin: origin)
    }
}
