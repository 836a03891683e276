import Crypto
import CreditGateCore
import Foundation
import Synchronization

/// How the sandbox answers: how slowly, with which injected fault, and the connector's own deadline, so that every
/// path of the gateway (slow answers, timeouts, errors, unreadable answers) can be shown and tested.
public struct SandboxBureauBehaviour: Sendable, Equatable {
    public enum Fault: String, Sendable, CaseIterable {
        /// Answer normally.
        case none
        /// The answer never arrives within the deadline.
        case timeout
        /// The bureau answers with an error of its own (`503`).
        case error
        /// The bureau answers with a broken (truncated) report.
        case malformed
    }

    /// How long the sandbox takes to answer.
    public var latency: Duration
    /// A fault to inject on every request.
    public var fault: Fault
    /// The connector's own deadline: an answer slower than this is a timeout.
    public var timeout: Duration

    public init(latency: Duration = .zero, fault: Fault = .none, timeout: Duration = .seconds(10)) {
        self.latency = latency
        self.fault = fault
        self.timeout = timeout
    }
}

/// A bureau that answers with synthetic reports in the structure of the PBoC second-generation credit report, for
/// demonstrations and tests. It never contacts anything.
///
/// Everything about a subject (identity, residences, employments, accounts, guarantees, public records, corporate
/// basics) is derived from a SHA-256 of the subject's kind, certificate type and number, so the same subject gets
/// the same content every time. Only the header (report number, time, querying institution, purpose) and the
/// query-records section, which comes from the ``BureauQueryHistory`` and therefore grows as the gateway queries,
/// change between requests. Subjects whose certificate number ends in `0000` are unknown to the sandbox, so that the
/// not-found path can be shown and tested.
///
/// Like a real connector, every answer is encoded to JSON and parsed back, so the parse path is always exercised;
/// the `malformed` fault truncates that answer. The deadline of ``SandboxBureauBehaviour/timeout`` is enforced by
/// racing the answer against a timer. As with the real bureau, a timed-out or failed request is never retried
/// automatically: see ``CreditBureau/fetchReport(_:)``.
public struct SandboxBureau: CreditBureau {
    public let isSandbox = true
    public let name = "sandbox"
    public let behaviour: SandboxBureauBehaviour
    let history: any BureauQueryHistory
    /// How the bureau names the bank this gateway belongs to, in the report header.
    let institution: String
    let clock: @Sendable () -> Date
    /// A subject's content is a pure function of the subject: composed once and kept, as a bureau keeps its records.
    let contents = SandboxContentMemo()

    public init(behaviour: SandboxBureauBehaviour = .init(), history: any BureauQueryHistory = EmptyQueryHistory(),
                institution: String = "CreditGate 演示银行", clock: @escaping @Sendable () -> Date = Date.init) {
        self.behaviour = behaviour
        self.history = history
        self.institution = institution
        self.clock = clock
    }

    public func fetchAnswer(_ request: BureauRequest) async throws -> BureauAnswer {
        let deadline = behaviour.timeout
        return try await withThrowingTaskGroup(of: BureauAnswer.self) { group in
            group.addTask { try await answer(request) }
            group.addTask {
                try await Task.sleep(for: deadline)
                throw BureauError.timedOut
            }
            // Whichever finishes first decides; the other is cancelled (a cancelled sleep ends at once).
            defer { group.cancelAll() }
            guard let answer = try await group.next() else { throw BureauError.timedOut }
            return answer
        }
    }

    /// The bureau's side: wait, apply the fault, write the report and send it over the wire (as JSON).
    private func answer(_ request: BureauRequest) async throws -> BureauAnswer {
        if behaviour.latency > .zero {
            try await Task.sleep(for: behaviour.latency)
        }
        switch behaviour.fault {
        case .none, .malformed:
            break
        case .timeout:
            // The answer would arrive well after the deadline; the timer ends the request first.
            try await Task.sleep(for: behaviour.timeout + .seconds(1))
            throw BureauError.timedOut
        case .error:
            throw BureauError.rejected(code: "503")
        }
        let subject = request.subject
        if subject.certificateNumber.hasSuffix("0000") { throw BureauError.subjectNotFound }

        let earlier: [BureauQueryRecord]
        do {
            earlier = try await history.answeredQueries(about: subject, limit: 50)
        } catch let error as BureauError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The bureau's own records could not be read: the bureau fails the request.
            throw BureauError.rejected(code: "500")
        }

