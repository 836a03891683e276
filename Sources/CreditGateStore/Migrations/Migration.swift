import Foundation
import Logging
import SQLKit

/// One numbered, append-only schema change. The same list runs on SQLite and PostgreSQL; a migration that needs
/// different SQL per engine says so through the `backend` argument (the only place dialects differ).
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: @Sendable (DatabaseBackend) -> [String]

    public init(version: Int, name: String, statements: @escaping @Sendable (DatabaseBackend) -> [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// The whole list, in order. Never edit a shipped migration: add the next one.
public enum Migrations {
    public static let all: [Migration] = [
        Migration0001Foundation.migration,
        Migration0002AuditLog.migration,
        Migration0003PeopleAndAccess.migration,
        Migration0004ConsentAndQueries.migration,
        Migration0005Policy.migration,
        Migration0006PolicyExceptions.migration,
        Migration0007ReportViewing.migration,
        Migration0008ReferenceVersion.migration,
        Migration0009SubjectHistoryIndex.migration,
        Migration0010RelatedParties.migration,
    ]

    public static var latestVersion: Int { all.last?.version ?? 0 }
}

/// The state of the schema compared with what this build expects.
public struct MigrationStatus: Sendable, Equatable {
    public let appliedVersion: Int
    public let expectedVersion: Int
    public var isCurrent: Bool { appliedVersion == expectedVersion }
}

/// Applies pending migrations, each in its own transaction, recording each in `schema_migrations`.
///
/// Several instances may start at once against one PostgreSQL database: each run takes a transaction-scoped
/// advisory lock first, so exactly one applies a given migration and the others find it done.
public struct MigrationRunner: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Applies what is pending and returns the versions applied by this call.
    @discardableResult
    public func migrate(_ migrations: [Migration] = Migrations.all) async throws -> [Int] {
        var applied: [Int] = []
        for migration in migrations {
            let didApply = try await database.transaction { connection -> Bool in
                if database.backend == .postgres {
                    // Any constant works; it only has to be the same in every instance.
                    try await connection.raw("SELECT pg_advisory_xact_lock(\(bind: Int64(0x4347_4D49_4752))) ").run()
                }
                // Inside the lock: two instances creating the table at once would collide in PostgreSQL's catalog.
                try await connection.raw("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version BIGINT PRIMARY KEY,
                        name TEXT NOT NULL,
                        applied_at BIGINT NOT NULL
                    )
                    """).run()
                let existing = try await connection.select().column("version").from("schema_migrations")
                    .where("version", .equal, migration.version).first()
                guard existing == nil else { return false }
                for statement in migration.statements(database.backend) {
                    try await connection.raw("\(unsafeRaw: statement)").run()
                }
                try await connection.insert(into: "schema_migrations")
                    .columns("version", "name", "applied_at")
                    .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(Int64(Date().timeIntervalSince1970 * 1000)))
                    .run()
                return true
            }
            if didApply {
                logger.info("migration applied", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }

    /// The highest applied version (0 for an empty database) against the build's latest.
    public func status() async throws -> MigrationStatus {
        let applied = try await database.withConnection { connection -> Int in
            let exists: Bool
            switch database.backend {
            case .sqlite:
                exists = try await connection.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").first() != nil
            case .postgres:
                exists = try await connection.raw("SELECT to_regclass('schema_migrations') IS NOT NULL AS present").first()?
                    .decode(column: "present", as: Bool.self) ?? false
            }
            guard exists else { return 0 }
            let row = try await connection.raw("SELECT MAX(version) AS version FROM schema_migrations").first()
            return try row?.decodeNil(column: "version") == false ? Int(try row!.decode(column: "version", as: Int64.self)) : 0
        }
        return MigrationStatus(appliedVersion: applied, expectedVersion: Migrations.latestVersion)
    }
}
