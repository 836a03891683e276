import CreditGateCore
import Foundation

/// Signs the log's current head as a C2SP checkpoint and stores it, unless a checkpoint of that size exists.
/// Runs under the signing lock, so that one instance signs at a time.
public struct CheckpointIssuer: Sendable {
    let repository: any AuditLogRepository
    let signer: NoteSigner
    let origin: String

    public init(repository: any AuditLogRepository, signer: NoteSigner, origin: String) {
        self.repository = repository
        self.signer = signer
        self.origin = origin
    }

    public enum Outcome: Sendable, Equatable {
        /// A new checkpoint was signed and stored.
        case signed(StoredCheckpoint)
        /// The latest checkpoint already covers the log.
        case current
        /// Another instance holds the signing lock just now.
        case busy
    }

    public func signIfGrown(at time: Date) async throws -> Outcome {
        let signer = self.signer, origin = self.origin
        let outcome = try await repository.whileSigningLeader { repository -> Outcome in
            let size = try await repository.size()
            if let latest = try await repository.latestCheckpoint(), latest.size >= size { return .current }
            let root = try await AuditLogProofs(repository: repository).root(size: size)
            let note = try signer.sign(Checkpoint(origin: origin, size: size, root: root).body)
            let checkpoint = StoredCheckpoint(size: size, root: root, note: note, signedAt: Int64(time.timeIntervalSince1970 * 1000))
            try await repository.saveCheckpoint(checkpoint)
            return .signed(checkpoint)
        }
        return outcome ?? .busy
    }
}
