import CreditGateCore
import CreditGateStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CreditGateServer

/// 授权查询 (R-22) through HTTP: a query the policy routes to approval, the request with its reason, the approver's
/// decision, one use, expiry, and the audit log of each step.
@Suite struct ExceptionAPITests {
    static func codes(_ body: [String: Any]) -> [String] {
        ((body["reasons"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String }
    }

    static func requestException(_ client: some TestClientProtocol, token: String, consentID: String, app: (String, String)?, purpose: String = "02",
                                 justification: String = "客户在柜台等候办理，需当日审批") async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
        if let app {
            headers[.clientAppID] = app.0
            headers[.clientAppSecret] = app.1
        }
        let body = """
            {"certificateType":"10","certificateNumber":"\(QueryPathTests.subjectID)","subjectName":"张三","purpose":"\(purpose)",
             "consentId":"\(consentID)","justification":"\(justification)"}
            """
        return try await client.execute(uri: "/api/v1/exceptions", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    static func query(_ client: some TestClientProtocol, token: String, consentID: String, app: (String, String), purpose: String = "02",
                      exceptionID: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        let body = #"{"certificateType":"10","certificateNumber":"\#(QueryPathTests.subjectID)","subjectName":"张三","purpose":"\#(purpose)","consentId":"\#(consentID)","exceptionId":"\#(exceptionID)"}"#
        return try await client.execute(uri: "/api/v1/queries", method: .post,
                                        headers: [.authorization: "Bearer \(token)", .contentType: "application/json", .clientAppID: app.0,
                                                  .clientAppSecret: app.1],
                                        body: ByteBuffer(string: body)) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    static func openApprover(_ bank: TestBank, _ employeeID: String = "P0001") async throws {
        let approver = try await bank.services.accounts.open(employeeID: employeeID, displayName: "审批\(employeeID)", organisationCode: "HO",
                                                             roles: [.approver], password: TestBank.password)
        try await bank.enrolSecondFactor(approver.id)
    }

    /// Caps each person of the head office at `cap` queries a day, as its administrator does.
    static func capHeadOffice(at cap: Int, _ client: some TestClientProtocol, bank: TestBank) async throws {
        let head = try #require(try await bank.services.organisations.find(code: "HO"))
        let admin = try await client.apiToken("A0001", bank: bank)
        #expect(try await PeopleAccessTests.call(client, .put, "/api/v1/policy/organisations/\(head.id.rawValue)", token: admin,
                                                 body: #"{"userDailyCap":\#(cap)}"#).0 == .ok)
    }

    @Test func aCappedQueryIsExceptedOnceByAnApproverAndStillCounted() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        try await Self.openApprover(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let clientApp = try await QueryPathTests.approvedApp(client, bank: bank)
            try await Self.capHeadOffice(at: 1, client, bank: bank)
            let token = try await client.apiToken("Q0001", bank: bank)
            let consentID = try #require(try await QueryPathTests.fileConsent(client, token: token, purposes: ["02", "03"]).1["id"] as? String)
            #expect(try await QueryPathTests.query(client, token: token, consentID: consentID, app: clientApp).0 == .created)
            // Exactly at the cap the next query needs approval, and says so with every reason.
            let (capped, refusal) = try await QueryPathTests.query(client, token: token, consentID: consentID, app: clientApp)
            #expect(capped == .forbidden)
            #expect(refusal["policyDecision"] as? String == "approval_required" && Self.codes(refusal) == ["daily_cap_user"])
            #expect((refusal["reasons"] as? [[String: Any]])?.first?["exceptable"] as? Bool == true)
            // A request needs a reason; then it waits for an approver.
            #expect(try await Self.requestException(client, token: token, consentID: consentID, app: clientApp, justification: " ").0 == .unprocessableContent)
            let (requested, exception) = try await Self.requestException(client, token: token, consentID: consentID, app: clientApp)
            #expect(requested == .created && exception["status"] as? String == "pending")
            #expect(Self.codes(exception) == ["daily_cap_user"] && exception["onSiteVerificationRequired"] as? Bool == false)
            let exceptionID = try #require(exception["id"] as? String)
            // Not yet approved: still refused. The querier may not decide it.
            #expect(Self.codes(try await Self.query(client, token: token, consentID: consentID, app: clientApp, exceptionID: exceptionID).1)
                .contains("exception_not_approved"))
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/exceptions/\(exceptionID)/decisions", token: token,
                                                     body: #"{"decision":"approve"}"#).0 == .forbidden)
            let approver = try await client.apiToken("P0001", bank: bank)
            let (queue, list) = try await PeopleAccessTests.call(client, .get, "/api/v1/exceptions", token: approver)
            #expect(queue == .ok && ((list["toReview"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String } == [exceptionID])
            let (decided, approved) = try await PeopleAccessTests.call(client, .post, "/api/v1/exceptions/\(exceptionID)/decisions", token: approver,
                                                                       body: #"{"decision":"approve","note":"同意"}"#)
            #expect(decided == .ok && approved["status"] as? String == "approved" && approved["expiresAt"] != nil)
            // Bound to the purpose: the same approval does not cover another one.
            #expect(Self.codes(try await Self.query(client, token: token, consentID: consentID, app: clientApp, purpose: "03",
                                                    exceptionID: exceptionID).1).contains("exception_mismatch"))
            let (status, answer) = try await Self.query(client, token: token, consentID: consentID, app: clientApp, exceptionID: exceptionID)
            #expect(status == .created && answer["exceptionId"] as? String == exceptionID && answer["status"] as? String == "answered")
            // Single use; and the excepted query still counts.
            let (_, reused) = try await Self.query(client, token: token, consentID: consentID, app: clientApp, exceptionID: exceptionID)
            // Used up, but the query is still one an approval could let through: a new request is the way forward.
            #expect(Self.codes(reused) == ["daily_cap_user", "exception_used"] && reused["policyDecision"] as? String == "approval_required")
            let user = try #require(try await bank.services.users.find(employeeID: EmployeeID("Q0001")!))
            let scope = "user:\(user.id.rawValue)"
            #expect(try await bank.services.queries.queries.usedToday([scope], day: CalendarDate(bank.clock.now).description)[scope] == 2)
            // An approval not used in time expires.
            let second = try #require(try await Self.requestException(client, token: token, consentID: consentID, app: clientApp).1["id"] as? String)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/exceptions/\(second)/decisions", token: approver,
                                                     body: #"{"decision":"approve"}"#).0 == .ok)
            bank.clock.advance(by: 31 * 60)
            let late = try await client.apiToken("Q0001", bank: bank)
            #expect(Self.codes(try await Self.query(client, token: late, consentID: consentID, app: clientApp, exceptionID: second).1)
                .contains("exception_expired"))
            // A refusal needs a note.
            let third = try #require(try await Self.requestException(client, token: late, consentID: consentID, app: clientApp).1["id"] as? String)
            let lateApprover = try await client.apiToken("P0001", bank: bank)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/exceptions/\(third)/decisions", token: lateApprover,
                                                     body: #"{"decision":"refuse"}"#).0 == .unprocessableContent)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/exceptions/\(third)/decisions", token: lateApprover,
                                                     body: #"{"decision":"refuse","note":"理由不充分"}"#).1["status"] as? String == "refused")
            // Every step is in the audit log, and the excepted query names its exception.
            let events = try await QueryPathTests.events(bank)
            #expect(events.filter { $0["kind"] as? String == "exception.requested" && $0["outcome"] as? String == "success" }.count == 3)
            #expect(events.filter { $0["kind"] as? String == "exception.decided" && $0["outcome"] as? String == "success" }.count == 3)
            #expect(events.contains { $0["kind"] as? String == "query.decided" && ($0["details"] as? [String: String])?["exception"] == exceptionID })
        }
    }

    /// Two approvers deciding one request at the same moment: both read it pending, the first decision is written,
    /// and the second is refused — and the log says exactly that, never a decision made that was not written. The
    /// second approver's read is held back as it was before the first decision, so the race happens every time.
    @Test func ofTwoApproversDecidingAtOnceOnlyTheDecisionWrittenIsLoggedAsMade() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        try await Self.openApprover(bank)
        try await Self.openApprover(bank, "P0002")
        let app = try await bank.application()
        try await app.test(.live) { client in
            let clientApp = try await QueryPathTests.approvedApp(client, bank: bank)
            try await Self.capHeadOffice(at: 0, client, bank: bank)
            let token = try await client.apiToken("Q0001", bank: bank)
            let consentID = try #require(try await QueryPathTests.fileConsent(client, token: token, purposes: ["02"]).1["id"] as? String)
            let exceptionID = try #require(try await Self.requestException(client, token: token, consentID: consentID, app: clientApp).1["id"] as? String)
            let repository = bank.services.exceptions.exceptions
            let asReadBefore = try #require(try await repository.find(PolicyException.ID(exceptionID)))
            // The first approver's decision is written.
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/exceptions/\(exceptionID)/decisions",
                                                     token: try await client.apiToken("P0001", bank: bank), body: #"{"decision":"approve"}"#).0 == .ok)
            // The second approver read the request before it: still pending.
            let second = try await client.apiToken("P0002", bank: bank)
            guard case .recognised(let approver) = try await bank.services.authentication.authenticate(token: second, via: .bearer) else {
                Issue.record("the second approver's session is not recognised")
                return
            }
            let late = PolicyExceptionService(exceptions: StaleReads(written: repository, asReadBefore: asReadBefore), queries: bank.services.queries,
                                              users: bank.services.users, organisations: bank.services.organisations, audit: bank.services.auditTrail,
                                              validity: 30 * 60, clock: bank.services.clock)
            await #expect(throws: CreditGateError.self) {
                try await late.decide(asReadBefore.id, approve: false, note: "不同意", onSite: "", by: approver, clientIP: "127.0.0.1")
            }
            #expect(try await repository.find(asReadBefore.id)?.status == .approved)
            let entries = try await QueryPathTests.events(bank).filter {
                $0["kind"] as? String == "exception.decided" && ($0["details"] as? [String: String])?["exception"] == exceptionID
            }
            #expect(entries.compactMap { ($0["details"] as? [String: String])?["decision"] } == ["approve", "refuse"])
            #expect(entries.compactMap { $0["outcome"] as? String } == ["success", "denied"])
            #expect(entries.last?["reasons"] as? [String] == [PolicyExceptionRefusal.notPending.rawValue])
        }
    }

    /// The register as a second approver saw it: one request read as it was before another's decision; every write
    /// goes to the real register.
    struct StaleReads: PolicyExceptionRepository {
        let written: any PolicyExceptionRepository
        let asReadBefore: PolicyException

        func find(_ id: PolicyException.ID) async throws -> PolicyException? {
            id == asReadBefore.id ? asReadBefore : try await written.find(id)
        }
        func creating(_ exception: PolicyException) -> AuditedWrite { written.creating(exception) }
        func exceptions(requestedBy user: User.ID, limit: Int) async throws -> [PolicyException] {
            try await written.exceptions(requestedBy: user, limit: limit)
        }
        func exceptions(in units: Set<Organisation.ID>?, limit: Int) async throws -> [PolicyException] { try await written.exceptions(in: units, limit: limit) }
        func version(requestedBy user: User.ID, orIn units: Set<Organisation.ID>?, at time: Date) async throws -> String {
            try await written.version(requestedBy: user, orIn: units, at: time)
        }
        func pending(in units: Set<Organisation.ID>?, at time: Date, limit: Int) async throws -> [PolicyException] {
            try await written.pending(in: units, at: time, limit: limit)
        }
        func deciding(_ exception: PolicyException) -> AuditedWrite { written.deciding(exception) }
        func use(_ id: PolicyException.ID, by query: CreditQuery.ID, at time: Date) async throws -> Bool { try await written.use(id, by: query, at: time) }
        func release(_ id: PolicyException.ID, from query: CreditQuery.ID, at time: Date) async throws { try await written.release(id, from: query, at: time) }
    }

    @Test func anOffHoursQueryOfAColleagueNeedsOnSiteVerification() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        try await Self.openApprover(bank)
        // A colleague in the querier's unit with the subject's name.
        _ = try await bank.services.accounts.open(employeeID: "Q0009", displayName: "张三", organisationCode: "HO", roles: [.queryOperator],
                                                  password: TestBank.password)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let clientApp = try await QueryPathTests.approvedApp(client, bank: bank)
            let token = try await client.apiToken("Q0001", bank: bank)
            let consentID = try #require(try await QueryPathTests.fileConsent(client, token: token).1["id"] as? String)
            // 16:00 China Standard Time on the test clock; two hours later is after working hours.
            bank.clock.advance(by: 2 * 3600)
            let token2 = try await client.apiToken("Q0001", bank: bank)
            let (refused, refusal) = try await QueryPathTests.query(client, token: token2, consentID: consentID, app: clientApp)
            #expect(refused == .forbidden && Self.codes(refusal) == ["outside_working_hours"])
            let (requested, exception) = try await Self.requestException(client, token: token2, consentID: consentID, app: clientApp)
            #expect(requested == .created && exception["onSiteVerificationRequired"] as? Bool == true)
            #expect(((exception["risks"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String } == ["off_hours_colleague"])
            let exceptionID = try #require(exception["id"] as? String)
            let approver = try await client.apiToken("P0001", bank: bank)
            let (missing, problem) = try await PeopleAccessTests.call(client, .post, "/api/v1/exceptions/\(exceptionID)/decisions", token: approver,
                                                                      body: #"{"decision":"approve"}"#)
            #expect(missing == .unprocessableContent && problem["detail"] as? String == Localizer(.zhCN)("exception_refusal_on_site_required"))
            let (decided, approved) = try await PeopleAccessTests.call(client, .post, "/api/v1/exceptions/\(exceptionID)/decisions", token: approver,
                                                                       body: #"{"decision":"approve","onSiteVerification":"已到网点当面核实客户身份证原件及申请资料"}"#)
            #expect(decided == .ok && approved["onSiteVerification"] as? String == "已到网点当面核实客户身份证原件及申请资料")
            #expect(try await Self.query(client, token: token2, consentID: consentID, app: clientApp, exceptionID: exceptionID).0 == .created)
        }
    }

    @Test func anUnknownAddressIsBlockedAndCanNeverBeExcepted() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        let app = try await bank.application()
        // The in-process client has no peer address: deny on doubt.
        try await app.test(.router) { client in
            let token = try await client.apiToken("Q0001", bank: bank)
            let consentID = try #require(try await QueryPathTests.fileConsent(client, token: token).1["id"] as? String)
            let (refused, refusal) = try await QueryPathTests.query(client, token: token, consentID: consentID)
            #expect(refused == .forbidden && refusal["policyDecision"] as? String == "block")
            #expect(Self.codes(refusal).contains("unbound_address") && Self.codes(refusal).contains("app_unknown"))
            let (status, problem) = try await Self.requestException(client, token: token, consentID: consentID, app: nil)
            #expect(status == .conflict && problem["detail"] as? String == Localizer(.zhCN)("exception_not_exceptable"))
            let events = try await QueryPathTests.events(bank)
            #expect(events.last { $0["kind"] as? String == "exception.requested" }?["outcome"] as? String == "denied")
        }
    }
}

