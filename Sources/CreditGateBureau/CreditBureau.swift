import CreditGateCore
import Foundation

/// The kind of report asked of the credit reference system.
public enum ReportKind: String, Codable, Sendable, CaseIterable {
    /// 个人信用报告
    case personal
    /// 企业信用报告
    case corporate
}

/// What the bureau needs to find a subject: the certificate type code and number as the credit system lists them
/// (for persons, type `10` is the resident ID card; for corporates, the unified social credit code).
public struct BureauSubject: Sendable, Hashable {
    public let kind: ReportKind
    public let certificateType: String
    public let certificateNumber: String
    public let name: String

    public init(kind: ReportKind, certificateType: String, certificateNumber: String, name: String) {
        self.kind = kind
        self.certificateType = certificateType
        self.certificateNumber = certificateNumber
        self.name = name
    }
}

/// Identifies the bank and operator on whose behalf a request is made, as the bureau's query record needs.
public struct BureauRequest: Sendable {
    public let subject: BureauSubject
    /// The coded query reason (查询原因), e.g. `02` loan approval.
    public let purposeCode: String
    public let operatorEmployeeID: EmployeeID
    public let organisationCode: String

    public init(subject: BureauSubject, purposeCode: String, operatorEmployeeID: EmployeeID, organisationCode: String) {
        self.subject = subject
        self.purposeCode = purposeCode
        self.operatorEmployeeID = operatorEmployeeID
        self.organisationCode = organisationCode
    }
}

/// Failures of the bureau connection, each distinct so that the gateway can say what happened.
public enum BureauError: Error, Equatable, Sendable {
    /// The bureau did not answer in time; nothing is known about whether it recorded the query.
    case timedOut
    /// The bureau answered with an error of its own.
    case rejected(code: String)
    /// The bureau has no record of the subject.
    case subjectNotFound
}

/// A connection to the credit reference system. CreditGate is the only caller: nothing else in the bank
/// can reach an implementation of this protocol.
public protocol CreditBureau: Sendable {
    /// Whether this connector returns synthetic data; production refuses to start on one unless allowed.
    var isSandbox: Bool { get }
    /// A short stable name for logs and the status page.
    var name: String { get }
    func fetchReport(_ request: BureauRequest) async throws -> CreditReport
}

/// A report as the bureau returned it, before CreditGate encrypts and stores it.
public struct CreditReport: Sendable, Codable, Equatable {
    public let reportNumber: String
    public let kind: ReportKind
    public let generatedAt: Date
    public let subjectName: String
    public let certificateNumber: String
    public let summary: Summary
    public let accounts: [Account]

    public struct Summary: Sendable, Codable, Equatable {
        public let loanAccounts: Int
        public let creditCardAccounts: Int
        public let accountsEverOverdue: Int
        public let queriesLastTwoYears: Int
    }

    public struct Account: Sendable, Codable, Equatable {
        public enum Kind: String, Sendable, Codable { case mortgage, consumerLoan = "consumer_loan", businessLoan = "business_loan", creditCard = "credit_card" }
        public let kind: Kind
        public let institution: String
        public let openedOn: String
        public let creditLimitYuan: Int
        public let balanceYuan: Int
        /// The last 24 months, oldest first, one character a month: `N` paid on time, `1`–`7` months overdue,
        /// `*` no payment due, `C` closed — the repayment grid of the PBoC second-generation report.
        public let repaymentHistory: String
    }
}
