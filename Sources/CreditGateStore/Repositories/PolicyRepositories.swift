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
    /// Every person's bound addresses.
    func all() async throws -> [User.ID: [NetworkCIDR]]
    /// Replaces the person's bound addresses.
    func setNetworks(_ networks: [NetworkCIDR], of user: User.ID) async throws
}

public struct SQLUserNetworkRepository: UserNetworkRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func networks(of user: User.ID) async throws -> [NetworkCIDR] {
        try await load { $0.where("user_id", .equal, SQLBind(user.rawValue)) }[user] ?? []
    }

    public func all() async throws -> [User.ID: [NetworkCIDR]] {
        try await load { $0 }
    }

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [User.ID: [NetworkCIDR]] {
        try await database.withConnection { connection in
            var networks: [User.ID: [NetworkCIDR]] = [:]
            for row in try await filter(connection.select().columns("user_id", "cidr").from("user_networks")).orderBy("user_id").orderBy("cidr").all() {
                guard let cidr = NetworkCIDR(try row.decode(column: "cidr", as: String.self)) else { throw StoreError.corruptRow("user_networks") }
                networks[User.ID(try row.decode(column: "user_id", as: String.self)), default: []].append(cidr)
            }
            return networks
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

/// Exception requests (授权查询, R-22).
public protocol PolicyExceptionRepository: Sendable {
    /// Stores a new request, as the write of the audit entry that records it: both are durable together or neither.
    func creating(_ exception: PolicyException) -> AuditedWrite
    func find(_ id: PolicyException.ID) async throws -> PolicyException?
    /// Requests made by the user, newest first.
    func exceptions(requestedBy user: User.ID, limit: Int) async throws -> [PolicyException]
    /// Requests of the given units (all when `nil`), newest first.
    func exceptions(in units: Set<Organisation.ID>?, limit: Int) async throws -> [PolicyException]
    /// A value that changes whenever a request of the user's, or of the units (all when `nil`), is made, changes
    /// state, lapses or expires: what a live queue watches instead of reloading the requests themselves.
    func version(requestedBy user: User.ID, orIn units: Set<Organisation.ID>?, at time: Date) async throws -> String
    /// The requests of the units (all when `nil`) still waiting for a decision at `time`, oldest first.
    func pending(in units: Set<Organisation.ID>?, at time: Date, limit: Int) async throws -> [PolicyException]
    /// Writes a decision only while the request is still pending, as the write of the audit entry that records it:
    /// it declines, changing nothing, when someone decided first, and then that entry is not written either.
    func deciding(_ exception: PolicyException) -> AuditedWrite
    /// Marks an approved request used by the query, once: `false` when it was used already (two queries at once).
    func use(_ id: PolicyException.ID, by query: CreditQuery.ID, at time: Date) async throws -> Bool
    /// Gives an approval back when the query that took it never came to be.
    func release(_ id: PolicyException.ID, from query: CreditQuery.ID, at time: Date) async throws
}

public struct SQLPolicyExceptionRepository: PolicyExceptionRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = [
        "id", "requested_by", "organisation_id", "subject_type", "subject_number", "subject_name", "purpose", "consent_id", "reasons",
        "justification", "risks", "client_ip", "requested_at", "lapses_at", "status", "updated_at",
        "decided_by", "decided_at", "decision_note", "on_site_verification", "expires_at", "used_by_query",
    ]

    public func creating(_ exception: PolicyException) -> AuditedWrite {
        AuditedWrite(NewRequest(exception: exception)) { requests, connection in
            var insert = connection.insert(into: "policy_exceptions").columns(Array(Self.columns.prefix(16)))
            for exception in requests.map(\.exception) {
                insert = insert.values(
                    SQLBind(exception.id.rawValue), SQLBind(exception.requestedBy.rawValue), SQLBind(exception.organisationID.rawValue),
                    SQLBind(exception.subject.type.rawValue), SQLBind(exception.subject.number), SQLBind(exception.subjectName),
                    SQLBind(exception.purpose.code), SQLBind(exception.consentID?.rawValue), SQLBind(SQLQueryRepository.encode(exception.reasons)),
                    SQLBind(exception.justification), SQLBind(exception.risks.map(\.rawValue).joined(separator: ",")), SQLBind(exception.clientIP),
                    SQLBind(exception.requestedAt.storedMilliseconds), SQLBind(exception.lapsesAt.storedMilliseconds),
                    SQLBind(exception.status.rawValue), SQLBind(exception.requestedAt.storedMilliseconds)
                )
            }
            try await insert.run()
            return requests.map { _ in true }
        }
    }

    /// A request recorded with the audit entry of its making.
    struct NewRequest: Sendable {
        let exception: PolicyException
    }

    /// A decision written with the audit entry that records it.
    struct Decision: Sendable {
        let exception: PolicyException
    }

    public func find(_ id: PolicyException.ID) async throws -> PolicyException? {
        try await load { $0.where("id", .equal, SQLBind(id.rawValue)) }.first
    }

    public func exceptions(requestedBy user: User.ID, limit: Int) async throws -> [PolicyException] {
        try await load { $0.where("requested_by", .equal, SQLBind(user.rawValue)).orderBy("requested_at", .descending).orderBy("id").limit(limit) }
    }

    public func exceptions(in units: Set<Organisation.ID>?, limit: Int) async throws -> [PolicyException] {
        if let units, units.isEmpty { return [] }
        return try await load { query in
            var query = query
            if let units { query = query.where("organisation_id", .in, SQLBind.group(units.map(\.rawValue).sorted())) }
            return query.orderBy("requested_at", .descending).orderBy("id").limit(limit)
        }
    }

    public func version(requestedBy user: User.ID, orIn units: Set<Organisation.ID>?, at time: Date) async throws -> String {
        let now = time.storedMilliseconds
        let scope: SQLQueryString
        if let units {
            scope = units.isEmpty ? "requested_by = \(bind: user.rawValue)"
                : "(requested_by = \(bind: user.rawValue) OR organisation_id IN (\(binds: units.map(\.rawValue).sorted())))"
        } else {
            scope = "1 = 1"
        }
        // Counts by state, and of what has lapsed or expired by now: a give-back, or the passing of a deadline,
        // changes the value even when no timestamp moves.
        let query: SQLQueryString = """
            SELECT COUNT(*) AS n, MAX(updated_at) AS latest,
                SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END) AS approved,
                SUM(CASE WHEN status = 'used' THEN 1 ELSE 0 END) AS used,
                SUM(CASE WHEN status = 'refused' THEN 1 ELSE 0 END) AS refused,
                SUM(CASE WHEN (status = 'pending' AND lapses_at <= \(bind: now)) OR (status = 'approved' AND expires_at <= \(bind: now)) THEN 1 ELSE 0 END) AS stale
            FROM policy_exceptions WHERE \(scope)
            """
        return try await database.withConnection { connection in
            guard let row = try await connection.raw(query).first() else { return "0" }
            return try ["n", "latest", "approved", "used", "refused", "stale"].map { column in
                String(try row.decode(column: column, as: Int64?.self) ?? 0)
            }.joined(separator: "-")
        }
    }

    public func pending(in units: Set<Organisation.ID>?, at time: Date, limit: Int) async throws -> [PolicyException] {
        if let units, units.isEmpty { return [] }
        return try await load { query in
            var query = query.where("status", .equal, SQLBind(PolicyException.Status.pending.rawValue))
                .where("lapses_at", .greaterThan, SQLBind(time.storedMilliseconds))
            if let units { query = query.where("organisation_id", .in, SQLBind.group(units.map(\.rawValue).sorted())) }
            return query.orderBy("requested_at").orderBy("id").limit(limit)
        }
    }

    public func deciding(_ exception: PolicyException) -> AuditedWrite {
        // One at a time: of two decisions on one request in a batch, the second finds it decided and declines.
        .oneAtATime(Decision(exception: exception)) { decision, connection in
            let exception = decision.exception
            return try await connection.update("policy_exceptions")
                .set("status", to: SQLBind(exception.status.rawValue)).set("decided_by", to: SQLBind(exception.decidedBy?.rawValue))
                .set("decided_at", to: SQLBind(exception.decidedAt?.storedMilliseconds)).set("decision_note", to: SQLBind(exception.decisionNote))
                .set("on_site_verification", to: SQLBind(exception.onSiteVerification))
                .set("expires_at", to: SQLBind(exception.expiresAt?.storedMilliseconds))
                .set("updated_at", to: SQLBind((exception.decidedAt ?? exception.requestedAt).storedMilliseconds))
                .where("id", .equal, SQLBind(exception.id.rawValue)).where("status", .equal, SQLBind(PolicyException.Status.pending.rawValue))
                .returning("id").all().count == 1
        }
    }

    public func use(_ id: PolicyException.ID, by query: CreditQuery.ID, at time: Date) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.update("policy_exceptions")
                .set("status", to: SQLBind(PolicyException.Status.used.rawValue)).set("used_by_query", to: SQLBind(query.rawValue))
                .set("updated_at", to: SQLBind(time.storedMilliseconds))
                .where("id", .equal, SQLBind(id.rawValue)).where("status", .equal, SQLBind(PolicyException.Status.approved.rawValue))
                .where("expires_at", .greaterThan, SQLBind(time.storedMilliseconds))
                .returning("id").all().count == 1
        }
    }

    public func release(_ id: PolicyException.ID, from query: CreditQuery.ID, at time: Date) async throws {
        try await database.transaction { connection in
            try await connection.update("policy_exceptions")
                .set("status", to: SQLBind(PolicyException.Status.approved.rawValue)).set("used_by_query", to: SQLLiteral.null)
                .set("updated_at", to: SQLBind(time.storedMilliseconds))
                .where("id", .equal, SQLBind(id.rawValue)).where("used_by_query", .equal, SQLBind(query.rawValue))
                .run()
        }
    }

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [PolicyException] {
        try await database.withConnection { connection in
            try await filter(connection.select().columns(Self.columns).from("policy_exceptions")).all().map { row in
                guard let type = CertificateType(rawValue: try row.decode(column: "subject_type", as: String.self)),
                      let purpose = QueryPurpose(rawValue: try row.decode(column: "purpose", as: String.self)),
                      let status = PolicyException.Status(rawValue: try row.decode(column: "status", as: String.self)),
                      let reasons = SQLQueryRepository.decodeReasons(try row.decode(column: "reasons", as: String.self))
                else { throw StoreError.corruptRow("policy_exceptions") }
                return PolicyException(
                    id: PolicyException.ID(try row.decode(column: "id", as: String.self)),
                    requestedBy: User.ID(try row.decode(column: "requested_by", as: String.self)),
                    organisationID: Organisation.ID(try row.decode(column: "organisation_id", as: String.self)),
                    subject: SubjectIdentifier(type: type, number: try row.decode(column: "subject_number", as: String.self)),
                    subjectName: try row.decode(column: "subject_name", as: String.self), purpose: purpose,
                    consentID: try row.decode(column: "consent_id", as: String?.self).map(Consent.ID.init), reasons: reasons,
                    justification: try row.decode(column: "justification", as: String.self),
                    risks: try row.decode(column: "risks", as: String.self).split(separator: ",").compactMap { PolicyException.Risk(rawValue: String($0)) },
                    clientIP: try row.decode(column: "client_ip", as: String.self),
                    requestedAt: Date(storedMilliseconds: try row.decode(column: "requested_at", as: Int64.self)),
                    lapsesAt: Date(storedMilliseconds: try row.decode(column: "lapses_at", as: Int64.self)), status: status,
                    decidedBy: try row.decode(column: "decided_by", as: String?.self).map(User.ID.init),
                    decidedAt: try row.decode(column: "decided_at", as: Int64?.self).map(Date.init(storedMilliseconds:)),
                    decisionNote: try row.decode(column: "decision_note", as: String?.self),
                    onSiteVerification: try row.decode(column: "on_site_verification", as: String?.self),
                    expiresAt: try row.decode(column: "expires_at", as: Int64?.self).map(Date.init(storedMilliseconds:)),
                    usedByQuery: try row.decode(column: "used_by_query", as: String?.self).map(CreditQuery.ID.init)
                )
            }
        }
    }
}
