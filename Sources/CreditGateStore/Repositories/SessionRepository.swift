import CreditGateCore
import Foundation
import SQLKit

/// A signed-in session as stored. The bearer token itself is never stored: only its SHA-256 (`tokenHash`), so
/// that a copy of the database does not let anyone sign in.
public struct StoredSession: Sendable, Equatable {
    public let tokenHash: String
    public let userID: User.ID
    /// The per-session synchroniser token that every state-changing console form must carry.
    public let csrfToken: String
    public let createdAt: Date
    public var lastSeenAt: Date
    public let clientIP: String
    public var stage: SessionStage
    public var endedAt: Date?
    public var endReason: SessionEndReason?

    public init(tokenHash: String, userID: User.ID, csrfToken: String, createdAt: Date, lastSeenAt: Date, clientIP: String,
                stage: SessionStage = .full, endedAt: Date? = nil, endReason: SessionEndReason? = nil) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.clientIP = clientIP
        self.stage = stage
        self.endedAt = endedAt
        self.endReason = endReason
    }
}

/// Why a session ended; stored with it.
public enum SessionEndReason: String, Sendable {
    case signedOut = "signed_out"
    case idleTimeout = "idle_timeout"
    case lifetimeExceeded = "lifetime_exceeded"
    /// The account was suspended or closed while the session was open.
    case accountInactive = "account_inactive"
    /// The same person signed in again: one active session per user.
    case superseded
    /// An administrator reset the password or the second factor.
    case credentialsReset = "credentials_reset"
    /// The session changed its own password: the next step is a fresh sign-in.
    case passwordChanged = "password_changed"
    /// Ended by the upgrade that brought the second factor and session stages.
    case schemaUpgrade = "schema_upgrade"
}

/// Sessions in the database, so that every instance behind a load balancer sees the same ones.
public protocol SessionRepository: Sendable {
    func create(_ session: StoredSession) async throws
    /// The session, if it exists and has not ended.
    func findActive(tokenHash: String) async throws -> StoredSession?
    func touch(tokenHash: String, at time: Date) async throws
    func end(tokenHash: String, at time: Date, reason: SessionEndReason) async throws
    /// Ends every open session of a user (except the one named), returning how many ended.
    @discardableResult
    func endAll(of userID: User.ID, except tokenHash: String?, at time: Date, reason: SessionEndReason) async throws -> Int
    /// The session whatever its state, so that the console can say why it ended.
    func find(tokenHash: String) async throws -> StoredSession?
    /// The session whatever its state, with the user it belongs to (`nil` if that account is gone), in one read.
    func findWithUser(tokenHash: String) async throws -> (session: StoredSession, user: User?)?
    func setStage(_ stage: SessionStage, tokenHash: String) async throws
    /// The open sessions of a user.
    func open(of userID: User.ID) async throws -> [StoredSession]
}

