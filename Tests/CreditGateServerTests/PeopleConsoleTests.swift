import CreditGateCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CreditGateServer

/// The console pages of people and access, as a browser would use them (session cookie and CSRF token).
@Suite struct PeopleConsoleTests {
    struct Console {
        let client: any TestClientProtocol
        let cookie: String
        let csrf: String

        func get(_ path: String) async throws -> (HTTPResponse.Status, String) {
            try await client.execute(uri: path, method: .get, headers: [.cookie: "cg_session=\(cookie)"], body: nil) { ($0.status, $0.text) }
        }

        func post(_ path: String, _ form: String) async throws -> (HTTPResponse.Status, String) {
            try await client.execute(uri: path, method: .post, headers: [.cookie: "cg_session=\(cookie)", .contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "_csrf=\(csrf)&\(form)")) { ($0.status, $0.text) }
        }
    }

    static func console(_ client: some TestClientProtocol, _ employeeID: String, bank: TestBank) async throws -> Console {
        let cookie = try await client.consoleSession(employeeID, bank: bank)
        let csrf = try await client.execute(uri: "/console/home", method: .get, headers: [.cookie: "cg_session=\(cookie)"]) { response async throws in
            try #require(response.csrfField)
        }
        return Console(client: client, cookie: cookie, csrf: csrf)
    }

    @Test func anAdministratorOpensAnAccountAndChangesItsRolesAndStatus() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await Self.console(client, "A0001", bank: bank)
            let head = try #require(try await bank.services.organisations.find(code: "HO")).id.rawValue
            let (opened, page) = try await admin.post("/console/users", "employee_id=N0001&display_name=%E6%96%B0%E4%BA%BA&organisation_id=\(head)&roles=query_operator")
            #expect(opened == .created)
            #expect(page.contains(#"data-testid="initial-password""#))
            let user = try #require(try await bank.services.users.find(employeeID: EmployeeID("N0001")!))
            let (_, detail) = try await admin.get("/console/users/\(user.id.rawValue)")
            #expect(detail.contains(#"data-testid="action-suspend""#))
            let (_, changed) = try await admin.post("/console/users/\(user.id.rawValue)/actions", "action=roles&roles=query_operator&roles=approver")
            #expect(changed.contains(#"data-testid="action-done""#))
            #expect(try await bank.services.users.find(user.id)?.roles == [.queryOperator, .approver])
            let (_, suspended) = try await admin.post("/console/users/\(user.id.rawValue)/actions", "action=suspend")
            #expect(suspended.contains(#"data-testid="action-reinstate""#))
            let (tooEarly, refused) = try await admin.post("/console/users/\(user.id.rawValue)/actions", "action=reinstate")
            #expect(tooEarly == .conflict)
            #expect(refused.contains(Localizer(.zhCN)("reinstate_refusal_too_early")) || refused.contains(Localizer(.en)("reinstate_refusal_too_early")))
            let (duplicate, _) = try await admin.post("/console/users", "employee_id=n0001&display_name=x&organisation_id=\(head)&roles=query_operator")
            #expect(duplicate == .conflict)
        }
    }

    @Test func aNewAccountIsLedThroughItsSetUpAndCannotSkipIt() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await Self.console(client, "A0001", bank: bank)
            let head = try #require(try await bank.services.organisations.find(code: "HO")).id.rawValue
            let (_, page) = try await admin.post("/console/users", "employee_id=N0002&display_name=Newcomer&organisation_id=\(head)&roles=query_operator")
            let range = try #require(page.range(of: #"data-testid="initial-password">"#))
            let password = String(page[range.upperBound...].prefix { $0 != "<" })
            let (csrf, cookie) = try await client.execute(uri: "/console/sign-in", method: .get) { response async throws in
                (try #require(response.csrfField), try #require(response.cookie("cg_csrf")))
            }
            let form = "_csrf=\(csrf)&employee_id=N0002&password=\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
            let session = try await client.execute(uri: "/console/sign-in", method: .post,
                                                   headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "cg_csrf=\(cookie)"],
                                                   body: ByteBuffer(string: form)) { response async throws in
                #expect(response.headers[.location] == "/console/account/password")
                return try #require(response.cookie("cg_session"))
            }
            // Every other page sends the person back to the step to finish.
            try await client.execute(uri: "/console/exam", method: .get, headers: [.cookie: "cg_session=\(session)"]) { response async throws in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/console/account/password")
            }
            try await client.execute(uri: "/console/account/password", method: .get, headers: [.cookie: "cg_session=\(session)"]) { response async throws in
                #expect(response.status == .ok)
                #expect(response.text.contains(#"data-testid="setup-notice""#))
            }
        }
    }

    @Test func theResponsibilityPageShowsTheMatrixTrainingAndTheUntrained() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await Self.console(client, "A0001", bank: bank)
            let head = try #require(try await bank.services.organisations.find(code: "HO")).id.rawValue
            let (assigned, page) = try await admin.post("/console/responsibility",
                                                        "organisation_id=\(head)&responsibility=leadership&person_name=%E5%BC%A0%E8%A1%8C%E9%95%BF&user_id=")
            #expect(assigned == .ok)
            #expect(page.contains("张行长"))
            #expect(page.contains("Q0001"))  // untrained this year
            let officer = try #require(try await bank.services.users.find(employeeID: EmployeeID("Q0001")!))
            let year = ChinaStandardTime.year(of: bank.clock.now)
            let (recorded, after) = try await admin.post("/console/training", "title=%E5%9F%B9%E8%AE%AD&held_on=\(year)-01-15&organisation_id=\(head)&attendee=\(officer.id.rawValue)")
            #expect(recorded == .created)
            let untrained = try #require(after.range(of: #"data-testid="training-untrained""#))
            #expect(!after[untrained.upperBound...].contains("Q0001"))
            let auditor = try await Self.console(client, "C0001", bank: bank)
            let (readable, view) = try await auditor.get("/console/responsibility")
            #expect(readable == .ok)
            #expect(!view.contains(#"data-testid="assign-responsibility""#))
            let (refused, _) = try await auditor.post("/console/training", "title=x")
            #expect(refused == .forbidden)
        }
    }
}
