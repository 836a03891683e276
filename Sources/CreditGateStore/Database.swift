import CreditGateCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

/// Which SQL engine a ``Database`` talks to. The only place dialect differences are decided.
public enum DatabaseBackend: String, Sendable {
    case sqlite
    case postgres
}

/// Where the database lives, parsed from `CREDITGATE_DATABASE_URL` (`sqlite:///path` or
/// `postgres://user:password@host:port/name`).
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqliteFile(path: String)
    case postgres(url: String)

    /// The default: an SQLite file under `./creditgate-data/`.
    public static let defaultURL = "sqlite:///./creditgate-data/creditgate.sqlite"

    public init(url: String) throws {
        if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            guard path.hasPrefix("/"), path.count > 1 else { throw DatabaseError.invalidURL("sqlite URLs take the form sqlite:///path/to/file") }
            // sqlite:///./relative/path keeps a relative path; sqlite:////abs/path or sqlite:///abs/path an absolute one.
            let trimmed = path.hasPrefix("/./") ? String(path.dropFirst()) : path
            self = .sqliteFile(path: trimmed)
        } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            guard (try? SQLPostgresConfiguration(url: url)) != nil else {
                throw DatabaseError.invalidURL("postgres URLs take the form postgres://user:password@host:port/database")
            }
            self = .postgres(url: url)
        } else {
            throw DatabaseError.invalidURL("the database URL must start with sqlite:// or postgres://")
        }
    }

    public var backend: DatabaseBackend {
        switch self {
        case .sqliteFile: .sqlite
        case .postgres: .postgres
        }
    }

    /// A description safe for logs: the password of a PostgreSQL URL is never shown.
    public var description: String {
        switch self {
        case .sqliteFile(let path): return "sqlite://\(path)"
        case .postgres(let url):
            guard var components = URLComponents(string: url) else { return "postgres://(unparseable)" }
            if components.password != nil { components.password = "***" }
            return components.string ?? "postgres://(unparseable)"
        }
    }
}

public enum DatabaseError: Error, CustomStringConvertible, Sendable {
    case invalidURL(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidURL(let reason): "invalid database URL: \(reason)"
        case .unavailable(let reason): "database unavailable: \(reason)"
        }
    }
}

/// Counters of the connection pool, read by the metrics endpoint.
public struct PoolStatistics: Sendable {
    public var connectionsInUse: Int
    public var maximumConnections: Int
    public var acquisitions: Int
    public var acquisitionFailures: Int
    public var totalWaitSeconds: Double
    /// Callers waiting for a connection at the moment of reading.
    public var waiting: Int = 0
}

