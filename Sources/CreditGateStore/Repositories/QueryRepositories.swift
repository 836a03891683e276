import CreditGateCore
import Foundation
import SQLKit

/// The registry of client applications allowed to call the query API.
public protocol ClientAppRepository: Sendable {
    func create(_ app: ClientApp) async throws
    func app(_ id: ClientApp.ID) async throws -> ClientApp?
    func all() async throws -> [ClientApp]
    /// Writes the status and its who/when, only if the stored status is still `expected` (two administrators
    /// deciding at once cannot both win); `false` when it was not.
    func updateStatus(_ app: ClientApp, expected: ClientApp.Status) async throws -> Bool
}

public struct SQLClientAppRepository: ClientAppRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func create(_ app: ClientApp) async throws {
        do {
            try await database.transaction { connection in
                try await connection.insert(into: "client_apps")
                    .columns("id", "name", "status", "credential_hash", "registered_by", "registered_at")
                    .values(SQLBind(app.id.rawValue), SQLBind(app.name), SQLBind(app.status.rawValue), SQLBind(app.credentialHash),
                            SQLBind(app.registeredBy.rawValue), SQLBind(app.registeredAt.storedMilliseconds))
                    .run()
                for unit in app.organisations.sorted() {
                    try await connection.insert(into: "client_app_organisations").columns("app_id", "organisation_id")
                        .values(SQLBind(app.id.rawValue), SQLBind(unit.rawValue)).run()
                }
            }
        } catch where ConstraintViolation.isForeignKey(error) {
            throw StoreError.missingReference("organisations")
        }
    }

    public func app(_ id: ClientApp.ID) async throws -> ClientApp? {
        try await load { $0.where("id", .equal, SQLBind(id.rawValue)) }.first
    }

    public func all() async throws -> [ClientApp] {
        try await load { $0.orderBy("registered_at", .descending).orderBy("id") }
    }

    public func updateStatus(_ app: ClientApp, expected: ClientApp.Status) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.update("client_apps")
                .set("status", to: SQLBind(app.status.rawValue))
                .set("approved_by", to: SQLBind(app.approvedBy?.rawValue)).set("approved_at", to: SQLBind(app.approvedAt?.storedMilliseconds))
                .set("revoked_by", to: SQLBind(app.revokedBy?.rawValue)).set("revoked_at", to: SQLBind(app.revokedAt?.storedMilliseconds))
                .where("id", .equal, SQLBind(app.id.rawValue)).where("status", .equal, SQLBind(expected.rawValue))
                .returning("id").all().count == 1
        }
    }

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [ClientApp] {
        try await database.withConnection { connection in
            let rows = try await filter(connection.select()
                .columns("id", "name", "status", "credential_hash", "registered_by", "registered_at", "approved_by", "approved_at",
                         "revoked_by", "revoked_at")
                .from("client_apps")).all()
            // The units of every loaded application in one read, not one read per application.
            var units: [String: Set<Organisation.ID>] = [:]
            let ids = try rows.map { try $0.decode(column: "id", as: String.self) }
            if !ids.isEmpty {
                for row in try await connection.select().columns("app_id", "organisation_id").from("client_app_organisations")
                    .where("app_id", .in, SQLBind.group(ids)).all() {
                    units[try row.decode(column: "app_id", as: String.self), default: []]
                        .insert(Organisation.ID(try row.decode(column: "organisation_id", as: String.self)))
                }
            }
            var apps: [ClientApp] = []
            for row in rows {
                let id = try row.decode(column: "id", as: String.self)
                guard let status = ClientApp.Status(rawValue: try row.decode(column: "status", as: String.self)) else {
                    throw StoreError.corruptRow("client_apps")
                }
                apps.append(ClientApp(
                    id: ClientApp.ID(id), name: try row.decode(column: "name", as: String.self), status: status, organisations: units[id] ?? [],
                    credentialHash: try row.decode(column: "credential_hash", as: String.self),
                    registeredBy: User.ID(try row.decode(column: "registered_by", as: String.self)),
                    registeredAt: Date(storedMilliseconds: try row.decode(column: "registered_at", as: Int64.self)),
                    approvedBy: try row.decode(column: "approved_by", as: String?.self).map(User.ID.init),
                    approvedAt: try row.decode(column: "approved_at", as: Int64?.self).map(Date.init(storedMilliseconds:)),
                    revokedBy: try row.decode(column: "revoked_by", as: String?.self).map(User.ID.init),
                    revokedAt: try row.decode(column: "revoked_at", as: Int64?.self).map(Date.init(storedMilliseconds:))
                ))
            }
            return apps
        }
    }
}

