import CreditGateBureau
import CreditGateCore
import CreditGateStore
import Crypto
import Foundation
import Logging

/// The cost of keeping reports encrypted: sealing and storing a 50 KB report, opening and decrypting it, and
/// re-wrapping every data key under a new master key — on the store an installation uses.
public struct ReportsBenchmark: Sendable {
    public let databaseURL: String
    public let postgresSearchPath: [String]?
    public let dataDirectory: String

    public init(databaseURL: String, postgresSearchPath: [String]? = nil, dataDirectory: String) {
        self.databaseURL = databaseURL
        self.postgresSearchPath = postgresSearchPath
        self.dataDirectory = dataDirectory
    }

    public struct Result: Sendable {
        public let reportBytes: Int
        public let sealAndStore: [Double]
        public let openAndDecrypt: [Double]
        public let rotated: Int
        public let rotationSeconds: Double
        public let loadSeconds: Double

        /// Milliseconds at the given percentile.
        public static func milliseconds(_ samples: [Double], _ percentile: Double) -> Double {
            let sorted = samples.sorted()
            return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * percentile))] * 1000
        }
    }

    /// Seals and stores `reports` reports of about 50 KB one by one (each in the transaction that marks its query
    /// answered), opens each again, then loads `rotationItems` more and times their re-wrapping.
    public func run(reports: Int, rotationItems: Int, logger: Logger) async throws -> Result {
        let arguments = BenchArguments(
            configuration: AppConfiguration(databaseURL: databaseURL, bcryptCost: 4, allowSandboxBureau: true, logLevel: logger.logLevel,
                                            dataDirectory: dataDirectory),
            secrets: Secrets(masterKey: SymmetricKey(size: .bits256), logSigningKey: Curve25519.Signing.PrivateKey()),
            logger: logger, postgresSearchPath: postgresSearchPath
        )
        let services = try AppServices.make(arguments)
        do {
            try await services.migrate(logger: logger)
            let result = try await measure(services, arguments: arguments, reports: reports, rotationItems: rotationItems)
            try await services.database.shutdown()
            return result
        } catch {
            try? await services.database.shutdown()
            throw error
        }
    }

    func measure(_ services: AppServices, arguments: BenchArguments, reports: Int, rotationItems: Int) async throws -> Result {
        _ = try await BenchBank(services: services, secrets: arguments.secrets, subjects: 1, operators: 1).seed()
        guard let querier = try await services.users.all().first(where: { $0.roles.contains(.queryOperator) }) else {
            throw BenchmarkError("the bench bank has no query operator")
        }
        let repository = services.queries.queries
        let sealer = services.queries.sealer
        let subject = SubjectIdentifier(type: .residentID, number: BenchBank.residentID(0))
        let payload = try QueryService.encoder.encode(Self.report(bytes: 50 * 1024, subject: subject))
        func query() -> CreditQuery {
            CreditQuery(id: .random(), userID: querier.id, organisationID: querier.organisationID, channel: .console, clientAppID: nil,
                        subject: subject, subjectName: "张伟", purpose: .loanApproval, consentID: nil, clientIP: BenchBank.clientIP,
                        requestedAt: services.clock(), status: .pending)
        }
        let clock = ContinuousClock()
        var stored: [StoredReport.ID] = []
        var sealTimes: [Double] = []
        for _ in 0..<reports {
            let pending = query()
            try await repository.record(pending)
            let began = clock.now
            let id = StoredReport.ID.random()
            let envelope = try sealer.seal(payload, binding: StoredReport.binding(id))
            try await repository.answer(pending.id, report: StoredReport(id: id, queryID: pending.id, kind: .personal, reportNumber: "BENCH",
                                                                            envelope: envelope, storedAt: services.clock()))
            sealTimes.append(Self.seconds(clock.now - began))
            stored.append(id)
        }
        var openTimes: [Double] = []
        for id in stored {
            let began = clock.now
            guard let report = try await repository.report(id) else { throw BenchmarkError("a stored report did not come back") }
            _ = try ReportService.decoder.decode(CreditReport.self, from: try sealer.open(report.envelope, binding: StoredReport.binding(id)))
            openTimes.append(Self.seconds(clock.now - began))
        }
        // The items key rotation works on: small reports, since re-wrapping never touches the ciphertext.
        let loadStarted = clock.now
        let small = Data(repeating: 0x7b, count: 1024)
        var batch: [(query: CreditQuery, report: StoredReport)] = []
        for _ in 0..<rotationItems {
            let item = query()
            let id = StoredReport.ID.random()
            batch.append((item, StoredReport(id: id, queryID: item.id, kind: .personal, reportNumber: "BENCH",
                                             envelope: try sealer.seal(small, binding: StoredReport.binding(id)), storedAt: services.clock())))
            if batch.count == 10_000 {
                try await repository.recordAnswered(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        try await repository.recordAnswered(batch)
        let loadSeconds = Self.seconds(clock.now - loadStarted)
        let next = EnvelopeSealer(current: MasterKey(SymmetricKey(size: .bits256)), retired: [sealer.current])
        let rotationStarted = clock.now
        let rotation = try await services.keyRotation.rewrapAll(with: next, batch: 1000)
        let rotationSeconds = Self.seconds(clock.now - rotationStarted)
        guard rotation.failed == 0 else { throw BenchmarkError("\(rotation.failed) items did not re-wrap") }
        return Result(reportBytes: payload.count, sealAndStore: sealTimes, openAndDecrypt: openTimes, rotated: rotation.rewrapped,
                      rotationSeconds: rotationSeconds, loadSeconds: loadSeconds)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// A personal report of about `bytes` bytes of JSON: a realistic header and identity, and as many credit
    /// accounts with their repayment grids as it takes.
    static func report(bytes: Int, subject: SubjectIdentifier) -> CreditReport {
        let header = ReportHeader(reportNumber: "BENCH0000000001", generatedAt: GatewayBenchmark.standingTime, queryingInstitution: "基准银行总行",
                                  purposeCode: "02")
        let identity = PersonalCreditReport.Identity(name: "张伟", certificateType: "10", certificateNumber: subject.number, gender: "male",
                                                     dateOfBirth: "1960-01-01", maritalStatus: "已婚", mobilePhone: "13800000000", education: "本科")
        func make(_ accounts: Int) -> CreditReport {
            .personal(PersonalCreditReport(
                header: header, identity: identity,
                residences: [PersonalCreditReport.Residence(address: "北京市东城区东长安街1号", status: "自置", reportedOn: "2025-01-01")],
                employments: [PersonalCreditReport.Employment(employer: "北京某某科技有限公司", occupation: "专业技术人员", since: "2015",
                                                              reportedOn: "2025-01-01")],
                summary: PersonalCreditReport.Summary(loanAccounts: accounts, creditCardAccounts: 0, accountsEverOverdue: 1, totalCreditLimitYuan: 1_000_000,
                                                      totalBalanceYuan: 500_000, guaranteesGiven: 0, publicRecords: 0, queriesLastTwoYears: 3),
                accounts: (0..<accounts).map { index in
                    CreditAccount(kind: .consumerLoan, institution: "某某银行北京分行第\(index)支行", openedOn: "2020-01-01", creditLimitYuan: 100_000,
                                  balanceYuan: 50_000, status: "normal", repaymentHistory: "NNNNNNNNNNNN1NNNNNNNNNNN")
                },
                guarantees: [], publicRecords: [], queryRecords: []
            ))
        }
        var accounts = 1
        while ((try? QueryService.encoder.encode(make(accounts)).count) ?? bytes) < bytes { accounts += 8 }
        return make(accounts)
    }
}
