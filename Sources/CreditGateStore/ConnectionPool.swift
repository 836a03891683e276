import Foundation
import Synchronization

/// The pool has been shut down: no connection is lent any more.
struct ConnectionPoolShutDown: Error {}

/// No connection came free within the pool's request timeout.
struct ConnectionPoolTimedOut: Error {}

/// Lends up to `capacity` connections to one database, one caller at a time each, and keeps them open between uses.
///
/// The state is guarded by a lock that the caller takes on its own thread: lending a free connection or taking one
/// back costs no hand-off to another thread. A query makes several short statements, each taking and giving back a
/// connection, so those hand-offs were a large share of a query's cost. Callers that find every connection lent wait
/// in order of arrival, each at most `requestTimeout`. A connection found closed (the server ended it) is dropped and
/// its place given to a new one.
final class ConnectionPool<Connection: AnyObject & Sendable>: Sendable {
    let capacity: Int
    let requestTimeout: Duration
    /// A connection idle this long is closed and opened afresh before it is lent: a connection that a firewall or a
    /// NAT dropped without a word is otherwise found only when a statement on it fails or hangs.
    let maximumIdle: Duration
    private let opening: @Sendable () async throws -> Connection
    private let isClosed: @Sendable (Connection) -> Bool
    private let closing: @Sendable (Connection) async -> Void
    private let state = Mutex(State())

    /// What a waiting caller is given: a connection handed over by the caller that gave it back, or the right to open
    /// one (a place that came free when a connection was dropped or could not be opened).
    private enum Grant {
        /// With the time it has lain idle since, or `nil` when handed over straight from another caller.
        case connection(Connection, idleSince: ContinuousClock.Instant?)
        case openOne
    }

    /// What giving a connection back comes to.
    private enum Return {
        case handOver(CheckedContinuation<Grant, any Error>)
        case placeFreed(CheckedContinuation<Grant, any Error>?)
        case kept
        case close
    }

    /// What asking for a connection comes to.
    private enum Claim {
        case grant(Grant)
        case shutDown
        case waiting(startWatch: Bool)
    }

    private struct Waiter {
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Grant, any Error>
    }

    private struct State {
        var idle: [(connection: Connection, since: ContinuousClock.Instant)] = []
        /// Connections open or being opened, lent or idle.
        var open = 0
        var waiters: [Waiter] = []
        var watchingDeadlines = false
        var shutDown = false
    }

    init(
        capacity: Int, requestTimeout: Duration, maximumIdle: Duration = .seconds(60),
        open: @escaping @Sendable () async throws -> Connection,
        isClosed: @escaping @Sendable (Connection) -> Bool,
        close: @escaping @Sendable (Connection) async -> Void
    ) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.requestTimeout = requestTimeout
        self.maximumIdle = maximumIdle
        self.opening = open
        self.isClosed = isClosed
        self.closing = close
    }

    /// Callers waiting for a connection now.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// A connection for the caller alone until it gives it back with ``release(_:)``.
    func acquire() async throws -> Connection {
        while true {
            let grant = try await grant()
            switch grant {
            case .connection(let connection, let idleSince):
                let stale = idleSince.map { $0.duration(to: .now) >= maximumIdle } ?? false
                guard isClosed(connection) || stale else { return connection }
                // Ended or idle too long: its place goes to a fresh connection, opened for this caller.
                if stale { Task { await closing(connection) } }
                return try await openConnection()
            case .openOne:
                return try await openConnection()
            }
        }
    }

    /// Gives a connection back: to the longest-waiting caller, or to the idle ones.
    func release(_ connection: Connection) {
        let next: Return = state.withLock { state in
            if state.shutDown {
                state.open -= 1
                return .close
            }
            if isClosed(connection) {
                guard state.waiters.isEmpty else { return .placeFreed(state.waiters.removeFirst().continuation) }
                state.open -= 1
                return .placeFreed(nil)
            }
            guard state.waiters.isEmpty else { return .handOver(state.waiters.removeFirst().continuation) }
            state.idle.append((connection, .now))
            return .kept
        }
        switch next {
        case .handOver(let waiter): waiter.resume(returning: Grant.connection(connection, idleSince: nil))
        case .placeFreed(let waiter): waiter?.resume(returning: Grant.openOne)
        case .kept: break
        case .close: Task { await closing(connection) }
        }
    }

    /// Lends nothing more, fails every waiting caller and closes the idle connections; lent ones are closed as they
    /// come back.
    func shutdown() async {
        let (idle, waiters) = state.withLock { state in
            state.shutDown = true
            let idle = state.idle
            state.open -= idle.count
            state.idle = []
            let waiters = state.waiters
            state.waiters = []
            return (idle, waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: ConnectionPoolShutDown()) }
        for entry in idle { await closing(entry.connection) }
    }

    private func grant() async throws -> Grant {
        // Most of the time a connection is free or a place is: no suspension at all.
        let immediate: Claim? = state.withLock { state in
            if state.shutDown { return .shutDown }
            if let entry = state.idle.popLast() { return .grant(.connection(entry.connection, idleSince: entry.since)) }
            if state.open < capacity {
                state.open += 1
                return .grant(.openOne)
            }
            return nil
        }
        switch immediate {
        case .grant(let grant): return grant
        case .shutDown: throw ConnectionPoolShutDown()
        case .waiting, nil: return try await waitForTurn()
        }
    }

    private func waitForTurn() async throws -> Grant {
        let deadline = ContinuousClock.now + requestTimeout
        return try await withCheckedThrowingContinuation { continuation in
            // Decided again under the lock that registers the waiter, so that a release in between is not missed.
            let decision: Claim = state.withLock { state in
                if state.shutDown { return .shutDown }
                if let entry = state.idle.popLast() { return .grant(.connection(entry.connection, idleSince: entry.since)) }
                if state.open < capacity {
                    state.open += 1
                    return .grant(.openOne)
                }
                state.waiters.append(Waiter(deadline: deadline, continuation: continuation))
                let startWatch = !state.watchingDeadlines
                state.watchingDeadlines = true
                return .waiting(startWatch: startWatch)
            }
            switch decision {
            case .grant(let grant): continuation.resume(returning: grant)
            case .shutDown: continuation.resume(throwing: ConnectionPoolShutDown())
            case .waiting(let startWatch): if startWatch { watchDeadlines() }
            }
        }
    }

    /// Opens a connection in a place already counted as open; the place is given up (to a waiting caller first) if
    /// the connection cannot be opened.
    private func openConnection() async throws -> Connection {
        do {
            return try await opening()
        } catch {
            let waiter: CheckedContinuation<Grant, any Error>? = state.withLock { state in
                if !state.shutDown, !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
                state.open -= 1
                return nil
            }
            waiter?.resume(returning: .openOne)
            throw error
        }
    }

    /// While callers wait, fails those whose time is up; one watcher at most, ending when nobody waits.
    private func watchDeadlines() {
        Task {
            while true {
                try? await Task.sleep(for: .milliseconds(100))
                let now = ContinuousClock.now
                let (expired, done) = state.withLock { state -> ([CheckedContinuation<Grant, any Error>], Bool) in
                    let expired = state.waiters.filter { $0.deadline <= now }
                    state.waiters.removeAll { $0.deadline <= now }
                    if state.waiters.isEmpty { state.watchingDeadlines = false }
                    return (expired.map(\.continuation), state.waiters.isEmpty)
                }
                for continuation in expired { continuation.resume(throwing: ConnectionPoolTimedOut()) }
                if done { return }
            }
        }
    }
}
