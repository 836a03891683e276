import CreditGateCore
import Foundation
import SQLKit

/// Every opening of a report, for the trace from a view ID read off a screenshot back to the view.
public protocol ReportViewRepository: Sendable {
    func record(_ view: ReportView) async throws
    func view(_ id: ReportView.ID) async throws -> ReportView?
    /// The openings of a query's report, oldest first.
    func views(of query: CreditQuery.ID) async throws -> [ReportView]
}

public struct SQLReportViewRepository: ReportViewRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = ["id", "query_id", "report_id", "user_id", "organisation_id", "viewed_at", "client_ip", "log_index"]

    public func record(_ view: ReportView) async throws {
        try await database.transaction { connection in
            try await connection.insert(into: "report_views").columns(Self.columns)
                .values(SQLBind(view.id.rawValue), SQLBind(view.queryID.rawValue), SQLBind(view.reportID.rawValue), SQLBind(view.userID.rawValue),
                        SQLBind(view.organisationID.rawValue), SQLBind(view.viewedAt.storedMilliseconds), SQLBind(view.clientIP),
                        SQLBind(Int64(view.logIndex)))
                .run()
        }
    }

    public func view(_ id: ReportView.ID) async throws -> ReportView? {
        try await load { $0.where("id", .equal, SQLBind(id.rawValue)) }.first
    }

    public func views(of query: CreditQuery.ID) async throws -> [ReportView] {
        try await load { $0.where("query_id", .equal, SQLBind(query.rawValue)).orderBy("viewed_at").orderBy("id") }
    }

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [ReportView] {
        try await database.withConnection { connection in
            try await filter(connection.select().columns(Self.columns).from("report_views")).all().map { row in
                ReportView(
                    id: ReportView.ID(try row.decode(column: "id", as: String.self)),
                    queryID: CreditQuery.ID(try row.decode(column: "query_id", as: String.self)),
                    reportID: StoredReport.ID(try row.decode(column: "report_id", as: String.self)),
                    userID: User.ID(try row.decode(column: "user_id", as: String.self)),
                    organisationID: Organisation.ID(try row.decode(column: "organisation_id", as: String.self)),
                    viewedAt: Date(storedMilliseconds: try row.decode(column: "viewed_at", as: Int64.self)),
                    clientIP: try row.decode(column: "client_ip", as: String.self),
                    logIndex: UInt64(try row.decode(column: "log_index", as: Int64.self))
                )
            }
        }
    }
}

/// A report whose contents were destroyed, and why.
public struct ReportDestruction: Sendable, Equatable {
    public let reportID: StoredReport.ID
    public let queryID: CreditQuery.ID
    public let destroyedAt: Date
    public let reason: String
    public let logIndex: UInt64

    public init(reportID: StoredReport.ID, queryID: CreditQuery.ID, destroyedAt: Date, reason: String, logIndex: UInt64) {
        self.reportID = reportID
        self.queryID = queryID
        self.destroyedAt = destroyedAt
        self.reason = reason
        self.logIndex = logIndex
    }
}

/// A legal hold on a query: its report and consent are kept past their retention until it is released.
public struct LegalHold: Sendable, Equatable {
    public let queryID: CreditQuery.ID
    public let reason: String
    public let placedBy: User.ID
    public let placedAt: Date
    public var releasedBy: User.ID?
    public var releasedAt: Date?

    public init(queryID: CreditQuery.ID, reason: String, placedBy: User.ID, placedAt: Date, releasedBy: User.ID? = nil, releasedAt: Date? = nil) {
        self.queryID = queryID
        self.reason = reason
        self.placedBy = placedBy
        self.placedAt = placedAt
        self.releasedBy = releasedBy
        self.releasedAt = releasedAt
    }
}

