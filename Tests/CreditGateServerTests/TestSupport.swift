import CreditGateCore
import CreditGateStore
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SQLKit
import Synchronization
import Testing

@testable import CreditGateServer

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

    var now: Date { current.withLock { $0 } }

    func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    var function: @Sendable () -> Date { { self.now } }
}

struct TestArguments: AppArguments {
    var configuration: AppConfiguration
    var secrets = Secrets(masterKey: SymmetricKey(size: .bits256), logSigningKey: Curve25519.Signing.PrivateKey())
    var mode: RunMode = .demo
    var logger: Logger
    var clock: @Sendable () -> Date
}

/// A server on a fresh SQLite database with an organisation tree and one account per role, made through the
/// same services the application uses.
struct TestBank {
    static let password = "Correct-Horse-42"
    let arguments: TestArguments
    let services: AppServices
    let clock: TestClock
    let directory: URL

    static func make(mode: RunMode = .demo, logger: Logger? = nil, configure: (inout AppConfiguration) -> Void = { _ in }) async throws -> TestBank {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cg-server-\(UUID().uuidString)")
        var configuration = AppConfiguration(
            databaseURL: "sqlite://" + directory.appendingPathComponent("test.sqlite").path,
            bcryptCost: 4, allowSandboxBureau: true, dataDirectory: directory.path
        )
        configure(&configuration)
        let logger = logger ?? {
            var quiet = Logger(label: "server-tests")
            quiet.logLevel = .critical
            return quiet
        }()
        let clock = TestClock()
        let arguments = TestArguments(configuration: configuration, mode: mode, logger: logger, clock: clock.function)
        let services = try AppServices.make(arguments)
        try await services.migrate(logger: logger)
        let head = Organisation(id: .random(), code: "HO", name: "总行", kind: .headOffice, parentID: nil,
                                regionCode: RegionCode("110102")!, networks: [NetworkCIDR("10.10.0.0/16")!, NetworkCIDR("127.0.0.0/8")!, NetworkCIDR("::1/128")!])
        try await services.organisations.create(head, now: clock.now)
        let bank = TestBank(arguments: arguments, services: services, clock: clock, directory: directory)
        for (id, role) in [("A0001", Role.systemAdministrator), ("Q0001", .queryOperator), ("C0001", .complianceAuditor)] {
            let user = try await services.accounts.open(employeeID: id, displayName: "测试\(id)", organisationCode: "HO", roles: [role], password: password)
            try await bank.enrolSecondFactor(user.id)
        }
        return bank
    }

    /// The TOTP secret every test account is enrolled with.
    static let totpSecret: [UInt8] = Array("12345678901234567890".utf8)

    /// Enrols the known test secret for an account, as if its holder had scanned the QR code.
    func enrolSecondFactor(_ id: User.ID) async throws {
        let sealed = try SecondFactorSealer(key: arguments.secrets.secondFactorKey).seal(Self.totpSecret, for: id)
        try await services.users.confirmTOTP(id, sealed: sealed, step: 0)
    }

    /// A fresh TOTP code: the clock moves on one step first, since a code is accepted only once.
    func nextCode() -> String {
        clock.advance(by: 30)
        return TOTP(secret: Self.totpSecret).code(at: clock.now)
    }

    func application() async throws -> some ApplicationProtocol {
        try await buildApplication(arguments, services: services)
    }

    /// Runs `body` while another connection holds SQLite's write lock, as a stuck writer or a full disk would stall
    /// the audit log. The lock is taken before `body` starts and held until it has its answer, however slow the
    /// machine, so the outcome never depends on timing.
    func whileTheWriteLockIsHeld<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let (locked, lockTaken) = AsyncStream.makeStream(of: Void.self)
        let (answered, answer) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await services.database.withConnection { connection in
                try await connection.raw("BEGIN IMMEDIATE").run()
                lockTaken.yield()
                for await _ in answered { break }
                try await connection.raw("ROLLBACK").run()
            }
        }
        // Only once the lock is really held (a slow machine may take a while to start the task).
        for await _ in locked { break }
        let result: T
        do {
            result = try await body()
        } catch {
            answer.yield()
            throw error
        }
        answer.yield()
        try await holder.value
        return result
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
    }

    /// The value of a cookie the response sets, or `nil`.
    func cookie(_ name: String) -> String? {
        for header in headers[values: .setCookie] {
            let pair = header.split(separator: ";").first ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0] == name { return String(parts[1]) }
        }
        return nil
    }

    /// The hidden `_csrf` field of the first form on the page.
    var csrfField: String? {
        guard let range = text.range(of: #"name="_csrf" value=""#) else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }
}

extension TestClientProtocol {
    /// Signs in through the API and returns the bearer token.
    func apiToken(_ employeeID: String, bank: TestBank, password: String = TestBank.password) async throws -> String {
        let body = #"{"employeeId":"\#(employeeID)","password":"\#(password)","code":"\#(bank.nextCode())"}"#
        return try await execute(uri: "/api/v1/sessions", method: .post, headers: [.contentType: "application/json"],
                                 body: ByteBuffer(string: body)) { response async throws in
            #expect(response.status == .created)
            return try #require(try response.json()["token"] as? String)
        }
    }

    /// Signs in through the console form and returns the session cookie's value.
    func consoleSession(_ employeeID: String, bank: TestBank, password: String = TestBank.password) async throws -> String {
        let (csrf, cookie) = try await execute(uri: "/console/sign-in", method: .get) { response async throws in
            (try #require(response.csrfField), try #require(response.cookie("cg_csrf")))
        }
        let form = "_csrf=\(csrf)&employee_id=\(employeeID)&password=\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&code=\(bank.nextCode())"
        return try await execute(uri: "/console/sign-in", method: .post,
                                 headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "cg_csrf=\(cookie)"],
                                 body: ByteBuffer(string: form)) { response async throws in
            #expect(response.status == .seeOther)
            return try #require(response.cookie("cg_session"))
        }
    }
}