        var wire = try document(request, earlierQueries: earlier)
        if behaviour.fault == .malformed {
            wire = Data(wire.prefix(wire.count / 2))
        }
        return BureauAnswer(report: try Self.decode(wire), document: wire)
    }

    /// The report as the bureau would write it for this request.
    func makeReport(_ request: BureauRequest, earlierQueries: [BureauQueryRecord]) throws -> CreditReport {
        let (header, queries, now) = fresh(request, earlierQueries: earlierQueries)
        switch request.subject.kind {
        case .personal:
            let content = try contents.personal(request.subject).content
            return .personal(PersonalCreditReport(
                header: header, identity: content.identity, residences: content.residences, employments: content.employments,
                summary: Self.summary(of: content, queries: queries, now: now), accounts: content.accounts, guarantees: content.guarantees,
                publicRecords: content.publicRecords, queryRecords: queries
            ))
        case .corporate:
            let content = try contents.corporate(request.subject).content
            return .corporate(CorporateCreditReport(
                header: header, basics: content.basics, facilities: content.facilities, guarantees: content.guarantees,
                publicRecords: content.publicRecords, queryRecords: queries
            ))
        }
    }

    /// The same report as the bureau sends it: JSON, as ``encode(_:)`` writes it but for the order of the members.
    /// The subject's own sections are the same in every report, so they are written once per subject and repeated
    /// as they are; only the header, the query records and the summary are written for each request.
    func document(_ request: BureauRequest, earlierQueries: [BureauQueryRecord]) throws -> Data {
        let (header, queries, now) = fresh(request, earlierQueries: earlierQueries)
        switch request.subject.kind {
        case .personal:
            let held = try contents.personal(request.subject)
            return try Self.assemble(kind: "personal", held.members, PersonalPerRequest(
                header: header, queryRecords: queries, summary: Self.summary(of: held.content, queries: queries, now: now)
            ))
        case .corporate:
            let held = try contents.corporate(request.subject)
            return try Self.assemble(kind: "corporate", held.members, CorporatePerRequest(header: header, queryRecords: queries))
        }
    }

    /// What changes with each request: the header, and the query records with the subject's history in them.
    private func fresh(_ request: BureauRequest, earlierQueries: [BureauQueryRecord]) -> (ReportHeader, [BureauQueryRecord], Date) {
        let now = clock()
        let header = ReportHeader(
            reportNumber: Self.reportNumber(subject: request.subject, queryReference: request.queryReference),
            generatedAt: now, queryingInstitution: institution, purposeCode: request.purposeCode
        )
        return (header, SandboxContent.queryRecords(for: request.subject, from: earlierQueries, excluding: institution), now)
    }

    static func summary(of content: SandboxContent.Personal, queries: [BureauQueryRecord], now: Date) -> PersonalCreditReport.Summary {
        PersonalCreditReport.Summary(
            loanAccounts: content.accounts.filter { $0.kind != .creditCard }.count,
            creditCardAccounts: content.accounts.filter { $0.kind == .creditCard }.count,
            accountsEverOverdue: content.accounts.filter { $0.repaymentHistory.contains(where: \.isNumber) }.count,
            totalCreditLimitYuan: content.accounts.reduce(0) { $0 + $1.creditLimitYuan },
            totalBalanceYuan: content.accounts.reduce(0) { $0 + $1.balanceYuan },
            guaranteesGiven: content.guarantees.count,
            publicRecords: content.publicRecords.count,
            queriesLastTwoYears: countWithinTwoYears(queries, of: now)
        )
    }

    /// The members of a personal report that change with each request, under the report's own names.
    struct PersonalPerRequest: Encodable {
        let header: ReportHeader
        let queryRecords: [BureauQueryRecord]
        let summary: PersonalCreditReport.Summary
    }

    /// The members of a corporate report that change with each request, under the report's own names.
    struct CorporatePerRequest: Encodable {
        let header: ReportHeader
        let queryRecords: [BureauQueryRecord]
    }

    /// `{"<kind>":{"_0":{…}}}`, the shape ``CreditReport``'s coding gives a case with one unnamed value, with the
    /// subject's members and the request's in one object.
    static func assemble(kind: String, _ subjectMembers: Data, _ perRequest: some Encodable) throws -> Data {
        var document = Data("{\"\(kind)\":{\"_0\":{".utf8)
        document.append(subjectMembers)
        document.append(UInt8(ascii: ","))
        document.append(try members(of: perRequest))
        document.append(contentsOf: "}}}".utf8)
        return document
    }

    /// An object's members as ``encode(_:)`` writes them, without the braces around them.
    static func members(of value: some Encodable) throws -> Data {
        let object = try encode(value)
        guard object.count >= 2, object.first == UInt8(ascii: "{"), object.last == UInt8(ascii: "}") else { throw BureauError.malformedAnswer }
        return object.dropFirst().dropLast()
    }

    /// A fresh number for each request, as a real bureau gives, but reproducible: from the subject and the gateway's
    /// query reference. `SBX` and 16 upper-case hexadecimal digits.
    static func reportNumber(subject: BureauSubject, queryReference: String) -> String {
        let seed = "report|\(SandboxContent.key(subject))|\(queryReference)"
        let digest = SHA256.hash(data: Data(seed.utf8))
        return "SBX" + Hex.encode(digest.prefix(8)).uppercased()
    }

    /// 近两年查询次数: the query records dated on or after the same day two years ago, in China Standard Time.
    static func countWithinTwoYears(_ records: [BureauQueryRecord], of now: Date) -> Int {
        let calendar = ChinaStandardTime.calendar
        let start = calendar.date(byAdding: .year, value: -2, to: now) ?? now
        let day = calendar.dateComponents([.year, .month, .day], from: start)
        let cutoff = SandboxContent.date(day.year ?? 0, day.month ?? 1, day.day ?? 1)
        return records.filter { $0.date >= cutoff }.count
    }

    /// A report, or a part of one, as the bureau writes it on the wire.
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        do {
            return try encoder.encode(value)
        } catch {
            throw BureauError.malformedAnswer
        }
    }

    static func decode(_ data: Data) throws -> CreditReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(CreditReport.self, from: data)
        } catch {
            throw BureauError.malformedAnswer
        }
    }
}