/// A pool of connections to SQLite or PostgreSQL and the two ways to use it: one statement at a time, or an
/// explicit transaction.
public final class Database: Sendable {
    public let backend: DatabaseBackend
    public let location: DatabaseLocation
    private let pool: Pool
    private let logger: Logger
    private let statistics: Mutex<PoolStatistics>
    /// SQLite has one writer at a time. Writers wait here, in order, instead of inside SQLite's busy handler:
    /// that handler sleeps on a thread-pool thread, and enough sleeping writers would leave no thread for the
    /// connection that holds the lock to finish its commit.
    private let writeGate = WriteGate()
    /// SQLite calls block their thread (a busy wait on a lock sleeps in the thread). They get threads of their own,
    /// shared by every SQLite database of the process, so that a stuck lock cannot starve password hashing or the
    /// rest of the server of threads. Started once, for the life of the process.
    static let sqliteThreads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(8, System.coreCount * 4))
        pool.start()
        return pool
    }()

    private enum Pool: Sendable {
        case sqlite(ConnectionPool<SQLiteConnection>)
        case postgres(ConnectionPool<PostgresConnection>)
    }

    /// Opens a pool. For SQLite the parent folder is created if missing, and every connection runs in WAL mode
    /// with foreign keys on and a busy timeout. `postgresSearchPath` confines a PostgreSQL pool to one schema
    /// (used by the store tests to isolate each test).
    public init(
        location: DatabaseLocation,
        maxConnectionsPerEventLoop: Int = 4,
        busyTimeoutMilliseconds: Int = 2000,
        postgresSearchPath: [String]? = nil,
        connectionRequestTimeout: Duration = .seconds(10),
        connectionMaximumIdle: Duration = .seconds(60),
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.location = location
        self.backend = location.backend
        self.logger = logger
        let loops = Array(eventLoopGroup.makeIterator()).count
        self.statistics = Mutex(PoolStatistics(
            connectionsInUse: 0, maximumConnections: loops * maxConnectionsPerEventLoop,
            acquisitions: 0, acquisitionFailures: 0, totalWaitSeconds: 0
        ))
        switch location {
        case .sqliteFile(let path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let openings = WriteGate()
            let source = SQLiteSessionSource(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, threadPool: Self.sqliteThreads)
            self.pool = .sqlite(ConnectionPool(
                capacity: loops * maxConnectionsPerEventLoop, requestTimeout: connectionRequestTimeout, maximumIdle: connectionMaximumIdle,
                open: {
                    // One connection opens at a time: switching a new file to WAL takes a lock that a second
                    // connection opening at the same moment may be refused without waiting, and then fail.
                    await openings.acquire()
                    do {
                        let connection = try await source.makeConnection(logger: logger, on: eventLoopGroup.next()).get()
                        await openings.release()
                        return connection
                    } catch {
                        await openings.release()
                        throw error
                    }
                },
                isClosed: { $0.isClosed },
                close: { try? await $0.close().get() }
            ))
        case .postgres(let url):
            let configuration = try {
                var configuration = try SQLPostgresConfiguration(url: url)
                configuration.searchPath = postgresSearchPath
                return configuration
            }()
            let connectionIDs = Atomic<Int>(0)
            self.pool = .postgres(ConnectionPool(
                capacity: loops * maxConnectionsPerEventLoop, requestTimeout: connectionRequestTimeout, maximumIdle: connectionMaximumIdle,
                open: {
                    let id = connectionIDs.wrappingAdd(1, ordering: .relaxed).newValue
                    let connection = try await PostgresConnection.connect(
                        on: eventLoopGroup.next(), configuration: configuration.coreConfiguration, id: id, logger: logger
                    )
                    if let searchPath = configuration.searchPath {
                        do {
                            try await connection.sql(queryLogLevel: nil).raw("SET search_path TO \(idents: searchPath, joinedBy: ",")").run()
                        } catch {
                            try? await connection.close()
                            throw error
                        }
                    }
                    return connection
                },
                isClosed: { $0.isClosed },
                close: { try? await $0.close().get() }
            ))
        }
    }

    /// Closes every connection. Call once, at shutdown.
    public func shutdown() async throws {
        switch pool {
        case .sqlite(let pool): await pool.shutdown()
        case .postgres(let pool): await pool.shutdown()
        }
    }

    public var poolStatistics: PoolStatistics {
        var read = statistics.withLock { $0 }
        read.waiting = switch pool {
        case .sqlite(let pool): pool.waiting
        case .postgres(let pool): pool.waiting
        }
        return read
    }

    /// Runs `body` with one connection from the pool, outside any explicit transaction. For reads: every write
    /// goes through ``transaction(_:)``.
    public func withConnection<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        switch pool {
        case .sqlite(let pool):
            let connection = try await acquire { try await pool.acquire() }
            recordAcquired(since: started)
            defer { pool.release(connection); recordReleased() }
            return try await body(connection.sql())
        case .postgres(let pool):
            let connection = try await acquire { try await pool.acquire() }
            recordAcquired(since: started)
            defer { pool.release(connection); recordReleased() }
            return try await body(connection.sql())
        }
    }

    /// Runs `body` inside one explicit transaction: committed when `body` returns, rolled back when it throws.
    ///
    /// On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the write lock up front: a deferred
    /// transaction that reads and then writes can fail with `SQLITE_BUSY` without waiting, which would turn
    /// contention into errors.
    public func transaction<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        let serialised = backend == .sqlite
        if serialised { await writeGate.acquire() }
        do {
            let result = try await inTransaction(body)
            if serialised { await writeGate.release() }
            return result
        } catch {
            if serialised { await writeGate.release() }
            throw error
        }
    }

    private func inTransaction<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.raw(backend == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN").run()
            do {
                let result = try await body(connection)
                try await connection.raw("COMMIT").run()
                return result
            } catch {
                do {
                    try await connection.raw("ROLLBACK").run()
                } catch let rollbackError {
                    logger.error("rollback failed", metadata: ["error": "\(String(reflecting: rollbackError))"])
                }
                throw error
            }
        }
    }

    /// Runs `body` in one read-only transaction that sees a single consistent state of the database while writers
    /// go on: SQLite's deferred read transaction in WAL mode, PostgreSQL's REPEATABLE READ. Takes no write lock.
    public func snapshot<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.raw(backend == .sqlite ? "BEGIN DEFERRED" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").run()
            do {
                let result = try await body(connection)
                try await connection.raw("COMMIT").run()
                return result
            } catch {
                try? await connection.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// `true` when a trivial statement succeeds within the pool's request timeout.
    public func isReachable() async -> Bool {
        do {
            return try await withConnection { connection in
                try await connection.raw("SELECT 1 AS one").first() != nil
            }
        } catch {
            logger.warning("database not reachable", metadata: ["error": "\(String(reflecting: error))"])
            return false
        }
    }

    private func acquire<C>(_ request: () async throws -> C) async throws -> C {
        do {
            return try await request()
        } catch {
            statistics.withLock { $0.acquisitionFailures += 1 }
            throw DatabaseError.unavailable(String(describing: type(of: error)))
        }
    }

    private func recordAcquired(since started: ContinuousClock.Instant) {
        let waited = ContinuousClock.now - started
        let seconds = Double(waited.components.seconds) + Double(waited.components.attoseconds) / 1e18
        statistics.withLock {
            $0.connectionsInUse += 1
            $0.acquisitions += 1
            $0.totalWaitSeconds += seconds
        }
    }

    private func recordReleased() {
        statistics.withLock { $0.connectionsInUse -= 1 }
    }
}

/// Opens SQLite connections configured for a server: WAL journal (readers never block the writer), foreign keys
/// enforced, and a busy timeout so that a writer waits for the lock instead of failing at once.
struct SQLiteSessionSource: Sendable {
    let path: String
    let busyTimeoutMilliseconds: Int
    let threadPool: NIOThreadPool

    func makeConnection(logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<SQLiteConnection> {
        let pragmas = [
            "PRAGMA busy_timeout = \(busyTimeoutMilliseconds)",
            "PRAGMA journal_mode = WAL",
            "PRAGMA foreign_keys = ON",
            // FULL: a committed transaction survives a power cut, which the record of queries must.
            "PRAGMA synchronous = FULL",
        ]
        return SQLiteConnection.open(storage: .file(path: path), threadPool: threadPool, logger: logger, on: eventLoop)
            .flatMap { connection in
                pragmas.reduce(eventLoop.makeSucceededVoidFuture()) { previous, pragma in
                    previous.flatMap { connection.query(pragma).map { _ in } }
                }
                .map { connection }
                .flatMapError { error in connection.close().flatMapThrowing { throw error } }
            }
    }
}

/// A first-come, first-served lock for async code.
actor WriteGate {
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            held = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
