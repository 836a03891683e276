import CreditGateCore
import Foundation

/// The kind of report asked of the credit reference system: a person's (个人信用报告) or a corporate's (企业信用报告),
/// the same distinction as the subject's.
public typealias ReportKind = SubjectKind

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
    /// The gateway's query ID, sent as the request's idempotency reference so that the bureau's own record and
    /// CreditGate's can be matched line by line.
    public let queryReference: String

    public init(subject: BureauSubject, purposeCode: String, operatorEmployeeID: EmployeeID, organisationCode: String, queryReference: String) {
        self.subject = subject
        self.purposeCode = purposeCode
        self.operatorEmployeeID = operatorEmployeeID
        self.organisationCode = organisationCode
        self.queryReference = queryReference
    }
}

/// Failures of the bureau connection, each distinct so that the gateway can say what happened.
public enum BureauError: Error, Equatable, Sendable {
    /// The bureau did not answer in time; nothing is known about whether it recorded the query.
    case timedOut
    /// The bureau answered with an error of its own (its code, e.g. an HTTP status or a bureau error number).
    case rejected(code: String)
    /// The bureau answered, but the answer is not a report that can be read; nothing of it is kept.
    case malformedAnswer
    /// The bureau has no record of the subject.
    case subjectNotFound
}

/// One line of a report's query-records section (查询记录): who looked at this subject, when and why.
public struct BureauQueryRecord: Sendable, Codable, Equatable {
    /// The date of the query, `yyyy-MM-dd` in China Standard Time.
    public let date: String
    /// The querying institution (查询机构), as the bureau names it.
    public let institution: String
    /// The coded query reason.
    public let purposeCode: String

    public init(date: String, institution: String, purposeCode: String) {
        self.date = date
        self.institution = institution
        self.purposeCode = purposeCode
    }
}

/// Where a bureau learns which queries were already made about a subject. The real bureau keeps its own records;
/// the sandbox asks the gateway's query register, so that its query-records section lists the queries made through
/// this gateway.
public protocol BureauQueryHistory: Sendable {
    /// Earlier answered queries about the subject, newest first, at most `limit`.
    func answeredQueries(about subject: BureauSubject, limit: Int) async throws -> [BureauQueryRecord]
}

/// A history with nothing in it, for a sandbox that stands alone.
public struct EmptyQueryHistory: BureauQueryHistory {
    public init() {}
    public func answeredQueries(about subject: BureauSubject, limit: Int) async throws -> [BureauQueryRecord] { [] }
}

/// A connection to the credit reference system. CreditGate is the only caller: nothing else in the bank
/// can reach an implementation of this protocol.
public protocol CreditBureau: Sendable {
    /// Whether this connector returns synthetic data; production refuses to start on one unless allowed.
    var isSandbox: Bool { get }
    /// A short stable name for logs and the status page.
    var name: String { get }
    /// Asks for one report. Throws ``BureauError`` for every failure the bureau or the connection causes; a thrown
    /// error means no report, never a part of one.
    ///
    /// A failed request is never retried blindly, by an implementation or by the gateway. Every request that reaches
    /// the real bureau creates a query record on the subject's report, which lowers their credit standing and is seen
    /// by every lender who reads the report later; and a timeout does not tell whether the bureau recorded the query
    /// before the answer was lost. An automatic retry could therefore put a second record on the subject's report for
    /// one decision. Whether to ask again is a person's decision, taken after checking what happened, never automatic.
    func fetchAnswer(_ request: BureauRequest) async throws -> BureauAnswer
}

extension CreditBureau {
    /// The report alone.
    public func fetchReport(_ request: BureauRequest) async throws -> CreditReport {
        try await fetchAnswer(request).report
    }
}

/// A report and the document it was read from: the report in CreditGate's stored form (``CreditReport`` as JSON,
/// keys sorted, dates in ISO 8601) exactly as the connector received or wrote it. The gateway seals these bytes as
/// they are, so that what is kept is what came back, and is not encoded a second time.
public struct BureauAnswer: Sendable {
    public let report: CreditReport
    public let document: Data

    public init(report: CreditReport, document: Data) {
        self.report = report
        self.document = document
    }
}

/// A report as the bureau returned it, before CreditGate encrypts and stores it: the structure of the PBoC
/// second-generation credit report (二代征信报告).
public enum CreditReport: Sendable, Codable, Equatable {
    case personal(PersonalCreditReport)
    case corporate(CorporateCreditReport)