// MARK: - Synthetic content

/// The subjects' composed content, kept so that a subject asked about again is not composed again. Bounded: when it
/// holds `capacity` subjects it starts afresh, which costs only composing again.
final class SandboxContentMemo: Sendable {
    private let capacity = 4096
    private let held = Mutex<(personal: [BureauSubject: Held<SandboxContent.Personal>], corporate: [BureauSubject: Held<SandboxContent.Corporate>])>(([:], [:]))

    /// A subject's content with its members as JSON (see ``SandboxBureau/members(of:)``), written once.
    struct Held<Content: Sendable>: Sendable {
        let content: Content
        let members: Data
    }

    func personal(_ subject: BureauSubject) throws -> Held<SandboxContent.Personal> {
        if let kept = held.withLock({ $0.personal[subject] }) { return kept }
        let content = SandboxContent.personal(subject)
        let composed = Held(content: content, members: try SandboxBureau.members(of: content))
        held.withLock { held in
            if held.personal.count >= capacity { held.personal.removeAll(keepingCapacity: true) }
            held.personal[subject] = composed
        }
        return composed
    }

    func corporate(_ subject: BureauSubject) throws -> Held<SandboxContent.Corporate> {
        if let kept = held.withLock({ $0.corporate[subject] }) { return kept }
        let content = SandboxContent.corporate(subject)
        let composed = Held(content: content, members: try SandboxBureau.members(of: content))
        held.withLock { held in
            if held.corporate.count >= capacity { held.corporate.removeAll(keepingCapacity: true) }
            held.corporate[subject] = composed
        }
        return composed
    }
}

/// The synthetic content of the sandbox's reports. Every function here is a pure function of the subject (and, for
/// the query records, of the history given), drawing from a ``SeededGenerator`` with its own seed per section, so
/// that no section's content depends on another's.
enum SandboxContent {
    /// The sections of a personal report that depend on the subject alone, under the report's own names.
    struct Personal: Sendable, Encodable {
        let identity: PersonalCreditReport.Identity
        let residences: [PersonalCreditReport.Residence]
        let employments: [PersonalCreditReport.Employment]
        let accounts: [CreditAccount]
        let guarantees: [Guarantee]
        let publicRecords: [PublicRecord]
    }

    /// The sections of a corporate report that depend on the subject alone, under the report's own names.
    struct Corporate: Sendable, Encodable {
        let basics: CorporateCreditReport.Basics
        let facilities: [CreditAccount]
        let guarantees: [Guarantee]
        let publicRecords: [PublicRecord]
    }

    /// The year against which ages are reckoned: fixed, so that a subject's content does not change with the clock.
    static let referenceYear = 2025

    static func key(_ subject: BureauSubject) -> String {
        "\(subject.kind.rawValue)|\(subject.certificateType)|\(subject.certificateNumber)"
    }

    // MARK: Persons