public struct SQLSessionRepository: SessionRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func create(_ session: StoredSession) async throws {
        try await database.transaction { connection in
            try await connection.insert(into: "sessions")
                .columns("token_hash", "user_id", "csrf_token", "created_at", "last_seen_at", "client_ip", "stage")
                .values(
                    SQLBind(session.tokenHash), SQLBind(session.userID.rawValue), SQLBind(session.csrfToken),
                    SQLBind(session.createdAt.storedMilliseconds), SQLBind(session.lastSeenAt.storedMilliseconds),
                    SQLBind(session.clientIP), SQLBind(session.stage.rawValue)
                )
                .run()
        }
    }

    public func findActive(tokenHash: String) async throws -> StoredSession? {
        try await load { $0.where("token_hash", .equal, SQLBind(tokenHash)).where("ended_at", .is, SQLLiteral.null) }.first
    }

    public func find(tokenHash: String) async throws -> StoredSession? {
        try await load { $0.where("token_hash", .equal, SQLBind(tokenHash)) }.first
    }

    public func open(of userID: User.ID) async throws -> [StoredSession] {
        try await load { $0.where("user_id", .equal, SQLBind(userID.rawValue)).where("ended_at", .is, SQLLiteral.null) }
    }

    public func endAll(of userID: User.ID, except tokenHash: String?, at time: Date, reason: SessionEndReason) async throws -> Int {
        try await database.transaction { connection in
            var update = connection.update("sessions")
                .set("ended_at", to: SQLBind(time.storedMilliseconds))
                .set("end_reason", to: SQLBind(reason.rawValue))
                .where("user_id", .equal, SQLBind(userID.rawValue))
                .where("ended_at", .is, SQLLiteral.null)
            if let tokenHash { update = update.where("token_hash", .notEqual, SQLBind(tokenHash)) }
            return try await update.returning("token_hash").all().count
        }
    }

    public func setStage(_ stage: SessionStage, tokenHash: String) async throws {
        try await database.transaction { connection in
            try await connection.update("sessions")
                .set("stage", to: SQLBind(stage.rawValue))
                .where("token_hash", .equal, SQLBind(tokenHash))
                .where("ended_at", .is, SQLLiteral.null)
                .run()
        }
    }

    static let columns = ColumnList(["token_hash", "user_id", "csrf_token", "created_at", "last_seen_at", "client_ip", "stage", "ended_at", "end_reason"])

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [StoredSession] {
        try await database.withConnection { connection in
            let query = connection.select().column(Self.columns).from("sessions")
            return try await filter(query).all().map { try Self.session(from: $0) }
        }
    }

    static func session(from row: any SQLRow) throws -> StoredSession {
        guard let stage = SessionStage(rawValue: try row.decode(column: "stage", as: String.self)) else {
            throw StoreError.corruptRow("sessions.stage")
        }
        return StoredSession(
            tokenHash: try row.decode(column: "token_hash", as: String.self),
            userID: .init(try row.decode(column: "user_id", as: String.self)),
            csrfToken: try row.decode(column: "csrf_token", as: String.self),
            createdAt: Date(storedMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            lastSeenAt: Date(storedMilliseconds: try row.decode(column: "last_seen_at", as: Int64.self)),
            clientIP: try row.decode(column: "client_ip", as: String.self),
            stage: stage,
            endedAt: try row.decode(column: "ended_at", as: Int64?.self).map(Date.init(storedMilliseconds:)),
            endReason: try row.decode(column: "end_reason", as: String?.self).flatMap(SessionEndReason.init(rawValue:))
        )
    }

    /// The session's columns, then its user's (each as `holder_` and its name) and roles: the statement every
    /// authenticated request makes, written once per dialect.
    static func sessionWithUser(_ backend: DatabaseBackend) -> String {
        let sessionColumns = ["token_hash", "user_id", "csrf_token", "created_at", "last_seen_at", "client_ip", "stage", "ended_at", "end_reason"]
            .map { "sessions.\"\($0)\" AS \"\($0)\"" }
        let userColumns = SQLUserRepository.columns.map { "holder.\"\($0)\" AS \"holder_\($0)\"" }
        let roles = SQLUserRepository.roleList(backend, of: "holder") + " AS \"holder_role_list\""
        return "SELECT " + (sessionColumns + userColumns + [roles]).joined(separator: ", ")
            + " FROM sessions LEFT JOIN users AS holder ON holder.id = sessions.user_id WHERE sessions.token_hash = "
    }

    static let sessionWithUserSQLite = sessionWithUser(.sqlite)
    static let sessionWithUserPostgres = sessionWithUser(.postgres)

    public func findWithUser(tokenHash: String) async throws -> (session: StoredSession, user: User?)? {
        try await database.withConnection { connection in
            let text = database.backend == .postgres ? Self.sessionWithUserPostgres : Self.sessionWithUserSQLite
            guard let row = try await connection.raw("\(unsafeRaw: text)\(bind: tokenHash)").first() else { return nil }
            let session = try Self.session(from: row)
            // The join finds no user only if the account's row is gone: the session then stands for nobody.
            guard try !row.decodeNil(column: "holder_id") else { return (session, nil) }
            return (session, try SQLUserRepository.credentials(from: row, prefix: "holder_").user)
        }
    }

    public func touch(tokenHash: String, at time: Date) async throws {
        try await database.transaction { connection in
            try await connection.update("sessions")
                .set("last_seen_at", to: SQLBind(time.storedMilliseconds))
                .where("token_hash", .equal, SQLBind(tokenHash))
                .where("ended_at", .is, SQLLiteral.null)
                .run()
        }
    }

    public func end(tokenHash: String, at time: Date, reason: SessionEndReason) async throws {
        try await database.transaction { connection in
            try await connection.update("sessions")
                .set("ended_at", to: SQLBind(time.storedMilliseconds))
                .set("end_reason", to: SQLBind(reason.rawValue))
                .where("token_hash", .equal, SQLBind(tokenHash))
                .where("ended_at", .is, SQLLiteral.null)
                .run()
        }
    }
}
