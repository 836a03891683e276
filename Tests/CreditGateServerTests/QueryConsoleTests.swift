import CreditGateCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CreditGateServer

/// The console pages of the query path, as a browser uses them: a multipart consent upload with the CSRF token, a
/// query whose decision is explained on the page, and the pages each role may and may not see.
@Suite struct QueryConsoleTests {
    @Test func aLoanOfficerFilesAConsentAndQueriesWithItInTheConsole() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let console = try await PeopleConsoleTests.console(client, "Q0001", bank: bank)
            // The upload needs the CSRF token in the multipart form too.
            let fields = [("_csrf", console.csrf), ("certificateType", "10"), ("certificateNumber", QueryPathTests.subjectID), ("subjectName", "张三"),
                          ("purposes", "02"), ("signedOn", "2027-01-10"), ("validUntil", "2027-12-31")]
            let (contentType, body) = QueryPathTests.multipart(fields, file: QueryPathTests.pdf)
            let filed = try await client.execute(uri: "/console/consents", method: .post,
                                                 headers: [.cookie: "cg_session=\(console.cookie)", .contentType: contentType], body: body) { ($0.status, $0.text) }
            #expect(filed.0 == .created)
            let consentID = try #require(filed.1.firstMatch(of: /data-testid="consent-id">([0-9a-f-]+)</)?.1)
            // Without the token the same upload is refused.
            let (forgedType, forged) = QueryPathTests.multipart(Array(fields.dropFirst()), file: QueryPathTests.pdf)
            let refused = try await client.execute(uri: "/console/consents", method: .post,
                                                   headers: [.cookie: "cg_session=\(console.cookie)", .contentType: forgedType], body: forged) { $0.status }
            #expect(refused == .forbidden)
            let allowed = try await console.post("/console/queries", "consentId=\(consentID)&certificateType=10&certificateNumber=\(QueryPathTests.subjectID)&subjectName=%E5%BC%A0%E4%B8%89&purpose=02&procedure=standard")
            #expect(allowed.0 == .created)
            #expect(allowed.1.contains(Localizer(.zhCN)("query_outcome_answered")))
            // The page shows the identifier masked only.
            #expect(!allowed.1.contains(QueryPathTests.subjectID))
            let refusedQuery = try await console.post("/console/queries", "consentId=\(consentID)&certificateType=10&certificateNumber=\(QueryPathTests.subjectID)&subjectName=%E5%BC%A0%E4%B8%89&purpose=03&procedure=standard")
            #expect(refusedQuery.0 == .forbidden)
            #expect(refusedQuery.1.contains(Catalogue.format("query_reason_consent_purpose_not_covered", in: .zhCN, facts: ["purpose": "03"])))
            // A bad identifier is a readable refusal on the page, not an error page.
            let invalid = try await console.post("/console/queries", "certificateType=10&certificateNumber=110105199003070018&subjectName=x&purpose=02")
            #expect(invalid.0 == .unprocessableContent)
            #expect(invalid.1.contains(Localizer(.zhCN)("identity_id_check_digit")))
        }
    }

    @Test func eachRoleSeesOnlyItsPages() async throws {
        let bank = try await TestBank.make()
        let app = try await bank.application()
        try await app.test(.live) { client in
            let officer = try await PeopleConsoleTests.console(client, "Q0001", bank: bank)
            let admin = try await PeopleConsoleTests.console(client, "A0001", bank: bank)
            let auditor = try await PeopleConsoleTests.console(client, "C0001", bank: bank)
            for path in ["/console/queries", "/console/consents", "/console/loans"] {
                #expect(try await officer.get(path).0 == .ok, "\(path)")
            }
            for path in ["/console/client-apps", "/console/special-cases"] {
                #expect(try await officer.get(path).0 == .forbidden, "\(path)")
            }
            #expect(try await admin.get("/console/client-apps").0 == .ok)
            for path in ["/console/queries", "/console/consents", "/console/loans"] {
                #expect(try await admin.get(path).0 == .forbidden, "\(path)")
            }
            // The auditor reads consents and the register but cannot query or upload.
            let consents = try await auditor.get("/console/consents")
            #expect(consents.0 == .ok && !consents.1.contains("data-testid=\"file-consent\""))
            #expect(try await auditor.get("/console/queries").0 == .forbidden)
        }
    }
}
