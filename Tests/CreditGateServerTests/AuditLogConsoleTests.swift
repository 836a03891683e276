import CreditGateCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CreditGateServer

@Suite struct AuditLogConsoleTests {
    @Test func anAuditorSearchesOpensAnEntryWithItsProofAndVerifiesTheLog() async throws {
        let bank = try await TestBank.make { $0.checkpointInterval = .milliseconds(100) }
        try await bank.application().test(.router) { client in
            let session = try await client.consoleSession("C0001", bank: bank)
            let headers: HTTPFields = [.cookie: "cg_session=\(session)", .acceptLanguage: "en"]
            try await client.execute(uri: "/console/home", method: .get, headers: headers) { response async throws in
                #expect(response.text.contains(#"href="/console/audit-log""#))
            }
            try await Task.sleep(for: .milliseconds(400))
            let csrf = try await client.execute(uri: "/console/audit-log?kind=auth.sign_in&user=C0001", method: .get, headers: headers) { response async throws in
                #expect(response.status == .ok)
                #expect(response.text.contains("Latest checkpoint"))
                #expect(response.text.contains("<td>Sign-in</td>"))
                #expect(!response.text.contains("<td>Role changed</td>"))
                return try #require(response.csrfField)
            }
            try await client.execute(uri: "/console/audit-log/entries/0", method: .get, headers: headers) { response async throws in
                #expect(response.status == .ok)
                #expect(response.text.contains(#"data-state="verified""#))
                #expect(response.text.contains("<dd>Role changed</dd>"))
            }
            try await client.execute(uri: "/console/audit-log/entries/999999", method: .get, headers: headers) { response async throws in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/console/audit-log?from=yesterday", method: .get, headers: headers) { response async throws in
                #expect(response.status == .ok)
                #expect(response.text.contains("YYYY-MM-DD"))
            }
            var post = headers
            post[.contentType] = "application/x-www-form-urlencoded"
            try await client.execute(uri: "/console/audit-log/verify", method: .post, headers: post, body: ByteBuffer(string: "_csrf=\(csrf)")) { response async throws in
                #expect(response.status == .ok)
                #expect(response.text.contains("The log is intact"))
            }
            let size = try await bank.services.auditLog.size()
            let last = try #require(try await bank.services.auditLog.entries(in: (size - 1)..<size).first)
            #expect(last.kind == "log.verified")
        }
    }

    @Test func timesAreShownInUTCWithMilliseconds() {
        #expect(ConsolePages.utc(1_800_000_000_123) == "2027-01-15 08:00:00.123")
    }

    @Test func otherRolesCannotReadTheLog() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let session = try await client.consoleSession("A0001", bank: bank)
            try await client.execute(uri: "/console/audit-log", method: .get, headers: [.cookie: "cg_session=\(session)"]) { response async throws in
                #expect(response.status == .forbidden)
            }
        }
    }
}