/// Retention and destruction: what is due, legal holds, crypto-shredding and the records it leaves.
public protocol RetentionRepository: Sendable {
    /// Reports still readable whose query was answered before `cutoff` and is under no legal hold, oldest first.
    func reportsDue(answeredBefore cutoff: Date, limit: Int) async throws -> [(report: StoredReport.ID, query: CreditQuery.ID)]
    /// Destroys the report's keys and ciphertext and records the destruction, in one transaction — unless it is
    /// already destroyed or its query now has a legal hold (`false`).
    func shred(_ destruction: ReportDestruction) async throws -> Bool
    func destruction(of report: StoredReport.ID) async throws -> ReportDestruction?
    func destructions(limit: Int) async throws -> [ReportDestruction]
    /// Consent documents whose consent ended (expired or withdrawn) before `cutoff`, with no held query citing it.
    func consentDocumentsDue(endedBefore cutoff: Date, limit: Int) async throws -> [Consent.ID]
    /// Deletes a consent's scanned document (its wrapped key with it) and the subject's identity on the consent (the
    /// identifier is kept masked, the name not at all); the consent's dates, purposes and the scan's digest stay.
    func destroyConsentDocument(_ id: Consent.ID) async throws -> Bool
    /// Places a hold; `false` when one is already in force.
    func placeHold(_ hold: LegalHold) async throws -> Bool
    /// Releases the hold in force; `false` when there is none.
    func releaseHold(on query: CreditQuery.ID, by user: User.ID, at time: Date) async throws -> Bool
    func holds(limit: Int) async throws -> [LegalHold]
}

