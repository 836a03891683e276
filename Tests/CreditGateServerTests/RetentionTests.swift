import CreditGateCore
import Crypto
import CreditGateStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CreditGateServer

/// Retention and destruction (R-32): reports shredded after their window and grace unless held, consents' scans
/// and audit payloads after five years, each destruction logged and recorded, the log still verifiable.
@Suite struct RetentionTests {
    @Test func dueReportsAreShreddedHeldOnesKeptAndTheLogStillVerifies() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let ids = try await ReportViewerTests.answeredQueries(client, bank: bank, count: 2)
            let repository = bank.services.queries.queries
            let reports = try await ids.asyncMap { try #require(try await repository.query(CreditQuery.ID($0))?.reportID) }
            // A compliance officer holds the first query's records; a loan officer may not.
            let auditor = try await client.apiToken("C0001", bank: bank)
            let officer = try await client.apiToken("Q0001", bank: bank)
            #expect(try await PeopleAccessTests.call(client, .put, "/api/v1/queries/\(ids[0])/legal-hold", token: officer,
                                                     body: #"{"reason":"诉讼保全"}"#).0 == .forbidden)
            #expect(try await PeopleAccessTests.call(client, .put, "/api/v1/queries/\(ids[0])/legal-hold", token: auditor,
                                                     body: #"{"reason":" "}"#).0 == .unprocessableContent)
            let (held, hold) = try await PeopleAccessTests.call(client, .put, "/api/v1/queries/\(ids[0])/legal-hold", token: auditor,
                                                                body: #"{"reason":"诉讼保全（2027）京01民初1号"}"#)
            #expect(held == .ok && hold["queryId"] as? String == ids[0])
            #expect(try await PeopleAccessTests.call(client, .put, "/api/v1/queries/\(ids[0])/legal-hold", token: auditor,
                                                     body: #"{"reason":"再次保全"}"#).0 == .conflict)
            // Not yet due: nothing happens.
            #expect(try await bank.services.retention.runDue().reports == 0)
            // Past the 24-hour window and the 30 days' grace: the unheld report goes, the held one stays.
            bank.clock.advance(by: 24 * 3600 + 30 * 86_400 + 1)
            #expect(try await bank.services.retention.runDue().reports == 1)
            #expect(try await repository.report(reports[1]) == nil)
            #expect(try await repository.report(reports[0]) != nil)
            let destroyed = try #require(try await SQLRetentionRepository(database: bank.services.database).destruction(of: reports[1]))
            #expect(destroyed.queryID.rawValue == ids[1] && destroyed.reason == "retention")
            let entry = try #require(try await bank.services.auditLog.entries(startingAt: destroyed.logIndex, limit: 1).first)
            #expect(entry.kind == "data.destroyed")
            // The query itself stays on the register; the destruction is listed for the compliance officer.
            #expect(try await repository.query(CreditQuery.ID(ids[1]))?.status == .answered)
            // (A month later the compliance officer signs in afresh.)
            let auditorLater = try await client.apiToken("C0001", bank: bank)
            let (_, list) = try await PeopleAccessTests.call(client, .get, "/api/v1/report-destructions", token: auditorLater)
            #expect((list["destructions"] as? [[String: Any]])?.compactMap { $0["queryId"] as? String } == [ids[1]])
            // Released, the held report goes at the next run.
            #expect(try await client.execute(uri: "/api/v1/queries/\(ids[0])/legal-hold", method: .delete,
                                             headers: [.authorization: "Bearer \(auditorLater)"]) { $0.status } == .noContent)
            #expect(try await bank.services.retention.runDue().reports == 1)
            #expect(try await repository.report(reports[0]) == nil)
            // Five years on: the consent's scan and the old audit payloads go too; the log still verifies.
            bank.clock.advance(by: 6 * 365 * 86_400)
            let run = try await bank.services.retention.runDue()
            #expect(run.consentDocuments == 1 && run.auditPayloads > 10)
            let consentID = try #require(try await repository.query(CreditQuery.ID(ids[0]))?.consentID)
            let consent = try #require(try await bank.services.consents.consents.consent(consentID))
            #expect(consent.subject.number == Masking.identifier(QueryPathTests.subjectID) && consent.subjectName.isEmpty)
            #expect(try await bank.services.consents.consents.document(of: consentID) == nil)
            _ = try await CheckpointIssuer(repository: bank.services.auditLog, signer: bank.services.logSigner, origin: bank.arguments.configuration.logOrigin)
                .signIfGrown(at: bank.clock.now)
            let verdict = try await StoredLogVerification(repository: bank.services.auditLog, verifier: bank.services.logSigner.verifier,
                                                          origin: bank.arguments.configuration.logOrigin).run()
            #expect(verdict.isIntact, "\(verdict.problems)")
        }
    }
}

