import CreditGateCore
import Crypto
import Foundation
import Logging
import SQLKit
import Testing

@testable import CreditGateStore

/// The audit log's storage, on every backend: order, proofs, erasure, bounded failure, and tamper evidence.
@Suite struct AuditLogStoreTests {
    static let signer = NoteSigner(keyName: "test.bank/audit-log", privateKey: try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 5, count: 32)))
    var logger: Logger {
        var logger = Logger(label: "audit-tests")
        logger.logLevel = .critical
        return logger
    }

    func event(_ number: Int) -> AuditEvent {
        AuditEvent(kind: .signIn, occurredAt: Date(timeIntervalSince1970: 1_800_000_000 + Double(number)),
                   actor: .init(userID: "u\(number % 5)", employeeID: "E\(1000 + number % 5)"), clientIP: "10.0.0.\(number % 250)",
                   outcome: number % 7 == 0 ? .denied : .success, reasonCodes: ["r\(number % 3)"], details: ["n": "\(number)"])
    }

    func migrated(_ database: Database) async throws {
        try await MigrationRunner(database: database, logger: logger).migrate()
    }

    /// Appends `count` events concurrently through the group-committing writer and signs a checkpoint.
    func populate(_ database: Database, count: Int) async throws -> SQLAuditLogRepository {
        let repository = SQLAuditLogRepository(database: database)
        let writer = AuditLogWriter(repository: repository, timeout: .seconds(10), logger: logger)
        let indices = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for number in 0..<count { group.addTask { try await writer.append(event(number)) } }
            return try await group.reduce(into: [UInt64]()) { $0.append($1) }
        }
        #expect(indices.sorted() == (0..<UInt64(count)).map { $0 }, "every index given once, no gap")
        try await sign(repository)
        return repository
    }

    /// Signs the current head. The signing lock is one per database, and tests on other schemas of the same
    /// PostgreSQL database may hold it for a moment: try again until it is free.
    func sign(_ repository: SQLAuditLogRepository) async throws {
        let issuer = CheckpointIssuer(repository: repository, signer: Self.signer, origin: "test.bank/audit-log")
        for _ in 0..<100 {
            if try await issuer.signIfGrown(at: Date()) != .busy { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the signing lock was never free")
    }

    func verify(_ repository: SQLAuditLogRepository) async throws -> LogAuditor.Verdict {
        try await StoredLogVerification(repository: repository, verifier: Self.signer.verifier, origin: "test.bank/audit-log").run(pageSize: 64)
    }

    @Test(arguments: TestBackend.all)
    func concurrentAppendsGetOneGaplessOrderAndProvableProofs(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            try await migrated(database)
            let repository = try await populate(database, count: 77)
            let entries = try await repository.entries(in: 0..<77)
            var reference = InMemoryMerkleTree()
            for entry in entries { reference.append(leafHash: MerkleHasher.leafHash(try #require(entry.leaf))) }
            let proofs = AuditLogProofs(repository: repository)
            #expect(try await proofs.root(size: 77) == reference.root)
            for size: UInt64 in [1, 2, 31, 32, 33, 77] {
                #expect(try await proofs.root(size: size) == reference.root(size: size))
                for index in stride(from: UInt64(0), to: size, by: 7) {
                    let proof = try await proofs.inclusionProof(index: index, size: size)
                    try MerkleVerifier.verifyInclusion(leafHash: entries[Int(index)].leafHash, index: index, size: size, proof: proof, root: reference.root(size: size))
                }
                let consistency = try await proofs.consistencyProof(from: size, to: 77)
                try MerkleVerifier.verifyConsistency(oldSize: size, newSize: 77, oldRoot: reference.root(size: size), newRoot: reference.root, proof: consistency)
            }
            await #expect(throws: AuditLogProofs.Failure.outOfRange) { try await proofs.inclusionProof(index: 77, size: 78) }
            await #expect(throws: AuditLogProofs.Failure.outOfRange) { try await proofs.consistencyProof(from: 0, to: 5) }
            #expect(try await verify(repository).isIntact)
        }
    }

    @Test(arguments: TestBackend.all)
    func erasingAPayloadKeepsTheLogVerifiable(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            try await migrated(database)
            let repository = try await populate(database, count: 10)
            try await repository.erasePayload(at: 3, now: Date())
            let erased = try #require(try await repository.entries(in: 3..<4).first)
            #expect(erased.leaf == nil)
            let verdict = try await verify(repository)
            #expect(verdict.isIntact, "\(verdict.problems)")
            #expect(verdict.checkpointsChecked == 1)
        }
    }

    /// An entry and the rows it records commit together: a write that declines leaves neither, and a write that
    /// fails fails only its own entry, not the others sharing its batch.
    @Test(arguments: TestBackend.all)
    func anEntryAndItsWriteCommitTogetherAndAFailingWriteFailsOnlyItself(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            try await migrated(database)
            try await database.transaction { try await $0.raw("CREATE TABLE recorded (n BIGINT PRIMARY KEY)").run() }
            let repository = SQLAuditLogRepository(database: database)
            let writer = AuditLogWriter(repository: repository, logger: logger)
            // A kind of write as the query register's are: every row of a batch in one statement.
            func recording(_ number: Int) -> AuditedWrite {
                AuditedWrite(number) { numbers, connection in
                    let rows = numbers.map { SQLGroupExpression([SQLBind($0)] as [any SQLExpression]) }
                    try await connection.raw("INSERT INTO recorded (n) VALUES \(SQLList(rows))").run()
                    return numbers.map { _ in true }
                }
            }
            let declining = AuditedWrite("declined") { payloads, _ in payloads.map { _ in false } }
            // Many at once, so that they share batches; one of them writes a row that is already there.
            try await database.transaction { try await $0.raw("INSERT INTO recorded (n) VALUES (13)").run() }
            let outcomes = await withTaskGroup(of: (Int, Result<UInt64?, any Error>).self) { group in
                for number in 0..<40 {
                    group.addTask {
                        do {
                            let write = number == 7 ? declining : recording(number == 13 ? 13 : 100 + number)
                            return (number, .success(try await writer.append(event(number), with: write)))
                        } catch {
                            return (number, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: [Int: Result<UInt64?, any Error>]()) { $0[$1.0] = $1.1 }
            }
            for (number, outcome) in outcomes {
                switch number {
                case 7: #expect(try outcome.get() == nil)
                case 13: #expect(throws: AuditLogUnavailable.self) { try outcome.get() }
                default: #expect(try outcome.get() != nil)
                }
            }
            // 38 entries, each with its row; the declined and the failed ones left nothing.
            #expect(try await repository.size() == 38)
            let rows = try await database.withConnection { connection in
                try await connection.raw("SELECT COUNT(*) AS n FROM recorded WHERE n >= 100").first()?.decode(column: "n", as: Int64.self)
            }
            #expect(rows == 38)
            let logged = try await repository.entries(in: 0..<38).map { String(decoding: $0.leaf ?? [], as: UTF8.self) }
            #expect(!logged.contains { $0.contains(#""n":"7""#) || $0.contains(#""n":"13""#) })
            #expect(await writer.isHealthy)
            try await sign(repository)
            #expect(try await verify(repository).isIntact)
        }
    }

    @Test(arguments: TestBackend.all)
    func aStuckLogFailsWithinItsTimeoutAndStoresNothingHalfWritten(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            try await migrated(database)
            let repository = SQLAuditLogRepository(database: database)
            let writer = AuditLogWriter(repository: repository, timeout: .milliseconds(400), logger: logger)
            _ = try await writer.append(event(0))
            // Another session holds the log's lock, as a stuck writer elsewhere would.
            let holder = Task {
                try await database.withConnection { connection in
                    try await connection.raw(database.backend == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN").run()
                    if database.backend == .postgres {
                        try await connection.raw("SELECT size FROM audit_log_state WHERE id = 1 FOR UPDATE").run()
                    }
                    try await Task.sleep(for: .milliseconds(1500))
                    try await connection.raw("ROLLBACK").run()
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            let started = ContinuousClock.now
            await #expect(throws: AuditLogUnavailable.self) { try await writer.append(event(1)) }
            #expect(ContinuousClock.now - started < .milliseconds(1200))
            try await holder.value
            // Once the lock is gone the log works again and nothing is half-written. A busy machine may need a few
            // tries to get an append through within the short timeout; a refused append writes nothing, so trying
            // again cannot add an entry.
            var appended: UInt64?
            for _ in 0..<25 where appended == nil {
                appended = try? await writer.append(event(2))
                if appended == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            let index = try #require(appended)
            // The entry whose caller got "unavailable" was never written: the next one takes its place.
            #expect(index == 1)
            let stored = try await repository.entries(in: 0..<(index + 1)).map { String(decoding: $0.leaf ?? [], as: UTF8.self) }
            #expect(!stored.contains { $0.contains(#""n":"1""#) })
            #expect(await writer.isHealthy)
            try await sign(repository)
            #expect(try await verify(repository).isIntact)
        }
    }

    /// At least 200 random mutations of entries, hashes, nodes and checkpoints, written behind the application's
    /// back; every one must be detected, and undoing it must make the log verify again.
    @Test(arguments: TestBackend.all)
    func everyTamperingIsDetected(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            try await migrated(database)
            let repository = try await populate(database, count: 45)
            #expect(try await verify(repository).isIntact)
            var random = SystemRandomNumberGenerator()
            var detected = 0
            let rounds = 200
            for round in 0..<rounds {
                let tamper = Tamper.random(size: 45, using: &random)
                try await tamper.apply(database)
                let verdict = try await verify(repository)
                if !verdict.isIntact { detected += 1 } else { Issue.record("round \(round): \(tamper) went unnoticed") }
                try await tamper.undo(database)
            }
            #expect(detected == rounds)
            #expect(try await verify(repository).isIntact)
        }
    }
}

/// One mutation of the stored log and its inverse.
enum Tamper: CustomStringConvertible {
    case editLeaf(UInt64)
    case editLeafHash(UInt64)
    case editNode(level: Int, index: UInt64)
    case deleteEntry(UInt64)
    case swapEntries(UInt64, UInt64)
    case insertEntry(UInt64)
    case editCheckpoint
    case shrinkSize
    case editEdge

    static func random(size: UInt64, using random: inout SystemRandomNumberGenerator) -> Tamper {
        let index = UInt64.random(in: 0..<size, using: &random)
        switch Int.random(in: 0..<9, using: &random) {
        case 0: return .editLeaf(index)
        case 1: return .editLeafHash(index)
        case 2:
            let level = Int.random(in: 1...5, using: &random)
            return .editNode(level: level, index: UInt64.random(in: 0..<(size >> UInt64(level)), using: &random))
        case 3: return .deleteEntry(index)
        case 4:
            var other = UInt64.random(in: 0..<size, using: &random)
            if other == index { other = (index + 1) % size }
            return .swapEntries(index, other)
        case 5: return .insertEntry(size)
        case 6: return .editCheckpoint
        case 7: return .editEdge
        default: return .shrinkSize
        }
    }

    var description: String {
        switch self {
        case .editLeaf(let i): "edit leaf \(i)"
        case .editLeafHash(let i): "edit leaf hash \(i)"
        case .editNode(let level, let index): "edit node \(level)/\(index)"
        case .deleteEntry(let i): "delete entry \(i)"
        case .swapEntries(let a, let b): "swap entries \(a) and \(b)"
        case .insertEntry(let i): "insert entry \(i)"
        case .editCheckpoint: "edit checkpoint"
        case .shrinkSize: "shrink the recorded size"
        case .editEdge: "add a hash to the recorded right edge"
        }
    }

    func apply(_ database: Database) async throws {
        try await database.withConnection { c in
            switch self {
            case .editLeaf(let i):
                try await c.raw("UPDATE audit_entries SET leaf = REPLACE(leaf, '\"kind\"', '\"kinD\"') WHERE idx = \(bind: Int64(i))").run()
            case .editLeafHash(let i):
                try await c.raw("UPDATE audit_entries SET leaf_hash = \(bind: String(repeating: "ab", count: 32)) WHERE idx = \(bind: Int64(i))").run()
            case .editNode(let level, let index):
                try await c.raw("UPDATE audit_nodes SET hash = \(bind: String(repeating: "cd", count: 32)) WHERE level = \(bind: level) AND idx = \(bind: Int64(index))").run()
            case .deleteEntry(let i):
                try await c.raw("UPDATE audit_entries SET idx = idx + 1000000 WHERE idx = \(bind: Int64(i))").run()
            case .swapEntries(let a, let b):
                try await Self.swap(a, b, on: c)
            case .insertEntry(let i):
                try await c.raw("""
                    INSERT INTO audit_entries (idx, leaf, leaf_hash, kind, occurred_at) VALUES (\(bind: Int64(i)), '{}', \(bind: MerkleHasher.leafHash(Array("{}".utf8)).hex), 'auth.sign_in', 0)
                    """).run()
            case .editCheckpoint:
                try await c.raw("UPDATE audit_checkpoints SET note = 'tampered' || note").run()
            case .shrinkSize:
                try await c.raw("UPDATE audit_log_state SET size = size - 1 WHERE id = 1").run()
            case .editEdge:
                try await c.raw("UPDATE audit_log_state SET edge = edge || \(bind: "," + String(repeating: "ef", count: 32)) WHERE id = 1").run()
            }
        }
    }

    /// Exchanges the positions of two entries (their whole rows), through a free index range.
    static func swap(_ a: UInt64, _ b: UInt64, on c: any SQLDatabase) async throws {
        try await c.raw("UPDATE audit_entries SET idx = idx + 2000000 WHERE idx = \(bind: Int64(a)) OR idx = \(bind: Int64(b))").run()
        try await c.raw("UPDATE audit_entries SET idx = \(bind: Int64(b)) WHERE idx = \(bind: Int64(2_000_000 + a))").run()
        try await c.raw("UPDATE audit_entries SET idx = \(bind: Int64(a)) WHERE idx = \(bind: Int64(2_000_000 + b))").run()
    }

    func undo(_ database: Database) async throws {
        try await database.withConnection { c in
            switch self {
            case .editLeaf(let i):
                try await c.raw("UPDATE audit_entries SET leaf = REPLACE(leaf, '\"kinD\"', '\"kind\"') WHERE idx = \(bind: Int64(i))").run()
            case .editLeafHash(let i):
                // The content is intact: recompute its hash the way the log does.
                guard let row = try await c.raw("SELECT leaf FROM audit_entries WHERE idx = \(bind: Int64(i))").first() else { return }
                let leaf = try row.decode(column: "leaf", as: String.self)
                try await c.raw("UPDATE audit_entries SET leaf_hash = \(bind: MerkleHasher.leafHash(Array(leaf.utf8)).hex) WHERE idx = \(bind: Int64(i))").run()
            case .editNode(let level, let index):
                // Recompute the node from its children as stored (its subtree is otherwise intact).
                let node = NodeID(level: level, index: index)
                let children = [NodeID(level: level - 1, index: index * 2), NodeID(level: level - 1, index: index * 2 + 1)]
                let hashes = try await SQLAuditLogRepository.nodes(Set(children), on: c)
                let hash = MerkleHasher.nodeHash(hashes[children[0]]!, hashes[children[1]]!)
                try await c.raw("UPDATE audit_nodes SET hash = \(bind: hash.hex) WHERE level = \(bind: node.level) AND idx = \(bind: Int64(node.index))").run()
            case .deleteEntry(let i):
                try await c.raw("UPDATE audit_entries SET idx = idx - 1000000 WHERE idx = \(bind: Int64(i + 1_000_000))").run()
            case .swapEntries(let a, let b):
                try await Self.swap(a, b, on: c)
            case .insertEntry(let i):
                try await c.raw("DELETE FROM audit_entries WHERE idx = \(bind: Int64(i))").run()
            case .editCheckpoint:
                try await c.raw("UPDATE audit_checkpoints SET note = SUBSTR(note, 9)").run()
            case .shrinkSize:
                try await c.raw("UPDATE audit_log_state SET size = size + 1 WHERE id = 1").run()
            case .editEdge:
                try await c.raw("UPDATE audit_log_state SET edge = SUBSTR(edge, 1, LENGTH(edge) - 65) WHERE id = 1").run()
            }
        }
    }
}
