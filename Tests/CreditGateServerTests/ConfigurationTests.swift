import CreditGateCore
import Foundation
import Testing

@testable import CreditGateServer

@Suite struct ConfigurationTests {
    @Test func defaultsAreTheDocumentedOnes() async throws {
        let configuration = try AppConfiguration.read(from: try await AppConfiguration.reader(configFile: nil, environment: [:]))
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.databaseURL == "sqlite:///./creditgate-data/creditgate.sqlite")
        #expect(configuration.sessionPolicy == SessionPolicy(idleTimeout: 900, absoluteLifetime: 28_800))
        #expect(configuration.bcryptCost == 12)
        #expect(!configuration.allowSandboxBureau)
        #expect(configuration.migrateOnStart)
    }

    @Test func theEnvironmentOverridesTheFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cg-config-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(#"{"http": {"port": 9000, "host": "0.0.0.0"}, "session": {"idleTimeoutSeconds": 600}}"#.utf8).write(to: file)
        let reader = try await AppConfiguration.reader(configFile: file.path, environment: [
            "CREDITGATE_HTTP_PORT": "9100",
            "CREDITGATE_BUREAU_ALLOW_SANDBOX": "true",
            "CREDITGATE_HTTP_TRUSTED_PROXIES": "10.0.0.0/8,fd00::/8",
            "CREDITGATE_HTTP_PUBLIC_BASE_URL": "https://creditgate.bank.example",
        ])
        let configuration = try AppConfiguration.read(from: reader)
        #expect(configuration.port == 9100)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.sessionPolicy.idleTimeout == 600)
        #expect(configuration.allowSandboxBureau)
        #expect(configuration.trustedProxies.map(\.description) == ["10.0.0.0/8", "fd00::/8"])
        #expect(configuration.isTLS)
    }

    @Test func unusableValuesNameTheirKey() async throws {
        for (variable, key) in [("CREDITGATE_HTTP_PORT", "http.port"), ("CREDITGATE_SECURITY_BCRYPT_COST", "security.bcryptCost"),
                                ("CREDITGATE_LOG_LEVEL", "log.level"), ("CREDITGATE_HTTP_TRUSTED_PROXIES", "http.trustedProxies"),
                                ("CREDITGATE_BUREAU_KIND", "bureau.kind")] {
            let value = variable.hasSuffix("PORT") ? "70000" : variable.hasSuffix("COST") ? "3" : "nonsense"
            let reader = try await AppConfiguration.reader(configFile: nil, environment: [variable: value])
            #expect {
                try AppConfiguration.read(from: reader)
            } throws: { error in
                guard case ConfigurationError.invalid(let reported, _) = error else { return false }
                return reported == key
            }
        }
    }

    @Test func serveRefusesToStartWithoutSecrets() async throws {
        let reader = try await AppConfiguration.reader(configFile: nil, environment: [:])
        #expect(throws: ConfigurationError.missingSecret(key: "secrets.masterKey")) {
            try Secrets.load(from: reader, mode: .serve, dataDirectory: "/nonexistent")
        }
    }

    @Test func secretsMustBe32Bytes() async throws {
        let reader = try await AppConfiguration.reader(configFile: nil, environment: [
            "CREDITGATE_SECRETS_MASTER_KEY": Data(repeating: 1, count: 16).base64EncodedString(),
            "CREDITGATE_SECRETS_LOG_SIGNING_KEY": Data(repeating: 2, count: 32).base64EncodedString(),
        ])
        #expect(throws: ConfigurationError.self) {
            try Secrets.load(from: reader, mode: .serve, dataDirectory: "/nonexistent")
        }
    }

    @Test func demoGeneratesItsSecretsOnceAndKeepsThemPrivate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cg-secrets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let reader = try await AppConfiguration.reader(configFile: nil, environment: [:])
        let first = try Secrets.load(from: reader, mode: .demo, dataDirectory: directory.path)
        let second = try Secrets.load(from: reader, mode: .demo, dataDirectory: directory.path)
        #expect(first.logSigningKey.publicKey.rawRepresentation == second.logSigningKey.publicKey.rawRepresentation)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("secrets/master.key").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(!"\(first)".contains(first.masterKey.withUnsafeBytes { Data($0).base64EncodedString() }))
    }

    @Test func secretsComeFromFilesToo() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cg-secret-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let master = directory.appendingPathComponent("master"), signing = directory.appendingPathComponent("signing")
        try Data((Data(repeating: 7, count: 32).base64EncodedString() + "\n").utf8).write(to: master)
        try Data(Data(repeating: 9, count: 32).base64EncodedString().utf8).write(to: signing)
        let reader = try await AppConfiguration.reader(configFile: nil, environment: [
            "CREDITGATE_SECRETS_MASTER_KEY_FILE": master.path, "CREDITGATE_SECRETS_LOG_SIGNING_KEY_FILE": signing.path,
        ])
        let secrets = try Secrets.load(from: reader, mode: .serve, dataDirectory: "/nonexistent")
        #expect(secrets.masterKey.withUnsafeBytes { Data($0) } == Data(repeating: 7, count: 32))
    }
}