    static func personal(_ subject: BureauSubject) -> Personal {
        var random = SeededGenerator(seed: "personal|\(key(subject))")
        let number = Array(subject.certificateNumber)
        let isResidentID = subject.certificateType == "10" && number.count == 18
        let home = isResidentID ? Region.matching(String(number[0..<6]), &random) : Region.any(&random)

        let gender: String
        let birth: (year: Int, month: Int, day: Int)
        if isResidentID, let year = Int(String(number[6..<10])), let month = Int(String(number[10..<12])),
           let day = Int(String(number[12..<14])), let order = number[16].wholeNumberValue {
            birth = (year, month, day)
            gender = order % 2 == 1 ? "male" : "female"
        } else {
            birth = (random.int(1960...2000), random.int(1...12), random.int(1...28))
            gender = random.percent() < 50 ? "male" : "female"
        }
        let age = referenceYear - birth.year
        let marital: String
        let roll = random.percent()
        if age < 25 {
            marital = roll < 88 ? "未婚" : "已婚"
        } else {
            marital = roll < 64 ? "已婚" : roll < 84 ? "未婚" : roll < 96 ? "离异" : "丧偶"
        }
        let educationRoll = random.percent()
        let education = educationRoll < 38 ? "本科" : educationRoll < 64 ? "大专" : educationRoll < 84 ? "高中" : educationRoll < 97 ? "硕士" : "博士"
        let mobile = random.pick(mobilePrefixes) + String((0..<8).map { _ in Character(String(random.int(0...9))) })
        let identity = PersonalCreditReport.Identity(
            name: subject.name, certificateType: subject.certificateType, certificateNumber: subject.certificateNumber,
            gender: gender, dateOfBirth: date(birth.year, birth.month, birth.day),
            maritalStatus: marital, mobilePhone: mobile, education: education
        )

        // Newest first, the latest at home; earlier ones mostly there too.
        let adultFrom = birth.year + 18
        var residences: [PersonalCreditReport.Residence] = []
        var reportedYear = random.int(2021...2024)
        for index in 0..<random.int(1...3) {
            let region = index == 0 || random.percent() < 60 ? home : Region.any(&random)
            residences.append(.init(
                address: region.homeAddress(&random),
                status: random.pick(["自置", "按揭", "租房", "亲属楼宇", "自置", "按揭"]),
                reportedOn: date(reportedYear, random.int(1...12), random.int(1...28))
            ))
            reportedYear = max(2008, reportedYear - random.int(1...4))
        }

        var employments: [PersonalCreditReport.Employment] = []
        // Newest first; each earlier job began before the next one did.
        var reportedOn = random.int(2021...2024)
        var nextSince = reportedOn + 1
        for _ in 0..<random.int(1...2) {
            let latest = min(reportedOn, nextSince - 1)
            let since = clamp(latest - random.int(0...8), min(adultFrom + 2, latest), latest)
            let employer: String
            if random.percent() < 85 {
                let region = random.percent() < 80 ? home : Region.any(&random)
                employer = companyName(in: region, &random)
            } else {
                employer = publicEmployer(in: home, &random)
            }
            employments.append(.init(
                employer: employer,
                occupation: random.pick(occupations),
                since: String(since),
                reportedOn: date(reportedOn, random.int(1...12), random.int(1...28))
            ))
            nextSince = since
            reportedOn = max(2010, since)
        }

        var accounts: [CreditAccount] = []
        for _ in 0..<random.int(1...6) {
            let kindRoll = random.percent()
            let kind: CreditAccount.Kind = kindRoll < 20 ? .mortgage : kindRoll < 48 ? .consumerLoan : .creditCard
            let limit: Int
            let institution: String
            let openedYear: Int
            switch kind {
            case .mortgage:
                limit = random.int(30...300) * 10_000
                institution = random.pick(banks) + home.cityShort + "分行"
                openedYear = year(random.int(2010...2023), atLeast: adultFrom + 4, &random)
            case .consumerLoan:
                limit = random.int(10...300) * 1_000
                institution = random.percent() < 70 ? random.pick(banks) + home.cityShort + "分行" : random.pick(consumerFinance)
                openedYear = year(random.int(2017...2023), atLeast: adultFrom + 1, &random)
            case .creditCard, .businessLoan:
                limit = random.pick([5_000, 8_000, 10_000, 20_000, 30_000, 50_000, 80_000, 100_000])
                institution = random.pick(banks)
                openedYear = year(random.int(2008...2023), atLeast: adultFrom, &random)
            }
            accounts.append(account(kind: kind, institution: institution, openedYear: openedYear, limit: limit, &random))
        }

        let guarantees = (0..<zeroToTwo(70, 93, &random)).map { _ in
            let debtor = random.percent() < 70 ? personName(&random) : companyName(in: home, &random)
            return guarantee(debtor: debtor, amount: random.int(5...200) * 10_000, &random)
        }
        let publicRecords = (0..<zeroToTwo(86, 97, &random)).map { _ in publicRecord(in: home, corporate: false, &random) }
            .sorted { $0.recordedOn > $1.recordedOn }
        return Personal(identity: identity, residences: residences, employments: employments, accounts: accounts,
                        guarantees: guarantees, publicRecords: publicRecords)
    }

