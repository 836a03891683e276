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
    public var endedAt: Date?

    public init(tokenHash: String, userID: User.ID, csrfToken: String, createdAt: Date, lastSeenAt: Date, clientIP: String, endedAt: Date? = nil) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.clientIP = clientIP
        self.endedAt = endedAt
    }
}

/// Why a session ended; stored with it.
public enum SessionEndReason: String, Sendable {
    case signedOut = "signed_out"
    case idleTimeout = "idle_timeout"
    case lifetimeExceeded = "lifetime_exceeded"
    /// The account was suspended or closed while the session was open.
    case accountInactive = "account_inactive"
}

/// Sessions in the database, so that every instance behind a load balancer sees the same ones.
public protocol SessionRepository: Sendable {
    func create(_ session: StoredSession) async throws
    /// The session, if it exists and has not ended.
    func findActive(tokenHash: String) async throws -> StoredSession?
    func touch(tokenHash: String, at time: Date) async throws
    func end(tokenHash: String, at time: Date, reason: SessionEndReason) async throws
}

public struct SQLSessionRepository: SessionRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func create(_ session: StoredSession) async throws {
        try await database.transaction { connection in
            try await connection.insert(into: "sessions")
                .columns("token_hash", "user_id", "csrf_token", "created_at", "last_seen_at", "client_ip")
                .values(
                    SQLBind(session.tokenHash), SQLBind(session.userID.rawValue), SQLBind(session.csrfToken),
                    SQLBind(session.createdAt.storedMilliseconds), SQLBind(session.lastSeenAt.storedMilliseconds),
                    SQLBind(session.clientIP)
                )
                .run()
        }
    }

    public func findActive(tokenHash: String) async throws -> StoredSession? {
        try await database.withConnection { connection in
            guard let row = try await connection.select()
                .columns("token_hash", "user_id", "csrf_token", "created_at", "last_seen_at", "client_ip")
                .from("sessions")
                .where("token_hash", .equal, SQLBind(tokenHash))
                .where("ended_at", .is, SQLLiteral.null)
                .first()
            else { return nil }
            return StoredSession(
                tokenHash: try row.decode(column: "token_hash", as: String.self),
                userID: .init(try row.decode(column: "user_id", as: String.self)),
                csrfToken: try row.decode(column: "csrf_token", as: String.self),
                createdAt: Date(storedMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
                lastSeenAt: Date(storedMilliseconds: try row.decode(column: "last_seen_at", as: Int64.self)),
                clientIP: try row.decode(column: "client_ip", as: String.self)
            )
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
