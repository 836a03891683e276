import CreditGateCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@testable import CreditGateServer

/// Policy settings per unit and the holiday calendar, through the API and the console.
@Suite struct PolicyAPITests {
    static let calendar2027 = #"{"format":"creditgate-holiday-calendar/1","year":2027,"source":{"title":"国务院办公厅关于2027年部分节假日安排的通知","published":"2026-11-10","publisher":"国务院办公厅"},"holidays":[{"name":{"zh":"元旦","en":"New Year's Day"},"from":"2027-01-01","to":"2027-01-03"}],"workdays":[]}"#

    /// Each instance holds the reference data in memory; a change made through another instance, or outside any
    /// instance, is in force with the next use all the same.
    @Test func anotherInstanceDecidesWithAChangeAtOnce() async throws {
        let bank = try await TestBank.make()
        let second = try AppServices.make(bank.arguments)
        let app = try await bank.application()
        try await app.test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let head = try #require(try await bank.services.organisations.find(code: "HO"))
            #expect(try await second.policy.effectivePolicy(for: head.id).userDailyCap == 50)
            #expect(try await PeopleAccessTests.call(client, .put, "/api/v1/policy/organisations/\(head.id.rawValue)", token: admin,
                                                     body: #"{"userDailyCap":30}"#).0 == .ok)
            #expect(try await second.policy.effectivePolicy(for: head.id).userDailyCap == 30)
            // Written at the SQL prompt, past every service: the triggers still move the version.
            try await bank.services.database.transaction { connection in
                try await connection.raw("INSERT INTO organisation_networks (organisation_id, position, cidr) VALUES (\(bind: head.id.rawValue), 99, '10.77.0.0/16')").run()
            }
            let networks = try await second.policy.reference.current().tree.units[head.id]?.networks.map(\.description)
            #expect(networks?.contains("10.77.0.0/16") == true)
            #expect(try await bank.services.policy.reference.current().tree.units[head.id]?.networks.map(\.description).contains("10.77.0.0/16") == true)
        }
        try await second.database.shutdown()
    }

    /// A damaged reference row stops queries (deny on doubt) but not the sign-in of those who would mend it.
    @Test func aDamagedSettingsRowStopsQueriesButNotTheAdministrators() async throws {
        let bank = try await TestBank.make()
        let app = try await bank.application()
        try await app.test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let head = try #require(try await bank.services.organisations.find(code: "HO"))
            try await bank.services.database.transaction { connection in
                try await connection.raw("INSERT INTO policy_settings (organisation_id, settings, updated_at) VALUES (\(bind: head.id.rawValue), 'not json', 0)").run()
            }
            await #expect(throws: (any Error).self) { _ = try await bank.services.policy.effectivePolicy(for: head.id) }
            let (status, me) = try await PeopleAccessTests.call(client, .get, "/api/v1/me", token: admin)
            #expect(status == .ok && (me["employeeId"] as? String ?? (me["user"] as? [String: Any])?["employeeId"] as? String) == "A0001")
        }
    }

    @Test func settingsAreInheritedChangedWithinScopeAndLogged() async throws {
        let bank = try await TestBank.make()
        let app = try await bank.application()
        try await app.test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let head = try #require(try await bank.services.organisations.find(code: "HO"))
            let (listed, list) = try await PeopleAccessTests.call(client, .get, "/api/v1/policy/organisations", token: admin)
            #expect(listed == .ok)
            let before = try #require((list["units"] as? [[String: Any]])?.first?["effective"] as? [String: Any])
            #expect(before["userDailyCap"] as? Int == 50 && before["workdayStart"] as? String == "08:30" && before["workdayEnd"] as? String == "17:30")
            // An unbound address can never be made exceptable; the rest is saved and in force.
            let (saved, unit) = try await PeopleAccessTests.call(client, .put, "/api/v1/policy/organisations/\(head.id.rawValue)", token: admin,
                                                                  body: #"{"userDailyCap":30,"workdayEnd":"18:00","exceptable":["unbound_address","daily_cap_user"]}"#)
            #expect(saved == .ok)
            let effective = try #require(unit["effective"] as? [String: Any])
            #expect(effective["userDailyCap"] as? Int == 30 && effective["workdayEnd"] as? String == "18:00")
            #expect(effective["exceptable"] as? [String] == ["daily_cap_user"])
            #expect(try await bank.services.policy.effectivePolicy(for: head.id).userDailyCap == 30)
            // Bad input is a 4xx and changes nothing.
            #expect(try await PeopleAccessTests.call(client, .put, "/api/v1/policy/organisations/\(head.id.rawValue)", token: admin,
                                                     body: #"{"workdayStart":"25:00"}"#).0 == .badRequest)
            #expect(try await PeopleAccessTests.call(client, .put, "/api/v1/policy/organisations/\(head.id.rawValue)", token: admin,
                                                     body: #"{"workdayStart":"18:00","workdayEnd":"09:00"}"#).0 == .unprocessableContent)
            #expect(try await bank.services.policy.effectivePolicy(for: head.id).workdayEnd == TimeOfDay("18:00"))
            // A loan officer may not change policy.
            let officer = try await client.apiToken("Q0001", bank: bank)
            #expect(try await PeopleAccessTests.call(client, .put, "/api/v1/policy/organisations/\(head.id.rawValue)", token: officer,
                                                     body: "{}").0 == .forbidden)
            // Who changed what comes from the log: the auditor's page shows the change with its author, and no form.
            let console = try await PeopleConsoleTests.console(client, "C0001", bank: bank)
            let page = try await console.get("/console/policy")
            #expect(page.0 == .ok && !page.1.contains("data-testid=\"save-policy\""))
            let history = try #require(page.1.range(of: "data-testid=\"policy-history\"")).upperBound
            let rows = page.1[history...]
            #expect(rows.contains("A0001") && rows.contains("&quot;userDailyCap&quot;:30") && rows.contains("<code>{}</code>"))
            let officerConsole = try await PeopleConsoleTests.console(client, "Q0001", bank: bank)
            #expect(try await officerConsole.get("/console/policy").0 == .forbidden)
        }
    }

    @Test func theShippedCalendarsAreThereAndAMissingYearIsAskedFor() async throws {
        let bank = try await TestBank.make()
        let app = try await bank.application()
        try await app.test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let (status, calendar) = try await PeopleAccessTests.call(client, .get, "/api/v1/calendar", token: admin)
            #expect(status == .ok)
            #expect((calendar["years"] as? [[String: Any]])?.compactMap { $0["year"] as? Int } == [2025, 2026])
            // The test clock is in January 2027, which has no calendar yet.
            #expect(calendar["missingYears"] as? [Int] == [2027])
            let refused = try await client.execute(uri: "/api/v1/calendar", method: .post,
                                                   headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
                                                   body: ByteBuffer(string: Self.calendar2027.replacingOccurrences(of: #""workdays":[]"#, with: #""workdays":["2027-01-05"]"#))) { response in
                (response.status, try response.json()["detail"] as? String)
            }
            #expect(refused.0 == .unprocessableContent && refused.1 == Localizer(.zhCN)("calendar_workday_not_weekend"))
            let imported = try await client.execute(uri: "/api/v1/calendar", method: .post,
                                                    headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
                                                    body: ByteBuffer(string: Self.calendar2027)) { response in (response.status, try response.json()) }
            #expect(imported.0 == .created && (imported.1["missingYears"] as? [Int]) == [])
            #expect(try await bank.services.policy.workingCalendar().day(CalendarDate("2027-01-01")!) == .holiday(BilingualText(zh: "元旦", en: "New Year's Day")))
        }
    }

    @Test func boundAddressesAreSetByAnAdministratorNeverForOneself() async throws {
        let bank = try await TestBank.make()
        let app = try await bank.application()
        try await app.test(.router) { client in
            let admin = try await client.apiToken("A0001", bank: bank)
            let officer = try #require(try await bank.services.users.find(employeeID: EmployeeID("Q0001")!))
            let self_ = try #require(try await bank.services.users.find(employeeID: EmployeeID("A0001")!))
            let path = "/api/v1/users/\(officer.id.rawValue)/bound-networks"
            let (set, body) = try await PeopleAccessTests.call(client, .put, path, token: admin, body: #"{"networks":["10.20.30.40","fd00:20::/48"]}"#)
            #expect(set == .ok && body["networks"] as? [String] == ["10.20.30.40/32", "fd00:20::/48"])
            #expect(try await PeopleAccessTests.call(client, .get, path, token: admin).1["networks"] as? [String] == ["10.20.30.40/32", "fd00:20::/48"])
            #expect(try await PeopleAccessTests.call(client, .put, path, token: admin, body: #"{"networks":["10.20.30.400"]}"#).0 == .unprocessableContent)
            #expect(try await PeopleAccessTests.call(client, .put, "/api/v1/users/\(self_.id.rawValue)/bound-networks", token: admin,
                                                     body: #"{"networks":[]}"#).0 == .forbidden)
            let officerToken = try await client.apiToken("Q0001", bank: bank)
            #expect(try await PeopleAccessTests.call(client, .get, path, token: officerToken).0 == .forbidden)
            let events = try await QueryPathTests.events(bank)
            #expect(events.contains { ($0["details"] as? [String: String])?["change"] == "bound_networks" })
        }
    }

    @Test func aCreditAdministratorOnlyTightensUnitsBelowTheirOwn() async throws {
        let bank = try await TestBank.make()
        let head = try #require(try await bank.services.organisations.find(code: "HO"))
        let branch = Organisation(id: .random(), code: "SH", name: "上海分行", kind: .branch, parentID: head.id, regionCode: RegionCode("310101")!, networks: [])
        try await bank.services.organisations.create(branch, now: bank.clock.now)
        let administrator = try await bank.services.accounts.open(employeeID: "K0001", displayName: "测试K0001", organisationCode: "HO",
                                                                   roles: [.creditAdministrator], password: TestBank.password)
        try await bank.enrolSecondFactor(administrator.id)
        let app = try await bank.application()
        try await app.test(.router) { client in
            let token = try await client.apiToken("K0001", bank: bank)
            let branchPath = "/api/v1/policy/organisations/\(branch.id.rawValue)"
            #expect(try await PeopleAccessTests.call(client, .put, branchPath, token: token, body: #"{"userDailyCap":20,"workdayEnd":"17:00"}"#).0 == .ok)
            let (looser, problem) = try await PeopleAccessTests.call(client, .put, branchPath, token: token, body: #"{"userDailyCap":80}"#)
            #expect(looser == .forbidden && problem["detail"] as? String == Localizer(.zhCN)("policy_looser_than_parent"))
            #expect(try await PeopleAccessTests.call(client, .put, branchPath, token: token, body: #"{"regionGranularity":"off"}"#).0 == .forbidden)
            #expect(try await PeopleAccessTests.call(client, .put, "/api/v1/policy/organisations/\(head.id.rawValue)", token: token,
                                                     body: #"{"userDailyCap":10}"#).0 == .forbidden)
            #expect(try await bank.services.policy.effectivePolicy(for: branch.id).userDailyCap == 20)
            // The console form changes only what is filled in: new hours keep the cap.
            let console = try await PeopleConsoleTests.console(client, "K0001", bank: bank)
            let saved = try await console.post("/console/policy", "organisation_id=\(branch.id.rawValue)&start=09:00")
            #expect(saved.0 == .ok)
            let effective = try await bank.services.policy.effectivePolicy(for: branch.id)
            #expect(effective.userDailyCap == 20 && effective.workdayStart == TimeOfDay("09:00") && effective.workdayEnd == TimeOfDay("17:00"))
            // "Inherit" gives a field back to the unit above.
            #expect(try await console.post("/console/policy", "organisation_id=\(branch.id.rawValue)&inherit=user_cap").0 == .ok)
            #expect(try await bank.services.policy.effectivePolicy(for: branch.id).userDailyCap == 50)
        }
    }

    @Test func theSimulatorAnswersAsSpecifiedAndStoresNothingButItsEvent() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        let app = try await bank.application()
        try await app.test(.router) { client in
            let officer = try await client.apiToken("Q0001", bank: bank)
            #expect(try await QueryPathTests.fileConsent(client, token: officer).0 == .created)
            let auditor = try await client.apiToken("C0001", bank: bank)
            func simulate(at: String = "2027-01-15T10:00:00+08:00", ip: String = "10.10.1.1", id: String = QueryPathTests.subjectID,
                          token: String = auditor) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await PeopleAccessTests.call(client, .post, "/api/v1/policy/simulate", token: token, body: """
                    {"employeeId":"Q0001","subject":{"type":"10","id":"\(id)"},"purpose":"02","at":"\(at)","ip":"\(ip)"}
                    """)
            }
            func codes(_ answer: [String: Any]) -> [String] { (answer["reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String } }
            let allowed = try await simulate()
            #expect(allowed.0 == .ok && allowed.1["decision"] as? String == "allow" && codes(allowed.1).isEmpty)
            let unbound = try await simulate(ip: "192.168.1.1")
            #expect(unbound.1["decision"] as? String == "block" && codes(unbound.1) == ["unbound_address"])
            let late = try await simulate(at: "2027-01-15T17:30:00+08:00")
            #expect(late.1["decision"] as? String == "approval_required" && codes(late.1) == ["outside_working_hours"])
            let message = try #require((late.1["reasons"] as? [[String: Any]])?.first?["message"] as? [String: Any])
            #expect((message["zh"] as? String)?.contains("17:30:00") == true && (message["en"] as? String)?.contains("outside working hours") == true)
            // 2027 has no calendar in the test bank: a Saturday is non-working by the fail-safe rule.
            let saturday = try await simulate(at: "2027-01-16T02:00:00Z")
            #expect(saturday.1["decision"] as? String == "approval_required" && codes(saturday.1) == ["non_working_day"])
            let noConsent = try await simulate(id: "110105199003070017")
            #expect(noConsent.1["decision"] as? String == "block" && codes(noConsent.1) == ["consent_missing"])
            #expect(try await simulate(at: "2027-01-15T10:00:00").0 == .unprocessableContent)
            #expect(try await simulate(token: officer).0 == .forbidden)
            // Nothing stored but the simulator's own events.
            let queries = try await bank.services.database.withConnection { connection in
                try await connection.raw("SELECT COUNT(*) AS n FROM queries").first()?.decode(column: "n", as: Int64.self)
            }
            #expect(queries == 0)
            #expect(try await QueryPathTests.kinds(bank).filter { $0 == "policy.simulated" }.count == 5)
            // The console's form gives the same answer in words.
            let console = try await PeopleConsoleTests.console(client, "C0001", bank: bank)
            let page = try await console.post("/console/policy/simulation",
                                              "employee_id=Q0001&certificate_type=10&certificate_number=\(QueryPathTests.subjectID)&purpose=02&at=2027-01-15T17%3A30%3A00%2B08%3A00&ip=10.10.1.1")
            #expect(page.0 == .ok)
            #expect(page.1.contains("data-code=\"approval_required\"") && page.1.contains(Localizer(.zhCN)("simulation_approval_required")))
            #expect(page.1.contains("17:30:00"))
            let bad = try await console.post("/console/policy/simulation", "employee_id=Q0001&certificate_type=10&certificate_number=123&purpose=02&at=x&ip=1")
            #expect(bad.0 == .unprocessableContent && bad.1.contains("data-testid=\"form-error\""))
        }
    }
}

/// A past day against a proposed policy, through the API and on the policy page.
@Suite struct PolicyReplayAPITests {
    @Test func aLowerCapShowsWhichOfTodaysQueriesWouldHaveNeededApproval() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        let head = try #require(try await bank.services.organisations.find(code: "HO"))
        let app = try await bank.application()
        try await app.test(.live) { client in
            let clientApp = try await QueryPathTests.approvedApp(client, bank: bank)
            let token = try await client.apiToken("Q0001", bank: bank)
            let consentID = try #require(try await QueryPathTests.fileConsent(client, token: token).1["id"] as? String)
            for _ in 0..<3 {
                #expect(try await QueryPathTests.query(client, token: token, consentID: consentID, app: clientApp).0 == .created)
            }
            // And one refused by admission (the consent does not cover credit-card approval): blocked then and always.
            #expect(try await QueryPathTests.query(client, token: token, consentID: consentID, purpose: "03", app: clientApp).0 == .forbidden)
            let day = CalendarDate(bank.clock.now).description
            let admin = try await client.apiToken("A0001", bank: bank)
            let (status, replay) = try await PeopleAccessTests.call(client, .post, "/api/v1/policy/replay", token: admin, body: """
                {"organisationId":"\(head.id.rawValue)","day":"\(day)","proposed":{"userDailyCap":1}}
                """)
            #expect(status == .ok)
            let summary = try #require(replay["summary"] as? [String: Any])
            #expect(summary["queries"] as? Int == 4 && summary["changed"] as? Int == 2)
            #expect((summary["happened"] as? [String: Int]) == ["allow": 3, "block": 1])
            #expect((summary["proposed"] as? [String: Int]) == ["allow": 1, "approval_required": 2, "block": 1])
            let changed = try #require(replay["changed"] as? [[String: Any]])
            #expect(changed.map { $0["proposed"] as? String } == ["approval_required", "approval_required"])
            #expect(changed.allSatisfy { ($0["reasons"] as? [[String: Any]])?.first?["code"] as? String == "daily_cap_user" })
            // The current policy changes nothing; the policy itself is not changed by a replay.
            let (_, same) = try await PeopleAccessTests.call(client, .post, "/api/v1/policy/replay", token: admin, body: """
                {"organisationId":"\(head.id.rawValue)","day":"\(day)","proposed":{}}
                """)
            #expect((same["summary"] as? [String: Any])?["changed"] as? Int == 0)
            #expect(try await bank.services.policy.effectivePolicy(for: head.id).userDailyCap == 50)
            // A future day, or an unknown unit, is refused; a loan officer may not replay.
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/policy/replay", token: admin,
                                                     body: #"{"organisationId":"\#(head.id.rawValue)","day":"2099-01-01","proposed":{}}"#).0 == .unprocessableContent)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/policy/replay", token: admin,
                                                     body: #"{"organisationId":"nope","day":"\#(day)","proposed":{}}"#).0 == .notFound)
            #expect(try await PeopleAccessTests.call(client, .post, "/api/v1/policy/replay", token: token,
                                                     body: #"{"organisationId":"\#(head.id.rawValue)","day":"\#(day)","proposed":{}}"#).0 == .forbidden)
            // The console's form says the same in words.
            let console = try await PeopleConsoleTests.console(client, "A0001", bank: bank)
            let page = try await console.post("/console/policy/replay", "organisation_id=\(head.id.rawValue)&day=\(day)&user_cap=1")
            #expect(page.0 == .ok && page.1.contains("data-testid=\"replay-result\""))
            #expect(page.1.contains(Catalogue.format("replay_summary", in: .zhCN,
                                                      facts: ["queries": "4", "changed": "2", "allow": "1", "approval": "2", "block": "1"])))
            #expect(!page.1.contains(QueryPathTests.subjectID))
            let events = try await QueryPathTests.events(bank)
            #expect(events.filter { ($0["details"] as? [String: String])?["mode"] == "replay" }.count == 3)
        }
    }
}