    // MARK: Corporates

    static func corporate(_ subject: BureauSubject) -> Corporate {
        var random = SeededGenerator(seed: "corporate|\(key(subject))")
        let code = Array(subject.certificateNumber)
        // Characters 3–8 of a unified social credit code are the registering authority's division code.
        let home = code.count == 18 ? Region.matching(String(code[2..<8]), &random) : Region.any(&random)
        let established = random.int(1995...2021)
        let basics = CorporateCreditReport.Basics(
            name: subject.name, unifiedSocialCreditCode: subject.certificateNumber,
            legalRepresentative: personName(&random),
            registeredCapitalYuan: random.pick([1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 500]) * 1_000_000,
            establishedOn: date(established, random.int(1...12), random.int(1...28)),
            registeredAddress: home.businessAddress(&random),
            industry: random.pick(industries)
        )
        let facilities = (0..<random.int(1...5)).map { _ in
            account(kind: .businessLoan, institution: random.pick(banks) + home.cityShort + "分行",
                    openedYear: max(random.int(2012...2023), established + 1), limit: random.int(5...500) * 100_000, &random)
        }
        let guarantees = (0..<zeroToTwo(60, 90, &random)).map { _ in
            let region = random.percent() < 80 ? home : Region.any(&random)
            return guarantee(debtor: companyName(in: region, &random), amount: random.int(10...2_000) * 10_000, &random)
        }
        let publicRecords = (0..<zeroToTwo(80, 95, &random)).map { _ in publicRecord(in: home, corporate: true, &random) }
            .sorted { $0.recordedOn > $1.recordedOn }
        return Corporate(basics: basics, facilities: facilities, guarantees: guarantees, publicRecords: publicRecords)
    }

    // MARK: Query records

    /// The query-records section: the history's records as given, then, for realism, 0–3 older queries by other
    /// banks (all before 2024, the same for the subject every time, never in the gateway's own institution's name),
    /// newest first.
    static func queryRecords(for subject: BureauSubject, from history: [BureauQueryRecord], excluding institution: String) -> [BureauQueryRecord] {
        var random = SeededGenerator(seed: "queries|\(key(subject))")
        let others = banks.filter { $0 != institution }
        let extraRoll = random.percent()
        let extraCount = extraRoll < 35 ? 0 : extraRoll < 65 ? 1 : extraRoll < 87 ? 2 : 3
        let extras = (0..<extraCount).map { _ in
            BureauQueryRecord(
                date: date(random.int(2019...2023), random.int(1...12), random.int(1...28)),
                institution: random.pick(others),
                purposeCode: subject.kind == .personal ? random.pick(["02", "02", "03", "01"]) : random.pick(["02", "02", "01"])
            )
        }
        // A stable merge, newest first: the history's own order is kept among equal dates.
        let merged = (history + extras).enumerated().sorted { left, right in
            left.element.date != right.element.date ? left.element.date > right.element.date : left.offset < right.offset
        }
        return merged.map(\.element)
    }

    // MARK: Pieces

