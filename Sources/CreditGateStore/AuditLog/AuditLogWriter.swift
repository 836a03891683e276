import CreditGateCore

import Foundation
import Logging
import Synchronization

/// The audit log cannot take an entry right now (R-42: never drop, never block silently).
public struct AuditLogUnavailable: Error, Sendable {}

/// Appends audit events durably, sharing commits between concurrent callers (group commit).
///
/// `append` returns an entry's index only after the transaction holding it has committed. Callers that arrive while
/// a batch is committing wait for the next one, so throughput is batches per second times batch size, not one
/// commit per entry. Every call is bounded: if the store does not answer within `timeout` (a full disk, a stuck
/// lock), the caller gets ``AuditLogUnavailable`` and the operation it was auditing must not complete.
public actor AuditLogWriter {
    let repository: any AuditLogRepository
    let timeout: Duration
    let maximumBatch: Int
    let logger: Logger
    private var pending: [(entry: PendingAuditEntry, reply: Reply)] = []
    private var flushing = false
    private var failedSinceLastSuccess = false

    public init(repository: any AuditLogRepository, timeout: Duration = .seconds(2), maximumBatch: Int = 1024, logger: Logger) {
        self.repository = repository
        self.timeout = timeout
        self.maximumBatch = maximumBatch
        self.logger = logger
    }

    /// `false` after a failed commit, until the next one succeeds; `/readyz` reports it.
    public var isHealthy: Bool { !failedSinceLastSuccess }

    /// Appends one event and returns its index once it is durable. Throws ``AuditLogUnavailable`` on failure or
    /// after the timeout.
    public nonisolated func append(_ event: AuditEvent) async throws -> UInt64 {
        // Without a write nothing can decline the entry.
        guard let index = try await submit(PendingAuditEntry(event: event)) else { throw AuditLogUnavailable() }
        return index
    }

    /// Appends one event together with the rows it records, in the same transaction (see ``AuditedWrite``), and
    /// returns its index once both are durable; `nil` when the write declined, and then neither was written.
    public nonisolated func append(_ event: AuditEvent, with write: AuditedWrite) async throws -> UInt64? {
        try await submit(PendingAuditEntry(event: event, write: write))
    }

    private nonisolated func submit(_ entry: PendingAuditEntry) async throws -> UInt64? {
        let reply = Reply()
        return try await withCheckedThrowingContinuation { continuation in
            reply.install(continuation)
            let timeout = self.timeout
            reply.setTimer(Task {
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled, reply.resume(with: .failure(AuditLogUnavailable()), fromTimer: true) else { return }
                await self.markStalled()
            })
            Task { await self.enqueue(entry, reply) }
        }
    }

    /// A caller gave up waiting: the log is not taking entries in time, which readiness must show.
    private func markStalled() {
        failedSinceLastSuccess = true
        logger.error("audit log append timed out", metadata: ["timeout": "\(timeout)"])
    }

    private func enqueue(_ entry: PendingAuditEntry, _ reply: Reply) {
        pending.append((entry, reply))
        guard !flushing else { return }
        flushing = true
        Task { await self.flush() }
    }

    private func flush() async {
        while !pending.isEmpty {
            // An entry whose caller already got "unavailable" must not be committed after all: that operation did
            // not happen, and its record must not say it did.
            pending.removeAll { $0.reply.isAnswered }
            let batch = Array(pending.prefix(maximumBatch))
            pending.removeFirst(batch.count)
            guard !batch.isEmpty else { break }
            do {
                try await commit(batch)
            } catch let failure as AuditedWriteFailed where batch.count > 1 {
                // One entry's rows could not be written, before anything was committed: each entry is tried again
                // alone, so that only those whose rows cannot be written fail. Any other failure (the lock, the
                // commit, the disk) is the log's and fails the batch: a commit that failed may still have happened,
                // and trying again could write its entries twice.
                var committed = false
                // A caller that gave up before its entry was claimed has its answer: its entry is not tried again.
                for item in batch where !item.reply.isAnswered {
                    do {
                        try await commit([item])
                        committed = true
                    } catch {
                        fail([item], error)
                    }
                }
                if committed { failedSinceLastSuccess = false }
                logger.warning("audit batch retried entry by entry", metadata: ["entries": "\(batch.count)", "error": "\(String(reflecting: type(of: failure.underlying)))"])
            } catch {
                fail(batch, error)
            }
        }
        flushing = false
    }

    private func commit(_ batch: [(entry: PendingAuditEntry, reply: Reply)]) async throws {
        let replies = batch.map(\.reply)
        // Decided once the log's lock is held: a caller that gave up while the batch waited for the lock is not
        // written; the rest are claimed, so their timeout can no longer answer them.
        let indices = try await repository.append(batch.map(\.entry)) { _ in replies.map { $0.claim() } }
        failedSinceLastSuccess = false
        for (item, index) in zip(batch, indices) {
            if let index {
                item.reply.resume(with: .success(index))
            } else if item.reply.isClaimed {
                // Claimed but not written: its write declined.
                item.reply.resume(with: .success(nil))
            }
        }
    }

    private func fail(_ batch: [(entry: PendingAuditEntry, reply: Reply)], _ error: any Error) {
        failedSinceLastSuccess = true
        logger.error("audit log append failed", metadata: ["entries": "\(batch.count)", "error": "\(String(reflecting: type(of: error)))"])
        for item in batch { item.reply.resume(with: .failure(AuditLogUnavailable())) }
    }

    /// Resumes a waiting caller exactly once: with the commit's result or the timeout, whichever comes first.
    final class Reply: Sendable {
        private let state = Mutex<(continuation: CheckedContinuation<UInt64?, any Error>?, timer: Task<Void, Never>?, done: Result<UInt64?, any Error>?, claimed: Bool)>((nil, nil, nil, false))

        /// Called with the log's lock held: `true` if the caller still waits, and from then on only the commit's
        /// result answers it.
        func claim() -> Bool {
            state.withLock { value in
                guard value.done == nil else { return false }
                value.claimed = true
                return true
            }
        }

        func install(_ continuation: CheckedContinuation<UInt64?, any Error>) {
            let early = state.withLock { value -> Result<UInt64?, any Error>? in
                if let done = value.done { return done }
                value.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        func setTimer(_ timer: Task<Void, Never>) {
            state.withLock { $0.timer = timer }
        }

        /// `true` once the caller has its answer (the commit's result or the timeout).
        var isAnswered: Bool { state.withLock { $0.done != nil } }

        /// `true` once a commit has claimed the entry.
        var isClaimed: Bool { state.withLock { $0.claimed } }

        /// Returns `true` when this call delivered the result (the first one to arrive).
        @discardableResult
        func resume(with result: Result<UInt64?, any Error>, fromTimer: Bool = false) -> Bool {
            let (continuation, timer, delivered) = state.withLock { value -> (CheckedContinuation<UInt64?, any Error>?, Task<Void, Never>?, Bool) in
                // A claimed entry is being committed: only the commit's outcome answers it now.
                if fromTimer && value.claimed { return (nil, nil, false) }
                guard let continuation = value.continuation else {
                    guard value.done == nil else { return (nil, nil, false) }
                    value.done = result
                    return (nil, nil, true)
                }
                value.continuation = nil
                value.done = result
                return (continuation, value.timer, true)
            }
            timer?.cancel()
            continuation?.resume(with: result)
            return delivered
        }
    }
}
