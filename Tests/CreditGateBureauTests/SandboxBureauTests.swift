import CreditGateCore
import Foundation
import Testing

@testable import CreditGateBureau

/// A query register standing in for the gateway's: it holds records and remembers what it was asked.
actor RecordedHistory: BureauQueryHistory {
    let records: [BureauQueryRecord]
    private(set) var asked: [(subject: BureauSubject, limit: Int)] = []

    init(_ records: [BureauQueryRecord]) {
        self.records = records
    }

    func answeredQueries(about subject: BureauSubject, limit: Int) async throws -> [BureauQueryRecord] {
        asked.append((subject, limit))
        return Array(records.prefix(limit))
    }
}

@Suite struct SandboxBureauTests {
    /// 2027-01-15 16:00 in China Standard Time.
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    let bureau = SandboxBureau(clock: { SandboxBureauTests.now })

    // Resident IDs with correct GB 11643 check digits.
    static let female1949 = "11010519491231002X"
    static let maleShanghai = "310104198506120035"
    static let maleShenzhen = "440305199203045112"
    static let femaleChengdu = "510107197802282022"
    static let haidian = "110108199001010001"
    static let young = "33010620010915123X"
    static let company = "91350100M000100Y43"

    func request(_ number: String, kind: ReportKind = .personal, reference: String = "Q-1", purpose: String = "02") -> BureauRequest {
        BureauRequest(
            subject: BureauSubject(kind: kind, certificateType: kind == .personal ? "10" : "USCC", certificateNumber: number,
                                   name: kind == .personal ? "测试" : "福州恒信科技有限公司"),
            purposeCode: purpose, operatorEmployeeID: EmployeeID("D0003")!, organisationCode: "DEMO-SH", queryReference: reference
        )
    }

    func personal(_ report: CreditReport) throws -> PersonalCreditReport {
        guard case .personal(let personal) = report else { throw BureauError.malformedAnswer }
        return personal
    }

    func corporate(_ report: CreditReport) throws -> CorporateCreditReport {
        guard case .corporate(let corporate) = report else { throw BureauError.malformedAnswer }
        return corporate
    }

    /// The report with the header's number and time blanked, so that two reports' content can be compared.
    func content(_ report: CreditReport) -> CreditReport {
        func blank(_ header: ReportHeader) -> ReportHeader {
            ReportHeader(reportNumber: "", generatedAt: .distantPast, queryingInstitution: header.queryingInstitution, purposeCode: header.purposeCode)
        }
        switch report {
        case .personal(let r):
            return .personal(PersonalCreditReport(
                header: blank(r.header), identity: r.identity, residences: r.residences, employments: r.employments, summary: r.summary,
                accounts: r.accounts, guarantees: r.guarantees, publicRecords: r.publicRecords, queryRecords: r.queryRecords
            ))
        case .corporate(let r):
            return .corporate(CorporateCreditReport(
                header: blank(r.header), basics: r.basics, facilities: r.facilities, guarantees: r.guarantees,
                publicRecords: r.publicRecords, queryRecords: r.queryRecords
            ))
        }
    }