    public var kind: ReportKind {
        switch self {
        case .personal: .personal
        case .corporate: .corporate
        }
    }

    public var reportNumber: String {
        switch self {
        case .personal(let report): report.header.reportNumber
        case .corporate(let report): report.header.reportNumber
        }
    }
}

/// The header every report starts with (报告头).
public struct ReportHeader: Sendable, Codable, Equatable {
    /// 报告编号
    public let reportNumber: String
    /// 报告时间, UTC.
    public let generatedAt: Date
    /// 查询机构
    public let queryingInstitution: String
    /// 查询原因 (code)
    public let purposeCode: String

    public init(reportNumber: String, generatedAt: Date, queryingInstitution: String, purposeCode: String) {
        self.reportNumber = reportNumber
        self.generatedAt = generatedAt
        self.queryingInstitution = queryingInstitution
        self.purposeCode = purposeCode
    }
}

/// 个人信用报告: identity, residence and employment, a summary, credit accounts with their 24-month repayment
/// grids, guarantees, public records and the query records.
public struct PersonalCreditReport: Sendable, Codable, Equatable {
    public let header: ReportHeader
    public let identity: Identity
    public let residences: [Residence]
    public let employments: [Employment]
    public let summary: Summary
    public let accounts: [CreditAccount]
    public let guarantees: [Guarantee]
    public let publicRecords: [PublicRecord]
    public let queryRecords: [BureauQueryRecord]

    public init(header: ReportHeader, identity: Identity, residences: [Residence], employments: [Employment], summary: Summary,
                accounts: [CreditAccount], guarantees: [Guarantee], publicRecords: [PublicRecord], queryRecords: [BureauQueryRecord]) {
        self.header = header
        self.identity = identity
        self.residences = residences
        self.employments = employments
        self.summary = summary
        self.accounts = accounts
        self.guarantees = guarantees
        self.publicRecords = publicRecords
        self.queryRecords = queryRecords
    }

    /// 身份信息
    public struct Identity: Sendable, Codable, Equatable {
        public let name: String
        public let certificateType: String
        public let certificateNumber: String
        /// `male` or `female`, from the resident ID where there is one.
        public let gender: String
        /// `yyyy-MM-dd`
        public let dateOfBirth: String
        public let maritalStatus: String
        public let mobilePhone: String
        public let education: String

        public init(name: String, certificateType: String, certificateNumber: String, gender: String, dateOfBirth: String,
                    maritalStatus: String, mobilePhone: String, education: String) {
            self.name = name
            self.certificateType = certificateType
            self.certificateNumber = certificateNumber
            self.gender = gender
            self.dateOfBirth = dateOfBirth
            self.maritalStatus = maritalStatus
            self.mobilePhone = mobilePhone
            self.education = education
        }
    }

    /// 居住信息
    public struct Residence: Sendable, Codable, Equatable {
        public let address: String
        public let status: String
        /// `yyyy-MM-dd`, when the bureau was told.
        public let reportedOn: String

        public init(address: String, status: String, reportedOn: String) {
            self.address = address
            self.status = status
            self.reportedOn = reportedOn
        }
    }

    /// 职业信息
    public struct Employment: Sendable, Codable, Equatable {
        public let employer: String
        public let occupation: String
        /// `yyyy`, the year the person joined the employer (进入本单位年份).
        public let since: String
        /// `yyyy-MM-dd`, when the bureau was told.
        public let reportedOn: String

        public init(employer: String, occupation: String, since: String, reportedOn: String) {
            self.employer = employer
            self.occupation = occupation
            self.since = since
            self.reportedOn = reportedOn
        }
    }

    /// 信息概要
    public struct Summary: Sendable, Codable, Equatable {
        public let loanAccounts: Int
        public let creditCardAccounts: Int
        public let accountsEverOverdue: Int
        public let totalCreditLimitYuan: Int
        public let totalBalanceYuan: Int
        public let guaranteesGiven: Int
        public let publicRecords: Int
        /// 近两年查询次数: the number of lines in the query-records section dated within two years.
        public let queriesLastTwoYears: Int