    /// An account with a 24-month repayment grid (oldest first) and a status and balance consistent with it.
    static func account(kind: CreditAccount.Kind, institution: String, openedYear: Int, limit: Int, _ random: inout SeededGenerator) -> CreditAccount {
        let quietChance = kind == .creditCard ? 12 : 2
        func months(_ count: Int) -> [Character] {
            var grid = (0..<count).map { _ -> Character in random.percent() < quietChance ? "*" : "N" }
            // Now and then an overdue episode long since cured: it is followed by at least one month paid on time.
            if count >= 4, random.percent() < 12 {
                let depth = random.percent() < 75 ? 1 : 2
                let start = random.int(0...(count - depth - 2))
                for offset in 0..<depth { grid[start + offset] = Character(String(offset + 1)) }
            }
            return grid
        }
        let grid: [Character]
        let status: String
        let balance: Int
        let roll = random.percent()
        if roll < 9 {
            let closedMonths = random.int(1...12)
            grid = months(24 - closedMonths) + Array(repeating: "C", count: closedMonths)
            status = "closed"
            balance = 0
        } else if roll < 14 {
            let depth = random.int(1...3)
            grid = months(24 - depth) + (1...depth).map { Character(String($0)) }
            status = "overdue"
            balance = max(1, limit * random.int(30...100) / 100)
        } else {
            grid = months(24)
            status = "normal"
            balance = kind == .creditCard ? limit * random.int(0...90) / 100 : limit * random.int(5...95) / 100
        }
        return CreditAccount(
            kind: kind, institution: institution, openedOn: date(openedYear, random.int(1...12), random.int(1...28)),
            creditLimitYuan: limit, balanceYuan: min(balance, limit), status: status, repaymentHistory: String(grid)
        )
    }

    static func guarantee(debtor: String, amount: Int, _ random: inout SeededGenerator) -> Guarantee {
        Guarantee(
            debtor: debtor, institution: random.pick(banks), amountYuan: amount,
            balanceYuan: amount * random.int(0...100) / 100,
            endsOn: date(random.int(2025...2032), random.int(1...12), random.int(1...28))
        )
    }

    static func publicRecord(in region: Region, corporate: Bool, _ random: inout SeededGenerator) -> PublicRecord {
        let recordedOn = date(random.int(2016...2023), random.int(1...12), random.int(1...28))
        switch random.int(0...2) {
        case 0:
            return PublicRecord(
                kind: "judgment", authority: region.cityShort + "市" + region.district + "人民法院",
                summary: corporate ? random.pick(["买卖合同纠纷，判决支付货款及违约金", "建设工程施工合同纠纷，判决支付工程款"])
                    : random.pick(["民间借贷纠纷，判决偿还借款本金及利息", "信用卡纠纷，判决偿还透支款项"]),
                recordedOn: recordedOn, amountYuan: random.int(2...300) * 1_000
            )
        case 1:
            return PublicRecord(
                kind: "tax_arrears", authority: "国家税务总局" + region.cityShort + "市税务局",
                summary: corporate ? random.pick(["欠缴增值税", "欠缴企业所得税"]) : "欠缴个人所得税",
                recordedOn: recordedOn, amountYuan: random.int(1...200) * 1_000
            )
        default:
            return PublicRecord(
                kind: "administrative_penalty", authority: region.cityShort + "市市场监督管理局",
                summary: corporate ? random.pick(["未按规定公示年度报告，罚款", "产品质量不合格，罚款并没收违法所得"])
                    : "无照经营，罚款",
                recordedOn: recordedOn, amountYuan: random.int(1...50) * 1_000
            )
        }
    }

    static func personName(_ random: inout SeededGenerator) -> String {
        let given = random.percent() < 35 ? random.pick(givenSingle) : random.pick(givenSingle) + random.pick(givenSingle)
        return random.pick(surnames) + given
    }

    static func companyName(in region: Region, _ random: inout SeededGenerator) -> String {
        region.cityShort + random.pick(tradeNames) + random.pick(businesses) + "有限公司"
    }

    static func publicEmployer(in region: Region, _ random: inout SeededGenerator) -> String {
        let hospital = random.pick(["一", "二", "三", "四", "五"])
        return random.pick([
            region.cityShort + "市第\(hospital)人民医院",
            region.cityShort + "市实验中学",
            region.cityShort + "市" + region.district + "人民政府",
            region.cityShort + "市自来水有限公司",
        ])
    }

    /// 0, 1 or 2: 0 below `none`, 1 below `one`, else 2 (percentages).
    static func zeroToTwo(_ none: Int, _ one: Int, _ random: inout SeededGenerator) -> Int {
        let roll = random.percent()
        return roll < none ? 0 : roll < one ? 1 : 2
    }

    static func year(_ year: Int, atLeast earliest: Int, _ random: inout SeededGenerator) -> Int {
        min(max(year, earliest + random.int(0...2)), 2024)
    }

    static func clamp(_ value: Int, _ low: Int, _ high: Int) -> Int {
        min(max(value, low), high)
    }

