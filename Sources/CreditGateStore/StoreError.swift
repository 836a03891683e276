import PostgresNIO
import SQLiteNIO

/// Failures the repositories report in domain terms.
public enum StoreError: Error, Equatable, Sendable {
    /// A row with the same unique key exists (e.g. a second account for one employee ID).
    case duplicate(String)
    /// A referenced row does not exist.
    case missingReference(String)
    /// A stored value no longer parses (a row written behind the application's back).
    case corruptRow(String)
}

/// Failures of the database itself (not of the request): busy or locked files, lost connections. A request that
/// meets one gets `503` with `Retry-After`, never `500`.
public enum DatabaseAvailability {
    public static func isTransient(_ error: any Error) -> Bool {
        if error is DatabaseError { return true }
        if let error = error as? SQLiteError {
            return [.busy, .locked, .ioError, .full, .cantOpen, .readOnly].contains(error.reason)
        }
        if let error = error as? PSQLError {
            let lostConnection: [PSQLError.Code] = [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed]
            // Admin shutdown, crash shutdown, cannot connect now, too many connections, serialisation failure,
            // deadlock, lock not available: the server's own state, not the request's.
            let transientStates = ["57P01", "57P02", "57P03", "53300", "40001", "40P01", "55P03"]
            return lostConnection.contains(error.code) || transientStates.contains(error.serverInfo?[.sqlState] ?? "")
        }
        return false
    }
}

enum ConstraintViolation {
    /// `true` for a unique-constraint violation on either engine.
    static func isUnique(_ error: any Error) -> Bool {
        if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23505" }
        if let error = error as? SQLiteError { return error.message.contains("UNIQUE constraint failed") }
        return false
    }

    /// `true` for a foreign-key violation on either engine.
    static func isForeignKey(_ error: any Error) -> Bool {
        if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23503" }
        if let error = error as? SQLiteError { return error.message.contains("FOREIGN KEY constraint failed") }
        return false
    }
}

extension Date {
    /// Milliseconds since the Unix epoch, the storage form of every time column.
    var storedMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(storedMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(storedMilliseconds) / 1000)
    }
}

import Foundation