        public init(loanAccounts: Int, creditCardAccounts: Int, accountsEverOverdue: Int, totalCreditLimitYuan: Int, totalBalanceYuan: Int,
                    guaranteesGiven: Int, publicRecords: Int, queriesLastTwoYears: Int) {
            self.loanAccounts = loanAccounts
            self.creditCardAccounts = creditCardAccounts
            self.accountsEverOverdue = accountsEverOverdue
            self.totalCreditLimitYuan = totalCreditLimitYuan
            self.totalBalanceYuan = totalBalanceYuan
            self.guaranteesGiven = guaranteesGiven
            self.publicRecords = publicRecords
            self.queriesLastTwoYears = queriesLastTwoYears
        }
    }
}

/// A credit account (借贷账户) of the personal or corporate report.
public struct CreditAccount: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case mortgage
        case consumerLoan = "consumer_loan"
        case businessLoan = "business_loan"
        case creditCard = "credit_card"
    }

    public let kind: Kind
    public let institution: String
    /// `yyyy-MM-dd`
    public let openedOn: String
    public let creditLimitYuan: Int
    public let balanceYuan: Int
    /// `normal`, `overdue` or `closed`
    public let status: String
    /// The last 24 months, oldest first, one character a month: `N` paid on time, `1`–`7` months overdue,
    /// `*` no payment due, `C` closed — the repayment grid of the PBoC second-generation report.
    public let repaymentHistory: String

    public init(kind: Kind, institution: String, openedOn: String, creditLimitYuan: Int, balanceYuan: Int, status: String, repaymentHistory: String) {
        self.kind = kind
        self.institution = institution
        self.openedOn = openedOn
        self.creditLimitYuan = creditLimitYuan
        self.balanceYuan = balanceYuan
        self.status = status
        self.repaymentHistory = repaymentHistory
    }
}

/// A guarantee given for someone else's debt (相关还款责任 / 担保信息).
public struct Guarantee: Sendable, Codable, Equatable {
    public let debtor: String
    public let institution: String
    public let amountYuan: Int
    public let balanceYuan: Int
    /// `yyyy-MM-dd`
    public let endsOn: String

    public init(debtor: String, institution: String, amountYuan: Int, balanceYuan: Int, endsOn: String) {
        self.debtor = debtor
        self.institution = institution
        self.amountYuan = amountYuan
        self.balanceYuan = balanceYuan
        self.endsOn = endsOn
    }
}

/// A public record (公共信息): a court judgment, a tax arrear, an administrative penalty.
public struct PublicRecord: Sendable, Codable, Equatable {
    /// `judgment`, `tax_arrears` or `administrative_penalty`
    public let kind: String
    public let authority: String
    public let summary: String
    /// `yyyy-MM-dd`
    public let recordedOn: String
    public let amountYuan: Int

    public init(kind: String, authority: String, summary: String, recordedOn: String, amountYuan: Int) {
        self.kind = kind
        self.authority = authority
        self.summary = summary
        self.recordedOn = recordedOn
        self.amountYuan = amountYuan
    }
}

/// 企业信用报告: basic information, credit facilities, guarantees given, public records and query records.
public struct CorporateCreditReport: Sendable, Codable, Equatable {
    public let header: ReportHeader
    public let basics: Basics
    public let facilities: [CreditAccount]
    public let guarantees: [Guarantee]
    public let publicRecords: [PublicRecord]
    public let queryRecords: [BureauQueryRecord]

    public init(header: ReportHeader, basics: Basics, facilities: [CreditAccount], guarantees: [Guarantee], publicRecords: [PublicRecord],
                queryRecords: [BureauQueryRecord]) {
        self.header = header
        self.basics = basics
        self.facilities = facilities
        self.guarantees = guarantees
        self.publicRecords = publicRecords
        self.queryRecords = queryRecords
    }

    /// 基本信息
    public struct Basics: Sendable, Codable, Equatable {
        public let name: String
        public let unifiedSocialCreditCode: String
        public let legalRepresentative: String
        public let registeredCapitalYuan: Int
        /// `yyyy-MM-dd`
        public let establishedOn: String
        public let registeredAddress: String
        public let industry: String

        public init(name: String, unifiedSocialCreditCode: String, legalRepresentative: String, registeredCapitalYuan: Int,
                    establishedOn: String, registeredAddress: String, industry: String) {
            self.name = name
            self.unifiedSocialCreditCode = unifiedSocialCreditCode
            self.legalRepresentative = legalRepresentative
            self.registeredCapitalYuan = registeredCapitalYuan
            self.establishedOn = establishedOn
            self.registeredAddress = registeredAddress
            self.industry = industry
        }
    }
}
