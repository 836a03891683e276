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
        try await database.transaction { connection in
            let updated = try await connection.update("policy_settings")
                .set("settings", to: SQLBind(text)).set("updated_at", to: SQLBind(now.storedMilliseconds)).set("updated_by", to: SQLBind(actor.rawValue))
                .where("organisation_id", .equal, SQLBind(unit.rawValue))
                .returning("organisation_id").all()
            if updated.isEmpty {
                try await connection.insert(into: "policy_settings").columns("organisation_id", "settings", "updated_at", "updated_by")
                    .values(SQLBind(unit.rawValue), SQLBind(text), SQLBind(now.storedMilliseconds), SQLBind(actor.rawValue)).run()
            }
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
        try await database.transaction { connection in
            try await connection.delete(from: "holiday_calendars").where("year", .equal, SQLBind(Int64(calendar.year))).run()
            try await connection.insert(into: "holiday_calendars").columns("year", "content", "sha256", "imported_at", "imported_by")
                .values(SQLBind(Int64(calendar.year)), SQLBind(String(decoding: content, as: UTF8.self)), SQLBind(sha256),
                        SQLBind(now.storedMilliseconds), SQLBind(actor?.rawValue))
                .run()
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