public struct SQLRetentionRepository: RetentionRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// No hold in force on the query of the row being looked at (`queries.id`).
    static let notHeld: SQLQueryString = "NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.query_id = q.id AND h.released_at IS NULL)"

    public func reportsDue(answeredBefore cutoff: Date, limit: Int) async throws -> [(report: StoredReport.ID, query: CreditQuery.ID)] {
        try await database.withConnection { connection in
            try await connection.raw("""
                SELECT r.id AS report_id, q.id AS query_id FROM reports r JOIN queries q ON q.id = r.query_id
                WHERE r.wrapped_key IS NOT NULL AND q.answered_at < \(bind: cutoff.storedMilliseconds) AND \(Self.notHeld)
                ORDER BY q.answered_at, r.id LIMIT \(literal: limit)
                """).all().map { row in
                (StoredReport.ID(try row.decode(column: "report_id", as: String.self)), CreditQuery.ID(try row.decode(column: "query_id", as: String.self)))
            }
        }
    }

    public func shred(_ destruction: ReportDestruction) async throws -> Bool {
        try await database.transaction { connection in
            let shredded = try await connection.raw("""
                UPDATE reports SET wrapped_key = NULL, ciphertext = NULL
                WHERE id = \(bind: destruction.reportID.rawValue) AND wrapped_key IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.query_id = \(bind: destruction.queryID.rawValue) AND h.released_at IS NULL)
                RETURNING id
                """).all()
            guard shredded.count == 1 else { return false }
            try await connection.insert(into: "report_destructions")
                .columns("report_id", "query_id", "destroyed_at", "reason", "log_index")
                .values(SQLBind(destruction.reportID.rawValue), SQLBind(destruction.queryID.rawValue), SQLBind(destruction.destroyedAt.storedMilliseconds),
                        SQLBind(destruction.reason), SQLBind(Int64(destruction.logIndex)))
                .run()
            return true
        }
    }

    public func destruction(of report: StoredReport.ID) async throws -> ReportDestruction? {
        try await loadDestructions { $0.where("report_id", .equal, SQLBind(report.rawValue)) }.first
    }

    public func destructions(limit: Int) async throws -> [ReportDestruction] {
        try await loadDestructions { $0.orderBy("destroyed_at", .descending).limit(limit) }
    }

    private func loadDestructions(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [ReportDestruction] {
        try await database.withConnection { connection in
            try await filter(connection.select().columns("report_id", "query_id", "destroyed_at", "reason", "log_index").from("report_destructions"))
                .all().map { row in
                    ReportDestruction(reportID: StoredReport.ID(try row.decode(column: "report_id", as: String.self)),
                                      queryID: CreditQuery.ID(try row.decode(column: "query_id", as: String.self)),
                                      destroyedAt: Date(storedMilliseconds: try row.decode(column: "destroyed_at", as: Int64.self)),
                                      reason: try row.decode(column: "reason", as: String.self),
                                      logIndex: UInt64(try row.decode(column: "log_index", as: Int64.self)))
                }
        }
    }

    public func consentDocumentsDue(endedBefore cutoff: Date, limit: Int) async throws -> [Consent.ID] {
        let day = CalendarDate(cutoff).description
        return try await database.withConnection { connection in
            try await connection.raw("""
                SELECT c.id AS consent_id FROM consents c JOIN consent_documents d ON d.consent_id = c.id
                WHERE (c.valid_until < \(bind: day) OR (c.withdrawn_at IS NOT NULL AND c.withdrawn_at < \(bind: cutoff.storedMilliseconds)))
                  AND NOT EXISTS (SELECT 1 FROM queries q JOIN legal_holds h ON h.query_id = q.id
                                  WHERE q.consent_id = c.id AND h.released_at IS NULL)
                ORDER BY c.valid_until, c.id LIMIT \(literal: limit)
                """).all().map { Consent.ID(try $0.decode(column: "consent_id", as: String.self)) }
        }
    }

    public func destroyConsentDocument(_ id: Consent.ID) async throws -> Bool {
        try await database.transaction { connection in
            guard try await connection.delete(from: "consent_documents").where("consent_id", .equal, SQLBind(id.rawValue))
                .returning("consent_id").all().count == 1
            else { return false }
            // The subject's identity goes with the scan: the register keeps the consent's dates and purposes, the
            // identifier only masked and no name.
            if let row = try await connection.select().column("subject_number").from("consents").where("id", .equal, SQLBind(id.rawValue)).first() {
                let masked = Masking.identifier(try row.decode(column: "subject_number", as: String.self))
                try await connection.update("consents").set("subject_number", to: SQLBind(masked)).set("subject_name", to: SQLBind(""))
                    .where("id", .equal, SQLBind(id.rawValue)).run()
            }
            return true
        }
    }

    public func placeHold(_ hold: LegalHold) async throws -> Bool {
        try await database.transaction { connection in
            let existing = try await connection.select().columns("released_at").from("legal_holds")
                .where("query_id", .equal, SQLBind(hold.queryID.rawValue)).first()
            if let existing {
                guard try existing.decode(column: "released_at", as: Int64?.self) != nil else { return false }
                try await connection.update("legal_holds")
                    .set("reason", to: SQLBind(hold.reason)).set("placed_by", to: SQLBind(hold.placedBy.rawValue))
                    .set("placed_at", to: SQLBind(hold.placedAt.storedMilliseconds)).set("released_by", to: SQLLiteral.null)
                    .set("released_at", to: SQLLiteral.null)
                    .where("query_id", .equal, SQLBind(hold.queryID.rawValue)).run()
                return true
            }
            try await connection.insert(into: "legal_holds").columns("query_id", "reason", "placed_by", "placed_at")
                .values(SQLBind(hold.queryID.rawValue), SQLBind(hold.reason), SQLBind(hold.placedBy.rawValue), SQLBind(hold.placedAt.storedMilliseconds))
                .run()
            return true
        }
    }

    public func releaseHold(on query: CreditQuery.ID, by user: User.ID, at time: Date) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.update("legal_holds")
                .set("released_by", to: SQLBind(user.rawValue)).set("released_at", to: SQLBind(time.storedMilliseconds))
                .where("query_id", .equal, SQLBind(query.rawValue)).where("released_at", .is, SQLLiteral.null)
                .returning("query_id").all().count == 1
        }
    }

    public func holds(limit: Int) async throws -> [LegalHold] {
        try await database.withConnection { connection in
            try await connection.select().columns("query_id", "reason", "placed_by", "placed_at", "released_by", "released_at").from("legal_holds")
                .orderBy("placed_at", .descending).limit(limit).all().map { row in
                    LegalHold(queryID: CreditQuery.ID(try row.decode(column: "query_id", as: String.self)), reason: try row.decode(column: "reason", as: String.self),
                              placedBy: User.ID(try row.decode(column: "placed_by", as: String.self)),
                              placedAt: Date(storedMilliseconds: try row.decode(column: "placed_at", as: Int64.self)),
                              releasedBy: try row.decode(column: "released_by", as: String?.self).map(User.ID.init),
                              releasedAt: try row.decode(column: "released_at", as: Int64?.self).map(Date.init(storedMilliseconds:)))
                }
        }
    }
}