/// One daily cap a query counts against: a person's or a unit's counter for one day (China Standard Time).
public struct DailyCap: Sendable, Equatable {
    /// `user:<id>` or `organisation:<id>`.
    public let scope: String
    /// `yyyy-MM-dd`
    public let day: String
    public let limit: Int

    public init(scope: String, day: String, limit: Int) {
        self.scope = scope
        self.day = day
        self.limit = limit
    }
}

/// Thrown inside the transaction to roll it back when a counter is full.
private struct CapReached: Error {}

/// A caller passed no counter, or one twice: a programming error, answered as an internal error, never a crash.
struct InvalidCounters: Error {}

/// An earlier answered query about a subject, as a report's query-records section lists it.
public struct AnsweredQuerySummary: Sendable, Equatable {
    public let answeredAt: Date
    public let organisationName: String
    public let purpose: QueryPurpose
}

/// The register of queries and the encrypted reports they brought back.
public protocol QueryRepository: Sendable {
    /// Records a query as admitted (`pending`) or refused.
    func record(_ query: CreditQuery) async throws
    /// Records an admitted query and counts it against each cap, in one transaction: either every counter was below
    /// its cap and went up by one and the query is recorded, or nothing changed and the answer is `false`. Two
    /// instances on one database cannot both take the last place (R-21: caps exact under concurrency).
    func recordCounted(_ query: CreditQuery, against caps: [DailyCap]) async throws -> Bool
    /// The same, as the write of the audit entry that records the decision: it declines, changing nothing, when a
    /// counter is at its cap.
    func recordingCounted(_ query: CreditQuery, against caps: [DailyCap]) throws -> AuditedWrite
    /// ``record(_:)`` as the write of the audit entry that records the decision.
    func recording(_ query: CreditQuery) -> AuditedWrite
    /// ``answer(_:report:)`` as the write of the audit entry that records the answer: it declines, changing nothing,
    /// when the query is no longer pending.
    func answering(_ id: CreditQuery.ID, report: StoredReport) -> AuditedWrite
    /// Today's count of each scope (for the decision's facts; the reservation above is what holds).
    func usedToday(_ scopes: [String], day: String) async throws -> [String: Int]
    /// Records answered queries with their sealed reports, a thousand to a transaction: a bulk load (a register
    /// carried over from an earlier system, a benchmark), not the query path.
    func recordAnswered(_ items: [(query: CreditQuery, report: StoredReport)]) async throws
    /// Marks a pending query failed; nothing else about it changes.
    func fail(_ id: CreditQuery.ID, failure: CreditQuery.Failure, at time: Date) async throws
    /// Stores the report and marks the query answered, in one transaction: a report is never stored for a query
    /// that does not say so, and a query never says answered without its report.
    func answer(_ id: CreditQuery.ID, report: StoredReport) async throws
    func query(_ id: CreditQuery.ID) async throws -> CreditQuery?
    /// A user's queries, newest first.
    func queries(of user: User.ID, limit: Int) async throws -> [CreditQuery]
    /// The queries of the units made in `[from, until)`, oldest first.
    func queries(in units: Set<Organisation.ID>, from: Date, until: Date, limit: Int) async throws -> [CreditQuery]
    func report(_ id: StoredReport.ID) async throws -> StoredReport?
    /// Answered queries about the subject through this gateway, newest first.
    func answeredQueries(about subject: SubjectIdentifier, limit: Int) async throws -> [AnsweredQuerySummary]
}

