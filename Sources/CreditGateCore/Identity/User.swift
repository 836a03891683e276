import Foundation

/// 员工统一认证号: the bank-wide employee ID every account is tied to (R-02, 人户统一).
///
/// Letters, digits and `-`, 4 to 32 characters, stored upper-cased so that `e1001` and `E1001` are one person.
public struct EmployeeID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String

    /// Returns `nil` when the text is not a well-formed employee ID.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        guard (4...32).contains(trimmed.count),
              trimmed.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else { return nil }
        self.value = trimmed
    }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = EmployeeID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid employee ID"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// An account's state. Only `active` accounts may sign in.
public enum AccountStatus: String, Codable, Sendable, CaseIterable {
    case active
    /// 停用: switched off by an administrator or automatically.
    case suspended
    /// 注销: closed when the person left; kept for the record, never reused.
    case closed

    public var nameKey: String { "account_status_\(rawValue)" }
}

/// A person's account: one per employee ID, in exactly one organisation unit.
public struct User: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<User>

    public let id: ID
    public var employeeID: EmployeeID
    public var displayName: String
    public var organisationID: Organisation.ID
    public var roles: Set<Role>
    public var status: AccountStatus
    /// The language the user chose in the console; `nil` follows the browser.
    public var preferredLanguage: Language?
    public var createdAt: Date
    public var employment: Employment
    /// 查询权限: set when the last step of an access request approved it; cleared by suspension.
    public var queryRightsGrantedAt: Date?
    public var suspendedAt: Date?
    public var suspensionReason: SuspensionReason?
    public var lastSignInAt: Date?
    public var reinstatedAt: Date?
    /// After a transfer, the new unit must confirm the person by this time.
    public var organisationConfirmationDueAt: Date?
    /// After a reinstatement the exam is taken under stricter control: a higher pass mark and an administrator's
    /// permission before each attempt.
    public var strictExamRequired: Bool

    public init(
        id: ID, employeeID: EmployeeID, displayName: String, organisationID: Organisation.ID,
        roles: Set<Role>, status: AccountStatus, preferredLanguage: Language?, createdAt: Date,
        employment: Employment = .inService, queryRightsGrantedAt: Date? = nil, suspendedAt: Date? = nil,
        suspensionReason: SuspensionReason? = nil, lastSignInAt: Date? = nil, reinstatedAt: Date? = nil,
        organisationConfirmationDueAt: Date? = nil, strictExamRequired: Bool = false
    ) {
        self.id = id
        self.employeeID = employeeID
        self.displayName = displayName
        self.organisationID = organisationID
        self.roles = roles
        self.status = status
        self.preferredLanguage = preferredLanguage
        self.createdAt = createdAt
        self.employment = employment
        self.queryRightsGrantedAt = queryRightsGrantedAt
        self.suspendedAt = suspendedAt
        self.suspensionReason = suspensionReason
        self.lastSignInAt = lastSignInAt
        self.reinstatedAt = reinstatedAt
        self.organisationConfirmationDueAt = organisationConfirmationDueAt
        self.strictExamRequired = strictExamRequired
    }

    /// Whether the person may query credit reports now: an active account of a query operator in service whose
    /// access request was approved. The policy engine adds its own rules on top.
    public var hasQueryRights: Bool {
        status == .active && employment == .inService && roles.contains(.queryOperator) && queryRightsGrantedAt != nil
    }

    /// What the automatic suspension looks at.
    public var lifecycleFacts: AccountFacts {
        let lastActive = [lastSignInAt, reinstatedAt].compactMap { $0 }.reduce(createdAt, max)
        return AccountFacts(status: status, roles: roles, employment: employment, lastActiveAt: lastActive,
                            organisationConfirmationDueAt: organisationConfirmationDueAt)
    }
}