    /// `yyyy-MM-dd`
    static func date(_ year: Int, _ month: Int, _ day: Int) -> String {
        func padded(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
    }

    static let banks = [
        "中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "交通银行", "招商银行", "兴业银行",
        "上海浦东发展银行", "中信银行", "中国民生银行", "平安银行", "中国光大银行",
    ]
    static let consumerFinance = ["招联消费金融有限公司", "马上消费金融股份有限公司", "中银消费金融有限公司"]
    static let mobilePrefixes = [
        "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156",
        "157", "158", "159", "166", "176", "177", "180", "181", "182", "183", "186", "187", "188", "189", "199",
    ]
    static let occupations = [
        "专业技术人员", "办事人员和有关人员", "商业、服务业人员", "国家机关、党群组织、企业、事业单位负责人",
        "生产、运输设备操作人员及有关人员", "专业技术人员", "商业、服务业人员",
    ]
    static let industries = [
        "制造业", "批发和零售业", "建筑业", "信息传输、软件和信息技术服务业", "交通运输、仓储和邮政业",
        "租赁和商务服务业", "科学研究和技术服务业", "住宿和餐饮业",
    ]
    static let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹").map(String.init)
    static let givenSingle = Array("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超华平刚辉玲桂英建志晓海燕文斌宇浩婷欣鑫俊红霞").map(String.init)
    static let tradeNames = ["恒信", "华瑞", "金桥", "德隆", "中诚", "鸿达", "宏远", "永安", "博远", "瑞丰", "天成", "汇通", "嘉禾", "远航", "启明"]
    static let businesses = ["科技", "贸易", "建设工程", "医药", "物流", "信息技术", "电子", "机械制造", "食品", "文化传媒", "环保科技", "餐饮管理"]
    static let streets = [
        "人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "文化路", "长江路", "胜利路", "朝阳路", "科技路",
        "学府路", "青年路", "滨河路", "光明路",
    ]
    static let estates = ["阳光花园", "锦绣家园", "翠湖苑", "金色华庭", "明珠小区", "幸福里", "绿城桂花园", "御景湾", "书香门第", "东方名苑"]
}

/// A place: province, city and district, by the administrative division codes that resident IDs and unified social
/// credit codes begin with. Only a selection of cities is known; other codes fall back to one of them.
struct Region {
    let province: String
    let city: String
    let district: String

    /// The city without its 市, for names such as 杭州恒信科技有限公司.
    var cityShort: String { city.hasSuffix("市") ? String(city.dropLast()) : city }

    /// 北京市朝阳区 or 广东省深圳市南山区: a municipality is not named twice.
    var prefix: String { (province == city ? city : province + city) + district }

    func homeAddress(_ random: inout SeededGenerator) -> String {
        prefix + random.pick(SandboxContent.streets) + "\(random.int(1...999))号" + random.pick(SandboxContent.estates)
            + "\(random.int(1...30))栋\(random.int(1...4))单元\(random.int(1...32))0\(random.int(1...6))室"
    }

    func businessAddress(_ random: inout SeededGenerator) -> String {
        prefix + random.pick(SandboxContent.streets) + "\(random.int(1...999))号"
            + (random.percent() < 50 ? "\(random.int(1...28))层" : "\(random.int(1...12))幢\(random.int(1...9))0\(random.int(1...9))室")
    }

    /// The region a 6-digit division code names: the district itself where it is known, else a district of its
    /// city, else a city of its province, else any known place.
    static func matching(_ code: String, _ random: inout SeededGenerator) -> Region {
        guard code.count == 6, code.allSatisfy({ $0.isASCII && $0.isNumber }) else { return any(&random) }
        let cityCode = String(code.prefix(4))
        if let city = cities.first(where: { $0.code == cityCode }) {
            let district = city.districts.first(where: { $0.code == code }) ?? random.pick(city.districts)
            return Region(province: city.province, city: city.name, district: district.name)
        }
        let inProvince = cities.filter { $0.code.hasPrefix(code.prefix(2)) }
        if !inProvince.isEmpty {
            let city = random.pick(inProvince)
            return Region(province: city.province, city: city.name, district: random.pick(city.districts).name)
        }
        return any(&random)
    }

    static func any(_ random: inout SeededGenerator) -> Region {
        let city = random.pick(cities)
        return Region(province: city.province, city: city.name, district: random.pick(city.districts).name)
    }

    struct City {
        let code: String
        let province: String
        let name: String
        let districts: [(code: String, name: String)]
    }