/// The same in the console: the refused query's decision offers the request, the approver's queue lists it with
/// its reasons, and the loan officer queries under the approval from "my requests".
@Suite struct ExceptionConsoleTests {
    @Test func anOffHoursQueryIsRequestedApprovedAndMadeInTheConsole() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        try await ExceptionAPITests.openApprover(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let token = try await client.apiToken("Q0001", bank: bank)
            let consentID = try #require(try await QueryPathTests.fileConsent(client, token: token).1["id"] as? String)
            bank.clock.advance(by: 2 * 3600)
            let officer = try await PeopleConsoleTests.console(client, "Q0001", bank: bank)
            let form = "consentId=\(consentID)&certificateType=10&certificateNumber=\(QueryPathTests.subjectID)&subjectName=%E5%BC%A0%E4%B8%89&purpose=02&procedure=standard"
            let held = try await officer.post("/console/queries", form)
            #expect(held.0 == .forbidden && held.1.contains(Localizer(.zhCN)("query_outcome_approval_required")))
            #expect(held.1.contains("data-testid=\"request-exception\""))
            // The form carries the held query's ID, never the identifier.
            #expect(!held.1.contains(QueryPathTests.subjectID))
            let heldID = try #require(held.1.firstMatch(of: /name="queryId" value="([0-9a-f-]+)"/)?.1)
            let requested = try await officer.post("/console/exceptions", "queryId=\(heldID)&justification=%E5%AE%A2%E6%88%B7%E5%9C%A8%E6%9F%9C%E5%8F%B0%E7%AD%89%E5%80%99")
            #expect(requested.0 == .created && requested.1.contains("data-testid=\"exception-requested\""))
            let exceptionID = try #require(requested.1.firstMatch(of: /data-exception="([0-9a-f-]+)"/)?.1)
            // The officer cannot open the approver's queue; the approver sees the request with its reason.
            #expect(try await officer.get("/console/exceptions").0 == .forbidden)
            let approver = try await PeopleConsoleTests.console(client, "P0001", bank: bank)
            let queue = try await approver.get("/console/exceptions")
            #expect(queue.0 == .ok && queue.1.contains("data-exception=\"\(exceptionID)\"") && queue.1.contains("客户在柜台等候"))
            #expect(queue.1.contains("data-live-source=\"/console/exceptions/events\"") && queue.1.contains("/console/static/live.js"))
            let decided = try await approver.post("/console/exceptions/\(exceptionID)", "decision=approve&note=")
            #expect(decided.0 == .ok && decided.1.contains(Localizer(.zhCN)("exception_decided_done")))
            let mine = try await officer.get("/console/queries")
            #expect(mine.1.contains("data-testid=\"query-under-exception\""))
            let made = try await officer.post("/console/exceptions/\(exceptionID)/query", "")
            #expect(made.0 == .created && made.1.contains(Localizer(.zhCN)("query_outcome_answered")))
            #expect(!made.1.contains(QueryPathTests.subjectID))
            // The script the live queue runs is served from the console itself.
            #expect(try await client.execute(uri: "/console/static/live.js", method: .get) { $0.status } == .ok)
        }
    }
}

