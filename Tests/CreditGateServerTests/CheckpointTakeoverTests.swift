import CreditGateCore
import CreditGateStore
import Crypto
import Foundation
import Logging
import SQLKit
import Testing

@testable import CreditGateServer

/// Several instances on one PostgreSQL database: one signs at a time, and when it stops another takes over.
@Suite struct CheckpointTakeoverTests {
    @Test func whenTheSigningInstanceStopsAnotherSignsWithinSeconds() async throws {
        guard let url = ProcessInfo.processInfo.environment["CREDITGATE_TEST_POSTGRES_URL"], !url.isEmpty else {
            print("CheckpointTakeoverTests: skipped, needs CREDITGATE_TEST_POSTGRES_URL")
            return
        }
        var logger = Logger(label: "takeover")
        logger.logLevel = .critical
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try Database(location: try DatabaseLocation(url: url), maxConnectionsPerEventLoop: 1, logger: logger)
        try await admin.withConnection { try await $0.raw("CREATE SCHEMA \(ident: schema)").run() }
        // Two instances: each its own pool, writer and signer, one database.
        let first = try Database(location: try DatabaseLocation(url: url), postgresSearchPath: [schema], logger: logger)
        let second = try Database(location: try DatabaseLocation(url: url), postgresSearchPath: [schema], logger: logger)
        try await MigrationRunner(database: first, logger: logger).migrate()
        let key = Curve25519.Signing.PrivateKey()
        func signer(_ database: Database) -> CheckpointSigner {
            CheckpointSigner(repository: SQLAuditLogRepository(database: database), signer: NoteSigner(keyName: "t/log", privateKey: key),
                             origin: "t/log", interval: .milliseconds(100), clock: Date.init, logger: logger)
        }
        let writer = AuditLogWriter(repository: SQLAuditLogRepository(database: second), logger: logger)
        let event = AuditEvent(kind: .signIn, occurredAt: Date(), actor: nil, clientIP: "10.0.0.1", outcome: .success)
        let repository = SQLAuditLogRepository(database: second)
        func latestSize() async throws -> UInt64 { try await repository.latestCheckpoint()?.size ?? 0 }

        let firstInstance = signer(first), secondInstance = signer(second)
        let firstSigner = Task { try await firstInstance.run() }
        let secondSigner = Task { try await secondInstance.run() }
        for _ in 0..<5 { _ = try await writer.append(event) }
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await latestSize() == 5)

        // The first instance goes away (its connections close with it); the second carries on signing.
        firstSigner.cancel()
        _ = try? await firstSigner.value
        try await first.shutdown()
        for _ in 0..<3 { _ = try await writer.append(event) }
        let stopped = ContinuousClock.now
        while try await latestSize() < 8, ContinuousClock.now - stopped < .seconds(5) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await latestSize() == 8)
        #expect(ContinuousClock.now - stopped < .seconds(3))

        secondSigner.cancel()
        _ = try? await secondSigner.value
        let verdict = try await StoredLogVerification(repository: repository, verifier: NoteSigner(keyName: "t/log", privateKey: key).verifier, origin: "t/log").run()
        #expect(verdict.isIntact, "\(verdict.problems)")
        try await second.shutdown()
        try await admin.withConnection { try await $0.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
        try await admin.shutdown()
    }
}
