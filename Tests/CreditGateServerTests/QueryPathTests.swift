import CreditGateCore
import CreditGateStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@testable import CreditGateServer

/// The query path end to end through HTTP: consent on file, admission, the bureau, the stored report, and the
/// audit log of every step.
@Suite struct QueryPathTests {
    /// A resident ID with a valid GB 11643 check digit (born 1990-03-07).
    static let subjectID = "110105199003071239"
    static let pdf = Data("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".utf8)

    /// Gives Q0001 query rights, as the end of the approval chain would.
    static func grantRights(_ bank: TestBank) async throws {
        let user = try #require(try await bank.services.users.find(employeeID: EmployeeID("Q0001")!))
        #expect(try await bank.services.users.grantQueryRights(user.id, at: bank.clock.now))
    }

    static func multipart(_ fields: [(String, String)], file: Data, fileName: String = "consent.pdf") -> (String, ByteBuffer) {
        let boundary = "----cgtest\(UUID().uuidString)"
        var body = Data()
        for (name, value) in fields {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"document\"; filename=\"\(fileName)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        body += file
        body += Data("\r\n--\(boundary)--\r\n".utf8)
        return ("multipart/form-data; boundary=\(boundary)", ByteBuffer(data: body))
    }

    static func fileConsent(_ client: some TestClientProtocol, token: String, purposes: [String] = ["02"], validUntil: String = "2027-12-31",
                            file: Data = pdf) async throws -> (HTTPResponse.Status, [String: Any]) {
        var fields = [("certificateType", "10"), ("certificateNumber", subjectID), ("subjectName", "张三"), ("signedOn", "2027-01-10"),
                      ("validUntil", validUntil)]
        fields += purposes.map { ("purposes", $0) }
        let (contentType, body) = multipart(fields, file: file)
        return try await client.execute(uri: "/api/v1/consents", method: .post,
                                        headers: [.authorization: "Bearer \(token)", .contentType: contentType], body: body) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    static func query(_ client: some TestClientProtocol, token: String, consentID: String, purpose: String = "02", number: String = subjectID,
                      app: (String, String)? = nil, special: (String, String)? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
        if let app {
            headers[.clientAppID] = app.0
            headers[.clientAppSecret] = app.1
        }
        let procedure = special.map { #","procedure":"\#($0.0)","specialCaseId":"\#($0.1)""# } ?? ""
        let body = #"{"certificateType":"10","certificateNumber":"\#(number)","subjectName":"张三","purpose":"\#(purpose)","consentId":"\#(consentID)"\#(procedure)}"#
        return try await client.execute(uri: "/api/v1/queries", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    /// Registers and approves an application for the head office (two system administrators), returning ID and secret.
    static func approvedApp(_ client: some TestClientProtocol, bank: TestBank) async throws -> (String, String) {
        let second = try await bank.services.accounts.open(employeeID: "A0002", displayName: "测试A0002", organisationCode: "HO",
                                                           roles: [.systemAdministrator], password: TestBank.password)
        try await bank.enrolSecondFactor(second.id)
        let head = try #require(try await bank.services.organisations.find(code: "HO"))
        let first = try await client.apiToken("A0001", bank: bank)
        let (status, registered) = try await PeopleAccessTests.call(client, .post, "/api/v1/client-apps", token: first,
                                                                     body: #"{"name":"信贷系统","organisationIds":["\#(head.id.rawValue)"]}"#)
        #expect(status == .created)
        let app = try #require(registered["app"] as? [String: Any])
        let id = try #require(app["id"] as? String), secret = try #require(registered["secret"] as? String)
        // The registrant cannot approve it; another administrator can.
        #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/client-apps/\(id)/approval", token: first).0 == .forbidden)
        let other = try await client.apiToken("A0002", bank: bank)
        #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/client-apps/\(id)/approval", token: other).0 == .ok)
        return (id, secret)
    }

    @Test func aConsentedQueryIsAnsweredStoredEncryptedAndLoggedAtEveryStep() async throws {
        let bank = try await TestBank.make()
        try await Self.grantRights(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let app = try await Self.approvedApp(client, bank: bank)
            let token = try await client.apiToken("Q0001", bank: bank)
            // when
            let (filed, consent) = try await Self.fileConsent(client, token: token)
            #expect(filed == .created)
            let consentID = try #require(consent["id"] as? String)
            #expect((consent["document"] as? [String: Any])?["mediaType"] as? String == "application/pdf")
            let (status, answer) = try await Self.query(client, token: token, consentID: consentID, app: app)
            // then
            #expect(status == .created)
            #expect(answer["decision"] as? String == "allowed")
            #expect(answer["status"] as? String == "answered")
            let queryID = try #require(answer["queryId"] as? String)
            #expect(answer["view"] as? String == "/console/queries/\(queryID)")
            // The response never carries the report.
            #expect(answer["report"] == nil && answer["accounts"] == nil)
            let stored = try #require(try await bank.services.queries.queries.query(CreditQuery.ID(queryID)))
            let reportID = try #require(stored.reportID)
            let report = try #require(try await bank.services.queries.queries.report(reportID))
            // Encrypted at rest: the subject's name is nowhere in the ciphertext, and the envelope opens only for its own report.
            #expect(report.envelope.ciphertext.range(of: Data("张三".utf8)) == nil)
            let sealer = EnvelopeSealer(current: MasterKey(bank.arguments.secrets.masterKey))
            let plain = try sealer.open(report.envelope, binding: StoredReport.binding(report.id))
            #expect(String(decoding: plain, as: UTF8.self).contains(Self.subjectID))
            #expect(throws: EnvelopeError.damaged) { try sealer.open(report.envelope, binding: StoredReport.binding(.random())) }
            // Every step is in the log, in order, and the log verifies.
            let kinds = try await Self.kinds(bank)
            let consentAt = try #require(kinds.firstIndex(of: "consent.filed"))
            let decidedAt = try #require(kinds.firstIndex(of: "query.decided"))
            let answeredAt = try #require(kinds.firstIndex(of: "query.answered"))
            #expect(consentAt < decidedAt && decidedAt < answeredAt)
        }
    }

    /// The decision, the query's record and its places in the counters are one transaction with the audit entry: when
    /// the log cannot take the entry, none of them is written, nothing goes to the bureau, and a retry once the log
    /// is back goes through as the first query of the day.
    @Test func whenTheLogCannotTakeTheDecisionNothingIsRecordedCountedOrAsked() async throws {
        let bank = try await TestBank.make { $0.auditAppendTimeout = .milliseconds(1500) }
        try await Self.grantRights(bank)
        // Live, so that the request comes from this machine's bound address.
        try await bank.application().test(.live) { client in
            let app = try await Self.approvedApp(client, bank: bank)
            let token = try await client.apiToken("Q0001", bank: bank)
            let consentID = try #require(try await Self.fileConsent(client, token: token).1["id"] as? String)
            let status = try await bank.whileTheWriteLockIsHeld {
                try await Self.query(client, token: token, consentID: consentID, app: app).0
            }
            #expect(status == .serviceUnavailable)
            let counts = try await bank.services.database.withConnection { connection in
                (try await connection.raw("SELECT COUNT(*) AS n FROM queries").first()?.decode(column: "n", as: Int64.self),
                 try await connection.raw("SELECT COALESCE(SUM(used), 0) AS n FROM daily_query_counts").first()?.decode(column: "n", as: Int64.self),
                 try await connection.raw("SELECT COUNT(*) AS n FROM reports").first()?.decode(column: "n", as: Int64.self))
            }
            #expect(counts.0 == 0 && counts.1 == 0 && counts.2 == 0)
            #expect(try await !Self.kinds(bank).contains("query.decided"))
            // The log is back: the same query is decided, counted once, answered and logged.
            let (retried, retry) = try await Self.query(client, token: token, consentID: consentID, app: app)
            #expect(retried == .created && retry["status"] as? String == "answered")
            let used = try await bank.services.database.withConnection { connection in
                try await connection.raw("SELECT COALESCE(SUM(used), 0) AS n FROM daily_query_counts WHERE scope LIKE 'user:%'").first()?
                    .decode(column: "n", as: Int64.self)
            }
            #expect(used == 1)
            #expect(try await Self.kinds(bank).filter { $0 == "query.decided" }.count == 1)
        }
    }

    @Test func refusalsNameEveryReasonAndStoreNoReport() async throws {
        let bank = try await TestBank.make()
        let app = try await bank.application()
        try await app.test(.live) { client in
            let token = try await client.apiToken("Q0001", bank: bank)
            let (_, consent) = try await Self.fileConsent(client, token: token)
            let consentID = try #require(consent["id"] as? String)
            // Without query rights, without an application, for post-loan management with no loan in the register,
            // and a purpose the consent does not name.
            let (status, problem) = try await Self.query(client, token: token, consentID: consentID, purpose: "01")
            #expect(status == .forbidden)
            #expect(problem["type"] as? String == "urn:creditgate:problem:query-refused")
            let codes = Set(((problem["reasons"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String })
            #expect(codes == ["user_no_query_rights", "app_unknown", "consent_purpose_not_covered", "loan_not_active"])
            let queryID = try #require(problem["queryId"] as? String)
            let stored = try #require(try await bank.services.queries.queries.query(CreditQuery.ID(queryID)))
            #expect(stored.status == .refused && stored.reportID == nil)
            let decided = try #require(try await Self.events(bank).last { $0["kind"] as? String == "query.decided" })
            #expect(decided["outcome"] as? String == "denied")
            #expect(Set(decided["reasons"] as? [String] ?? []) == codes)
        }
    }

    @Test func postLoanManagementNeedsAnActiveLoanAndARevokedAppIsRefused() async throws {
        let bank = try await TestBank.make()
        try await Self.grantRights(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let clientApp = try await Self.approvedApp(client, bank: bank)
            let token = try await client.apiToken("Q0001", bank: bank)
            let consentID = try #require(try await Self.fileConsent(client, token: token, purposes: ["01", "02"]).1["id"] as? String)
            let refused = try await Self.query(client, token: token, consentID: consentID, purpose: "01", app: clientApp)
            #expect(refused.0 == .forbidden)
            #expect(((refused.1["reasons"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String } == ["loan_not_active"])
            // A loan officer cannot record loans; a credit administrator's register entry makes the loan active.
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/loans", token: token, body: "{}").0 == .forbidden)
            let officer = try await bank.services.accounts.open(employeeID: "D0001", displayName: "测试D0001", organisationCode: "HO",
                                                                roles: [.dataOfficer], password: TestBank.password)
            try await bank.enrolSecondFactor(officer.id)
            let csv = "contract_number,certificate_type,certificate_number,organisation_code,amount_yuan,starts_on,matures_on,settled_on\nHT-2026-001,10,\(Self.subjectID),HO,300000,2026-01-01,2029-01-01,\nBAD,10,123,HO,1,x,y\n"
            let imported = try await client.execute(uri: "/api/v1/loan-imports", method: .post,
                                                    headers: [.authorization: "Bearer \(try await client.apiToken("D0001", bank: bank))", .contentType: "text/csv"],
                                                    body: ByteBuffer(string: csv)) { try $0.json() }
            #expect(imported["applied"] as? Int == 1)
            #expect((imported["problems"] as? [[String: Any]])?.count == 1)
            let allowed = try await Self.query(client, token: token, consentID: consentID, purpose: "01", app: clientApp)
            #expect(allowed.0 == .created)
            // Revoked: refused with 403 and recorded.
            let other = try await client.apiToken("A0002", bank: bank)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/client-apps/\(clientApp.0)/revocation", token: other).0 == .ok)
            let revoked = try await Self.query(client, token: token, consentID: consentID, purpose: "02", app: clientApp)
            #expect(revoked.0 == .forbidden)
            #expect(((revoked.1["reasons"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String } == ["app_revoked"])
            let wrongSecret = try await Self.query(client, token: token, consentID: consentID, app: (clientApp.0, "not-the-secret"))
            #expect(((wrongSecret.1["reasons"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String } == ["app_unknown"])
            let last = try #require(try await Self.events(bank).last { $0["kind"] as? String == "query.decided" })
            #expect(last["outcome"] as? String == "denied" && last["reasons"] as? [String] == ["app_unknown"])
        }
    }

    /// A query is decided on the reference data read when its request was authenticated only while that reading is a
    /// moment old. A request held longer (a body sent slowly) reads it again, so that an application revoked in
    /// between is refused.
    @Test func aQueryHeldPastAMomentIsDecidedOnTheReferenceDataAsItNowStands() async throws {
        let bank = try await TestBank.make()
        try await Self.grantRights(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let clientApp = try await Self.approvedApp(client, bank: bank)
            let token = try await client.apiToken("Q0001", bank: bank)
            let consentID = try #require(try await Self.fileConsent(client, token: token, purposes: ["02"]).1["id"] as? String)
            let request = QueryService.Request(certificateType: "10", certificateNumber: Self.subjectID, subjectName: "张三", purpose: "02",
                                               consentID: consentID, channel: .api, appID: clientApp.0, appSecret: clientApp.1)
            // Fresh: decided on the reading taken at authentication, and allowed.
            guard case .recognised(let fresh) = try await bank.services.authentication.authenticate(token: token, via: .bearer) else {
                Issue.record("the session was not recognised")
                return
            }
            #expect(try await bank.services.queries.run(request, by: fresh, clientIP: "127.0.0.1").query.reasons.isEmpty)

            guard case .recognised(let held) = try await bank.services.authentication.authenticate(token: token, via: .bearer) else {
                Issue.record("the session was not recognised")
                return
            }
            #expect(held.reference != nil)
            let other = try await client.apiToken("A0002", bank: bank)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/client-apps/\(clientApp.0)/revocation", token: other).0 == .ok)
            try await Task.sleep(for: .milliseconds(80))
            let outcome = try await bank.services.queries.run(request, by: held, clientIP: "127.0.0.1")
            #expect(outcome.query.reasons.map(\.code) == ["app_revoked"])
        }
    }

    /// The audit log's events as their canonical JSON objects, in order.
    static func events(_ bank: TestBank) async throws -> [[String: Any]] {
        try await bank.services.auditLog.entries(startingAt: 0, limit: 10_000).compactMap { entry in
            try entry.leaf.flatMap { try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        }
    }

    static func kinds(_ bank: TestBank) async throws -> [String] {
        try await events(bank).compactMap { $0["kind"] as? String }
    }

    @Test(arguments: [("timeout", 504, CreditQuery.Failure.timeout), ("error", 502, .bureauError), ("malformed", 502, .malformedAnswer)])
    func bureauFaultsGiveAProblemAndLeaveNothingHalfStored(fault: String, status: Int, failure: CreditQuery.Failure) async throws {
        let bank = try await TestBank.make { configuration in
            configuration.sandboxFault = fault
            // Only the timeout case needs a short deadline; the others must not race it on a busy machine.
            configuration.bureauTimeout = fault == "timeout" ? .milliseconds(100) : .seconds(60)
        }
        try await Self.grantRights(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let clientApp = try await Self.approvedApp(client, bank: bank)
            let token = try await client.apiToken("Q0001", bank: bank)
            let consentID = try #require(try await Self.fileConsent(client, token: token).1["id"] as? String)
            let (answer, problem) = try await Self.query(client, token: token, consentID: consentID, app: clientApp)
            #expect(Int(answer.code) == status)
            let queryID = try #require(problem["queryId"] as? String)
            let stored = try #require(try await bank.services.queries.queries.query(CreditQuery.ID(queryID)))
            #expect(stored.status == .failed && stored.failure == failure && stored.reportID == nil)
            let reports = try await bank.services.database.withConnection { connection in
                try await connection.raw("SELECT COUNT(*) AS n FROM reports").first()?.decode(column: "n", as: Int64.self)
            }
            #expect(reports == 0)
            let kinds = try await Self.kinds(bank)
            #expect(kinds.contains("query.failed") && !kinds.contains("query.answered"))
        }
    }

    @Test func uploadsAreCheckedByTheirBytes() async throws {
        let bank = try await TestBank.make()
        let app = try await bank.application()
        try await app.test(.live) { client in
            let token = try await client.apiToken("Q0001", bank: bank)
            // A text file named .pdf is refused; so is an expired validity and a 15-digit ID.
            let (status, problem) = try await Self.fileConsent(client, token: token, file: Data("hello, not a PDF".utf8))
            #expect(status == .unsupportedMediaType)
            #expect((problem["detail"] as? String)?.isEmpty == false)
            #expect(try await Self.fileConsent(client, token: token, validUntil: "2027-01-01").0 == .unprocessableContent)
            let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13])
            let (filed, consent) = try await Self.fileConsent(client, token: token, file: png)
            #expect(filed == .created)
            #expect((consent["document"] as? [String: Any])?["mediaType"] as? String == "image/png")
            // The loan officer cannot open scans; the compliance auditor can, and the opening is audited.
            let id = try #require(consent["id"] as? String)
            #expect(try await PeopleAccessTests.call(client, .get, "/api/v1/consents/\(id)/document", token: token).0 == .forbidden)
            let auditor = try await client.apiToken("C0001", bank: bank)
            let bytes = try await client.execute(uri: "/api/v1/consents/\(id)/document", method: .get,
                                                 headers: [.authorization: "Bearer \(auditor)"]) { response in
                #expect(response.headers[.cacheControl] == "no-store")
                return Data(buffer: response.body)
            }
            #expect(bytes == png)
            #expect(try await Self.kinds(bank).contains("consent.document_opened"))
            // Withdrawal: recorded once, and the next query is refused for it.
            let withdrawn = try await PeopleAccessTests.call(client, .post, "/api/v1/consents/\(id)/withdrawal", token: token,
                                                             body: #"{"reason":"客户书面撤回"}"#)
            #expect(withdrawn.0 == .ok)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/consents/\(id)/withdrawal", token: token,
                                                     body: #"{"reason":"again"}"#).0 == .conflict)
            let refused = try await Self.query(client, token: token, consentID: id)
            let codes = ((refused.1["reasons"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String }
            #expect(codes.contains("consent_withdrawn"))
        }
    }

    @Test func aStateOrganQueryGoesThroughItsApprovedCaseOnce() async throws {
        let bank = try await TestBank.make()
        try await Self.grantRights(bank)
        let approver = try await bank.services.accounts.open(employeeID: "P0001", displayName: "测试P0001", organisationCode: "HO",
                                                             roles: [.approver], password: TestBank.password)
        try await bank.enrolSecondFactor(approver.id)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let clientApp = try await Self.approvedApp(client, bank: bank)
            let token = try await client.apiToken("Q0001", bank: bank)
            // Without a case, purpose 09 is refused on the ordinary route.
            let ordinary = try await Self.query(client, token: token, consentID: "", purpose: "09", app: clientApp)
            #expect(ordinary.0 == .forbidden)
            let (opened, specialCase) = try await PeopleAccessTests.call(client, .post, "/api/v1/special-cases", token: token, body: """
                {"procedure":"state_organ","certificateType":"10","certificateNumber":"\(Self.subjectID)","purpose":"09",
                 "authority":"北京市东城区人民法院","documentNumber":"(2026)京0101执123号","grounds":"民事诉讼法第二百五十条"}
                """)
            #expect(opened == .created)
            let caseID = try #require(specialCase["id"] as? String)
            // The querier cannot decide it, nor can an approver who opened a case of their own decide that one.
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/special-cases/\(caseID)/decisions", token: token,
                                                     body: #"{"decision":"approve"}"#).0 == .forbidden)
            let both = try await bank.services.accounts.open(employeeID: "P0002", displayName: "测试P0002", organisationCode: "HO",
                                                             roles: [.approver, .queryOperator], password: TestBank.password)
            try await bank.enrolSecondFactor(both.id)
            let bothToken = try await client.apiToken("P0002", bank: bank)
            let ownCase = try #require(try await PeopleAccessTests.call(client, .post, "/api/v1/special-cases", token: bothToken, body: """
                {"procedure":"internal_staff","certificateType":"10","certificateNumber":"\(Self.subjectID)","purpose":"02",
                 "authority":"人力资源部","grounds":"员工贷款复核"}
                """).1["id"] as? String)
            let (ownStatus, ownProblem) = try await PeopleAccessTests.call(client, .post, "/api/v1/special-cases/\(ownCase)/decisions",
                                                                           token: bothToken, body: #"{"decision":"approve"}"#)
            #expect(ownStatus == .forbidden)
            #expect(ownProblem["detail"] as? String == Localizer(.zhCN)("special_case_refusal_own"))
            // Someone else citing this case learns nothing about it: it counts as no case.
            let foreign = try await Self.query(client, token: bothToken, consentID: "", purpose: "09", app: clientApp, special: ("state_organ", caseID))
            #expect(((foreign.1["reasons"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String }.contains("special_case_missing"))
            let pending = try await Self.query(client, token: token, consentID: "", purpose: "09", app: clientApp, special: ("state_organ", caseID))
            #expect(((pending.1["reasons"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String } == ["special_case_not_approved"])
            let approverToken = try await client.apiToken("P0001", bank: bank)
            let (decided, decision) = try await PeopleAccessTests.call(client, .post, "/api/v1/special-cases/\(caseID)/decisions", token: approverToken,
                                                                       body: #"{"decision":"approve"}"#)
            #expect(decided == .ok && decision["status"] as? String == "approved")
            // Approved: one query, with no consent, recorded as made under the state-organ procedure.
            let (status, answer) = try await Self.query(client, token: token, consentID: "", purpose: "09", app: clientApp, special: ("state_organ", caseID))
            #expect(status == .created)
            #expect(answer["procedure"] as? String == "state_organ" && answer["specialCaseId"] as? String == caseID)
            let again = try await Self.query(client, token: token, consentID: "", purpose: "09", app: clientApp, special: ("state_organ", caseID))
            #expect(((again.1["reasons"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String } == ["special_case_used"])
            let decided2 = try #require(try await Self.events(bank).last { ($0["details"] as? [String: String])?["procedure"] == "state_organ" })
            #expect(decided2["kind"] as? String == "query.decided")
        }
    }

    @Test func aLoanOfAnotherUnitIsNeverRewrittenAndImportLinesKeepTheirNumbers() async throws {
        let bank = try await TestBank.make()
        let head = try #require(try await bank.services.organisations.find(code: "HO"))
        try await bank.services.organisations.create(Organisation(id: .random(), code: "SH", name: "上海分行", kind: .branch, parentID: head.id,
                                                                  regionCode: RegionCode("310101")!, networks: []), now: bank.clock.now)
        for (id, unit) in [("D0001", "HO"), ("D0002", "SH")] {
            let officer = try await bank.services.accounts.open(employeeID: id, displayName: "测试\(id)", organisationCode: unit, roles: [.dataOfficer],
                                                                password: TestBank.password)
            try await bank.enrolSecondFactor(officer.id)
        }
        let app = try await bank.application()
        try await app.test(.live) { client in
            let headOffice = try await client.apiToken("D0001", bank: bank)
            let branch = try await client.apiToken("D0002", bank: bank)
            let loan = #"{"contractNumber":"HT-9","certificateType":"10","certificateNumber":"\#(Self.subjectID)","organisationCode":"SH","amountYuan":1000,"startsOn":"2026-01-01","maturesOn":"2027-01-01"}"#
            // The head office may book it for the branch below it; the branch may not settle the head office's loan.
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/loans", token: headOffice, body: loan).0 == .created)
            let own = #"{"contractNumber":"HT-10","certificateType":"10","certificateNumber":"\#(Self.subjectID)","amountYuan":1000,"startsOn":"2026-01-01","maturesOn":"2027-01-01"}"#
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/loans", token: headOffice, body: own).0 == .created)
            let settle = own.replacingOccurrences(of: #""maturesOn":"2027-01-01""#, with: #""maturesOn":"2027-01-01","settledOn":"2026-06-01""#)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/loans", token: branch, body: settle).0 == .conflict)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/loans", token: branch, body: loan).0 == .created)
            // Line numbers are the file's, blank lines included.
            let csv = "HT-11,10,\(Self.subjectID),SH,500,2026-01-01,2027-01-01\n\nHT-12,10,123,SH,500,2026-01-01,2027-01-01\n"
            let imported = try await client.execute(uri: "/api/v1/loan-imports", method: .post,
                                                    headers: [.authorization: "Bearer \(branch)", .contentType: "text/csv"],
                                                    body: ByteBuffer(string: csv)) { try $0.json() }
            #expect(imported["applied"] as? Int == 1)
            #expect((imported["problems"] as? [[String: Any]])?.first?["line"] as? Int == 3)
            let stored = try await bank.services.loans.loans.loans(of: SubjectIdentifier(type: .residentID, number: Self.subjectID))
            #expect(stored.first { $0.contractNumber == "HT-10" }?.settledOn == nil)
        }
    }
}