public struct SQLQueryRepository: QueryRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columnList = ColumnList(columns)
    static let reportColumns = ColumnList(["id", "query_id", "kind", "report_number", "key_id", "wrapped_key", "ciphertext", "stored_at"])

    static let columns = [
        "id", "user_id", "organisation_id", "channel", "client_app_id", "subject_type", "subject_number", "subject_name", "purpose", "consent_id",
        "procedure", "special_case_id", "client_ip", "requested_at", "status", "reasons", "failure", "answered_at", "report_id", "exception_id", "policy_decision",
    ]

    public func record(_ query: CreditQuery) async throws {
        try await database.transaction { connection in
            _ = try await recording(query).perform(connection)
        }
    }

    public func recording(_ query: CreditQuery) -> AuditedWrite {
        AuditedWrite(RecordedQuery(query: query)) { recorded, connection in
            try await insert(recorded.map(\.query), on: connection)
            return recorded.map { _ in true }
        }
    }

    /// A query recorded as it is, with the audit entry of its decision.
    struct RecordedQuery: Sendable {
        let query: CreditQuery
    }

    /// A query counted against its caps, then recorded, with the audit entry of its decision.
    struct CountedQuery: Sendable {
        let query: CreditQuery
        /// In the order of their counters, no counter twice.
        let caps: [DailyCap]
    }

    /// A report stored and its query marked answered, with the audit entry of the answer.
    struct Answer: Sendable {
        let id: CreditQuery.ID
        let report: StoredReport
    }

    /// One multi-row insert for any number of queries.
    private func insert(_ queries: [CreditQuery], on connection: any SQLDatabase) async throws {
        guard !queries.isEmpty else { return }
        var insert = connection.insert(into: "queries").columns(Self.columnList)
        for query in queries {
            insert = insert.values(
                SQLBind(query.id.rawValue), SQLBind(query.userID.rawValue), SQLBind(query.organisationID.rawValue),
                SQLBind(query.channel.rawValue), SQLBind(query.clientAppID?.rawValue), SQLBind(query.subject.type.rawValue),
                SQLBind(query.subject.number), SQLBind(query.subjectName), SQLBind(query.purpose.code), SQLBind(query.consentID?.rawValue),
                SQLBind(query.procedure?.rawValue), SQLBind(query.specialCaseID?.rawValue), SQLBind(query.clientIP), SQLBind(query.requestedAt.storedMilliseconds),
                SQLBind(query.status.rawValue), SQLBind(Self.encode(query.reasons)), SQLBind(query.failure?.rawValue), SQLBind(query.answeredAt?.storedMilliseconds),
                SQLBind(query.reportID?.rawValue), SQLBind(query.exceptionID?.rawValue), SQLBind(query.policyDecision)
            )
        }
        try await insert.run()
    }

    /// One multi-row insert for any number of reports, each with the query it answers.
    private func insert(_ reports: [(query: CreditQuery.ID, report: StoredReport)], on connection: any SQLDatabase) async throws {
        guard !reports.isEmpty else { return }
        var insert = connection.insert(into: "reports")
            .columns(Self.reportColumns)
        for (query, report) in reports {
            insert = insert.values(SQLBind(report.id.rawValue), SQLBind(query.rawValue), SQLBind(report.kind.rawValue), SQLBind(report.reportNumber),
                                   SQLBind(report.envelope.keyID), SQLBind(report.envelope.wrappedKey.base64EncodedString()),
                                   SQLBind(report.envelope.ciphertext.base64EncodedString()), SQLBind(report.storedAt.storedMilliseconds))
        }
        try await insert.run()
    }

    public func recordAnswered(_ items: [(query: CreditQuery, report: StoredReport)]) async throws {
        for start in stride(from: 0, to: items.count, by: 1000) {
            let chunk = items[start..<min(start + 1000, items.count)]
            try await database.transaction { connection in
                try await insert(chunk.map { query, report in
                    var answered = query
                    answered.status = .answered
                    answered.answeredAt = report.storedAt
                    answered.reportID = report.id
                    return answered
                }, on: connection)
                try await insert(chunk.map { ($0.query.id, $0.report) }, on: connection)
            }
        }
    }

    public func recordCounted(_ query: CreditQuery, against caps: [DailyCap]) async throws -> Bool {
        let write = try recordingCounted(query, against: caps)
        do {
            try await database.transaction { connection in
                // A counter at its cap rolls back whatever the others took.
                guard try await write.perform(connection) else { throw CapReached() }
            }
            return true
        } catch is CapReached {
            return false
        }
    }

    public func recordingCounted(_ query: CreditQuery, against caps: [DailyCap]) throws -> AuditedWrite {
        // Always the same order of counters; a query is counted once per counter, and never recorded uncounted.
        let ordered = caps.sorted { ($0.scope, $0.day) < ($1.scope, $1.day) }
        guard !ordered.isEmpty, Set(ordered.map { "\($0.scope)|\($0.day)" }).count == ordered.count else {
            throw InvalidCounters()
        }
        return AuditedWrite(CountedQuery(query: query, caps: ordered)) { counted, connection in
            try await count(counted, on: connection)
        }
    }

    /// Counts each query against its caps, in order, and records the ones every counter still had room for: a
    /// query fits when each of its counters is below its cap, and then takes a place in each. The counters are
    /// locked until commit (on PostgreSQL by the rows, on SQLite by the write lock), so two instances cannot both
    /// take the last place. Three statements, however many queries.
    private func count(_ items: [CountedQuery], on connection: any SQLDatabase) async throws -> [Bool] {
        struct Counter: Hashable, Comparable {
            let scope: String
            let day: String
            static func < (left: Counter, right: Counter) -> Bool { (left.scope, left.day) < (right.scope, right.day) }
        }
        let counters = Set(items.flatMap { $0.caps.map { Counter(scope: $0.scope, day: $0.day) } }).sorted()
        guard !counters.isEmpty else { return items.map { _ in false } }
        // Every counter the batch touches, created at zero if new, read and locked in one statement (the no-op update
        // of an existing row locks it and returns it).
        let rows = counters.map { SQLGroupExpression([SQLBind($0.scope), SQLBind($0.day), SQLLiteral.numeric("0")] as [any SQLExpression]) }
        var used: [Counter: Int64] = [:]
        for row in try await connection.raw("""
            INSERT INTO daily_query_counts (scope, day, used) VALUES \(SQLList(rows))
            ON CONFLICT (scope, day) DO UPDATE SET used = daily_query_counts.used
            RETURNING scope, day, used
            """).all() {
            used[Counter(scope: try row.decode(column: "scope", as: String.self), day: try row.decode(column: "day", as: String.self))] =
                try row.decode(column: "used", as: Int64.self)
        }
        var admitted: [Bool] = []
        for item in items {
            let fits = item.caps.allSatisfy { cap in
                cap.limit > 0 && (used[Counter(scope: cap.scope, day: cap.day)] ?? Int64.max) < Int64(cap.limit)
            }
            if fits {
                for cap in item.caps { used[Counter(scope: cap.scope, day: cap.day), default: 0] += 1 }
            }
            admitted.append(fits)
        }
        guard admitted.contains(true) else { return admitted }
        let taken = Set(zip(items, admitted).filter(\.1).flatMap { item, _ in item.caps.map { Counter(scope: $0.scope, day: $0.day) } }).sorted()
        let values = SQLList(taken.map { counter in
            SQLQueryString("WHEN scope = \(bind: counter.scope) AND day = \(bind: counter.day) THEN \(bind: used[counter] ?? 0)")
        }, separator: SQLRaw(" "))
        // A list of row values, not a chain of ORs: SQLite limits how deep an expression may nest.
        let changed = SQLList(taken.map { SQLGroupExpression([SQLBind($0.scope), SQLBind($0.day)] as [any SQLExpression]) })
        // The counters and the queries are apart: both statements go out together.
        async let counted: Void = connection.raw("UPDATE daily_query_counts SET used = CASE \(values) END WHERE (scope, day) IN (VALUES \(changed))").run()
        async let recorded: Void = insert(zip(items, admitted).filter(\.1).map(\.0.query), on: connection)
        _ = try await (counted, recorded)
        return admitted
    }

    public func usedToday(_ scopes: [String], day: String) async throws -> [String: Int] {
        guard !scopes.isEmpty else { return [:] }
        return try await database.withConnection { connection in
            var used: [String: Int] = [:]
            for row in try await connection.select().columns("scope", "used").from("daily_query_counts")
                .where("day", .equal, SQLBind(day)).where("scope", .in, SQLBind.group(scopes)).all() {
                used[try row.decode(column: "scope", as: String.self)] = Int(try row.decode(column: "used", as: Int64.self))
            }
            return used
        }
    }

    public func fail(_ id: CreditQuery.ID, failure: CreditQuery.Failure, at time: Date) async throws {
        try await database.transaction { connection in
            try await connection.update("queries")
                .set("status", to: SQLBind(CreditQuery.Status.failed.rawValue)).set("failure", to: SQLBind(failure.rawValue))
                .set("answered_at", to: SQLBind(time.storedMilliseconds))
                .where("id", .equal, SQLBind(id.rawValue)).where("status", .equal, SQLBind(CreditQuery.Status.pending.rawValue))
                .run()
        }
    }

    public func answer(_ id: CreditQuery.ID, report: StoredReport) async throws {
        try await database.transaction { connection in
            // A query that is not pending any more cannot take an answer.
            guard try await answering(id, report: report).perform(connection) else { throw StoreError.missingReference("queries") }
        }
    }

    public func answering(_ id: CreditQuery.ID, report: StoredReport) -> AuditedWrite {
        AuditedWrite(Answer(id: id, report: report)) { answers, connection in
            try await store(answers, on: connection)
        }
    }

    /// Marks every query still pending answered with its report, in one update, and stores the reports of those it
    /// marked, in one insert; a query no longer pending (or answered twice in one batch) takes no report.
    private func store(_ answers: [Answer], on connection: any SQLDatabase) async throws -> [Bool] {
        var seen: Set<String> = []
        let distinct = answers.filter { seen.insert($0.id.rawValue).inserted }
        guard !distinct.isEmpty else { return answers.map { _ in false } }
        let reportIDs = SQLList(distinct.map { SQLQueryString("WHEN \(bind: $0.id.rawValue) THEN \(bind: $0.report.id.rawValue)") }, separator: SQLRaw(" "))
        let times = SQLList(distinct.map { SQLQueryString("WHEN \(bind: $0.id.rawValue) THEN \(bind: $0.report.storedAt.storedMilliseconds)") },
                            separator: SQLRaw(" "))
        let marked = Set(try await connection.raw("""
            UPDATE queries SET status = \(bind: CreditQuery.Status.answered.rawValue), report_id = CASE id \(reportIDs) END,
                answered_at = CASE id \(times) END
            WHERE status = \(bind: CreditQuery.Status.pending.rawValue) AND id IN \(SQLBind.group(distinct.map(\.id.rawValue)))
            RETURNING id
            """).all().map { try $0.decode(column: "id", as: String.self) })
        var stored: Set<String> = []
        let storing = distinct.filter { marked.contains($0.id.rawValue) }
        try await insert(storing.map { ($0.id, $0.report) }, on: connection)
        for answer in storing { stored.insert(answer.report.id.rawValue) }
        return answers.map { stored.contains($0.report.id.rawValue) }
    }

    public func query(_ id: CreditQuery.ID) async throws -> CreditQuery? {
        try await load { $0.where("id", .equal, SQLBind(id.rawValue)) }.first
    }

    public func queries(of user: User.ID, limit: Int) async throws -> [CreditQuery] {
        try await load { $0.where("user_id", .equal, SQLBind(user.rawValue)).orderBy("requested_at", .descending).orderBy("id").limit(limit) }
    }

    public func queries(in units: Set<Organisation.ID>, from: Date, until: Date, limit: Int) async throws -> [CreditQuery] {
        guard !units.isEmpty else { return [] }
        return try await load {
            $0.where("organisation_id", .in, SQLBind.group(units.map(\.rawValue).sorted()))
                .where("requested_at", .greaterThanOrEqual, SQLBind(from.storedMilliseconds))
                .where("requested_at", .lessThan, SQLBind(until.storedMilliseconds))
                .orderBy("requested_at").orderBy("id").limit(limit)
        }
    }

    public func report(_ id: StoredReport.ID) async throws -> StoredReport? {
        try await database.withConnection { connection in
            guard let row = try await connection.select()
                .columns(Self.reportColumns)
                .from("reports").where("id", .equal, SQLBind(id.rawValue)).first()
            else { return nil }
            // Shredded: the keys and ciphertext are gone, and with them the report.
            guard try row.decode(column: "wrapped_key", as: String?.self) != nil else { return nil }
            guard let kind = SubjectKind(rawValue: try row.decode(column: "kind", as: String.self)) else { throw StoreError.corruptRow("reports") }
            return StoredReport(id: id, queryID: CreditQuery.ID(try row.decode(column: "query_id", as: String.self)), kind: kind,
                                reportNumber: try row.decode(column: "report_number", as: String.self),
                                envelope: try SealedEnvelope(row: row, table: "reports"),
                                storedAt: Date(storedMilliseconds: try row.decode(column: "stored_at", as: Int64.self)))
        }
    }

    public func answeredQueries(about subject: SubjectIdentifier, limit: Int) async throws -> [AnsweredQuerySummary] {
        try await database.withConnection { connection in
            // Written out rather than built: the sandbox bureau makes this read for every query.
            try await connection.raw("""
                SELECT queries.answered_at, queries.purpose, organisations.name FROM queries
                JOIN organisations ON queries.organisation_id = organisations.id
                WHERE queries.subject_type = \(bind: subject.type.rawValue) AND queries.subject_number = \(bind: subject.number)
                AND queries.status = \(bind: CreditQuery.Status.answered.rawValue)
                ORDER BY queries.answered_at DESC LIMIT \(bind: limit)
                """)
                .all()
                .map { row in
                    guard let purpose = QueryPurpose(rawValue: try row.decode(column: "purpose", as: String.self)),
                          let answeredAt = try row.decode(column: "answered_at", as: Int64?.self)
                    else { throw StoreError.corruptRow("queries") }
                    return AnsweredQuerySummary(answeredAt: Date(storedMilliseconds: answeredAt),
                                                organisationName: try row.decode(column: "name", as: String.self), purpose: purpose)
                }
        }
    }

    /// Reasons are stored as `code` lines, each followed by its facts as `name=value` pairs, JSON-encoded so that
    /// no fact value can break the format.
    static func encode(_ reasons: [QueryRefusalReason]) -> String {
        let objects = reasons.map { ["code": $0.code, "facts": $0.facts] as [String: Any] }
        guard let data = try? JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys]) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeReasons(_ text: String) -> [QueryRefusalReason]? {
        guard let objects = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] else { return nil }
        return objects.compactMap { object in
            guard let code = object["code"] as? String else { return nil }
            return QueryRefusalReason(code: code, facts: object["facts"] as? [String: String] ?? [:])
        }
    }

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [CreditQuery] {
        try await database.withConnection { connection in
            try await filter(connection.select().columns(Self.columns).from("queries")).all().map { row in
                guard let type = CertificateType(rawValue: try row.decode(column: "subject_type", as: String.self)),
                      let channel = CreditQuery.Channel(rawValue: try row.decode(column: "channel", as: String.self)),
                      let purpose = QueryPurpose(rawValue: try row.decode(column: "purpose", as: String.self)),
                      let status = CreditQuery.Status(rawValue: try row.decode(column: "status", as: String.self)),
                      let reasons = Self.decodeReasons(try row.decode(column: "reasons", as: String.self))
                else { throw StoreError.corruptRow("queries") }
                return CreditQuery(
                    id: CreditQuery.ID(try row.decode(column: "id", as: String.self)),
                    userID: User.ID(try row.decode(column: "user_id", as: String.self)),
                    organisationID: Organisation.ID(try row.decode(column: "organisation_id", as: String.self)),
                    channel: channel, clientAppID: try row.decode(column: "client_app_id", as: String?.self).map(ClientApp.ID.init),
                    subject: SubjectIdentifier(type: type, number: try row.decode(column: "subject_number", as: String.self)),
                    subjectName: try row.decode(column: "subject_name", as: String.self), purpose: purpose,
                    consentID: try row.decode(column: "consent_id", as: String?.self).map(Consent.ID.init),
                    procedure: try row.decode(column: "procedure", as: String?.self).flatMap(SpecialQueryCase.Procedure.init(rawValue:)),
                    specialCaseID: try row.decode(column: "special_case_id", as: String?.self).map(SpecialQueryCase.ID.init),
                    exceptionID: try row.decode(column: "exception_id", as: String?.self).map(PolicyException.ID.init),
                    clientIP: try row.decode(column: "client_ip", as: String.self),
                    requestedAt: Date(storedMilliseconds: try row.decode(column: "requested_at", as: Int64.self)),
                    status: status, reasons: reasons, policyDecision: try row.decode(column: "policy_decision", as: String?.self),
                    failure: try row.decode(column: "failure", as: String?.self).flatMap(CreditQuery.Failure.init(rawValue:)),
                    answeredAt: try row.decode(column: "answered_at", as: Int64?.self).map(Date.init(storedMilliseconds:)),
                    reportID: try row.decode(column: "report_id", as: String?.self).map(StoredReport.ID.init)
                )
            }
        }
    }
}

