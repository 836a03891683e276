import CreditGateCore
import Foundation
import SQLKit

/// Each unit's own policy settings, as JSON of ``PolicySettings`` (absent fields inherit).
public protocol PolicySettingsRepository: Sendable {
    func all() async throws -> [Organisation.ID: PolicySettings]
    func save(_ settings: PolicySettings, for unit: Organisation.ID, by actor: User.ID, now: Date) async throws
}

public struct SQLPolicySettingsRepository: PolicySettingsRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func all() async throws -> [Organisation.ID: PolicySettings] {
        try await database.withConnection { connection in
            var result: [Organisation.ID: PolicySettings] = [:]
            for row in try await connection.select().columns("organisation_id", "settings").from("policy_settings").all() {
                guard let settings = try? JSONDecoder().decode(PolicySettings.self, from: Data(try row.decode(column: "settings", as: String.self).utf8))
                else { throw StoreError.corruptRow("policy_settings") }
                result[Organisation.ID(try row.decode(column: "organisation_id", as: String.self))] = settings
            }
            return result
        }
    }

    public func save(_ settings: PolicySettings, for unit: Organisation.ID, by actor: User.ID, now: Date) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(settings), as: UTF8.self)
        // One statement, so that two first saves at once cannot both insert.
        try await database.transaction { connection in
            try await connection.raw("""
                INSERT INTO policy_settings (organisation_id, settings, updated_at, updated_by)
                VALUES (\(bind: unit.rawValue), \(bind: text), \(bind: now.storedMilliseconds), \(bind: actor.rawValue))
                ON CONFLICT (organisation_id) DO UPDATE
                SET settings = excluded.settings, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """).run()
        }
    }
}

/// An imported holiday calendar with its file's hash.
public struct StoredHolidayCalendar: Sendable, Equatable {
    public let calendar: HolidayCalendarYear
    public let sha256: String
    public let importedAt: Date
}

/// The imported State Council calendars, one per year; a later import of a year replaces it (a correction).
public protocol HolidayCalendarRepository: Sendable {
    func all() async throws -> [StoredHolidayCalendar]
    func save(_ calendar: HolidayCalendarYear, content: Data, sha256: String, by actor: User.ID?, now: Date) async throws
}

public struct SQLHolidayCalendarRepository: HolidayCalendarRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func all() async throws -> [StoredHolidayCalendar] {
        try await database.withConnection { connection in
            try await connection.select().columns("year", "content", "sha256", "imported_at").from("holiday_calendars").orderBy("year").all().map { row in
                guard let calendar = try? HolidayCalendarYear.parse(Data(try row.decode(column: "content", as: String.self).utf8)) else {
                    throw StoreError.corruptRow("holiday_calendars")
                }
                return StoredHolidayCalendar(calendar: calendar, sha256: try row.decode(column: "sha256", as: String.self),
                                             importedAt: Date(storedMilliseconds: try row.decode(column: "imported_at", as: Int64.self)))
            }
        }
    }

    public func save(_ calendar: HolidayCalendarYear, content: Data, sha256: String, by actor: User.ID?, now: Date) async throws {
        // One statement, so that two instances importing the shipped years at their first start cannot collide.
        try await database.transaction { connection in
            try await connection.raw("""
                INSERT INTO holiday_calendars (year, content, sha256, imported_at, imported_by)
                VALUES (\(bind: Int64(calendar.year)), \(bind: String(decoding: content, as: UTF8.self)), \(bind: sha256),
                        \(bind: now.storedMilliseconds), \(bind: actor?.rawValue))
                ON CONFLICT (year) DO UPDATE
                SET content = excluded.content, sha256 = excluded.sha256, imported_at = excluded.imported_at, imported_by = excluded.imported_by
                """).run()
        }
    }
}

/// Each person's bound addresses (绑定IP), queried together with their unit's networks.
public protocol UserNetworkRepository: Sendable {
    func networks(of user: User.ID) async throws -> [NetworkCIDR]
    /// Replaces the person's bound addresses.
    func setNetworks(_ networks: [NetworkCIDR], of user: User.ID) async throws
}

public struct SQLUserNetworkRepository: UserNetworkRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func networks(of user: User.ID) async throws -> [NetworkCIDR] {
        try await database.withConnection { connection in
            try await connection.select().column("cidr").from("user_networks").where("user_id", .equal, SQLBind(user.rawValue)).orderBy("cidr").all()
                .map { row in
                    guard let cidr = NetworkCIDR(try row.decode(column: "cidr", as: String.self)) else { throw StoreError.corruptRow("user_networks") }
                    return cidr
                }
        }
    }

    public func setNetworks(_ networks: [NetworkCIDR], of user: User.ID) async throws {
        try await database.transaction { connection in
            try await connection.delete(from: "user_networks").where("user_id", .equal, SQLBind(user.rawValue)).run()
            for cidr in Set(networks.map(\.description)).sorted() {
                try await connection.insert(into: "user_networks").columns("user_id", "cidr").values(SQLBind(user.rawValue), SQLBind(cidr)).run()
            }
        }
    }
}