/// One sealed item of a kind that key rotation re-wraps: a report or a consent's scanned document.
public struct WrappedItem: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case report
        case consentDocument = "consent_document"

        var table: String { self == .report ? "reports" : "consent_documents" }
        var idColumn: String { self == .report ? "id" : "consent_id" }
        /// The binding its seals authenticate (see `EnvelopeSealer`).
        public func binding(_ id: String) -> String { self == .report ? "report:\(id)" : "consent:\(id)" }
    }

    public let kind: Kind
    public let id: String
    public let envelope: SealedEnvelope
}

/// The data keys of every sealed item, for key rotation: which master key wraps how many, and the re-wrap itself.
public protocol WrappedKeyRepository: Sendable {
    /// How many items each master key wraps (destroyed reports, which have no key, are not counted).
    func countsByKey() async throws -> [String: Int]
    /// Items not yet wrapped under `keyID`, a batch at a time.
    func items(notUnder keyID: String, kind: WrappedItem.Kind, limit: Int) async throws -> [WrappedItem]
    /// Replaces the wrapped key of an item still wrapped under `previousKeyID`; `false` when it changed meanwhile.
    func rewrap(_ item: WrappedItem, to envelope: SealedEnvelope) async throws -> Bool
}

public struct SQLWrappedKeyRepository: WrappedKeyRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func countsByKey() async throws -> [String: Int] {
        try await database.withConnection { connection in
            var counts: [String: Int] = [:]
            for kind in WrappedItem.Kind.allCases {
                for row in try await connection.raw("""
                    SELECT key_id, COUNT(*) AS n FROM \(ident: kind.table) WHERE wrapped_key IS NOT NULL GROUP BY key_id
                    """).all() {
                    counts[try row.decode(column: "key_id", as: String.self), default: 0] += Int(try row.decode(column: "n", as: Int64.self))
                }
            }
            return counts
        }
    }

    public func items(notUnder keyID: String, kind: WrappedItem.Kind, limit: Int) async throws -> [WrappedItem] {
        try await database.withConnection { connection in
            try await connection.select().columns(kind.idColumn, "key_id", "wrapped_key", "ciphertext").from(kind.table)
                .where("key_id", .notEqual, SQLBind(keyID)).where("wrapped_key", .isNot, SQLLiteral.null)
                .orderBy(kind.idColumn).limit(limit).all().map { row in
                    WrappedItem(kind: kind, id: try row.decode(column: kind.idColumn, as: String.self), envelope: try SealedEnvelope(row: row, table: kind.table))
                }
        }
    }

    public func rewrap(_ item: WrappedItem, to envelope: SealedEnvelope) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.update(item.kind.table)
                .set("key_id", to: SQLBind(envelope.keyID)).set("wrapped_key", to: SQLBind(envelope.wrappedKey.base64EncodedString()))
                .where(item.kind.idColumn, .equal, SQLBind(item.id)).where("key_id", .equal, SQLBind(item.envelope.keyID))
                .where("wrapped_key", .equal, SQLBind(item.envelope.wrappedKey.base64EncodedString()))
                .returning(item.kind.idColumn).all().count == 1
        }
    }
}