/// State-organ and internal-staff cases.
public protocol SpecialQueryCaseRepository: Sendable {
    /// Stores a new case, as the write of the audit entry that records its opening: both are durable together or
    /// neither.
    func creating(_ specialCase: SpecialQueryCase) -> AuditedWrite
    func find(_ id: SpecialQueryCase.ID) async throws -> SpecialQueryCase?
    /// Cases opened by the user, newest first.
    func cases(requestedBy user: User.ID, limit: Int) async throws -> [SpecialQueryCase]
    /// Cases of the given units (all when `nil`), newest first.
    func cases(in units: Set<Organisation.ID>?, limit: Int) async throws -> [SpecialQueryCase]
    /// Writes a decision only while the case is still pending, as the write of the audit entry that records it: it
    /// declines, changing nothing, when someone decided first, and then that entry is not written either.
    func deciding(_ specialCase: SpecialQueryCase) -> AuditedWrite
    /// Marks an approved case used by the query, once: `false` when it was used already (two queries at once).
    func use(_ id: SpecialQueryCase.ID, by query: CreditQuery.ID) async throws -> Bool
    /// Gives a case back to the approved state when the query that took it never came to be.
    func release(_ id: SpecialQueryCase.ID, from query: CreditQuery.ID) async throws
}

public struct SQLSpecialQueryCaseRepository: SpecialQueryCaseRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = [
        "id", "procedure", "subject_type", "subject_number", "purpose", "requested_by", "organisation_id", "authority", "document_number",
        "grounds", "requested_at", "status", "decided_by", "decided_at", "decision_note", "expires_at", "used_by_query",
    ]

    public func creating(_ specialCase: SpecialQueryCase) -> AuditedWrite {
        AuditedWrite(NewCase(specialCase: specialCase)) { opened, connection in
            var insert = connection.insert(into: "special_query_cases").columns(Array(Self.columns.prefix(12)))
            for specialCase in opened.map(\.specialCase) {
                insert = insert.values(
                    SQLBind(specialCase.id.rawValue), SQLBind(specialCase.procedure.rawValue), SQLBind(specialCase.subject.type.rawValue),
                    SQLBind(specialCase.subject.number), SQLBind(specialCase.purpose.code), SQLBind(specialCase.requestedBy.rawValue),
                    SQLBind(specialCase.organisationID.rawValue), SQLBind(specialCase.authority), SQLBind(specialCase.documentNumber),
                    SQLBind(specialCase.grounds), SQLBind(specialCase.requestedAt.storedMilliseconds), SQLBind(specialCase.status.rawValue)
                )
            }
            try await insert.run()
            return opened.map { _ in true }
        }
    }

    /// A case recorded with the audit entry of its opening.
    struct NewCase: Sendable {
        let specialCase: SpecialQueryCase
    }

    /// A decision written with the audit entry that records it.
    struct Decision: Sendable {
        let specialCase: SpecialQueryCase
    }

    public func find(_ id: SpecialQueryCase.ID) async throws -> SpecialQueryCase? {
        try await load { $0.where("id", .equal, SQLBind(id.rawValue)) }.first
    }

    public func cases(requestedBy user: User.ID, limit: Int) async throws -> [SpecialQueryCase] {
        try await load { $0.where("requested_by", .equal, SQLBind(user.rawValue)).orderBy("requested_at", .descending).orderBy("id").limit(limit) }
    }

    public func cases(in units: Set<Organisation.ID>?, limit: Int) async throws -> [SpecialQueryCase] {
        if let units, units.isEmpty { return [] }
        return try await load { query in
            var query = query
            if let units { query = query.where("organisation_id", .in, SQLBind.group(units.map(\.rawValue).sorted())) }
            return query.orderBy("requested_at", .descending).orderBy("id").limit(limit)
        }
    }

    public func deciding(_ specialCase: SpecialQueryCase) -> AuditedWrite {
        // One at a time: of two decisions on one case in a batch, the second finds it decided and declines.
        .oneAtATime(Decision(specialCase: specialCase)) { decision, connection in
            let specialCase = decision.specialCase
            return try await connection.update("special_query_cases")
                .set("status", to: SQLBind(specialCase.status.rawValue)).set("decided_by", to: SQLBind(specialCase.decidedBy?.rawValue))
                .set("decided_at", to: SQLBind(specialCase.decidedAt?.storedMilliseconds)).set("decision_note", to: SQLBind(specialCase.decisionNote))
                .set("expires_at", to: SQLBind(specialCase.expiresAt?.storedMilliseconds))
                .where("id", .equal, SQLBind(specialCase.id.rawValue)).where("status", .equal, SQLBind(SpecialQueryCase.Status.pending.rawValue))
                .returning("id").all().count == 1
        }
    }

    public func use(_ id: SpecialQueryCase.ID, by query: CreditQuery.ID) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.update("special_query_cases")
                .set("status", to: SQLBind(SpecialQueryCase.Status.used.rawValue)).set("used_by_query", to: SQLBind(query.rawValue))
                .where("id", .equal, SQLBind(id.rawValue)).where("status", .equal, SQLBind(SpecialQueryCase.Status.approved.rawValue))
                .returning("id").all().count == 1
        }
    }

    public func release(_ id: SpecialQueryCase.ID, from query: CreditQuery.ID) async throws {
        try await database.transaction { connection in
            try await connection.update("special_query_cases")
                .set("status", to: SQLBind(SpecialQueryCase.Status.approved.rawValue)).set("used_by_query", to: SQLLiteral.null)
                .where("id", .equal, SQLBind(id.rawValue)).where("used_by_query", .equal, SQLBind(query.rawValue))
                .run()
        }
    }

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [SpecialQueryCase] {
        try await database.withConnection { connection in
            try await filter(connection.select().columns(Self.columns).from("special_query_cases")).all().map { row in
                guard let procedure = SpecialQueryCase.Procedure(rawValue: try row.decode(column: "procedure", as: String.self)),
                      let type = CertificateType(rawValue: try row.decode(column: "subject_type", as: String.self)),
                      let purpose = QueryPurpose(rawValue: try row.decode(column: "purpose", as: String.self)),
                      let status = SpecialQueryCase.Status(rawValue: try row.decode(column: "status", as: String.self))
                else { throw StoreError.corruptRow("special_query_cases") }
                return SpecialQueryCase(
                    id: SpecialQueryCase.ID(try row.decode(column: "id", as: String.self)), procedure: procedure,
                    subject: SubjectIdentifier(type: type, number: try row.decode(column: "subject_number", as: String.self)), purpose: purpose,
                    requestedBy: User.ID(try row.decode(column: "requested_by", as: String.self)),
                    organisationID: Organisation.ID(try row.decode(column: "organisation_id", as: String.self)),
                    authority: try row.decode(column: "authority", as: String.self),
                    documentNumber: try row.decode(column: "document_number", as: String.self),
                    grounds: try row.decode(column: "grounds", as: String.self),
                    requestedAt: Date(storedMilliseconds: try row.decode(column: "requested_at", as: Int64.self)), status: status,
                    decidedBy: try row.decode(column: "decided_by", as: String?.self).map(User.ID.init),
                    decidedAt: try row.decode(column: "decided_at", as: Int64?.self).map(Date.init(storedMilliseconds:)),
                    decisionNote: try row.decode(column: "decision_note", as: String?.self),
                    expiresAt: try row.decode(column: "expires_at", as: Int64?.self).map(Date.init(storedMilliseconds:)),
                    usedByQuery: try row.decode(column: "used_by_query", as: String?.self).map(CreditQuery.ID.init)
                )
            }
        }
    }
}