/// Legal holds on the console's retention page.
@Suite struct RetentionConsoleTests {
    @Test func aComplianceOfficerPlacesAndReleasesAHoldInTheConsole() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let queryID = try #require(try await ReportViewerTests.answeredQueries(client, bank: bank).first)
            let auditor = try await PeopleConsoleTests.console(client, "C0001", bank: bank)
            #expect(try await auditor.post("/console/retention/holds", "query_id=\(queryID)&reason=").0 == .unprocessableContent)
            #expect(try await auditor.post("/console/retention/holds", "query_id=nope&reason=%E8%AF%89%E8%AE%BC%E4%BF%9D%E5%85%A8").0 == .notFound)
            let placed = try await auditor.post("/console/retention/holds", "query_id=\(queryID)&reason=%E8%AF%89%E8%AE%BC%E4%BF%9D%E5%85%A8")
            #expect(placed.0 == .created && placed.1.contains("data-hold=\"\(queryID)\"") && placed.1.contains("诉讼保全"))
            #expect(placed.1.contains("data-testid=\"release-hold\""))
            let released = try await auditor.post("/console/retention/holds/\(queryID)/release", "")
            #expect(released.0 == .ok && !released.1.contains("data-testid=\"release-hold\""))
            #expect(try await auditor.post("/console/retention/holds/\(queryID)/release", "").0 == .notFound)
            let officer = try await PeopleConsoleTests.console(client, "Q0001", bank: bank)
            #expect(try await officer.get("/console/retention").0 == .forbidden)
        }
    }
}

/// Key rotation (R-30): every data key re-wrapped under a new master key without re-encrypting, a running instance
/// still opening every report, and the old key retired.
@Suite struct KeyRotationTests {
    @Test func aRotationKeepsEveryReportReadableAndTheOldKeyCanBeRetired() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let ids = try await ReportViewerTests.answeredQueries(client, bank: bank, count: 3)
            let rootID = MasterKey(bank.arguments.secrets.masterKey).id
            let before = try await bank.services.keyRotation.counts()
            #expect(before == [rootID: 4])  // three reports and the consent's scan
            let firstReport = try #require(try await bank.services.queries.queries.query(CreditQuery.ID(ids[0]))?.reportID)
            let stored = try #require(try await bank.services.queries.queries.report(firstReport))
            // Rotate: a new current key in the keyring, then every item re-wrapped under it.
            let path = bank.arguments.configuration.reportKeysPath
            let fresh = SymmetricKey(size: .bits256)
            try ReportKeyring.write([fresh, bank.arguments.secrets.masterKey], to: path)
            let sealer = try ReportKeyring.sealer(root: bank.arguments.secrets.masterKey, path: path)
            #expect(sealer.current.id == MasterKey(fresh).id)
            let result = try await bank.services.keyRotation.rewrapAll(with: sealer, batch: 2)
            #expect(result.rewrapped == 4 && result.failed == 0)
            #expect(try await bank.services.keyRotation.counts() == [MasterKey(fresh).id: 4])
            // A second run finds nothing to do; the ciphertext itself did not change.
            #expect(try await bank.services.keyRotation.rewrapAll(with: sealer).rewrapped == 0)
            let after = try #require(try await bank.services.queries.queries.report(stored.id))
            #expect(after.envelope.ciphertext == stored.envelope.ciphertext && after.envelope.wrappedKey != stored.envelope.wrappedKey)
            // The running instance, started before the rotation, opens every report (it reads the keyring again) —
            // also once the old key is retired.
            try ReportKeyring.write([fresh], to: path)
            let officer = try await PeopleConsoleTests.console(client, "Q0001", bank: bank)
            for id in ids {
                #expect(try await officer.get("/console/queries/\(id)/report").0 == .ok)
            }
            let kinds = try await QueryPathTests.kinds(bank)
            #expect(kinds.filter { $0 == "key.rotated" }.count == 4)
        }
    }
}
