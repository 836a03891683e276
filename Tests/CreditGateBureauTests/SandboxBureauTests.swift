import CreditGateCore
import Foundation
import Testing

@testable import CreditGateBureau

@Suite struct SandboxBureauTests {
    let bureau = SandboxBureau(clock: { Date(timeIntervalSince1970: 1_800_000_000) })

    func request(_ number: String, kind: ReportKind = .personal) -> BureauRequest {
        BureauRequest(
            subject: BureauSubject(kind: kind, certificateType: kind == .personal ? "10" : "USCC", certificateNumber: number, name: "测试"),
            purposeCode: "02", operatorEmployeeID: EmployeeID("D0003")!, organisationCode: "DEMO-SH"
        )
    }

    @Test func sameSubjectSameReport() async throws {
        let first = try await bureau.fetchReport(request("110101199003071234"))
        let second = try await bureau.fetchReport(request("110101199003071234"))
        #expect(first == second)
    }

    @Test func differentSubjectsDiffer() async throws {
        let first = try await bureau.fetchReport(request("110101199003071234"))
        let second = try await bureau.fetchReport(request("310101198512120015"))
        #expect(first.reportNumber != second.reportNumber)
        #expect(first.accounts != second.accounts)
    }

    @Test func reportsHaveTheSecondGenerationShape() async throws {
        let report = try await bureau.fetchReport(request("440106197708081236"))
        #expect(!report.accounts.isEmpty)
        for account in report.accounts {
            #expect(account.repaymentHistory.count == 24)
            #expect(account.repaymentHistory.allSatisfy { "N*12".contains($0) })
            #expect(account.balanceYuan < account.creditLimitYuan)
        }
        #expect(report.summary.loanAccounts + report.summary.creditCardAccounts == report.accounts.count)
    }

    @Test func corporateReportsHoldBusinessLoans() async throws {
        let report = try await bureau.fetchReport(request("91110000100000000X", kind: .corporate))
        #expect(report.kind == .corporate)
        #expect(report.accounts.allSatisfy { $0.kind == .businessLoan })
    }

    @Test func unknownSubjectsAreNotFound() async {
        await #expect(throws: BureauError.subjectNotFound) {
            try await bureau.fetchReport(request("110101199003070000"))
        }
    }
}
