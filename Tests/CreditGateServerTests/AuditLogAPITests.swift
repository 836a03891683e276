import CreditGateCore
import CreditGateStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@testable import CreditGateServer

@Suite struct AuditLogAPITests {
    func makeBank() async throws -> TestBank {
        try await TestBank.make {
            $0.checkpointInterval = .milliseconds(100)
            // Short enough to see the fail-closed answer quickly, long enough for a busy machine to start the application.
            $0.auditAppendTimeout = .milliseconds(1500)
            $0.logOrigin = "test.bank.example/audit-log"
        }
    }

    /// Waits for a checkpoint covering at least `size` entries and returns the signed note.
    func checkpoint(atLeast size: UInt64, client: some TestClientProtocol, token: String) async throws -> (Checkpoint, String) {
        for _ in 0..<50 {
            let note = try await client.execute(uri: "/api/v1/log/checkpoint", method: .get, headers: [.authorization: "Bearer \(token)"]) { $0.text }
            if let body = try? Checkpoint(body: String(note[..<note.range(of: "\n\n")!.lowerBound]) + "\n"), body.size >= size {
                return (body, note)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CreditGateError(.serviceUnavailable, cause: "no checkpoint")
    }

    @Test func signInsAreLoggedAndProvableAgainstASignedCheckpoint() async throws {
        let bank = try await makeBank()
        try await bank.application().test(.router) { client in
            let auditor = try await client.apiToken("C0001", bank: bank)
            let headers: HTTPFields = [.authorization: "Bearer \(auditor)"]
            let key = try await client.execute(uri: "/api/v1/log/public-key", method: .get, headers: headers) { $0.text }
            let verifier = try NoteVerifier(verifierKey: key)
            #expect(verifier.keyName == "test.bank.example/audit-log")
            // Three accounts were opened, the bundled question bank imported and one auditor signed in: five entries.
            let (head, note) = try await checkpoint(atLeast: 5, client: client, token: auditor)
            #expect(try Checkpoint(body: verifier.verify(note)) == head)
            let entries = try await client.execute(uri: "/api/v1/log/entries?start=0&end=\(head.size)", method: .get, headers: headers) { response async throws in
                #expect(response.status == .ok)
                return try #require(try response.json()["entries"] as? [[String: Any]])
            }
            #expect(entries.count == Int(head.size))
            let kinds = entries.compactMap { ($0["event"] as? [String: Any])?["kind"] as? String }
            #expect(kinds.filter { $0 == "access.role_changed" }.count == 3)
            #expect(kinds.contains("auth.sign_in"))
            for (index, entry) in entries.enumerated() {
                let leafText = try #require(entry["leaf"] as? String)
                let leaf = try #require(Data(base64Encoded: leafText))
                let leafHash = MerkleHasher.leafHash(Array(leaf))
                #expect(leafHash.base64 == entry["leafHash"] as? String)
                let proof = try await client.execute(uri: "/api/v1/log/proof/inclusion?index=\(index)&size=\(head.size)", method: .get, headers: headers) { response async throws in
                    let hashes = try #require(try response.json()["hashes"] as? [String])
                    return hashes.compactMap { TreeHash(base64: $0) }
                }
                try MerkleVerifier.verifyInclusion(leafHash: leafHash, index: UInt64(index), size: head.size, proof: proof, root: head.root)
            }
        }
    }

    @Test func failedSignInsAndRefusalsAreLoggedToo() async throws {
        let bank = try await makeBank()
        try await bank.application().test(.router) { client in
            _ = try await client.execute(uri: "/api/v1/sessions", method: .post, headers: [.contentType: "application/json"],
                                         body: ByteBuffer(string: #"{"employeeId":"Q0001","password":"Wrong-pass-123"}"#)) { _ in }
            let operatorToken = try await client.apiToken("Q0001", bank: bank)
            try await client.execute(uri: "/api/v1/log/entries?start=0&end=1", method: .get, headers: [.authorization: "Bearer \(operatorToken)"]) { response async throws in
                #expect(response.status == .forbidden)
            }
            let size = try await bank.services.auditLog.size()
            let events = try await bank.services.auditLog.entries(in: 0..<size).map { String(decoding: $0.leaf ?? [], as: UTF8.self) }
            #expect(events.contains { $0.contains(#""kind":"auth.sign_in_failed""#) && $0.contains(#""claimed_employee_id":"Q0001""#) && !$0.contains("Wrong-pass-123") })
            #expect(events.contains { $0.contains(#""kind":"access.denied""#) && $0.contains("/api/v1/log/entries") })
        }
    }

    @Test func malformedOrOutOfRangeParametersAre400() async throws {
        let bank = try await makeBank()
        try await bank.application().test(.router) { client in
            let auditor = try await client.apiToken("C0001", bank: bank)
            for uri in ["/api/v1/log/proof/inclusion?index=5", "/api/v1/log/proof/inclusion?index=-1&size=3",
                        "/api/v1/log/proof/inclusion?index=99&size=100", "/api/v1/log/proof/consistency?from=0&to=2",
                        "/api/v1/log/proof/consistency?from=3&to=2", "/api/v1/log/entries?start=2&end=1",
                        "/api/v1/log/entries?start=0&end=999999", "/api/v1/log/entries?start=x&end=1",
                        "/api/v1/log/checkpoints?from=9&to=1", "/api/v1/log/entries?start=0&end=99999999999999999999"] {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(auditor)"]) { response async throws in
                    #expect(response.status == .badRequest, "\(uri)")
                    #expect(try response.json()["type"] as? String == "urn:creditgate:problem:invalid-parameter")
                }
            }
        }
    }

    @Test func whenTheLogCannotBeWrittenSignInFailsClosed() async throws {
        let bank = try await makeBank()
        try await bank.application().test(.router) { client in
            let started = ContinuousClock.now
            let body = #"{"employeeId":"Q0001","password":"\#(TestBank.password)","code":"\#(bank.nextCode())"}"#
            try await bank.whileTheWriteLockIsHeld {
                try await client.execute(uri: "/api/v1/sessions", method: .post, headers: [.contentType: "application/json", .acceptLanguage: "en"],
                                         body: ByteBuffer(string: body)) { response async throws in
                    // The attempt counter or the audit entry cannot be written: either way nobody is signed in, and the
                    // answer is a prompt 503, not a wait for the lock.
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] != nil)
                    #expect(try response.json()["type"] as? String == "urn:creditgate:problem:service-unavailable")
                }
            }
            // Prompt: bounded by the audit timeout, not by how long the lock is held.
            #expect(ContinuousClock.now - started < .seconds(20))
            // Nobody was signed in: the operation did not happen without its record.
            let sessions = try await bank.services.database.withConnection { connection in
                try await connection.raw("SELECT COUNT(*) AS total FROM sessions").first()?.decode(column: "total", as: Int64.self) ?? -1
            }
            #expect(sessions == 0)
        }
    }
}
