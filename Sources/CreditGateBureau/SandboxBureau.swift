import Crypto
import CreditGateCore
import Foundation

/// A bureau that answers at once with synthetic reports, the same report for the same subject every time
/// (derived from a SHA-256 of the subject), for demonstrations and tests. It never contacts anything.
public struct SandboxBureau: CreditBureau {
    public let isSandbox = true
    public let name = "sandbox"
    let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = Date.init) {
        self.clock = clock
    }

    /// Subjects whose certificate number ends in `0000` are unknown to the sandbox, so that the not-found path
    /// can be shown and tested.
    public func fetchReport(_ request: BureauRequest) async throws -> CreditReport {
        let subject = request.subject
        if subject.certificateNumber.hasSuffix("0000") { throw BureauError.subjectNotFound }
        var generator = SeededGenerator(seed: "\(subject.kind.rawValue)|\(subject.certificateType)|\(subject.certificateNumber)")
        let institutions = ["中国工商银行", "中国建设银行", "招商银行", "交通银行", "中国银行", "兴业银行", "浦发银行"]
        let accountCount = Int(generator.next() % 5) + 1
        let accounts: [CreditReport.Account] = (0..<accountCount).map { _ in
            let kind: CreditReport.Account.Kind = subject.kind == .corporate
                ? .businessLoan
                : [.mortgage, .consumerLoan, .creditCard, .creditCard][Int(generator.next() % 4)]
            let limit = (Int(generator.next() % 200) + 1) * (kind == .mortgage ? 10_000 : 1_000)
            let year = 2012 + Int(generator.next() % 12)
            let month = Int(generator.next() % 12) + 1
            let history = String((0..<24).map { _ -> Character in
                let roll = generator.next() % 100
                return roll < 88 ? "N" : roll < 94 ? "*" : roll < 98 ? "1" : "2"
            })
            return CreditReport.Account(
                kind: kind,
                institution: institutions[Int(generator.next() % UInt64(institutions.count))],
                openedOn: String(format: "%04d-%02d-01", year, month),
                creditLimitYuan: limit,
                balanceYuan: Int(generator.next() % UInt64(limit)),
                repaymentHistory: history
            )
        }
        let digest = SHA256.hash(data: Data("report|\(subject.certificateNumber)".utf8))
        return CreditReport(
            reportNumber: "SBX" + digest.prefix(8).map { String(format: "%02X", $0) }.joined(),
            kind: subject.kind,
            generatedAt: clock(),
            subjectName: subject.name,
            certificateNumber: subject.certificateNumber,
            summary: .init(
                loanAccounts: accounts.filter { $0.kind != .creditCard }.count,
                creditCardAccounts: accounts.filter { $0.kind == .creditCard }.count,
                accountsEverOverdue: accounts.filter { $0.repaymentHistory.contains(where: { $0.isNumber }) }.count,
                queriesLastTwoYears: Int(generator.next() % 12)
            ),
            accounts: accounts
        )
    }
}

/// A deterministic generator: SHA-256 in counter mode over a seed string.
struct SeededGenerator {
    private let seed: Data
    private var counter: UInt64 = 0
    private var buffer: [UInt8] = []

    init(seed: String) {
        self.seed = Data(seed.utf8)
    }

    mutating func next() -> UInt64 {
        if buffer.count < 8 {
            var block = seed
            withUnsafeBytes(of: counter.bigEndian) { block.append(contentsOf: $0) }
            counter += 1
            buffer += Array(SHA256.hash(data: block))
        }
        let value = buffer.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        buffer.removeFirst(8)
        return value
    }
}
