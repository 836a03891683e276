import CreditGateCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CreditGateServer

@Suite struct APISessionTests {
    @Test func signInGivesATokenThatIdentifiesTheUser() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let token = try await client.apiToken("A0001", bank: bank)
            try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(token)"]) { response async throws in
                #expect(response.status == .ok)
                let body = try response.json()
                let user = try #require(body["user"] as? [String: Any])
                #expect(user["employeeId"] as? String == "A0001")
                #expect(user["roles"] as? [String] == ["system_administrator"])
                #expect((body["permissions"] as? [String])?.contains("users.read") == true)
            }
        }
    }

    @Test func unknownUserAndWrongPasswordGetTheSameAnswer() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            var answers: [String] = []
            for body in [#"{"employeeId":"A0001","password":"wrong-Password-1"}"#, #"{"employeeId":"NOBODY","password":"wrong-Password-1"}"#] {
                try await client.execute(uri: "/api/v1/sessions", method: .post, headers: [.contentType: "application/json"],
                                         body: ByteBuffer(string: body)) { response async throws in
                    #expect(response.status == .unauthorized)
                    let problem = try response.json()
                    answers.append("\(problem["type"] ?? "")|\(problem["title"] ?? "")|\(problem["detail"] ?? "")")
                }
            }
            #expect(answers.count == 2)
            #expect(answers[0] == answers[1])
        }
    }

    @Test func signOutEndsTheToken() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let token = try await client.apiToken("Q0001", bank: bank)
            try await client.execute(uri: "/api/v1/sessions/current", method: .delete, headers: [.authorization: "Bearer \(token)"]) { response async throws in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(token)"]) { response async throws in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func idleSessionsExpire() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let token = try await client.apiToken("Q0001", bank: bank)
            bank.clock.advance(by: 14 * 60)
            try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(token)"]) { response async throws in
                #expect(response.status == .ok)
            }
            bank.clock.advance(by: 15 * 60 + 1)
            try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(token)"]) { response async throws in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func routesCheckPermissionsThroughTheMatrix() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/organisations", method: .get) { response async throws in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] != nil)
            }
            let operatorToken = try await client.apiToken("Q0001", bank: bank)
            for uri in ["/api/v1/organisations", "/api/v1/users"] {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(operatorToken)"]) { response async throws in
                    #expect(response.status == .forbidden)
                    #expect(try response.json()["type"] as? String == "urn:creditgate:problem:forbidden")
                }
            }
            let auditorToken = try await client.apiToken("C0001", bank: bank)
            try await client.execute(uri: "/api/v1/organisations", method: .get, headers: [.authorization: "Bearer \(auditorToken)"]) { response async throws in
                #expect(response.status == .ok)
                let units = try #require(try response.json()["organisations"] as? [[String: Any]])
                #expect(units.map { $0["code"] as? String } == ["HO"])
                #expect(units.first?["networks"] as? [String] == ["10.10.0.0/16", "127.0.0.0/8", "::1/128"])
            }
        }
    }

    @Test func theAPIIgnoresConsoleCookies() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let cookie = try await client.consoleSession("A0001", bank: bank)
            try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: "cg_session=\(cookie)"]) { response async throws in
                #expect(response.status == .unauthorized)
            }
        }
    }
}

