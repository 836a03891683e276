import CreditGateCore
import CreditGateStore
import Foundation
import Logging
import ServiceLifecycle

/// Signs a checkpoint of the audit log whenever it has grown, at most every `interval` (default one second), and
/// keeps every checkpoint.
///
/// With several instances on one PostgreSQL database, each tick takes a transaction-scoped advisory lock: exactly
/// one instance signs at a time, and if it dies another signs on its next tick. The tree itself is extended
/// inside each append's transaction, under the log's row lock, so there is one integrator at a time by
/// construction.
public struct CheckpointSigner: Service {
    let repository: any AuditLogRepository
    let signer: NoteSigner
    let origin: String
    let interval: Duration
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(repository: any AuditLogRepository, signer: NoteSigner, origin: String, interval: Duration = .seconds(1),
                clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.repository = repository
        self.signer = signer
        self.origin = origin
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await signIfGrown()
            } catch {
                logger.error("checkpoint signing failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Signs the current tree head if it is newer than the latest checkpoint; returns the checkpoint signed, if any.
    @discardableResult
    public func signIfGrown() async throws -> StoredCheckpoint? {
        let signer = self.signer, origin = self.origin, clock = self.clock
        return try await repository.whileSigningLeader { repository -> StoredCheckpoint? in
            let size = try await repository.size()
            if let latest = try await repository.latestCheckpoint(), latest.size >= size { return nil }
            let root = try await AuditLogProofs(repository: repository).root(size: size)
            let note = try signer.sign(Checkpoint(origin: origin, size: size, root: root).body)
            let checkpoint = StoredCheckpoint(size: size, root: root, note: note, signedAt: Int64(clock().timeIntervalSince1970 * 1000))
            try await repository.saveCheckpoint(checkpoint)
            return checkpoint
        } ?? nil
    }
}