    func checkAccounts(_ accounts: [CreditAccount]) {
        for account in accounts {
            let grid = account.repaymentHistory
            #expect(grid.count == 24)
            #expect(grid.allSatisfy { "N*1234567C".contains($0) })
            #expect(account.balanceYuan >= 0)
            #expect(account.balanceYuan <= account.creditLimitYuan)
            #expect(account.creditLimitYuan > 0)
            let last = grid.last!
            let expected = last.isNumber ? "overdue" : last == "C" ? "closed" : "normal"
            #expect(account.status == expected, "\(grid) is \(account.status)")
            if account.status == "closed" { #expect(account.balanceYuan == 0) }
        }
    }

    // MARK: Determinism

    @Test(arguments: [female1949, maleShanghai, maleShenzhen, femaleChengdu, haidian, young])
    func sameSubjectSameContent(number: String) async throws {
        let later = SandboxBureau(clock: { SandboxBureauTests.now.addingTimeInterval(86_400 * 30) })
        let first = try await bureau.fetchReport(request(number, reference: "Q-1"))
        let second = try await later.fetchReport(request(number, reference: "Q-2"))
        #expect(content(first) == content(second))
        #expect(first.reportNumber != second.reportNumber)
        let again = try await bureau.fetchReport(request(number, reference: "Q-1"))
        #expect(again == first)
    }

    @Test func sameCorporateSameContent() async throws {
        let first = try await bureau.fetchReport(request(Self.company, kind: .corporate, reference: "Q-1"))
        let second = try await bureau.fetchReport(request(Self.company, kind: .corporate, reference: "Q-2"))
        #expect(content(first) == content(second))
        #expect(first.reportNumber != second.reportNumber)
    }

    @Test func reportNumbersHaveTheSandboxForm() async throws {
        let report = try await bureau.fetchReport(request(Self.maleShanghai))
        #expect(report.reportNumber.hasPrefix("SBX"))
        #expect(report.reportNumber.count == 19)
        #expect(report.reportNumber.dropFirst(3).allSatisfy { $0.isHexDigit })
    }

    @Test func headerCarriesTheRequest() async throws {
        let bank = SandboxBureau(institution: "测试银行", clock: { SandboxBureauTests.now })
        let report = try personal(await bank.fetchReport(request(Self.maleShanghai, purpose: "03")))
        #expect(report.header.queryingInstitution == "测试银行")
        #expect(report.header.purposeCode == "03")
        #expect(report.header.generatedAt == Self.now)
    }

    @Test func differentSubjectsDiffer() async throws {
        let first = try personal(await bureau.fetchReport(request(Self.maleShanghai)))
        let second = try personal(await bureau.fetchReport(request(Self.maleShenzhen)))
        #expect(first.header.reportNumber != second.header.reportNumber)
        #expect(first.identity != second.identity)
        #expect(first.residences != second.residences)
        #expect(first.accounts != second.accounts)
    }

    // MARK: Personal reports

    @Test(arguments: [female1949, maleShanghai, maleShenzhen, femaleChengdu, haidian, young])
    func personalReportsHaveTheSecondGenerationShape(number: String) async throws {
        let report = try personal(await bureau.fetchReport(request(number)))
        #expect(report.identity.certificateNumber == number)
        #expect(report.identity.name == "测试")
        #expect(["已婚", "未婚", "离异", "丧偶"].contains(report.identity.maritalStatus))
        #expect(["本科", "硕士", "博士", "大专", "高中"].contains(report.identity.education))
        #expect(report.identity.mobilePhone.count == 11 && report.identity.mobilePhone.hasPrefix("1"))
        #expect(report.identity.mobilePhone.allSatisfy { $0.isNumber })
        #expect((1...3).contains(report.residences.count))
        #expect(!report.employments.isEmpty)
        #expect((1...6).contains(report.accounts.count))
        #expect(report.accounts.allSatisfy { $0.kind != .businessLoan })
        checkAccounts(report.accounts)
        #expect((0...2).contains(report.guarantees.count))
        #expect((0...2).contains(report.publicRecords.count))
        for guarantee in report.guarantees { #expect(guarantee.balanceYuan <= guarantee.amountYuan) }

        let summary = report.summary
        #expect(summary.loanAccounts == report.accounts.filter { $0.kind != .creditCard }.count)
        #expect(summary.creditCardAccounts == report.accounts.filter { $0.kind == .creditCard }.count)
        #expect(summary.accountsEverOverdue == report.accounts.filter { $0.repaymentHistory.contains(where: \.isNumber) }.count)
        #expect(summary.totalCreditLimitYuan == report.accounts.map(\.creditLimitYuan).reduce(0, +))
        #expect(summary.totalBalanceYuan == report.accounts.map(\.balanceYuan).reduce(0, +))
        #expect(summary.guaranteesGiven == report.guarantees.count)
        #expect(summary.publicRecords == report.publicRecords.count)
        #expect(summary.queriesLastTwoYears == 0)  // only the sandbox's own older records, all before 2024
    }

    @Test func genderAndBirthDateComeFromTheResidentID() async throws {
        let woman = try personal(await bureau.fetchReport(request(Self.female1949)))
        #expect(woman.identity.gender == "female")
        #expect(woman.identity.dateOfBirth == "1949-12-31")
        let man = try personal(await bureau.fetchReport(request(Self.maleShanghai)))
        #expect(man.identity.gender == "male")
        #expect(man.identity.dateOfBirth == "1985-06-12")
        let other = try personal(await bureau.fetchReport(request(Self.femaleChengdu)))
        #expect(other.identity.gender == "female")
        #expect(other.identity.dateOfBirth == "1978-02-28")
    }

    @Test func otherCertificatesGetAGeneratedIdentity() async throws {
        let passport = BureauRequest(
            subject: BureauSubject(kind: .personal, certificateType: "2", certificateNumber: "E12345678", name: "测试"),
            purposeCode: "02", operatorEmployeeID: EmployeeID("D0003")!, organisationCode: "DEMO-SH", queryReference: "Q-9"
        )
        let report = try personal(await bureau.fetchReport(passport))
        #expect(["male", "female"].contains(report.identity.gender))
        #expect(report.identity.dateOfBirth.count == 10)
        #expect(report.identity.certificateType == "2")
    }

    @Test func latestResidenceIsInTheIDsRegion() async throws {
        let beijing = try personal(await bureau.fetchReport(request(Self.female1949)))
        #expect(beijing.residences[0].address.hasPrefix("北京市朝阳区"))
        let shanghai = try personal(await bureau.fetchReport(request(Self.maleShanghai)))
        #expect(shanghai.residences[0].address.hasPrefix("上海市徐汇区"))
        let shenzhen = try personal(await bureau.fetchReport(request(Self.maleShenzhen)))
        #expect(shenzhen.residences[0].address.hasPrefix("广东省深圳市南山区"))
    }

    // MARK: Corporate reports

    @Test func corporateReportsHaveTheirShape() async throws {
        let report = try corporate(await bureau.fetchReport(request(Self.company, kind: .corporate)))
        #expect(report.basics.name == "福州恒信科技有限公司")
        #expect(report.basics.unifiedSocialCreditCode == Self.company)
        #expect(!report.basics.legalRepresentative.isEmpty)
        #expect(report.basics.registeredCapitalYuan > 0)
        #expect(report.basics.registeredAddress.hasPrefix("福建省福州市"))
        #expect(report.basics.establishedOn.count == 10)
        #expect(!report.basics.industry.isEmpty)
        #expect(!report.facilities.isEmpty)
        #expect(report.facilities.allSatisfy { $0.kind == .businessLoan })
        checkAccounts(report.facilities)
        #expect((0...2).contains(report.guarantees.count))
        #expect((0...2).contains(report.publicRecords.count))
    }

    // MARK: Query records

    @Test func queryRecordsComeFromTheHistoryAndAreCounted() async throws {
        let records = [
            BureauQueryRecord(date: "2027-01-10", institution: "CreditGate 演示银行", purposeCode: "02"),
            BureauQueryRecord(date: "2026-03-02", institution: "CreditGate 演示银行", purposeCode: "03"),
            BureauQueryRecord(date: "2025-01-15", institution: "CreditGate 演示银行", purposeCode: "01"),
            BureauQueryRecord(date: "2025-01-14", institution: "CreditGate 演示银行", purposeCode: "02"),
        ]
        let history = RecordedHistory(records)
        let withHistory = SandboxBureau(history: history, clock: { SandboxBureauTests.now })
        let report = try personal(await withHistory.fetchReport(request(Self.maleShanghai)))
        let alone = try personal(await bureau.fetchReport(request(Self.maleShanghai)))

        #expect(Array(report.queryRecords.prefix(records.count)) == records)
        let extras = Array(report.queryRecords.dropFirst(records.count))
        #expect(extras == alone.queryRecords)
        #expect(extras.count <= 3)
        #expect(extras.allSatisfy { $0.date < "2024-01-01" && $0.institution != "CreditGate 演示银行" })
        // Two years back from 2027-01-15 (China Standard Time) is 2025-01-15: the last record is older.
        #expect(report.summary.queriesLastTwoYears == 3)
        #expect(alone.summary.queriesLastTwoYears == 0)
        // Apart from the query records and their count, the content is the same.
        #expect(report.accounts == alone.accounts)
        #expect(report.identity == alone.identity)

        let asked = await history.asked
        #expect(asked.count == 1)
        #expect(asked.first?.subject.certificateNumber == Self.maleShanghai)
        #expect(asked.first?.limit == 50)
    }

    @Test func olderRecordsAreCountedWhenTheClockIsEarlier() async throws {
        let early = SandboxBureau(clock: { Date(timeIntervalSince1970: 1_640_995_200) })  // 2022-01-01 UTC
        for number in [Self.female1949, Self.maleShanghai, Self.maleShenzhen, Self.femaleChengdu, Self.haidian, Self.young] {
            let report = try personal(await early.fetchReport(request(number)))
            let expected = report.queryRecords.filter { $0.date >= "2020-01-01" }.count
            #expect(report.summary.queriesLastTwoYears == expected)
        }
    }

    @Test func corporateQueryRecordsComeFromTheHistory() async throws {
        let record = BureauQueryRecord(date: "2026-12-01", institution: "CreditGate 演示银行", purposeCode: "02")
        let bank = SandboxBureau(history: RecordedHistory([record]), clock: { SandboxBureauTests.now })
        let report = try corporate(await bank.fetchReport(request(Self.company, kind: .corporate)))
        #expect(report.queryRecords.first == record)
        #expect(report.queryRecords.dropFirst().allSatisfy { $0.date < "2024-01-01" })
    }

    // MARK: Failures

    @Test func unknownSubjectsAreNotFound() async {
        await #expect(throws: BureauError.subjectNotFound) {
            try await bureau.fetchReport(request("110101199003010000"))
        }
        await #expect(throws: BureauError.subjectNotFound) {
            try await bureau.fetchReport(request("91350100M000100000", kind: .corporate))
        }
    }

