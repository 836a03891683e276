import CreditGateStore
import Foundation
import Logging
import NIOCore
import SQLKit

/// A database engine the store suite runs against. SQLite always; PostgreSQL whenever
/// `CREDITGATE_TEST_POSTGRES_URL` is set, so the same tests prove both.
enum TestBackend: CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres(url: String)

    static var all: [TestBackend] {
        var backends: [TestBackend] = [.sqlite]
        if let url = ProcessInfo.processInfo.environment["CREDITGATE_TEST_POSTGRES_URL"], !url.isEmpty {
            backends.append(.postgres(url: url))
        }
        announce(backends)
        return backends
    }

    private static let announced = Announcement()

    private static func announce(_ backends: [TestBackend]) {
        announced.once {
            let names = backends.map(\.testDescription).joined(separator: ", ")
            print("Store suite backends: \(names)\(backends.count == 1 ? " (set CREDITGATE_TEST_POSTGRES_URL to add PostgreSQL)" : "")")
        }
    }

    var testDescription: String {
        switch self {
        case .sqlite: "SQLite"
        case .postgres: "PostgreSQL"
        }
    }

    /// A fresh, empty database: a new SQLite file, or a new PostgreSQL schema. `body` runs with it; the database
    /// is removed afterwards.
    func withFreshDatabase<T>(_ body: (Database) async throws -> T) async throws -> T {
        try await withFreshDatabase(pool: nil, body)
    }

    /// The same, with a pool of exactly `pool.connections` connections (one event loop) and the given time a caller
    /// waits for one.
    func withFreshDatabase<T>(pool: (connections: Int, requestTimeout: Duration, loops: any EventLoopGroup)?, maximumIdle: Duration = .seconds(60),
                              _ body: (Database) async throws -> T) async throws -> T {
        func open(_ location: DatabaseLocation, searchPath: [String]? = nil, logger: Logger) throws -> Database {
            guard let pool else { return try Database(location: location, postgresSearchPath: searchPath, logger: logger) }
            return try Database(location: location, maxConnectionsPerEventLoop: pool.connections, postgresSearchPath: searchPath,
                                connectionRequestTimeout: pool.requestTimeout, connectionMaximumIdle: maximumIdle, logger: logger,
                                eventLoopGroup: pool.loops)
        }
        var logger = Logger(label: "store-tests")
        logger.logLevel = .warning
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cg-store-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let database = try open(.sqliteFile(path: directory.appendingPathComponent("test.sqlite").path), logger: logger)
            return try await run(body, database)
        case .postgres(let url):
            let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let admin = try Database(location: try DatabaseLocation(url: url), maxConnectionsPerEventLoop: 1, logger: logger)
            do {
                try await admin.withConnection { try await $0.raw("CREATE SCHEMA \(ident: schema)").run() }
                let database = try open(try DatabaseLocation(url: url), searchPath: [schema], logger: logger)
                let result = try await run(body, database)
                try await admin.withConnection { try await $0.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
                try await admin.shutdown()
                return result
            } catch {
                try? await admin.withConnection { try await $0.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
                try? await admin.shutdown()
                throw error
            }
        }
    }

    /// Two instances on one fresh database: two pools on one PostgreSQL schema, as two servers would be. SQLite is
    /// embedded — one process owns the file — so both are the same pool there.
    func withTwoInstances<T>(_ body: (Database, Database) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            return try await withFreshDatabase { database in try await body(database, database) }
        case .postgres(let url):
            var logger = Logger(label: "store-tests")
            logger.logLevel = .warning
            return try await withFreshDatabase { first in
                let schema = try await first.withConnection { connection in
                    try await connection.raw("SELECT current_schema() AS name").first()?.decode(column: "name", as: String.self) ?? "public"
                }
                let second = try Database(location: try DatabaseLocation(url: url), postgresSearchPath: [schema], logger: logger)
                return try await run({ try await body(first, $0) }, second)
            }
        }
    }

    private func run<T>(_ body: (Database) async throws -> T, _ database: Database) async throws -> T {
        do {
            let result = try await body(database)
            try await database.shutdown()
            return result
        } catch {
            try? await database.shutdown()
            throw error
        }
    }
}

final class Announcement: Sendable {
    private let done = Mutex(false)

    func once(_ body: () -> Void) {
        let first = done.withLock { value -> Bool in
            defer { value = true }
            return !value
        }
        if first { body() }
    }
}

import Synchronization
import Testing
