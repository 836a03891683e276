import Foundation

/// 查询原因: why a report is queried, as the fixed, coded list of the credit system's query records.
///
/// The 征信业管理条例 (Art. 18) requires the subject's written consent, with the purpose agreed, for every personal
/// query unless a law says otherwise. The codes are the credit system's and never change.
public enum QueryPurpose: String, CaseIterable, Codable, Sendable {
    /// 01 贷后管理: managing a loan already made; needs an active loan of the subject in the loan register.
    case postLoanManagement = "01"
    /// 02 贷款审批
    case loanApproval = "02"
    /// 03 信用卡审批
    case creditCardApproval = "03"
    /// 08 担保资格审查
    case guarantorReview = "08"
    /// 09 司法调查: a state organ's query under law; only through the state-organ procedure.
    case judicialInvestigation = "09"
    /// 19 特约商户实名审查
    case merchantRealNameReview = "19"
    /// 20 保前审查
    case preGuaranteeReview = "20"
    /// 21 保后管理
    case postGuaranteeManagement = "21"
    /// 22 法人代表、负责人、高管等资信审查
    case executiveReview = "22"
    /// 23 客户准入资格审查
    case customerAdmissionReview = "23"
    /// 24 融资审批
    case financingApproval = "24"
    /// 25 资信审查
    case creditStandingReview = "25"
    /// 26 额度审批
    case limitReview = "26"

    public var code: String { rawValue }
    public var nameKey: String { "purpose_\(rawValue)" }

    /// The report kinds the purpose can be given for. A credit card or an executive review concerns a person;
    /// the other purposes apply to persons and corporates alike.
    public var reportKinds: Set<SubjectKind> {
        switch self {
        case .creditCardApproval, .executiveReview: [.personal]
        default: [.personal, .corporate]
        }
    }

    /// 贷后管理 must link to an active loan of that subject.
    public var requiresActiveLoan: Bool { self == .postLoanManagement }

    /// Purposes ordinary bank staff may not give: they exist only inside the state-organ procedure.
    public var isStateOrganOnly: Bool { self == .judicialInvestigation }

    /// The purposes a consent can name: every purpose except those that need no consent because a law allows them.
    public static var consentable: [QueryPurpose] { allCases.filter { !$0.isStateOrganOnly } }
}

/// Whether a subject, and so its report, is a person's or a corporate's.
public enum SubjectKind: String, CaseIterable, Codable, Sendable {
    /// 个人
    case personal
    /// 企业
    case corporate

    public var nameKey: String { "subject_kind_\(rawValue)" }
}

extension CertificateType {
    /// The kind of subject, and of report, the identifier names.
    public var subjectKind: SubjectKind { isCorporate ? .corporate : .personal }
}
