import Configuration
import CreditGateCore
import CreditGateStore
import Foundation
import Logging

/// How the server was started. Demo mode may invent its own secrets and uses the sandbox bureau; `serve` may not.
public enum RunMode: String, Sendable {
    case demo
    case serve
}

/// Every setting of a running CreditGate, read once at start-up from the environment and an optional JSON file
/// (`CREDITGATE_` + the key upper-cased with `.` as `_`; the environment wins over the file). Each key and its
/// default is listed in the README.
public struct AppConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The address users reach CreditGate at. When it is `https://…` (TLS terminated at the bank's reverse proxy)
    /// cookies are marked `Secure` and HSTS is sent.
    public var publicBaseURL: String
    /// Peers whose `X-Forwarded-For` is believed (the bank's reverse proxies); empty believes nobody.
    public var trustedProxies: [NetworkCIDR]
    public var maxBodyBytes: Int
    public var databaseURL: String
    public var databaseMaxConnectionsPerEventLoop: Int
    /// Apply pending migrations at start-up (safe with several instances: they take an advisory lock).
    public var migrateOnStart: Bool
    public var sessionPolicy: SessionPolicy
    public var bcryptCost: UInt8
    public var bureau: String
    public var allowSandboxBureau: Bool
    public var logLevel: Logger.Level
    /// Where `demo` keeps the secrets it generates.
    public var dataDirectory: String
    /// The origin line of the audit log's checkpoints: names this bank's log (C2SP tlog-checkpoint).
    public var logOrigin: String
    /// How often a grown log gets a new signed checkpoint.
    public var checkpointInterval: Duration
    /// How long an audited operation waits for its entry to be durable before failing closed.
    public var auditAppendTimeout: Duration
    /// Password expiry and history; the strength rules are fixed.
    public var passwordPolicy: PasswordPolicy
    public var signInLimits: SignInLimits
    public var examPolicy: ExamPolicy
    public var lifecyclePolicy: LifecyclePolicy
    /// How often the automatic suspension runs.
    public var suspensionInterval: Duration
    /// The largest scanned consent accepted.
    public var consentMaxDocumentBytes: Int = 10 * 1_048_576
    /// The sandbox bureau's answer time, and a fault it injects on every request (`none`, `timeout`, `error`,
    /// `malformed`), for demonstrations and tests of the failure paths.
    public var sandboxLatency: Duration = .zero
    public var sandboxFault: String = "none"
    /// How long the gateway waits for the bureau before answering 504.
    public var bureauTimeout: Duration = .seconds(10)
    /// How long an approved exception (授权查询) stays usable.
    public var exceptionValidity: TimeInterval = 30 * 60
    /// How long after the answer the querier may open a report.
    public var reportViewingWindow: TimeInterval = 24 * 3600
    /// The keyring of report and consent master keys (see ``ReportKeyring``); empty means `<dataDirectory>/secrets/report-keys`.
    public var reportKeysFile: String = ""

    /// The keyring file in force.
    public var reportKeysPath: String {
        reportKeysFile.isEmpty ? URL(fileURLWithPath: dataDirectory).appendingPathComponent("secrets/report-keys").path : reportKeysFile
    }
    /// How long after the viewing window a report's contents are kept before they are destroyed.
    public var reportGrace: TimeInterval = 30 * 86_400
    /// How long consents' documents and audit payloads are kept (5 years).
    public var recordRetention: TimeInterval = 5 * 365 * 86_400 + 86_400
    /// How often the retention job runs.
    public var retentionInterval: Duration = .seconds(3600)

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        publicBaseURL: String = "http://127.0.0.1:8080",
        trustedProxies: [NetworkCIDR] = [],
        maxBodyBytes: Int = 1_048_576,
        databaseURL: String = DatabaseLocation.defaultURL,
        databaseMaxConnectionsPerEventLoop: Int = 4,
        migrateOnStart: Bool = true,
        sessionPolicy: SessionPolicy = SessionPolicy(),
        bcryptCost: UInt8 = 12,
        bureau: String = "sandbox",
        allowSandboxBureau: Bool = false,
        logLevel: Logger.Level = .info,
        dataDirectory: String = "./creditgate-data",
        logOrigin: String = "creditgate.local/audit-log",
        checkpointInterval: Duration = .seconds(1),
        auditAppendTimeout: Duration = .seconds(2),
        passwordPolicy: PasswordPolicy = PasswordPolicy(),
        signInLimits: SignInLimits = SignInLimits(),
        examPolicy: ExamPolicy = ExamPolicy(),
        lifecyclePolicy: LifecyclePolicy = LifecyclePolicy(),
        suspensionInterval: Duration = .seconds(3600)
    ) {
        self.host = host
        self.port = port
        self.publicBaseURL = publicBaseURL
        self.trustedProxies = trustedProxies
        self.maxBodyBytes = maxBodyBytes
        self.databaseURL = databaseURL
        self.databaseMaxConnectionsPerEventLoop = databaseMaxConnectionsPerEventLoop
        self.migrateOnStart = migrateOnStart
        self.sessionPolicy = sessionPolicy
        self.bcryptCost = bcryptCost
        self.bureau = bureau
        self.allowSandboxBureau = allowSandboxBureau
        self.logLevel = logLevel
        self.dataDirectory = dataDirectory
        self.logOrigin = logOrigin
        self.checkpointInterval = checkpointInterval
        self.auditAppendTimeout = auditAppendTimeout
        self.passwordPolicy = passwordPolicy
        self.signInLimits = signInLimits
        self.examPolicy = examPolicy
        self.lifecyclePolicy = lifecyclePolicy
        self.suspensionInterval = suspensionInterval
    }

    /// `true` when users reach the server over TLS.
    public var isTLS: Bool { publicBaseURL.lowercased().hasPrefix("https://") }

    /// Reads every key, falling back to the defaults above. Throws ``ConfigurationError`` for a value that is
    /// present but unusable, naming the key.
    public static func read(from reader: ConfigReader) throws -> AppConfiguration {
        let defaults = AppConfiguration()
        var configuration = defaults
        configuration.host = reader.string(forKey: "http.host", default: defaults.host)
        configuration.port = reader.int(forKey: "http.port", default: defaults.port)
        guard (1...65535).contains(configuration.port) else { throw ConfigurationError.invalid(key: "http.port", reason: "must be 1–65535") }
        configuration.publicBaseURL = reader.string(forKey: "http.publicBaseURL", default: defaults.publicBaseURL)
        let proxies = reader.stringArray(forKey: "http.trustedProxies", default: [])
        configuration.trustedProxies = try proxies.map { text in
            guard let cidr = NetworkCIDR(text) else { throw ConfigurationError.invalid(key: "http.trustedProxies", reason: "\(text) is not a CIDR") }
            return cidr
        }
        configuration.maxBodyBytes = reader.int(forKey: "http.maxBodyBytes", default: defaults.maxBodyBytes)
        guard configuration.maxBodyBytes >= 1024 else { throw ConfigurationError.invalid(key: "http.maxBodyBytes", reason: "must be at least 1024") }
        configuration.databaseURL = reader.string(forKey: "database.url", isSecret: true, default: defaults.databaseURL)
        configuration.databaseMaxConnectionsPerEventLoop = reader.int(forKey: "database.maxConnectionsPerEventLoop", default: defaults.databaseMaxConnectionsPerEventLoop)
        configuration.migrateOnStart = reader.bool(forKey: "database.migrateOnStart", default: defaults.migrateOnStart)
        configuration.sessionPolicy = SessionPolicy(
            idleTimeout: TimeInterval(reader.int(forKey: "session.idleTimeoutSeconds", default: Int(defaults.sessionPolicy.idleTimeout))),
            absoluteLifetime: TimeInterval(reader.int(forKey: "session.absoluteLifetimeSeconds", default: Int(defaults.sessionPolicy.absoluteLifetime)))
        )
        let cost = reader.int(forKey: "security.bcryptCost", default: Int(defaults.bcryptCost))
        guard (10...16).contains(cost) else { throw ConfigurationError.invalid(key: "security.bcryptCost", reason: "must be 10–16") }
        configuration.bcryptCost = UInt8(cost)
        configuration.bureau = reader.string(forKey: "bureau.kind", default: defaults.bureau)
        guard configuration.bureau == "sandbox" else {
            throw ConfigurationError.invalid(key: "bureau.kind", reason: "the only connector in this build is \"sandbox\"")
        }
        configuration.allowSandboxBureau = reader.bool(forKey: "bureau.allowSandbox", default: false)
        configuration.sandboxLatency = .milliseconds(reader.int(forKey: "bureau.sandbox.latencyMilliseconds", default: 0))
        configuration.sandboxFault = reader.string(forKey: "bureau.sandbox.fault", default: defaults.sandboxFault)
        guard ["none", "timeout", "error", "malformed"].contains(configuration.sandboxFault) else {
            throw ConfigurationError.invalid(key: "bureau.sandbox.fault", reason: "use none, timeout, error or malformed")
        }
        let bureauTimeout = reader.int(forKey: "bureau.timeoutMilliseconds", default: 10_000)
        guard (100...120_000).contains(bureauTimeout) else {
            throw ConfigurationError.invalid(key: "bureau.timeoutMilliseconds", reason: "must be 100–120000")
        }
        configuration.bureauTimeout = .milliseconds(bureauTimeout)
        let exceptionMinutes = reader.int(forKey: "queries.exceptionValidityMinutes", default: 30)
        guard (1...480).contains(exceptionMinutes) else {
            throw ConfigurationError.invalid(key: "queries.exceptionValidityMinutes", reason: "must be 1–480")
        }
        configuration.exceptionValidity = TimeInterval(exceptionMinutes * 60)
        let windowHours = reader.int(forKey: "reports.viewingWindowHours", default: 24)
        guard (1...720).contains(windowHours) else {
            throw ConfigurationError.invalid(key: "reports.viewingWindowHours", reason: "must be 1–720")
        }
        configuration.reportViewingWindow = TimeInterval(windowHours * 3600)
        let graceDays = reader.int(forKey: "reports.graceDays", default: 30)
        guard (0...3650).contains(graceDays) else { throw ConfigurationError.invalid(key: "reports.graceDays", reason: "must be 0–3650") }
        configuration.reportGrace = TimeInterval(graceDays * 86_400)
        let retentionMinutes = reader.int(forKey: "retention.intervalMinutes", default: 60)
        guard (1...1440).contains(retentionMinutes) else { throw ConfigurationError.invalid(key: "retention.intervalMinutes", reason: "must be 1–1440") }
        configuration.retentionInterval = .seconds(retentionMinutes * 60)
        configuration.consentMaxDocumentBytes = reader.int(forKey: "consents.maxDocumentBytes", default: defaults.consentMaxDocumentBytes)
        guard (1024...50 * 1_048_576).contains(configuration.consentMaxDocumentBytes) else {
            throw ConfigurationError.invalid(key: "consents.maxDocumentBytes", reason: "must be 1024 to 52428800")
        }
        let level = reader.string(forKey: "log.level", default: defaults.logLevel.rawValue)
        guard let logLevel = Logger.Level(rawValue: level) else { throw ConfigurationError.invalid(key: "log.level", reason: "use trace, debug, info, notice, warning, error or critical") }
        configuration.logLevel = logLevel
        configuration.dataDirectory = reader.string(forKey: "data.directory", default: defaults.dataDirectory)
        configuration.reportKeysFile = reader.string(forKey: "secrets.reportKeysFile",
                                                     default: URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("secrets/report-keys").path)
        configuration.logOrigin = reader.string(forKey: "log.origin", default: defaults.logOrigin)
        guard !configuration.logOrigin.isEmpty, !configuration.logOrigin.contains(where: { $0 == " " || $0 == "+" || $0 == "\n" }) else {
            throw ConfigurationError.invalid(key: "log.origin", reason: "must be non-empty without spaces or '+'")
        }
        let interval = reader.int(forKey: "log.checkpointIntervalMilliseconds", default: 1000)
        guard (100...60_000).contains(interval) else { throw ConfigurationError.invalid(key: "log.checkpointIntervalMilliseconds", reason: "must be 100–60000") }
        configuration.checkpointInterval = .milliseconds(interval)
        let timeout = reader.int(forKey: "log.appendTimeoutMilliseconds", default: 2000)
        guard (100...30_000).contains(timeout) else { throw ConfigurationError.invalid(key: "log.appendTimeoutMilliseconds", reason: "must be 100–30000") }
        configuration.auditAppendTimeout = .milliseconds(timeout)
        try readPeopleAndAccess(from: reader, into: &configuration)
        return configuration
    }

    /// The keys of people and access, each checked against a sensible range.
    static func readPeopleAndAccess(from reader: ConfigReader, into configuration: inout AppConfiguration) throws {
        func number(_ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
            let value = reader.int(forKey: ConfigKey(key), default: fallback)
            guard range.contains(value) else {
                throw ConfigurationError.invalid(key: key, reason: "must be \(range.lowerBound)–\(range.upperBound)")
            }
            return value
        }
        let day: TimeInterval = 86_400
        configuration.passwordPolicy.maximumAge = TimeInterval(try number("password.maxAgeDays", 90, 1...90)) * day
        configuration.passwordPolicy.historyDepth = try number("password.history", 5, 5...24)
        configuration.signInLimits.maximumFailures = try number("signin.maxFailures", 5, 3...10)
        configuration.signInLimits.lockoutDuration = TimeInterval(try number("signin.lockoutMinutes", 15, 15...1440)) * 60
        configuration.signInLimits.maximumFailuresPerAddress = try number("signin.maxFailuresPerAddress", 20, 5...1000)
        configuration.examPolicy.passMark = try number("exam.passMark", 90, 60...100)
        configuration.examPolicy.strictPassMark = try number("exam.strictPassMark", 95, configuration.examPolicy.passMark...100)
        configuration.examPolicy.questionsPerPaper = try number("exam.questions", 20, 5...100)
        configuration.examPolicy.timeLimit = TimeInterval(try number("exam.timeLimitMinutes", 30, 5...180)) * 60
        configuration.lifecyclePolicy.dormancy = TimeInterval(try number("accounts.dormancyDays", 90, 7...365)) * day
        configuration.lifecyclePolicy.organisationConfirmation = TimeInterval(try number("accounts.organisationConfirmationDays", 30, 1...90)) * day
        configuration.lifecyclePolicy.reapplicationWait = TimeInterval(try number("accounts.reapplicationWaitDays", 90, 90...3650)) * day
        configuration.lifecyclePolicy.approvalLevels = try number("access.approvalLevels", 2, 2...5)
        configuration.suspensionInterval = .seconds(try number("accounts.suspensionIntervalSeconds", 3600, 60...86_400))
    }

    /// A reader over the environment (prefix `CREDITGATE_`) and, when given, a JSON file; the environment wins.
    public static func reader(configFile: String?, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> ConfigReader {
        let env = EnvironmentVariablesProvider(
            environmentVariables: environment,
            secretsSpecifier: .dynamic { key, _ in key.contains("SECRET") || key.contains("DATABASE_URL") || key.contains("KEY") }
        ).prefixKeys(with: "creditgate")
        var providers: [any ConfigProvider] = [env]
        if let configFile {
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: .init(configFile)))
            } catch {
                throw ConfigurationError.invalid(key: "--config", reason: "cannot read \(configFile) as JSON")
            }
        }
        return ConfigReader(providers: providers)
    }
}

public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
    case invalid(key: String, reason: String)
    case missingSecret(key: String)
    case sandboxNotAllowed

    public var description: String {
        switch self {
        case .invalid(let key, let reason):
            "configuration \(key): \(reason)"
        case .missingSecret(let key):
            "configuration \(key): required outside demo mode (set CREDITGATE_\(key.uppercased().replacingOccurrences(of: ".", with: "_")) or \(key)File)"
        case .sandboxNotAllowed:
            "configuration bureau.allowSandbox: the sandbox bureau returns synthetic reports; set bureau.allowSandbox=true to run it outside demo mode"
        }
    }
}
