import Foundation

/// A time of day in China Standard Time, to the minute (`08:30`).
public struct TimeOfDay: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Minutes since midnight, 0–1440 (1440 is the end of the day, for a window that runs to midnight).
    public let minutes: Int

    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0...24).contains(hour), (0..<60).contains(minute), hour < 24 || minute == 0
        else { return nil }
        self.minutes = hour * 60 + minute
    }

    public init(minutes: Int) {
        self.minutes = min(max(minutes, 0), 1440)
    }

    public var description: String { "\(CalendarDate.zeroPadded(minutes / 60, 2)):\(CalendarDate.zeroPadded(minutes % 60, 2))" }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.minutes < rhs.minutes }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let time = TimeOfDay(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not HH:MM"))
        }
        self = time
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// How finely the subject's region is compared with the organisation's (跨地域查询).
public enum RegionGranularity: String, CaseIterable, Codable, Sendable {
    /// 省级: the first two digits of GB/T 2260.
    case province
    /// 地市级: the first four.
    case city
    /// 区县级: all six.
    case district
    /// Not compared.
    case off

    public var digits: Int? {
        switch self {
        case .province: 2
        case .city: 4
        case .district: 6
        case .off: nil
        }
    }

    public var nameKey: String { "region_granularity_\(rawValue)" }

    /// Finer comparison is stricter: off < province < city < district.
    public var strictness: Int { digits ?? 0 }
}

/// The rules of the policy engine that a supervisor's approval may except (授权查询, R-22), and those that never can.
public enum PolicyRule: String, CaseIterable, Codable, Sendable {
    case dailyCapUser = "daily_cap_user"
    case dailyCapOrganisation = "daily_cap_organisation"
    case workingHours = "outside_working_hours"
    case workingDay = "non_working_day"
    case region = "cross_region"
    case boundAddress = "unbound_address"

    /// An unbound address can never be excepted: "对非绑定IP的计算机发起的客户征信查询操作进行实时阻断". Consent, a
    /// suspended user and an unapproved application are admission's refusals and are never exceptable either.
    public var mayBeExcepted: Bool { self != .boundAddress }

    public var nameKey: String { "policy_rule_\(rawValue)" }
}

/// One organisation's own policy settings; `nil` inherits from the unit above, and at the top the defaults.
public struct PolicySettings: Sendable, Equatable, Codable {
    public var userDailyCap: Int?
    public var organisationDailyCap: Int?
    public var workdayStart: TimeOfDay?
    public var workdayEnd: TimeOfDay?
    public var regionGranularity: RegionGranularity?
    public var regionExemptPurposes: Set<QueryPurpose>?
    /// The rules that may be excepted by approval; a rule that never may is ignored here.
    public var exceptable: Set<PolicyRule>?

    public init(userDailyCap: Int? = nil, organisationDailyCap: Int? = nil, workdayStart: TimeOfDay? = nil, workdayEnd: TimeOfDay? = nil,
                regionGranularity: RegionGranularity? = nil, regionExemptPurposes: Set<QueryPurpose>? = nil, exceptable: Set<PolicyRule>? = nil) {
        self.userDailyCap = userDailyCap
        self.organisationDailyCap = organisationDailyCap
        self.workdayStart = workdayStart
        self.workdayEnd = workdayEnd
        self.regionGranularity = regionGranularity
        self.regionExemptPurposes = regionExemptPurposes
        self.exceptable = exceptable
    }

    /// Why settings cannot be saved, as catalogue keys.
    public var problems: [String] {
        var problems: [String] = []
        if let cap = userDailyCap, !(0...10_000).contains(cap) { problems.append("policy_cap_range") }
        if let cap = organisationDailyCap, !(0...1_000_000).contains(cap) { problems.append("policy_cap_range") }
        if let start = workdayStart, let end = workdayEnd, !(start < end) { problems.append("policy_hours_order") }
        return problems
    }
}

