import CreditGateStore
import Foundation
import NIOPosix
import SQLKit
import Synchronization
import Testing

/// The pool that lends every statement its connection: never more than its capacity, callers beyond it served in
/// turn as connections come back, a caller that waits too long told the database is unavailable, and nothing lent
/// after shutdown.
@Suite struct ConnectionPoolTests {
    static let oneLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    @Test(arguments: TestBackend.all)
    func callersBeyondTheCapacityWaitTheirTurn(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase(pool: (2, .seconds(10), Self.oneLoop)) { database in
            let inUse = Shared((now: 0, most: 0))
            let finished = Shared(0)
            // Twelve callers, each holding its connection across a statement and a pause: at most two at a time.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        try await database.withConnection { connection in
                            inUse.withLock { state in
                                state.now += 1
                                state.most = max(state.most, state.now)
                            }
                            _ = try await connection.raw("SELECT 1 AS one").first()
                            try await Task.sleep(for: .milliseconds(20))
                            inUse.withLock { $0.now -= 1 }
                        }
                        finished.withLock { $0 += 1 }
                    }
                }
                try await group.waitForAll()
            }
            #expect(finished.withLock { $0 } == 12)
            #expect(inUse.withLock { $0.most } == 2)
            #expect(database.poolStatistics.connectionsInUse == 0)
            #expect(database.poolStatistics.acquisitions == 12)
        }
    }

    @Test(.timeLimit(.minutes(1)), arguments: TestBackend.all)
    func aCallerThatWaitsTooLongIsToldTheDatabaseIsUnavailable(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase(pool: (1, .milliseconds(300), Self.oneLoop)) { database in
            let holding = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await database.withConnection { _ in
                    holding.continuation.yield()
                    for await _ in release.stream { break }
                }
            }
            for await _ in holding.stream { break }

            let started = ContinuousClock.now
            await #expect(throws: DatabaseError.self) {
                try await database.withConnection { try await $0.raw("SELECT 1 AS one").run() }
            }
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(300) && waited < .seconds(3))
            #expect(database.poolStatistics.acquisitionFailures == 1)

            // Once the connection is back, it is lent again.
            release.continuation.yield()
            try await holder.value
            let one = try await database.withConnection { try await $0.raw("SELECT 1 AS one").first()?.decode(column: "one", as: Int.self) }
            #expect(one == 1)
        }
    }

    @Test(arguments: TestBackend.all)
    func aConnectionGivenBackGoesToTheCallerWaitingLongest(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase(pool: (1, .seconds(10), Self.oneLoop)) { database in
            let order = Shared<[Int]>([])
            let holding = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await database.withConnection { _ in
                    holding.continuation.yield()
                    for await _ in release.stream { break }
                }
            }
            for await _ in holding.stream { break }
            var waiters: [Task<Void, any Error>] = []
            for caller in 0..<4 {
                waiters.append(Task {
                    try await database.withConnection { _ in order.withLock { $0.append(caller) } }
                })
                // Each caller is waiting before the next one arrives.
                try await waitUntil { database.poolStatistics.waiting == caller + 1 }
            }
            release.continuation.yield()
            try await holder.value
            for waiter in waiters { try await waiter.value }
            #expect(order.withLock { $0 } == [0, 1, 2, 3])
        }
    }

    /// PostgreSQL can end a connection from its side (a restart, an administrator, an idle timeout); SQLite's are in
    /// this process.
    @Test(arguments: TestBackend.all.filter { if case .postgres = $0 { true } else { false } })
    func aConnectionTheServerEndedIsReplaced(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase(pool: (1, .seconds(10), Self.oneLoop)) { database in
            let first = try await database.withConnection { try await $0.raw("SELECT pg_backend_pid() AS pid").first()?.decode(column: "pid", as: Int.self) }
            let ended = try await backend.withFreshDatabase { admin in
                try await admin.withConnection {
                    try await $0.raw("SELECT pg_terminate_backend(CAST(\(bind: first) AS integer)) AS ended").first()?.decode(column: "ended", as: Bool.self)
                }
            }
            #expect(ended == true)
            // The client learns of the end when the server's goodbye arrives.
            try await Task.sleep(for: .milliseconds(200))
            let second = try await database.withConnection { try await $0.raw("SELECT pg_backend_pid() AS pid").first()?.decode(column: "pid", as: Int.self) }
            #expect(second != nil && second != first)
        }
    }

    /// A connection that lay idle past the limit is opened afresh before it is lent (a firewall may have dropped it
    /// without a word); within the limit the same connection is lent again. A temporary table lives as long as its
    /// connection, so it shows which one a caller got.
    @Test(arguments: TestBackend.all)
    func aConnectionIdleTooLongIsOpenedAfresh(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase(pool: (1, .seconds(10), Self.oneLoop), maximumIdle: .milliseconds(300)) { database in
            func marked() async throws -> Bool {
                try await database.withConnection { connection in
                    do {
                        _ = try await connection.raw("SELECT count(*) AS n FROM idle_marker").first()
                        return true
                    } catch {
                        return false
                    }
                }
            }
            try await database.withConnection { try await $0.raw("CREATE TEMPORARY TABLE idle_marker (x INTEGER)").run() }
            #expect(try await marked())
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await marked() == false)
        }
    }

    /// A new SQLite file is switched to WAL by the first connection; others opening at that moment used to be refused
    /// ("database is locked") without waiting. Forty fresh files, four connections opening at once on each.
    @Test func connectionsOpeningTogetherOnANewSQLiteFileAllOpen() async throws {
        for _ in 0..<40 {
            try await TestBackend.sqlite.withFreshDatabase(pool: (4, .seconds(10), Self.oneLoop)) { database in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            try await database.withConnection { connection in
                                _ = try await connection.raw("SELECT 1 AS one").first()
                                // Held a moment, so that the four are open at once.
                                try await Task.sleep(for: .milliseconds(5))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func nothingIsLentAfterShutdown(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase(pool: (1, .seconds(10), Self.oneLoop)) { database in
            _ = try await database.withConnection { try await $0.raw("SELECT 1 AS one").first() }
            try await database.shutdown()
            await #expect(throws: DatabaseError.self) {
                try await database.withConnection { try await $0.raw("SELECT 1 AS one").run() }
            }
        }
    }

    /// A value the test's tasks share.
    final class Shared<Value: Sendable>: Sendable {
        private let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func withLock<T>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
