import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CreditGateServer

/// People and access through the API: the whole path from a new unit and account to query rights, and the rules
/// around it (R-01–R-06). Every step goes through the routes a client uses.
@Suite struct PeopleAccessTests {
    static let json: HTTPFields = [.contentType: "application/json"]

    /// Sends a JSON request with a bearer token and returns the status and decoded body.
    @discardableResult
    static func call(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String, body: String? = nil)
        async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response async throws in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    /// Signs in a person with a password set by someone else and finishes the set-up: a new password, then a second
    /// factor enrolled from the secret the server shows. Returns the token and the secret.
    static func firstSignIn(_ client: some TestClientProtocol, bank: TestBank, employeeID: String, initialPassword: String,
                            newPassword: String = "Fresh-Start-2026x") async throws -> (token: String, secret: [UInt8]) {
        let (status, session) = try await call(client, .post, "/api/v1/sessions", token: "",
                                               body: #"{"employeeId":"\#(employeeID)","password":"\#(initialPassword)"}"#)
        #expect(status == .created)
        #expect(session["stage"] as? String == "password_change")
        let token = try #require(session["token"] as? String)
        // Nothing else is allowed before the set-up is done.
        let (blocked, problem) = try await call(client, .get, "/api/v1/access-requests", token: token)
        #expect(blocked == .forbidden)
        #expect(problem["type"] as? String == "urn:creditgate:problem:account-setup-required")
        let (changed, stage) = try await call(client, .post, "/api/v1/me/password", token: token,
                                              body: #"{"currentPassword":"\#(initialPassword)","newPassword":"\#(newPassword)"}"#)
        #expect(changed == .ok)
        #expect(stage["stage"] as? String == "second_factor_enrolment")
        let (_, enrolment) = try await call(client, .post, "/api/v1/me/second-factor", token: token)
        let secretText = try #require(enrolment["secret"] as? String)
        let secret = try #require(Base32.decode(secretText))
        #expect((enrolment["qrSvg"] as? String)?.hasPrefix("<svg") == true)
        bank.clock.advance(by: 30)
        let code = TOTP(secret: secret).code(at: bank.clock.now)
        let (confirmed, full) = try await call(client, .post, "/api/v1/me/second-factor/confirmation", token: token, body: #"{"code":"\#(code)"}"#)
        #expect(confirmed == .ok)
        #expect(full["stage"] as? String == "full")
        return (token, secret)
    }

    static func signIn(_ client: some TestClientProtocol, bank: TestBank, employeeID: String, password: String, secret: [UInt8]) async throws -> String {
        bank.clock.advance(by: 30)
        let code = TOTP(secret: secret).code(at: bank.clock.now)
        let (status, session) = try await call(client, .post, "/api/v1/sessions", token: "",
                                               body: #"{"employeeId":"\#(employeeID)","password":"\#(password)","code":"\#(code)"}"#)
        #expect(status == .created)
        return try #require(session["token"] as? String)
    }

    /// Answers a paper: correctly, by looking each question up in the bundled bank, or every answer wrong.
    static func answers(to paper: [String: Any], correctly: Bool) throws -> String {
        let bank = try QuestionBank.parse(try BundledResources.data("exam/question-bank.json"), minimumQuestions: 1)
        let byID = Dictionary(uniqueKeysWithValues: bank.questions.map { ($0.id, $0) })
        var chosen: [String: Int] = [:]
        for question in try #require(paper["questions"] as? [[String: Any]]) {
            let id = try #require(question["id"] as? String)
            let shown = try #require(question["options"] as? [[String: String]]).map { $0["zh"] ?? "" }
            let original = try #require(byID[id])
            let right = try #require(shown.firstIndex(of: original.options[original.answer].zh))
            chosen[id] = correctly ? right : (right + 1) % shown.count
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: ["answers": chosen]), as: UTF8.self)
    }

    @Test func fromANewAccountToQueryRightsLevelByLevel() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let (_, orgs) = try await Self.call(client, .get, "/api/v1/organisations", token: admin)
            let head = try #require((orgs["organisations"] as? [[String: Any]])?.first?["id"] as? String)
            // given a branch and a sub-branch under it
            let (createdBranch, branch) = try await Self.call(client, .post, "/api/v1/organisations", token: admin, body:
                #"{"code":"BR-SH","name":"上海分行","kind":"branch","parentId":"\#(head)","regionCode":"310101","networks":["10.31.0.0/16","fd00:31::/48"]}"#)
            #expect(createdBranch == .created)
            let branchID = try #require(branch["id"] as? String)
            let (_, sub) = try await Self.call(client, .post, "/api/v1/organisations", token: admin, body:
                #"{"code":"SB-PD","name":"浦东支行","kind":"sub_branch","parentId":"\#(branchID)","regionCode":"310115","networks":["10.31.8.0/24"]}"#)
            let subID = try #require(sub["id"] as? String)
            let (badRegion, _) = try await Self.call(client, .post, "/api/v1/organisations", token: admin, body:
                #"{"code":"BAD","name":"x","kind":"sub_branch","parentId":"\#(branchID)","regionCode":"990101"}"#)
            #expect(badRegion == .unprocessableContent)
            // and a credit administrator at each level, and a loan officer at the sub-branch
            var people: [String: (id: String, password: String)] = [:]
            for (employee, unit, role) in [("CA-SB", subID, "credit_administrator"), ("CA-BR", branchID, "credit_administrator"), ("LO-1", subID, "query_operator")] {
                let (status, opened) = try await Self.call(client, .post, "/api/v1/users", token: admin, body:
                    #"{"employeeId":"\#(employee)","displayName":"员工\#(employee)","organisationId":"\#(unit)","roles":["\#(role)"]}"#)
                #expect(status == .created)
                let user = try #require(opened["user"] as? [String: Any])
                people[employee] = (try #require(user["id"] as? String), try #require(opened["initialPassword"] as? String))
            }
            // one person, one account
            let (duplicate, problem) = try await Self.call(client, .post, "/api/v1/users", token: admin, body:
                #"{"employeeId":"lo-1","displayName":"Again","organisationId":"\#(subID)","roles":["query_operator"]}"#)
            #expect(duplicate == .conflict)
            #expect(problem["type"] as? String == "urn:creditgate:problem:conflict")

            // when the loan officer signs in for the first time, fails the exam, then passes it
            let officer = try await Self.firstSignIn(client, bank: bank, employeeID: "LO-1", initialPassword: people["LO-1"]!.password)
            let (_, failedPaper) = try await Self.call(client, .post, "/api/v1/exam/attempts", token: officer.token)
            let (_, failed) = try await Self.call(client, .post, "/api/v1/exam/attempts/\(try #require(failedPaper["attemptId"] as? String))/submission",
                                                  token: officer.token, body: try Self.answers(to: failedPaper, correctly: false))
            #expect(failed["passed"] as? Bool == false)
            #expect(failed["accessRequestId"] == nil)
            let (_, paper) = try await Self.call(client, .post, "/api/v1/exam/attempts", token: officer.token)
            #expect((paper["questions"] as? [Any])?.count == 20)
            #expect(paper["passMark"] as? Int == 90)
            let attemptID = try #require(paper["attemptId"] as? String)
            let (_, passed) = try await Self.call(client, .post, "/api/v1/exam/attempts/\(attemptID)/submission",
                                                  token: officer.token, body: try Self.answers(to: paper, correctly: true))
            #expect(passed["passed"] as? Bool == true)
            #expect(passed["score"] as? Int == 100)
            let requestID = try #require(passed["accessRequestId"] as? String)
            let (again, _) = try await Self.call(client, .post, "/api/v1/exam/attempts/\(attemptID)/submission",
                                                 token: officer.token, body: try Self.answers(to: paper, correctly: true))
            #expect(again == .conflict)

            // then the approval goes level by level, each step by a different person of the right unit
            let subAdmin = try await Self.firstSignIn(client, bank: bank, employeeID: "CA-SB", initialPassword: people["CA-SB"]!.password)
            let branchAdmin = try await Self.firstSignIn(client, bank: bank, employeeID: "CA-BR", initialPassword: people["CA-BR"]!.password)
            let decide = "/api/v1/access-requests/\(requestID)/decisions"
            let (outOfTurn, outOfTurnProblem) = try await Self.call(client, .post, decide, token: branchAdmin.token, body: #"{"approve":true}"#)
            #expect(outOfTurn == .forbidden)
            #expect((outOfTurnProblem["detail"] as? String)?.isEmpty == false)
            let (first, afterFirst) = try await Self.call(client, .post, decide, token: subAdmin.token, body: #"{"approve":true,"comment":"业务需要"}"#)
            #expect(first == .ok)
            #expect(afterFirst["status"] as? String == "pending")
            let (twice, _) = try await Self.call(client, .post, decide, token: subAdmin.token, body: #"{"approve":true}"#)
            #expect(twice == .forbidden)
            let (_, me) = try await Self.call(client, .get, "/api/v1/me", token: officer.token)
            #expect((me["user"] as? [String: Any])?["queryRights"] as? Bool == false)
            let (second, approved) = try await Self.call(client, .post, decide, token: branchAdmin.token, body: #"{"approve":true}"#)
            #expect(second == .ok)
            #expect(approved["status"] as? String == "approved")

            // and the officer, signing in again with password and TOTP, has query rights
            let again2 = try await Self.signIn(client, bank: bank, employeeID: "LO-1", password: "Fresh-Start-2026x", secret: officer.secret)
            let (_, meNow) = try await Self.call(client, .get, "/api/v1/me", token: again2)
            #expect((meNow["user"] as? [String: Any])?["queryRights"] as? Bool == true)
            // the first session was ended by the second sign-in: one active session per person
            let (superseded, supersededProblem) = try await Self.call(client, .get, "/api/v1/me", token: officer.token)
            #expect(superseded == .unauthorized)
            #expect((supersededProblem["detail"] as? String)?.isEmpty == false)

            // every step is in the audit log, and the log verifies
            let size = try await bank.services.auditLog.size()
            let kinds = Set(try await bank.services.auditLog.entries(in: 0..<size).map(\.kind))
            for kind: AuditEvent.Kind in [.organisationChanged, .roleChanged, .passwordChanged, .secondFactorEnrolled, .examStarted,
                                          .examSubmitted, .accessRequested, .approvalGiven, .queryRightsGranted, .accessDenied] {
                #expect(kinds.contains(kind.rawValue), "\(kind.rawValue) missing from the log")
            }
            _ = try await CheckpointIssuer(repository: bank.services.auditLog, signer: bank.services.logSigner, origin: bank.arguments.configuration.logOrigin)
                .signIfGrown(at: bank.clock.now)
            let verdict = try await StoredLogVerification(repository: bank.services.auditLog, verifier: bank.services.logSigner.verifier,
                                                          origin: bank.arguments.configuration.logOrigin).run()
            #expect(verdict.isIntact, "\(verdict.problems)")
        }
    }

    @Test func nobodyApprovesTheirOwnRequest() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let (_, orgs) = try await Self.call(client, .get, "/api/v1/organisations", token: admin)
            let head = try #require((orgs["organisations"] as? [[String: Any]])?.first?["id"] as? String)
            let (_, opened) = try await Self.call(client, .post, "/api/v1/users", token: admin, body:
                #"{"employeeId":"CA-HO","displayName":"Self Approver","organisationId":"\#(head)","roles":["credit_administrator","query_operator"]}"#)
            let person = try await Self.firstSignIn(client, bank: bank, employeeID: "CA-HO", initialPassword: try #require(opened["initialPassword"] as? String))
            let (_, paper) = try await Self.call(client, .post, "/api/v1/exam/attempts", token: person.token)
            let (_, passed) = try await Self.call(client, .post, "/api/v1/exam/attempts/\(try #require(paper["attemptId"] as? String))/submission",
                                                  token: person.token, body: try Self.answers(to: paper, correctly: true))
            let requestID = try #require(passed["accessRequestId"] as? String)
            let (status, problem) = try await Self.call(client, .post, "/api/v1/access-requests/\(requestID)/decisions", token: person.token,
                                                        body: #"{"approve":true}"#)
            #expect(status == .forbidden)
            #expect(problem["detail"] as? String == Localizer(.en)("access_refusal_own_request") || problem["detail"] as? String == Localizer(.zhCN)("access_refusal_own_request"))
            // nor grants themselves a role
            let (selfGrant, _) = try await Self.call(client, .put, "/api/v1/users/\(try #require((opened["user"] as? [String: Any])?["id"] as? String))/roles",
                                                     token: person.token, body: #"{"roles":["approver"]}"#)
            #expect(selfGrant == .forbidden)
        }
    }

    @Test func fiveWrongPasswordsLockTheAccountForFifteenMinutes() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            for _ in 0..<5 {
                let (status, _) = try await Self.call(client, .post, "/api/v1/sessions", token: "", body: #"{"employeeId":"Q0001","password":"Wrong-Password-1"}"#)
                #expect(status == .unauthorized)
            }
            // locked: the right password and code are refused, in the same words as a wrong password
            let (locked, problem) = try await Self.call(client, .post, "/api/v1/sessions", token: "",
                                                        body: #"{"employeeId":"Q0001","password":"\#(TestBank.password)","code":"\#(bank.nextCode())"}"#)
            #expect(locked == .unauthorized)
            #expect(problem["type"] as? String == "urn:creditgate:problem:invalid-credentials")
            bank.clock.advance(by: 15 * 60)
            _ = try await client.apiToken("Q0001", bank: bank)
        }
    }

    @Test func aCodeIsAcceptedOnlyOnce() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let code = bank.nextCode()
            let body = #"{"employeeId":"C0001","password":"\#(TestBank.password)","code":"\#(code)"}"#
            let (first, _) = try await Self.call(client, .post, "/api/v1/sessions", token: "", body: body)
            #expect(first == .created)
            let (second, _) = try await Self.call(client, .post, "/api/v1/sessions", token: "", body: body)
            #expect(second == .unauthorized)
        }
    }

    @Test func passwordsExpireAndTheLastFiveCannotComeBack() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let token = try await client.apiToken("Q0001", bank: bank)
            let (reused, problem) = try await Self.call(client, .post, "/api/v1/me/password", token: token,
                                                        body: #"{"currentPassword":"\#(TestBank.password)","newPassword":"\#(TestBank.password)"}"#)
            #expect(reused == .unprocessableContent)
            #expect(problem["detail"] as? String == Localizer(.zhCN)("password_reused") || problem["detail"] as? String == Localizer(.en)("password_reused"))
            let (common, _) = try await Self.call(client, .post, "/api/v1/me/password", token: token,
                                                  body: #"{"currentPassword":"\#(TestBank.password)","newPassword":"Password2024!!"}"#)
            #expect(common == .unprocessableContent)
            // 90 days later the password must be changed before anything else
            bank.clock.advance(by: 91 * 86_400)
            let (_, session) = try await Self.call(client, .post, "/api/v1/sessions", token: "",
                                                   body: #"{"employeeId":"Q0001","password":"\#(TestBank.password)","code":"\#(bank.nextCode())"}"#)
            #expect(session["stage"] as? String == "password_change")
        }
    }

    @Test func leavingAndDormantAccountsAreSuspendedAndTheirSessionsEnd() async throws {
        let bank = try await TestBank.make {
            $0.sessionPolicy = SessionPolicy(idleTimeout: 200 * 86_400, absoluteLifetime: 200 * 86_400)
            $0.passwordPolicy.maximumAge = 365 * 86_400  // so that only dormancy is at work here
        }
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let officer = try await client.apiToken("Q0001", bank: bank)
            let auditor = try await client.apiToken("C0001", bank: bank)
            // HR says the officer left: the account stops at once and the live session is refused
            let (hr, user) = try await Self.call(client, .put, "/api/v1/hr/employment/Q0001", token: admin, body: #"{"status":"left"}"#)
            #expect(hr == .ok)
            #expect(user["status"] as? String == "suspended")
            #expect(user["suspensionReason"] as? String == "left")
            let (refused, _) = try await Self.call(client, .get, "/api/v1/me", token: officer)
            #expect(refused == .unauthorized)
            // 91 days without a sign-in: the auditor's account is dormant; the scheduled job suspends it
            bank.clock.advance(by: 91 * 86_400)
            let admin2 = try await client.apiToken("A0001", bank: bank)
            let (ran, run) = try await Self.call(client, .post, "/api/v1/suspension-runs", token: admin2)
            #expect(ran == .created)
            let suspended = try #require(run["suspended"] as? [[String: String]])
            #expect(suspended.count == 1)
            #expect(suspended.first?["reason"] == "dormant")
            let (dormant, _) = try await Self.call(client, .get, "/api/v1/me", token: auditor)
            #expect(dormant == .unauthorized)
            let (_, runs) = try await Self.call(client, .get, "/api/v1/suspension-runs", token: admin2)
            #expect((runs["runs"] as? [Any])?.count == 1)
            // a person who left cannot be reinstated; a second run suspends nobody
            let (_, users) = try await Self.call(client, .get, "/api/v1/users", token: admin2)
            let officerID = try #require((users["users"] as? [[String: Any]])?.first { $0["employeeId"] as? String == "Q0001" }?["id"] as? String)
            let (reinstate, _) = try await Self.call(client, .post, "/api/v1/users/\(officerID)/reinstatement", token: admin2)
            #expect(reinstate == .conflict)
            let (_, rerun) = try await Self.call(client, .post, "/api/v1/suspension-runs", token: admin2)
            #expect((rerun["suspended"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func aSuspendedPersonMayReapplyOnlyAfterNinetyDaysUnderStricterControl() async throws {
        let bank = try await TestBank.make { $0.passwordPolicy.maximumAge = 365 * 86_400 }
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let (_, users) = try await Self.call(client, .get, "/api/v1/users", token: admin)
            let officerID = try #require((users["users"] as? [[String: Any]])?.first { $0["employeeId"] as? String == "Q0001" }?["id"] as? String)
            let (suspended, _) = try await Self.call(client, .post, "/api/v1/users/\(officerID)/suspension", token: admin)
            #expect(suspended == .ok)
            let (tooEarly, _) = try await Self.call(client, .post, "/api/v1/users/\(officerID)/reinstatement", token: admin)
            #expect(tooEarly == .conflict)
            bank.clock.advance(by: 90 * 86_400)
            let admin2 = try await client.apiToken("A0001", bank: bank)
            let (reinstated, user) = try await Self.call(client, .post, "/api/v1/users/\(officerID)/reinstatement", token: admin2)
            #expect(reinstated == .ok)
            #expect(user["strictExamRequired"] as? Bool == true)
            #expect(user["queryRights"] as? Bool == false)
            let officer = try await client.apiToken("Q0001", bank: bank)
            let (withoutPermit, _) = try await Self.call(client, .post, "/api/v1/exam/attempts", token: officer)
            #expect(withoutPermit == .forbidden)
            let (permitted, _) = try await Self.call(client, .post, "/api/v1/users/\(officerID)/exam-permits", token: admin2)
            #expect(permitted == .noContent)
            let (started, paper) = try await Self.call(client, .post, "/api/v1/exam/attempts", token: officer)
            #expect(started == .created)
            #expect(paper["strict"] as? Bool == true)
            #expect(paper["passMark"] as? Int == 95)
        }
    }

    @Test func aBranchAdministratorCannotSeeOrChangeAnotherBranch() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let (_, orgs) = try await Self.call(client, .get, "/api/v1/organisations", token: admin)
            let head = try #require((orgs["organisations"] as? [[String: Any]])?.first?["id"] as? String)
            var units: [String] = []
            for (code, region) in [("BR-A", "310101"), ("BR-B", "440106")] {
                let (_, unit) = try await Self.call(client, .post, "/api/v1/organisations", token: admin, body:
                    #"{"code":"\#(code)","name":"\#(code)","kind":"branch","parentId":"\#(head)","regionCode":"\#(region)"}"#)
                units.append(try #require(unit["id"] as? String))
            }
            let (_, adminA) = try await Self.call(client, .post, "/api/v1/users", token: admin, body:
                #"{"employeeId":"CA-A","displayName":"A","organisationId":"\#(units[0])","roles":["credit_administrator"]}"#)
            let (_, officerB) = try await Self.call(client, .post, "/api/v1/users", token: admin, body:
                #"{"employeeId":"LO-B","displayName":"B","organisationId":"\#(units[1])","roles":["query_operator"]}"#)
            let officerBID = try #require((officerB["user"] as? [String: Any])?["id"] as? String)
            let branchA = try await Self.firstSignIn(client, bank: bank, employeeID: "CA-A", initialPassword: try #require(adminA["initialPassword"] as? String))
            let (_, visible) = try await Self.call(client, .get, "/api/v1/users", token: branchA.token)
            let employees = (visible["users"] as? [[String: Any]])?.compactMap { $0["employeeId"] as? String } ?? []
            #expect(employees == ["CA-A"])
            let (read, _) = try await Self.call(client, .get, "/api/v1/users/\(officerBID)", token: branchA.token)
            #expect(read == .notFound)
            let (unknown, _) = try await Self.call(client, .get, "/api/v1/users/no-such-user", token: branchA.token)
            #expect(unknown == .notFound)
            let (change, _) = try await Self.call(client, .post, "/api/v1/users/\(officerBID)/suspension", token: branchA.token)
            #expect(change == .notFound)
            let (open, _) = try await Self.call(client, .post, "/api/v1/users", token: branchA.token, body:
                #"{"employeeId":"LO-X","displayName":"X","organisationId":"\#(units[1])","roles":["query_operator"]}"#)
            #expect(open == .notFound)
            let (escalate, _) = try await Self.call(client, .post, "/api/v1/users", token: branchA.token, body:
                #"{"employeeId":"LO-Y","displayName":"Y","organisationId":"\#(units[0])","roles":["system_administrator"]}"#)
            #expect(escalate == .forbidden)
        }
    }
}

/// The rest of the account lifecycle through the API: transfers, HR files, resets, throttling, responsibility and
/// training.
@Suite struct AccountLifecycleAPITests {
    typealias Call = PeopleAccessTests

    func head(_ client: some TestClientProtocol, _ admin: String) async throws -> String {
        let (_, orgs) = try await Call.call(client, .get, "/api/v1/organisations", token: admin)
        return try #require((orgs["organisations"] as? [[String: Any]])?.first?["id"] as? String)
    }

    func userID(_ client: some TestClientProtocol, _ admin: String, _ employeeID: String) async throws -> String {
        let (_, users) = try await Call.call(client, .get, "/api/v1/users", token: admin)
        return try #require((users["users"] as? [[String: Any]])?.first { $0["employeeId"] as? String == employeeID }?["id"] as? String)
    }

    @Test func anUnconfirmedTransferSuspendsTheAccount() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let headID = try await head(client, admin)
            let (_, branch) = try await Call.call(client, .post, "/api/v1/organisations", token: admin, body:
                #"{"code":"BR-GD","name":"广东分行","kind":"branch","parentId":"\#(headID)","regionCode":"440106"}"#)
            let officer = try await userID(client, admin, "Q0001")
            let (moved, user) = try await Call.call(client, .post, "/api/v1/users/\(officer)/transfer", token: admin,
                                                    body: #"{"organisationId":"\#(try #require(branch["id"] as? String))"}"#)
            #expect(moved == .ok)
            #expect(user["organisationConfirmationDueAt"] != nil)
            bank.clock.advance(by: 29 * 86_400)
            let adminLater = try await client.apiToken("A0001", bank: bank)
            let (_, early) = try await Call.call(client, .post, "/api/v1/suspension-runs", token: adminLater)
            #expect((early["suspended"] as? [Any])?.isEmpty == true)
            bank.clock.advance(by: 86_400)
            let admin2 = try await client.apiToken("A0001", bank: bank)
            let (_, late) = try await Call.call(client, .post, "/api/v1/suspension-runs", token: admin2)
            #expect((late["suspended"] as? [[String: String]])?.map { $0["reason"] } == ["organisation_unconfirmed"])
        }
    }

    @Test func aConfirmedTransferStaysActive() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let headID = try await head(client, admin)
            let (_, branch) = try await Call.call(client, .post, "/api/v1/organisations", token: admin, body:
                #"{"code":"BR-SH","name":"上海分行","kind":"branch","parentId":"\#(headID)","regionCode":"310101"}"#)
            let officer = try await userID(client, admin, "Q0001")
            _ = try await Call.call(client, .post, "/api/v1/users/\(officer)/transfer", token: admin,
                                    body: #"{"organisationId":"\#(try #require(branch["id"] as? String))"}"#)
            let (confirmed, user) = try await Call.call(client, .post, "/api/v1/users/\(officer)/organisation-confirmation", token: admin)
            #expect(confirmed == .ok)
            #expect(user["organisationConfirmationDueAt"] == nil)
            let (again, _) = try await Call.call(client, .post, "/api/v1/users/\(officer)/organisation-confirmation", token: admin)
            #expect(again == .conflict)
        }
    }

    @Test func anHRFileAppliesWhatItCanAndReportsTheRest() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let officer = try await client.apiToken("Q0001", bank: bank)
            let file = "employee_id,status\nQ0001,离职\nNOBODY1,left\nC0001,retired\njust-one-field\n"
            let (status, result) = try await client.execute(uri: "/api/v1/hr/employment-imports", method: .post,
                headers: [.authorization: "Bearer \(admin)", .contentType: "text/csv"], body: ByteBuffer(string: file)) { response async throws in
                (response.status, try response.json())
            }
            #expect(status == .ok)
            #expect(result["applied"] as? Int == 1)
            #expect((result["problems"] as? [[String: Any]])?.compactMap { $0["line"] as? Int } == [3, 4, 5])
            let (refused, _) = try await Call.call(client, .get, "/api/v1/me", token: officer)
            #expect(refused == .unauthorized)
            let (wrongType, _) = try await Call.call(client, .post, "/api/v1/hr/employment-imports", token: admin, body: "{}")
            #expect(wrongType == .unsupportedMediaType)
        }
    }

    @Test func resetsEndSessionsAndForceANewStart() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let officerToken = try await client.apiToken("Q0001", bank: bank)
            let officer = try await userID(client, admin, "Q0001")
            let (reset, temporary) = try await Call.call(client, .post, "/api/v1/users/\(officer)/password-reset", token: admin)
            #expect(reset == .ok)
            let (ended, _) = try await Call.call(client, .get, "/api/v1/me", token: officerToken)
            #expect(ended == .unauthorized)
            let password = try #require(temporary["temporaryPassword"] as? String)
            let (_, session) = try await Call.call(client, .post, "/api/v1/sessions", token: "",
                                                   body: #"{"employeeId":"Q0001","password":"\#(password)","code":"\#(bank.nextCode())"}"#)
            #expect(session["stage"] as? String == "password_change")
            // a lost device: the second factor is removed and enrolled again at the next sign-in
            let (removed, _) = try await Call.call(client, .post, "/api/v1/users/\(officer)/second-factor-reset", token: admin)
            #expect(removed == .noContent)
            let (_, fresh) = try await Call.call(client, .post, "/api/v1/sessions", token: "", body: #"{"employeeId":"Q0001","password":"\#(password)"}"#)
            #expect(fresh["stage"] as? String == "password_change")
            // nobody resets their own credentials
            let adminID = try await userID(client, admin, "A0001")
            let (own, _) = try await Call.call(client, .post, "/api/v1/users/\(adminID)/password-reset", token: admin)
            #expect(own == .forbidden)
        }
    }

    @Test func anAddressThatKeepsFailingMustWait() async throws {
        let bank = try await TestBank.make { $0.signInLimits.maximumFailuresPerAddress = 5 }
        try await bank.application().test(.router) { client in
            for number in 0..<5 {
                let (status, _) = try await Call.call(client, .post, "/api/v1/sessions", token: "", body: #"{"employeeId":"GHOST\#(number)","password":"Wrong-pass-1"}"#)
                #expect(status == .unauthorized)
            }
            let (throttled, problem) = try await Call.call(client, .post, "/api/v1/sessions", token: "",
                                                           body: #"{"employeeId":"A0001","password":"\#(TestBank.password)","code":"\#(bank.nextCode())"}"#)
            #expect(throttled == .tooManyRequests)
            #expect(problem["type"] as? String == "urn:creditgate:problem:too-many-requests")
            bank.clock.advance(by: 15 * 60)
            _ = try await client.apiToken("A0001", bank: bank)
        }
    }

    @Test func responsibilityAndTrainingAreRecordedAndReported() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let headID = try await head(client, admin)
            let officer = try await userID(client, admin, "Q0001")
            let (assigned, assignment) = try await Call.call(client, .put, "/api/v1/responsibilities", token: admin, body:
                #"{"organisationId":"\#(headID)","responsibility":"leading_group_head","personName":"李行长"}"#)
            #expect(assigned == .ok)
            #expect(assignment["personName"] as? String == "李行长")
            let (unknownKind, _) = try await Call.call(client, .put, "/api/v1/responsibilities", token: admin, body:
                #"{"organisationId":"\#(headID)","responsibility":"mascot","personName":"x"}"#)
            #expect(unknownKind == .unprocessableContent)
            let auditor = try await client.apiToken("C0001", bank: bank)
            let (_, list) = try await Call.call(client, .get, "/api/v1/responsibilities", token: auditor)
            #expect((list["responsibilities"] as? [Any])?.count == 1)
            let (_, before) = try await Call.call(client, .get, "/api/v1/training/coverage?year=2027", token: auditor)
            #expect((before["untrained"] as? [[String: Any]])?.compactMap { $0["employeeId"] as? String } == ["Q0001"])
            let (recorded, _) = try await Call.call(client, .post, "/api/v1/training/courses", token: admin, body:
                #"{"title":"征信合规年度培训","heldOn":"2027-01-10","organisationId":"\#(headID)","attendance":[{"userId":"\#(officer)","score":92,"passed":true}]}"#)
            #expect(recorded == .created)
            let (badDate, _) = try await Call.call(client, .post, "/api/v1/training/courses", token: admin, body:
                #"{"title":"x","heldOn":"2027-02-30","organisationId":"\#(headID)","attendance":[]}"#)
            #expect(badDate == .unprocessableContent)
            let (_, after) = try await Call.call(client, .get, "/api/v1/training/coverage?year=2027", token: auditor)
            #expect((after["untrained"] as? [Any])?.isEmpty == true)
            let (badYear, _) = try await Call.call(client, .get, "/api/v1/training/coverage?year=abc", token: auditor)
            #expect(badYear == .badRequest)
            let (readOnly, _) = try await Call.call(client, .post, "/api/v1/training/courses", token: auditor, body: "{}")
            #expect(readOnly == .forbidden)
        }
    }

    @Test func aCreditAdministratorCannotTakeOverAHigherAccount() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let headID = try await head(client, admin)
            let (_, opened) = try await Call.call(client, .post, "/api/v1/users", token: admin, body:
                #"{"employeeId":"CA-HO","displayName":"Head office admin","organisationId":"\#(headID)","roles":["credit_administrator"]}"#)
            let creditAdmin = try await Call.firstSignIn(client, bank: bank, employeeID: "CA-HO",
                                                         initialPassword: try #require(opened["initialPassword"] as? String))
            let systemAdmin = try await userID(client, admin, "A0001")
            let auditor = try await userID(client, admin, "C0001")
            for (target, action) in [(systemAdmin, "second-factor-reset"), (systemAdmin, "password-reset"), (auditor, "suspension")] {
                let (status, _) = try await Call.call(client, .post, "/api/v1/users/\(target)/\(action)", token: creditAdmin.token)
                #expect(status == .forbidden, "\(action)")
            }
            // the query operator of the same unit is theirs to manage
            let officer = try await userID(client, admin, "Q0001")
            let (managed, _) = try await Call.call(client, .post, "/api/v1/users/\(officer)/suspension", token: creditAdmin.token)
            #expect(managed == .ok)
        }
    }

    @Test func enrollingASecondFactorDoesNotSkipAnExpiredPassword() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let officer = try await userID(client, admin, "Q0001")
            _ = try await Call.call(client, .post, "/api/v1/users/\(officer)/second-factor-reset", token: admin)
            bank.clock.advance(by: 91 * 86_400)
            let (_, session) = try await Call.call(client, .post, "/api/v1/sessions", token: "",
                                                   body: #"{"employeeId":"Q0001","password":"\#(TestBank.password)"}"#)
            #expect(session["stage"] as? String == "password_change")
            let token = try #require(session["token"] as? String)
            let (_, enrolment) = try await Call.call(client, .post, "/api/v1/me/second-factor", token: token)
            let secretText = try #require(enrolment["secret"] as? String)
            let secret = try #require(Base32.decode(secretText))
            let (_, stage) = try await Call.call(client, .post, "/api/v1/me/second-factor/confirmation", token: token,
                                                 body: #"{"code":"\#(TOTP(secret: secret).code(at: bank.clock.now))"}"#)
            #expect(stage["stage"] as? String == "password_change")
            let (blocked, _) = try await Call.call(client, .get, "/api/v1/access-requests", token: token)
            #expect(blocked == .forbidden)
        }
    }

    @Test func guessesSentInParallelStillLockTheAccount() async throws {
        // Twelve sign-ins at once on a busy test machine: give the audit log time, so that a refusal here is the
        // lockout's and never the fail-closed answer of a slow log.
        let bank = try await TestBank.make { $0.auditAppendTimeout = .seconds(30) }
        try await bank.application().test(.router) { client in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for number in 0..<12 {
                    group.addTask {
                        try await Call.call(client, .post, "/api/v1/sessions", token: "", body: #"{"employeeId":"Q0001","password":"Wrong-guess-\#(number)"}"#).0
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .unauthorized })
            let (locked, _) = try await Call.call(client, .post, "/api/v1/sessions", token: "",
                                                  body: #"{"employeeId":"Q0001","password":"\#(TestBank.password)","code":"\#(bank.nextCode())"}"#)
            #expect(locked == .unauthorized)
            #expect(try await bank.services.users.credentials(for: EmployeeID("Q0001")!)?.lockedUntil != nil)
        }
    }
}
