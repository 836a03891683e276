import CreditGateBureau
import CreditGateStore
import Foundation

/// What `/readyz` and the console's status page report about this instance.
public struct SystemStatus: Sendable {
    public let version: String
    public let databaseBackend: DatabaseBackend
    public let databaseLocation: String
    public let databaseReachable: Bool
    public let migrations: MigrationStatus?
    public let bureauName: String
    public let bureauIsSandbox: Bool
    public let startedAt: Date
    public let auditLogHealthy: Bool

    /// Ready means the database answers, its schema is the one this build expects, and the audit log takes entries.
    public var isReady: Bool { databaseReachable && (migrations?.isCurrent ?? false) && auditLogHealthy }
}

public struct SystemStatusService: Sendable {
    let database: Database
    let bureau: any CreditBureau
    let audit: AuditTrail
    let startedAt: Date
    let logger: Logging.Logger

    public func current() async -> SystemStatus {
        let reachable = await database.isReachable()
        var migrations: MigrationStatus?
        if reachable {
            do {
                migrations = try await MigrationRunner(database: database, logger: logger).status()
            } catch {
                logger.warning("cannot read the migration status", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            }
        }
        return SystemStatus(
            version: CreditGateVersion.current, databaseBackend: database.backend,
            databaseLocation: database.location.description, databaseReachable: reachable, migrations: migrations,
            bureauName: bureau.name, bureauIsSandbox: bureau.isSandbox, startedAt: startedAt,
            auditLogHealthy: await audit.isHealthy
        )
    }
}

public enum CreditGateVersion {
    public static let current = "0.1.0"
}

import Logging
