import Foundation

/// A person's employment as HR reports it. 离职 (left) ends every right at once.
public enum Employment: String, Codable, Sendable, CaseIterable {
    case inService = "in_service"
    case left

    public var nameKey: String { "employment_\(rawValue)" }
}

/// Why an account was suspended (停用). Codes never change once shipped.
public enum SuspensionReason: String, Codable, Sendable, CaseIterable {
    /// The person left the bank (离职).
    case left
    /// The person moved to another unit and the new unit did not confirm them in time.
    case organisationUnconfirmed = "organisation_unconfirmed"
    /// No sign-in for the dormancy period (长期未使用).
    case dormant
    /// The security score fell to grade C.
    case securityGradeC = "security_grade_c"
    /// An administrator suspended the account by hand.
    case administrator

    public var nameKey: String { "suspension_\(rawValue)" }
}

/// The periods of the account lifecycle, from policy.
public struct LifecyclePolicy: Sendable, Equatable {
    /// No sign-in for this long suspends an account.
    public var dormancy: TimeInterval
    /// After a transfer, the new unit must confirm the person within this time.
    public var organisationConfirmation: TimeInterval
    /// A suspended person may apply again only after this long (90 days).
    public var reapplicationWait: TimeInterval
    /// Steps of the access approval chain.
    public var approvalLevels: Int

    public init(dormancy: TimeInterval = 90 * 86_400, organisationConfirmation: TimeInterval = 30 * 86_400,
                reapplicationWait: TimeInterval = 90 * 86_400, approvalLevels: Int = 2) {
        self.dormancy = dormancy
        self.organisationConfirmation = organisationConfirmation
        self.reapplicationWait = reapplicationWait
        self.approvalLevels = approvalLevels
    }
}

/// The facts about one account the automatic suspension looks at.
public struct AccountFacts: Sendable, Equatable {
    public let status: AccountStatus
    public let roles: Set<Role>
    public let employment: Employment
    /// The last time the account was in use or made usable: last sign-in, opening or reinstatement.
    public let lastActiveAt: Date
    /// Set after a transfer until the new unit confirms the person.
    public let organisationConfirmationDueAt: Date?

    public init(status: AccountStatus, roles: Set<Role>, employment: Employment, lastActiveAt: Date, organisationConfirmationDueAt: Date?) {
        self.status = status
        self.roles = roles
        self.employment = employment
        self.lastActiveAt = lastActiveAt
        self.organisationConfirmationDueAt = organisationConfirmationDueAt
    }
}

/// 自动停用: the rules of the scheduled suspension, pure so that each can be tested with a fixed clock.
public enum AutomaticSuspension {
    /// The reason an active account must be suspended now, or `nil`. Leaving wins over the other reasons, since it
    /// also bars reinstatement. System administrators are not suspended for dormancy: they are the way back in for
    /// everyone else, and their role sees no credit data.
    public static func reason(for facts: AccountFacts, now: Date, policy: LifecyclePolicy) -> SuspensionReason? {
        guard facts.status == .active else { return nil }
        if facts.employment == .left { return .left }
        if let due = facts.organisationConfirmationDueAt, now >= due { return .organisationUnconfirmed }
        if !facts.roles.contains(.systemAdministrator), now.timeIntervalSince(facts.lastActiveAt) >= policy.dormancy {
            return .dormant
        }
        return nil
    }
}

/// 重新申请: when a suspended account may be made active again. Only after the waiting period, never for a
/// person who left, and then only into a state without query rights, where the exam must be passed again under
/// stricter control and approved again.
public enum Reinstatement {
    public enum Refusal: String, Error, Sendable, Equatable {
        case notSuspended = "reinstate_refusal_not_suspended"
        case tooEarly = "reinstate_refusal_too_early"
        case personLeft = "reinstate_refusal_person_left"
    }

    /// `nil` when the account may be reinstated now; otherwise why not.
    public static func refusal(status: AccountStatus, suspendedAt: Date?, employment: Employment, now: Date,
                               policy: LifecyclePolicy) -> Refusal? {
        guard status == .suspended else { return .notSuspended }
        if employment == .left { return .personLeft }
        if let suspendedAt, now.timeIntervalSince(suspendedAt) < policy.reapplicationWait { return .tooEarly }
        return nil
    }

    /// The earliest moment a re-application is allowed.
    public static func earliest(suspendedAt: Date, policy: LifecyclePolicy) -> Date {
        suspendedAt.addingTimeInterval(policy.reapplicationWait)
    }
}