    static let cities: [City] = [
        City(code: "1101", province: "北京市", name: "北京市", districts: [
            ("110101", "东城区"), ("110102", "西城区"), ("110105", "朝阳区"), ("110106", "丰台区"), ("110107", "石景山区"), ("110108", "海淀区"),
        ]),
        City(code: "1201", province: "天津市", name: "天津市", districts: [
            ("120101", "和平区"), ("120102", "河东区"), ("120103", "河西区"), ("120104", "南开区"),
        ]),
        City(code: "1301", province: "河北省", name: "石家庄市", districts: [("130102", "长安区"), ("130104", "桥西区")]),
        City(code: "2101", province: "辽宁省", name: "沈阳市", districts: [("210102", "和平区"), ("210103", "沈河区")]),
        City(code: "3101", province: "上海市", name: "上海市", districts: [
            ("310101", "黄浦区"), ("310104", "徐汇区"), ("310105", "长宁区"), ("310106", "静安区"), ("310107", "普陀区"),
            ("310110", "杨浦区"), ("310115", "浦东新区"),
        ]),
        City(code: "3201", province: "江苏省", name: "南京市", districts: [
            ("320102", "玄武区"), ("320104", "秦淮区"), ("320105", "建邺区"), ("320106", "鼓楼区"),
        ]),
        City(code: "3205", province: "江苏省", name: "苏州市", districts: [("320505", "虎丘区"), ("320506", "吴中区"), ("320508", "姑苏区")]),
        City(code: "3301", province: "浙江省", name: "杭州市", districts: [
            ("330102", "上城区"), ("330105", "拱墅区"), ("330106", "西湖区"), ("330108", "滨江区"),
        ]),
        City(code: "3302", province: "浙江省", name: "宁波市", districts: [("330203", "海曙区"), ("330205", "江北区"), ("330212", "鄞州区")]),
        City(code: "3401", province: "安徽省", name: "合肥市", districts: [("340102", "瑶海区"), ("340103", "庐阳区"), ("340104", "蜀山区")]),
        City(code: "3501", province: "福建省", name: "福州市", districts: [("350102", "鼓楼区"), ("350103", "台江区"), ("350104", "仓山区")]),
        City(code: "3502", province: "福建省", name: "厦门市", districts: [("350203", "思明区"), ("350206", "湖里区")]),
        City(code: "3701", province: "山东省", name: "济南市", districts: [("370102", "历下区"), ("370103", "市中区"), ("370105", "天桥区")]),
        City(code: "3702", province: "山东省", name: "青岛市", districts: [("370202", "市南区"), ("370203", "市北区"), ("370212", "崂山区")]),
        City(code: "4101", province: "河南省", name: "郑州市", districts: [("410102", "中原区"), ("410103", "二七区"), ("410105", "金水区")]),
        City(code: "4201", province: "湖北省", name: "武汉市", districts: [
            ("420102", "江岸区"), ("420103", "江汉区"), ("420106", "武昌区"), ("420111", "洪山区"),
        ]),
        City(code: "4301", province: "湖南省", name: "长沙市", districts: [("430102", "芙蓉区"), ("430103", "天心区"), ("430104", "岳麓区")]),
        City(code: "4401", province: "广东省", name: "广州市", districts: [
            ("440103", "荔湾区"), ("440104", "越秀区"), ("440105", "海珠区"), ("440106", "天河区"),
        ]),
        City(code: "4403", province: "广东省", name: "深圳市", districts: [
            ("440303", "罗湖区"), ("440304", "福田区"), ("440305", "南山区"), ("440306", "宝安区"),
        ]),
        City(code: "4406", province: "广东省", name: "佛山市", districts: [("440604", "禅城区"), ("440605", "南海区"), ("440606", "顺德区")]),
        City(code: "5001", province: "重庆市", name: "重庆市", districts: [
            ("500103", "渝中区"), ("500105", "江北区"), ("500106", "沙坪坝区"), ("500108", "南岸区"),
        ]),
        City(code: "5101", province: "四川省", name: "成都市", districts: [
            ("510104", "锦江区"), ("510105", "青羊区"), ("510107", "武侯区"), ("510108", "成华区"),
        ]),
        City(code: "6101", province: "陕西省", name: "西安市", districts: [
            ("610102", "新城区"), ("610103", "碑林区"), ("610104", "莲湖区"), ("610113", "雁塔区"),
        ]),
    ]
}

/// A deterministic generator: SHA-256 in counter mode over a seed string. Its own range helpers (rather than the
/// standard library's `random(in:using:)`, whose algorithm may change) keep the sandbox's content stable.
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

    /// A number in the range (a slight modulo bias is of no matter here).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(next() % width)
    }

    /// 0–99.
    mutating func percent() -> Int {
        int(0...99)
    }

    mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[int(0...(elements.count - 1))]
    }
}
