import CreditGateCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import CreditGateServer

final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    var logger: Logger {
        var logger = Logger(label: "capture") { label in
            JSONLogHandler(label: label, level: .trace) { line in self.lines.withLock { $0.append(line) } }
        }
        logger.logLevel = .trace
        return logger
    }
}

@Suite struct LoggingTests {
    @Test func linesAreJSONWithTheRequestID() async throws {
        let capture = LogCapture()
        let bank = try await TestBank.make(logger: capture.logger)
        let requestID = try await bank.application().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response async throws in
                try #require(response.headers[HTTPField.Name("X-Request-ID")!])
            }
        }
        let requestLines = try capture.all.compactMap { line -> [String: Any]? in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return object["message"] as? String == "request" ? object : nil
        }
        let line = try #require(requestLines.first { $0["request_id"] as? String == requestID })
        #expect(line["route"] as? String == "/healthz")
        #expect(line["status"] as? String == "200")
        #expect(line["level"] as? String == "info")
        #expect(line["time"] != nil)
    }

    @Test func secretsAndIdentifiersStayOutOfTheLog() async throws {
        let capture = LogCapture()
        let bank = try await TestBank.make(logger: capture.logger)
        try await bank.application().test(.router) { client in
            let token = try await client.apiToken("A0001", bank: bank)
            _ = try await client.execute(uri: "/api/v1/me?id=110101199003071234", method: .get, headers: [.authorization: "Bearer \(token)"]) { _ in }
            _ = try await client.execute(uri: "/api/v1/sessions", method: .post, headers: [.contentType: "application/json"],
                                         body: ByteBuffer(string: #"{"employeeId":"A0001","password":"Wrong-guess-999"}"#)) { _ in }
            let everything = capture.all.joined(separator: "\n")
            #expect(!everything.isEmpty)
            #expect(!everything.contains(TestBank.password))
            #expect(!everything.contains("Wrong-guess-999"))
            #expect(!everything.contains(token))
            #expect(!everything.contains("110101199003071234"))
        }
    }
}

@Suite struct ClientAddressTests {
    let proxies = [NetworkCIDR("10.0.0.0/8")!]

    @Test func untrustedPeersAreTheClient() {
        #expect(ClientAddress.resolve(peer: "203.0.113.9", forwardedFor: ["198.51.100.1"], trustedProxies: proxies) == "203.0.113.9")
    }

    @Test func trustedProxiesAreSkippedFromTheRight() {
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: ["198.51.100.1, 10.0.0.7"], trustedProxies: proxies) == "198.51.100.1")
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: ["spoofed, 203.0.113.5"], trustedProxies: proxies) == "203.0.113.5")
    }

    @Test func garbageIsUnknown() {
        #expect(ClientAddress.resolve(peer: "10.0.0.2", forwardedFor: ["not-an-ip"], trustedProxies: proxies) == "unknown")
        #expect(ClientAddress.resolve(peer: nil, forwardedFor: [], trustedProxies: proxies) == "unknown")
    }
}