    /// How long it takes is a benchmark's business, not a unit test's: here only the outcome is checked.
    @Test func timeoutFaultIsATimeout() async {
        let slow = SandboxBureau(behaviour: .init(fault: .timeout, timeout: .milliseconds(50)))
        await #expect(throws: BureauError.timedOut) {
            try await slow.fetchReport(request(Self.maleShanghai))
        }
    }

    @Test func answersSlowerThanTheDeadlineTimeOut() async {
        let slow = SandboxBureau(behaviour: .init(latency: .seconds(30), timeout: .milliseconds(50)))
        await #expect(throws: BureauError.timedOut) {
            try await slow.fetchReport(request(Self.maleShanghai))
        }
    }

    @Test func errorFaultIsARejection() async {
        let failing = SandboxBureau(behaviour: .init(fault: .error))
        await #expect(throws: BureauError.rejected(code: "503")) {
            try await failing.fetchReport(request(Self.maleShanghai))
        }
    }

    @Test func malformedFaultIsAMalformedAnswer() async {
        let broken = SandboxBureau(behaviour: .init(fault: .malformed))
        await #expect(throws: BureauError.malformedAnswer) {
            try await broken.fetchReport(request(Self.maleShanghai))
        }
        await #expect(throws: BureauError.malformedAnswer) {
            try await broken.fetchReport(request(Self.company, kind: .corporate))
        }
    }

    @Test func latencyWithinTheDeadlineStillAnswers() async throws {
        let slow = SandboxBureau(behaviour: .init(latency: .milliseconds(20), timeout: .seconds(60)), clock: { SandboxBureauTests.now })
        let report = try await slow.fetchReport(request(Self.maleShanghai))
        let prompt = try await bureau.fetchReport(request(Self.maleShanghai))
        #expect(report == prompt)
    }

    /// The document sent is written from the subject's sections as held and the request's own members; read back,
    /// it is exactly the report made for the request — personal and corporate, with a history, asked twice.
    @Test func theDocumentSentIsTheReportMade() throws {
        let history = [BureauQueryRecord(date: "2026-03-01", institution: "某银行上海分行", purposeCode: "02"),
                       BureauQueryRecord(date: "2024-01-15", institution: "某银行北京分行", purposeCode: "03")]
        for asked in [request(Self.female1949), request(Self.maleShanghai), request(Self.company, kind: .corporate)] {
            for earlier in [[], history] {
                let document = try bureau.document(asked, earlierQueries: earlier)
                #expect(try SandboxBureau.decode(document) == (try bureau.makeReport(asked, earlierQueries: earlier)))
                #expect(try bureau.document(asked, earlierQueries: earlier) == document)
            }
        }
    }

    @Test func theAnswerSurvivesTheWire() throws {
        let report = try bureau.makeReport(request(Self.female1949), earlierQueries: [])
        #expect(try SandboxBureau.decode(SandboxBureau.encode(report)) == report)
        let wire = try SandboxBureau.encode(report)
        #expect(throws: BureauError.malformedAnswer) {
            try SandboxBureau.decode(Data(wire.prefix(wire.count / 2)))
        }
    }

    @Test func behaviourDefaults() {
        let behaviour = SandboxBureauBehaviour()
        #expect(behaviour.latency == .zero)
        #expect(behaviour.fault == .none)
        #expect(behaviour.timeout == .seconds(10))
        #expect(SandboxBureauBehaviour.Fault.allCases.map(\.rawValue) == ["none", "timeout", "error", "malformed"])
    }
}
