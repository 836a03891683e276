import Foundation

/// A reason of a policy decision: the stable code, the facts that fired it, and whether an approval may except it.
/// The words come from the catalogue (`query_reason_<code>`), as for admission's reasons.
public struct PolicyReason: Sendable, Equatable {
    public let reason: QueryRefusalReason
    public let exceptable: Bool

    public init(reason: QueryRefusalReason, exceptable: Bool) {
        self.reason = reason
        self.exceptable = exceptable
    }

    public var code: String { reason.code }
}

/// The outcome of the policy engine: allowed, blocked, or allowed only with a supervisor's approval.
public enum PolicyDecision: Sendable, Equatable {
    case allow
    case block([PolicyReason])
    case approvalRequired([PolicyReason])

    public var reasons: [PolicyReason] {
        switch self {
        case .allow: []
        case .block(let reasons), .approvalRequired(let reasons): reasons
        }
    }

    public var code: String {
        switch self {
        case .allow: "allow"
        case .block: "block"
        case .approvalRequired: "approval_required"
        }
    }
}

/// Everything the policy engine looks at, read in one place before deciding. No I/O happens inside the engine.
public struct PolicyFacts: Sendable {
    /// Admission's refusals (consent, user, application, purpose, loan, special case): never exceptable.
    public let admission: [QueryRefusalReason]
    public let subject: SubjectIdentifier
    public let purpose: QueryPurpose
    public let at: Date
    public let clientAddress: String
    public let policy: EffectivePolicy
    public let calendar: WorkingCalendar
    /// Queries already counted today (China Standard Time) for the user and for their unit.
    public var queriesTodayByUser: Int
    public var queriesTodayByOrganisation: Int
    public let organisationRegion: RegionCode
    /// The user's bound addresses and the unit's networks together.
    public let allowedNetworks: [NetworkCIDR]

    public init(admission: [QueryRefusalReason], subject: SubjectIdentifier, purpose: QueryPurpose, at: Date, clientAddress: String,
                policy: EffectivePolicy, calendar: WorkingCalendar, queriesTodayByUser: Int, queriesTodayByOrganisation: Int,
                organisationRegion: RegionCode, allowedNetworks: [NetworkCIDR]) {
        self.admission = admission
        self.subject = subject
        self.purpose = purpose
        self.at = at
        self.clientAddress = clientAddress
        self.policy = policy
        self.calendar = calendar
        self.queriesTodayByUser = queriesTodayByUser
        self.queriesTodayByOrganisation = queriesTodayByOrganisation
        self.organisationRegion = organisationRegion
        self.allowedNetworks = allowedNetworks
    }
}

/// 刚性阻断: the hard rules every query passes before it reaches the bureau, each named with its facts.
///
/// "对单日超查询量阈值、非工作时间查询、非工作日查询、跨地域查询实行刚性阻断控制及实行授权查询", and "对非绑定IP的计算机发起的
/// 客户征信查询操作进行实时阻断". A refusal that may never be excepted blocks; otherwise any exceptable rule that fires
/// routes the query to a supervisor's approval.
public enum PolicyEngine {
    public static func decide(_ facts: PolicyFacts) -> PolicyDecision {
        var reasons = facts.admission.map { PolicyReason(reason: $0, exceptable: false) }
        let policy = facts.policy
        func fire(_ rule: PolicyRule, _ details: [String: String]) {
            reasons.append(PolicyReason(reason: QueryRefusalReason(code: rule.rawValue, facts: details),
                                        exceptable: rule.mayBeExcepted && policy.exceptable.contains(rule)))
        }
        // Exactly at the cap the next query is one too many.
        if facts.queriesTodayByUser >= policy.userDailyCap {
            fire(.dailyCapUser, ["used": String(facts.queriesTodayByUser), "cap": String(policy.userDailyCap)])
        }
        if facts.queriesTodayByOrganisation >= policy.organisationDailyCap {
            fire(.dailyCapOrganisation, ["used": String(facts.queriesTodayByOrganisation), "cap": String(policy.organisationDailyCap)])
        }
        let day = CalendarDate(facts.at)
        let kind = facts.calendar.day(day)
        if !kind.isWorking {
            let why: BilingualText = switch kind {
            case .holiday(let name): name
            case .weekendWithoutCalendar: Self.weekendWithoutCalendar
            default: Self.weekend
            }
            fire(.workingDay, ["date": day.description, "day_zh": why.zh, "day_en": why.en])
        }
        // Working hours are [start, end): at 17:29:59 still inside, at 17:30:00 outside.
        let minuteOfDay = Self.secondsIntoDay(facts.at)
        if minuteOfDay < policy.workdayStart.minutes * 60 || minuteOfDay >= policy.workdayEnd.minutes * 60 {
            fire(.workingHours, ["time": Self.clock(minuteOfDay), "start": policy.workdayStart.description, "end": policy.workdayEnd.description])
        }
        if let digits = policy.regionGranularity.digits, !policy.regionExemptPurposes.contains(facts.purpose),
           let subjectRegion = facts.subject.regionCode,
           subjectRegion.value.prefix(digits) != facts.organisationRegion.value.prefix(digits) {
            fire(.region, ["subject_region": String(subjectRegion.value.prefix(digits)), "organisation_region": String(facts.organisationRegion.value.prefix(digits)),
                           "granularity": policy.regionGranularity.rawValue])
        }
        // Deny on doubt: no network configured, or an address that does not parse, is not bound.
        let address = IPAddress.parse(facts.clientAddress)
        if !(address.map { bytes in facts.allowedNetworks.contains { $0.contains(bytes: bytes) } } ?? false) {
            fire(.boundAddress, ["address": facts.clientAddress])
        }
        if reasons.isEmpty { return .allow }
        return reasons.allSatisfy(\.exceptable) ? .approvalRequired(reasons) : .block(reasons)
    }

    static let weekend = BilingualText(zh: Catalogue.zhCN["day_weekend"] ?? "周末", en: Catalogue.en["day_weekend"] ?? "weekend")
    static let weekendWithoutCalendar = BilingualText(zh: Catalogue.zhCN["day_weekend_no_calendar"] ?? "周末", en: Catalogue.en["day_weekend_no_calendar"] ?? "weekend")

    /// Seconds since midnight in China Standard Time.
    static func secondsIntoDay(_ instant: Date) -> Int {
        CalendarDate.secondsIntoDay(instant)
    }

    static func clock(_ seconds: Int) -> String {
        "\(CalendarDate.zeroPadded(seconds / 3600, 2)):\(CalendarDate.zeroPadded(seconds / 60 % 60, 2)):\(CalendarDate.zeroPadded(seconds % 60, 2))"
    }
}
