import CreditGateCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import CreditGateServer

@Suite struct OperationsTests {
    @Test func healthAndReadiness() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(try response.json()["status"] as? String == "ok")
            }
            try await client.execute(uri: "/readyz", method: .get) { response async throws in
                #expect(response.status == .ok)
                let body = try response.json()
                #expect(body["status"] as? String == "ready")
                #expect(body["migrationsApplied"] as? Int == body["migrationsExpected"] as? Int)
            }
        }
    }

    @Test func metricsExposeRequestsPoolAndProcess() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            _ = try await client.execute(uri: "/healthz", method: .get) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = response.text
                #expect(text.contains(#"hb_requests{http_route="/healthz""#))
                #expect(text.contains("http_server_request_duration_bucket"))
                #expect(text.contains("creditgate_db_pool_connections_max"))
                #expect(text.contains("process_resident_memory_bytes"))
            }
        }
    }

    @Test func openAPIDocumentIsServed() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/openapi.yaml", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(response.text.hasPrefix("openapi: 3.1"))
            }
        }
    }

    @Test func serveModeRefusesTheSandboxUnlessAllowed() async throws {
        let bank = try await TestBank.make(mode: .serve) { $0.allowSandboxBureau = false }
        await #expect(throws: ConfigurationError.sandboxNotAllowed) {
            _ = try await bank.application()
        }
        try await bank.services.database.shutdown()
    }
}

@Suite struct ProblemTests {
    @Test func unknownRouteIsA404Problem() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/no-such-thing", method: .get, headers: [.acceptLanguage: "en"]) { response async throws in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json; charset=utf-8")
                let body = try response.json()
                #expect(body["type"] as? String == "urn:creditgate:problem:not-found")
                #expect(body["title"] as? String == "Not found")
                #expect(body["status"] as? Int == 404)
                let titles = try #require(body["titles"] as? [String: String])
                #expect(titles["zh-CN"] == "未找到")
                #expect(titles["en"] == "Not found")
            }
        }
    }

    @Test func malformedJSONIsA400() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            for body in ["{not json", "[]", #"{"employeeId": 5}"#, ""] {
                try await client.execute(uri: "/api/v1/sessions", method: .post, headers: [.contentType: "application/json"],
                                         body: ByteBuffer(string: body)) { response async throws in
                    #expect(response.status == .badRequest, "body \(body)")
                    #expect(try response.json()["type"] as? String == "urn:creditgate:problem:malformed-json")
                }
            }
        }
    }

    @Test func oversizedBodyIsA413() async throws {
        let bank = try await TestBank.make { $0.maxBodyBytes = 2048 }
        try await bank.application().test(.router) { client in
            let big = #"{"employeeId":"A0001","password":""# + String(repeating: "x", count: 4096) + #""}"#
            try await client.execute(uri: "/api/v1/sessions", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: big)) { response async throws in
                #expect(response.status == .contentTooLarge)
                #expect(try response.json()["type"] as? String == "urn:creditgate:problem:payload-too-large")
            }
        }
    }

    @Test func wrongMediaTypeIsA415() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/sessions", method: .post, headers: [.contentType: "text/plain"],
                                     body: ByteBuffer(string: "hello")) { response async throws in
                #expect(response.status == .unsupportedMediaType)
            }
        }
    }

    @Test func problemsFollowTheRequestedLanguage() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            try await client.execute(uri: "/nowhere", method: .get, headers: [.acceptLanguage: "zh-CN,zh;q=0.9"]) { response async throws in
                #expect(try response.json()["title"] as? String == "未找到")
                #expect(response.headers[.contentLanguage] == "zh-CN")
            }
        }
    }

    @Test func aDatabaseThatIsGoneGivesA503NotA500() async throws {
        let bank = try await TestBank.make()
        let app = try await bank.application()
        try await bank.services.database.shutdown()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer abc"]) { response async throws in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] != nil)
            }
            try await client.execute(uri: "/readyz", method: .get) { response async throws in
                #expect(response.status == .serviceUnavailable)
            }
        }
    }
}

@Suite struct SecurityHeaderTests {
    @Test func everyResponseCarriesTheStrictHeaders() async throws {
        let bank = try await TestBank.make()
        try await bank.application().test(.router) { client in
            for uri in ["/console/sign-in", "/api/v1/version", "/nowhere", "/healthz"] {
                try await client.execute(uri: uri, method: .get) { response async throws in
                    let csp = try #require(response.headers[.contentSecurityPolicy])
                    #expect(csp.contains("frame-ancestors 'none'"))
                    #expect(csp.contains("script-src 'self'"))
                    #expect(!csp.contains("unsafe-inline"))
                    #expect(response.headers[.xContentTypeOptions] == "nosniff")
                    #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                    #expect(response.headers[.cacheControl] == "no-store")
                    #expect(response.headers[.strictTransportSecurity] == nil)
                }
            }
        }
    }

    @Test func underTLSCookiesAreSecureAndHSTSIsSent() async throws {
        let bank = try await TestBank.make { $0.publicBaseURL = "https://creditgate.bank.example" }
        try await bank.application().test(.router) { client in
            try await client.execute(uri: "/console/sign-in", method: .get) { response async throws in
                #expect(response.headers[.strictTransportSecurity]?.contains("max-age=") == true)
                let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("__Host-cg_csrf=") })
                #expect(cookie.contains("Secure"))
                #expect(cookie.contains("HttpOnly"))
                #expect(cookie.contains("SameSite=Strict"))
                // Browsers accept a __Host- cookie only with Path=/ and no Domain.
                #expect(cookie.contains("Path=/;") || cookie.hasSuffix("Path=/"))
                #expect(!cookie.contains("Domain="))
            }
        }
    }
}
