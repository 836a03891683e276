import Foundation
import SQLKit

/// Installation-wide facts kept in the database (e.g. that the demo bank was seeded), shared by every instance.
public protocol SettingsRepository: Sendable {
    func value(for key: String) async throws -> String?
    /// Stores the value only if the key is absent; returns `true` when this call stored it. Lets several
    /// instances race to do a one-time job and have exactly one win.
    func insertIfAbsent(_ key: String, value: String, now: Date) async throws -> Bool
}

public struct SQLSettingsRepository: SettingsRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func value(for key: String) async throws -> String? {
        try await database.withConnection { connection in
            try await connection.select().column("value").from("installation_settings")
                .where("key", .equal, SQLBind(key)).first()?
                .decode(column: "value", as: String.self)
        }
    }

    public func insertIfAbsent(_ key: String, value: String, now: Date) async throws -> Bool {
        do {
            try await database.transaction { connection in
                try await connection.insert(into: "installation_settings")
                    .columns("key", "value", "updated_at")
                    .values(SQLBind(key), SQLBind(value), SQLBind(now.storedMilliseconds))
                    .run()
            }
            return true
        } catch where ConstraintViolation.isUnique(error) {
            return false
        }
    }
}
