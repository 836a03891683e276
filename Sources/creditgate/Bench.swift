import ArgumentParser
import CreditGateCore
import CreditGateStore
import Foundation
import Logging
import SQLKit

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure performance and print the figures.",
        subcommands: [LogBench.self, PolicyBench.self, ReportsBench.self, GatewayBench.self]
    )
}

/// A PostgreSQL schema made for one benchmark and dropped after it, so that a bench never touches the tables of
/// the tests or of an installation on the same server.
struct ScratchSchema {
    let name: String
    private let admin: Database

    static func create(url: String, logger: Logger) async throws -> ScratchSchema {
        let name = "bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try Database(location: try DatabaseLocation(url: url), maxConnectionsPerEventLoop: 1, logger: logger)
        do {
            try await admin.withConnection { try await $0.raw("CREATE SCHEMA \(ident: name)").run() }
        } catch {
            try? await admin.shutdown()
            throw error
        }
        return ScratchSchema(name: name, admin: admin)
    }

    func drop() async throws {
        do {
            try await admin.withConnection { try await $0.raw("DROP SCHEMA \(ident: name) CASCADE").run() }
        } catch {
            try? await admin.shutdown()
            throw error
        }
        try await admin.shutdown()
    }
}

/// `creditgate bench log`: durable appends per second against the machine's fsyncs per second, proof latency and
/// verification rate at a large tree size, on SQLite and (with --postgres) PostgreSQL.
struct LogBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Benchmark the audit log: appends/s (1 and 32 writers) ÷ fsyncs/s, proof latency, verification rate."
    )

    @Option(help: "A PostgreSQL URL to benchmark as well (a fresh schema is created and dropped).") var postgres: String?
    @Option(help: "Seconds each append measurement runs.") var seconds: Double = 3
    @Option(help: "Entries in the large tree used for proof latency and verification rate.") var entries: Int = 1_000_000
    @Option(help: "Folder for the SQLite file and the fsync probe.") var directory: String = NSTemporaryDirectory()

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("creditgate-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let fsyncs = try measureFsyncs(in: folder)
        print(String(format: "baseline: %.0f fsyncs/s (4 KiB write + fsync, %@)", fsyncs, folder.path))

        var backends: [(String, () async throws -> (Database, () async throws -> Void))] = [
            ("SQLite", {
                let database = try Database(location: .sqliteFile(path: folder.appendingPathComponent("bench.sqlite").path), logger: logger)
                return (database, { try await database.shutdown() })
            }),
        ]
        if let postgres {
            backends.append(("PostgreSQL", {
                let schema = try await ScratchSchema.create(url: postgres, logger: logger)
                let database = try Database(location: try DatabaseLocation(url: postgres), postgresSearchPath: [schema.name], logger: logger)
                return (database, {
                    try await database.shutdown()
                    try await schema.drop()
                })
            }))
        }
        for (name, open) in backends {
            let (database, close) = try await open()
            do {
                try await MigrationRunner(database: database, logger: logger).migrate()
                try await bench(name: name, database: database, fsyncs: fsyncs, logger: logger)
                try await close()
            } catch {
                try? await close()
                throw error
            }
        }
    }

    func bench(name: String, database: Database, fsyncs: Double, logger: Logger) async throws {
        let repository = SQLAuditLogRepository(database: database)
        let writer = AuditLogWriter(repository: repository, timeout: .seconds(30), logger: logger)
        for writers in [1, 32] {
            let rate = try await appendRate(writer: writer, writers: writers)
            print(String(format: "%@: %.0f durable appends/s with %d writer%@ (%.1f × fsyncs/s)", name, rate, writers, writers == 1 ? "" : "s", rate / fsyncs))
        }
        // Fill to the large size in batches of 1024, as group commit would.
        let current = try await repository.size()
        let started = ContinuousClock.now
        var index = Int(current)
        while index < entries {
            let batch = (index..<min(entries, index + 1024)).map { PendingAuditEntry(event: Self.event($0)) }
            _ = try await repository.append(batch)
            index += batch.count
        }
        print(String(format: "%@: filled to %d entries in %.1f s", name, entries, seconds(since: started)))
        let proofs = AuditLogProofs(repository: repository)
        let size = try await repository.size()
        var generator = SystemRandomNumberGenerator()
        let samples = 200
        var clock = ContinuousClock.now
        for _ in 0..<samples {
            _ = try await proofs.inclusionProof(index: UInt64.random(in: 0..<size, using: &generator), size: size)
        }
        print(String(format: "%@: inclusion proof at %llu entries: %.3f ms", name, size, seconds(since: clock) * 1000 / Double(samples)))
        clock = ContinuousClock.now
        for _ in 0..<samples {
            _ = try await proofs.consistencyProof(from: UInt64.random(in: 1..<size, using: &generator), to: size)
        }
        print(String(format: "%@: consistency proof at %llu entries: %.3f ms", name, size, seconds(since: clock) * 1000 / Double(samples)))
        let signer = NoteSigner(keyName: "bench/audit-log", privateKey: .init())
        _ = try await CheckpointIssuer(repository: repository, signer: signer, origin: "bench/audit-log").signIfGrown(at: Date())
        clock = ContinuousClock.now
        let verdict = try await StoredLogVerification(repository: repository, verifier: signer.verifier, origin: "bench/audit-log").run()
        let elapsed = seconds(since: clock)
        print(String(format: "%@: verified %llu entries in %.1f s (%.0f entries/s), %@", name, verdict.size, elapsed, Double(verdict.size) / elapsed, verdict.isIntact ? "intact" : "NOT INTACT"))
    }

    func appendRate(writer: AuditLogWriter, writers: Int) async throws -> Double {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let started = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<writers {
                group.addTask {
                    var count = 0
                    while ContinuousClock.now < deadline {
                        _ = try await writer.append(Self.event(worker * 1_000_000 + count))
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / seconds(since: started)
    }

    static func event(_ number: Int) -> AuditEvent {
        AuditEvent(kind: .queryAttempted, occurredAt: Date(), actor: .init(userID: "bench-\(number % 97)", employeeID: "B\(1000 + number % 97)"),
                   clientIP: "10.20.\(number % 200).\(number % 250)", subjectHash: String(repeating: "a", count: 64), purposeCode: "02",
                   outcome: .success, reasonCodes: ["consent_valid"], details: ["n": String(number)])
    }

    /// 4 KiB writes, each followed by fsync, for one second.
    func measureFsyncs(in folder: URL) throws -> Double {
        let path = folder.appendingPathComponent("fsync.probe").path
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw ValidationError("cannot create \(path)") }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw ValidationError("cannot write \(path)") }
        defer { try? handle.close() }
        let block = Data(repeating: 0x5A, count: 4096)
        let started = ContinuousClock.now
        var count = 0
        while seconds(since: started) < 1 {
            handle.write(block)
            try handle.synchronize()
            count += 1
        }
        return Double(count) / seconds(since: started)
    }

    func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