/// Who may decide and who may use an approval, through HTTP.
@Suite struct ExceptionBindingTests {
    @Test func onlyAnotherApproverAboveDecidesAndOnlyTheRequesterUsesItForThatSubject() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        let head = try #require(try await bank.services.organisations.find(code: "HO"))
        // Someone who both queries and approves, at the head office; an approver of a branch below it.
        let both = try await bank.services.accounts.open(employeeID: "P0002", displayName: "测试P0002", organisationCode: "HO",
                                                         roles: [.approver, .queryOperator], password: TestBank.password)
        try await bank.enrolSecondFactor(both.id)
        _ = try await bank.services.users.grantQueryRights(both.id, at: bank.clock.now)
        let branch = Organisation(id: .random(), code: "BR", name: "分行", kind: .branch, parentID: head.id, regionCode: RegionCode("110105")!,
                                  networks: [NetworkCIDR("127.0.0.0/8")!])
        try await bank.services.organisations.create(branch, now: bank.clock.now)
        let below = try await bank.services.accounts.open(employeeID: "P0003", displayName: "测试P0003", organisationCode: "BR", roles: [.approver],
                                                          password: TestBank.password)
        try await bank.enrolSecondFactor(below.id)
        try await ExceptionAPITests.openApprover(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let clientApp = try await QueryPathTests.approvedApp(client, bank: bank)
            try await ExceptionAPITests.capHeadOffice(at: 0, client, bank: bank)
            let bothToken = try await client.apiToken("P0002", bank: bank)
            let consentID = try #require(try await QueryPathTests.fileConsent(client, token: bothToken).1["id"] as? String)
            let (requested, exception) = try await ExceptionAPITests.requestException(client, token: bothToken, consentID: consentID, app: clientApp)
            #expect(requested == .created)
            let exceptionID = try #require(exception["id"] as? String)
            // Not one's own request, even with the approver role; not from a unit below the requester's.
            let (own, ownProblem) = try await PeopleAccessTests.call(client, .post, "/api/v1/exceptions/\(exceptionID)/decisions", token: bothToken,
                                                                     body: #"{"decision":"approve"}"#)
            #expect(own == .forbidden && ownProblem["detail"] as? String == Localizer(.zhCN)("exception_refusal_own"))
            let belowToken = try await client.apiToken("P0003", bank: bank)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/exceptions/\(exceptionID)/decisions", token: belowToken,
                                                     body: #"{"decision":"approve"}"#).0 == .notFound)
            #expect(try await PeopleAccessTests.call(client, .get, "/api/v1/exceptions/\(exceptionID)", token: belowToken).0 == .notFound)
            let approver = try await client.apiToken("P0001", bank: bank)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/exceptions/\(exceptionID)/decisions", token: approver,
                                                     body: #"{"decision":"approve"}"#).0 == .ok)
            // Someone else citing it is as if they cited nothing; it stays the requester's, unused.
            let officer = try await client.apiToken("Q0001", bank: bank)
            let officerConsent = try #require(try await QueryPathTests.fileConsent(client, token: officer).1["id"] as? String)
            let (_, foreign) = try await ExceptionAPITests.query(client, token: officer, consentID: officerConsent, app: clientApp, exceptionID: exceptionID)
            #expect(ExceptionAPITests.codes(foreign) == ["daily_cap_user"])
            // The same identifier under another name is not the query the approver saw: a mismatch, and the approval stays.
            let body = #"{"certificateType":"10","certificateNumber":"\#(QueryPathTests.subjectID)","subjectName":"李四","purpose":"02","consentId":"\#(consentID)","exceptionId":"\#(exceptionID)"}"#
            let other = try await client.execute(uri: "/api/v1/queries", method: .post,
                                                 headers: [.authorization: "Bearer \(bothToken)", .contentType: "application/json",
                                                           .clientAppID: clientApp.0, .clientAppSecret: clientApp.1],
                                                 body: ByteBuffer(string: body)) { try $0.json() }
            #expect(ExceptionAPITests.codes(other) == ["daily_cap_user", "exception_mismatch"])
            #expect(try await PeopleAccessTests.call(client, .get, "/api/v1/exceptions/\(exceptionID)", token: bothToken).1["status"] as? String == "approved")
            // The requester, for the subject it was given for: allowed, once.
            let (made, answer) = try await ExceptionAPITests.query(client, token: bothToken, consentID: consentID, app: clientApp, exceptionID: exceptionID)
            #expect(made == .created && answer["exceptionId"] as? String == exceptionID)
        }
    }
}