@Suite struct ConsoleTests {
    @Test func anonymousVisitorsAreSentToSignIn() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            for uri in ["/console", "/console/home", "/console/users"] {
                try await client.execute(uri: uri, method: .get) { response async throws in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/console/sign-in")
                }
            }
        }
    }

    @Test func signInPageSpeaksBothLanguages() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            try await client.execute(uri: "/console/sign-in", method: .get, headers: [.acceptLanguage: "en-GB,en;q=0.9"]) { response async throws in
                #expect(response.text.contains(#"<html lang="en">"#))
                #expect(response.text.contains("Employee ID"))
            }
            try await client.execute(uri: "/console/sign-in", method: .get, headers: [.acceptLanguage: "zh-CN"]) { response async throws in
                #expect(response.text.contains(#"<html lang="zh-CN">"#))
                #expect(response.text.contains("员工统一认证号"))
            }
            try await client.execute(uri: "/console/sign-in?lang=en", method: .get, headers: [.acceptLanguage: "zh-CN"]) { response async throws in
                #expect(response.text.contains("Employee ID"))
            }
        }
    }

    @Test func signInWithoutTheCSRFTokenIsRefused() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let form = "employee_id=A0001&password=\(TestBank.password)"
            try await client.execute(uri: "/console/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: form)) { response async throws in
                #expect(response.status == .forbidden)
                #expect(response.cookie("cg_session") == nil)
            }
            try await client.execute(uri: "/console/sign-in", method: .post,
                                     headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "cg_csrf=abc"],
                                     body: ByteBuffer(string: form + "&_csrf=abd")) { response async throws in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test func crossSiteFormsAreRefusedEvenWithAToken() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let form = "_csrf=abc&employee_id=A0001&password=\(TestBank.password)"
            try await client.execute(uri: "/console/sign-in", method: .post,
                                     headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "cg_csrf=abc", .origin: "https://evil.example"],
                                     body: ByteBuffer(string: form)) { response async throws in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test func siblingSitesAreRefusedButANullOriginWithTheTokenIsAccepted() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let (csrf, cookie) = try await client.execute(uri: "/console/sign-in", method: .get) { response async throws in
                (try #require(response.csrfField), try #require(response.cookie("cg_csrf")))
            }
            let form = ByteBuffer(string: "_csrf=\(csrf)&employee_id=A0001&password=\(TestBank.password)&code=\(bank.nextCode())")
            var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "cg_csrf=\(cookie)"]
            headers[HTTPField.Name("Sec-Fetch-Site")!] = "same-site"
            try await client.execute(uri: "/console/sign-in", method: .post, headers: headers, body: form) { response async throws in
                #expect(response.status == .forbidden)
            }
            // What Chromium sends for a same-origin form under Referrer-Policy: no-referrer.
            headers[HTTPField.Name("Sec-Fetch-Site")!] = "same-origin"
            headers[.origin] = "null"
            try await client.execute(uri: "/console/sign-in", method: .post, headers: headers, body: form) { response async throws in
                #expect(response.status == .seeOther)
                #expect(response.cookie("cg_session") != nil)
            }
        }
    }

    @Test func nonCanonicalPathsAreRefusedBeforeAnyCheck() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let form = ByteBuffer(string: "employee_id=A0001&password=\(TestBank.password)")
            for uri in ["//console/sign-in", "/console//sign-in", "/./console/sign-in", "/api/../console/sign-in"] {
                try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: form) { response async throws in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(response.cookie("cg_session") == nil)
                }
            }
        }
    }

    @Test func anExpiredSessionSaysSo() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let session = try await client.consoleSession("Q0001", bank: bank)
            bank.clock.advance(by: 16 * 60)
            try await client.execute(uri: "/console/home", method: .get, headers: [.cookie: "cg_session=\(session)"]) { response async throws in
                #expect(response.headers[.location] == "/console/sign-in?m=expired")
            }
            try await client.execute(uri: "/console/sign-in?m=expired", method: .get, headers: [.acceptLanguage: "en"]) { response async throws in
                #expect(response.text.contains("Your session has expired."))
            }
        }
    }

    @Test func signedInUsersSeeNavigationForTheirRolesOnly() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let admin = try await client.consoleSession("A0001", bank: bank)
            try await client.execute(uri: "/console/home", method: .get, headers: [.cookie: "cg_session=\(admin)", .acceptLanguage: "en"]) { response async throws in
                #expect(response.status == .ok)
                #expect(response.text.contains("测试A0001"))
                #expect(response.text.contains(#"href="/console/users""#))
                #expect(response.text.contains(#"href="/console/status""#))
            }
            let queryOperator = try await client.consoleSession("Q0001", bank: bank)
            try await client.execute(uri: "/console/home", method: .get, headers: [.cookie: "cg_session=\(queryOperator)"]) { response async throws in
                #expect(!response.text.contains(#"href="/console/users""#))
            }
            try await client.execute(uri: "/console/users", method: .get, headers: [.cookie: "cg_session=\(queryOperator)", .acceptLanguage: "en"]) { response async throws in
                #expect(response.status == .forbidden)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(response.text.contains("Not permitted"))
            }
        }
    }

    @Test func signOutNeedsTheSessionTokenAndEndsTheSession() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let session = try await client.consoleSession("A0001", bank: bank)
            let csrf = try await client.execute(uri: "/console/home", method: .get, headers: [.cookie: "cg_session=\(session)"]) { response async throws in
                try #require(response.csrfField)
            }
            try await client.execute(uri: "/console/sign-out", method: .post,
                                     headers: [.cookie: "cg_session=\(session)", .contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "_csrf=wrong")) { response async throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/console/sign-out", method: .post,
                                     headers: [.cookie: "cg_session=\(session)", .contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "_csrf=\(csrf)")) { response async throws in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/console/sign-in?m=signed_out")
            }
            try await client.execute(uri: "/console/home", method: .get, headers: [.cookie: "cg_session=\(session)"]) { response async throws in
                #expect(response.status == .seeOther)
            }
        }
    }

    @Test func theUsersLanguageSettingWinsOverTheBrowser() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let session = try await client.consoleSession("Q0001", bank: bank)
            let headers: HTTPFields = [.cookie: "cg_session=\(session)", .acceptLanguage: "zh-CN"]
            let csrf = try await client.execute(uri: "/console/preferences", method: .get, headers: headers) { response async throws in
                #expect(response.text.contains("个人设置"))
                return try #require(response.csrfField)
            }
            var post = headers
            post[.contentType] = "application/x-www-form-urlencoded"
            try await client.execute(uri: "/console/preferences", method: .post, headers: post,
                                     body: ByteBuffer(string: "_csrf=\(csrf)&language=en")) { response async throws in
                #expect(response.status == .seeOther)
            }
            try await client.execute(uri: "/console/home", method: .get, headers: headers) { response async throws in
                #expect(response.text.contains(#"<html lang="en">"#))
                #expect(response.text.contains("Sign out"))
            }
            try await client.execute(uri: "/console/preferences", method: .post, headers: post,
                                     body: ByteBuffer(string: "_csrf=\(csrf)&language=klingon")) { response async throws in
                #expect(response.status == .unprocessableContent)
            }
        }
    }

    @Test func wrongPasswordReRendersTheFormWithTheSameMessage() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            let (csrf, cookie) = try await client.execute(uri: "/console/sign-in", method: .get) { response async throws in
                (try #require(response.csrfField), try #require(response.cookie("cg_csrf")))
            }
            var messages: [String] = []
            for employee in ["A0001", "NOBODY1"] {
                try await client.execute(uri: "/console/sign-in", method: .post,
                                         headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "cg_csrf=\(cookie)", .acceptLanguage: "en"],
                                         body: ByteBuffer(string: "_csrf=\(csrf)&employee_id=\(employee)&password=nope-Nope-123")) { response async throws in
                    #expect(response.status == .unauthorized)
                    #expect(response.cookie("cg_session") == nil)
                    messages.append(response.text.contains("The employee ID or password is not correct.") ? "same" : "different")
                }
            }
            #expect(messages == ["same", "same"])
        }
    }
}
