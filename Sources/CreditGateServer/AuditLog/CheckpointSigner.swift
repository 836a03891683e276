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

    /// Signs the current tree head if it is newer than the latest checkpoint and no other instance is signing.
    @discardableResult
    public func signIfGrown() async throws -> CheckpointIssuer.Outcome {
        try await CheckpointIssuer(repository: repository, signer: signer, origin: origin).signIfGrown(at: clock())
    }
}
