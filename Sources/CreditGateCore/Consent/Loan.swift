import Foundation

/// One loan of the bank's loan register: the minimum needed to tell whether a subject has an active loan, which
/// 贷后管理 (post-loan management) requires.
public struct Loan: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<Loan>

    public let id: ID
    /// 合同编号: unique in the register; an import with a known number updates that loan.
    public let contractNumber: String
    public let borrower: SubjectIdentifier
    public let organisationID: Organisation.ID
    public let amountYuan: Int
    public let startsOn: CalendarDate
    public let maturesOn: CalendarDate
    /// 结清日: set once the loan is settled.
    public let settledOn: CalendarDate?

    public init(id: ID, contractNumber: String, borrower: SubjectIdentifier, organisationID: Organisation.ID, amountYuan: Int,
                startsOn: CalendarDate, maturesOn: CalendarDate, settledOn: CalendarDate?) {
        self.id = id
        self.contractNumber = contractNumber
        self.borrower = borrower
        self.organisationID = organisationID
        self.amountYuan = amountYuan
        self.startsOn = startsOn
        self.maturesOn = maturesOn
        self.settledOn = settledOn
    }

    /// Active from its start until it is settled. A loan past maturity but not settled is still active: an overdue
    /// loan is exactly the one post-loan management must follow.
    public func isActive(on day: CalendarDate) -> Bool {
        startsOn <= day && (settledOn.map { day < $0 } ?? true)
    }

    /// Why a loan record cannot go into the register, as catalogue keys.
    public static func problems(contractNumber: String, amountYuan: Int, startsOn: CalendarDate, maturesOn: CalendarDate,
                                settledOn: CalendarDate?) -> [String] {
        var problems: [String] = []
        let number = contractNumber.trimmingCharacters(in: .whitespaces)
        if number.isEmpty || number.count > 64 || !number.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            problems.append("loan_contract_invalid")
        }
        if amountYuan <= 0 || amountYuan > 100_000_000_000 { problems.append("loan_amount_invalid") }
        if !(maturesOn > startsOn) { problems.append("loan_maturity_before_start") }
        if let settledOn, settledOn < startsOn { problems.append("loan_settled_before_start") }
        return problems
    }
}