/// The policy in force for one organisation, after inheritance.
public struct EffectivePolicy: Sendable, Equatable {
    public var userDailyCap: Int
    public var organisationDailyCap: Int
    public var workdayStart: TimeOfDay
    public var workdayEnd: TimeOfDay
    public var regionGranularity: RegionGranularity
    public var regionExemptPurposes: Set<QueryPurpose>
    public var exceptable: Set<PolicyRule>

    /// What a bank starts with: 50 queries a person and 500 a unit per day, 08:30–17:30 on working days, regions
    /// compared by province with post-loan management exempt (its loan is already on the books), and caps, hours,
    /// days and region exceptable by approval.
    public static let defaults = EffectivePolicy(
        userDailyCap: 50, organisationDailyCap: 500, workdayStart: TimeOfDay(minutes: 8 * 60 + 30), workdayEnd: TimeOfDay(minutes: 17 * 60 + 30),
        regionGranularity: .province, regionExemptPurposes: [.postLoanManagement],
        exceptable: [.dailyCapUser, .dailyCapOrganisation, .workingHours, .workingDay, .region]
    )

    /// The policy in force for a unit: its own settings over its parents', up to the head office, over the defaults.
    public static func of(_ unit: Organisation.ID, in tree: OrganisationTree, own: [Organisation.ID: PolicySettings]) -> EffectivePolicy {
        resolve(tree.path(from: unit).reversed().compactMap { own[$0.id] })
    }

    /// The settings of the units from the head office down to the one in question, applied in that order.
    public static func resolve(_ chain: [PolicySettings]) -> EffectivePolicy {
        var policy = defaults
        for settings in chain {
            if let value = settings.userDailyCap { policy.userDailyCap = value }
            if let value = settings.organisationDailyCap { policy.organisationDailyCap = value }
            if let value = settings.workdayStart { policy.workdayStart = value }
            if let value = settings.workdayEnd { policy.workdayEnd = value }
            if let value = settings.regionGranularity { policy.regionGranularity = value }
            if let value = settings.regionExemptPurposes { policy.regionExemptPurposes = value }
            if let value = settings.exceptable { policy.exceptable = value.filter(\.mayBeExcepted) }
        }
        // Settings of different units can clash (a parent's end before a child's start): then there are no working
        // hours at all — the strictest reading, never a fall-back to the defaults.
        if !(policy.workdayStart < policy.workdayEnd) { policy.workdayEnd = policy.workdayStart }
        return policy
    }

    /// Whether this policy allows nothing that `other` forbids: caps no higher, hours inside its hours, regions
    /// compared at least as finely, no more exempt purposes and no more exceptable rules. A unit may tighten what it
    /// inherits; only a system administrator may loosen it.
    public func isAtLeastAsStrict(as other: EffectivePolicy) -> Bool {
        userDailyCap <= other.userDailyCap && organisationDailyCap <= other.organisationDailyCap
            && workdayStart >= other.workdayStart && workdayEnd <= other.workdayEnd
            && regionGranularity.strictness >= other.regionGranularity.strictness
            && regionExemptPurposes.isSubset(of: other.regionExemptPurposes) && exceptable.isSubset(of: other.exceptable)
    }
}

extension SubjectIdentifier {
    /// The six-digit administrative region the identifier carries, when it carries one: a mainland resident ID's
    /// first six digits, a unified social credit code's registration authority (characters 3–8). Passports,
    /// permits and the Hong Kong, Macao and Taiwan residence permits carry none.
    public var regionCode: RegionCode? {
        switch type {
        case .residentID:
            guard !["81", "82", "83"].contains(String(number.prefix(2))) else { return nil }
            return RegionCode(String(number.prefix(6)))
        case .unifiedSocialCreditCode:
            return RegionCode(String(number.dropFirst(2).prefix(6)))
        default:
            return nil
        }
    }
}
