import CreditGateCore
import CreditGateStore
import Foundation

/// Reads the facts the policy engine decides on, in one place, for a real query, an exception request and the
/// simulator alike: the unit's effective policy, the working calendar, today's counters, the unit's region and the
/// person's bound addresses with the unit's networks.
struct PolicyGate: Sendable {
    let policy: PolicyService
    let queries: any QueryRepository
    let networks: any UserNetworkRepository

    /// `reference` is the reference data the caller already holds; without it, the current data is read.
    func facts(admission: [QueryRefusalReason], user: User, unit: Organisation, reference: ReferenceData? = nil, subject: SubjectIdentifier,
               purpose: QueryPurpose, at: Date, clientAddress: String) async throws -> PolicyFacts {
        let scopes = Self.scopes(user: user.id, unit: unit.id)
        let used = try await queries.usedToday([scopes.user, scopes.unit], day: CalendarDate(at).description)
        let reference = if let reference { reference } else { try await policy.reference.current() }
        return PolicyFacts(
            admission: admission, subject: subject, purpose: purpose, at: at, clientAddress: clientAddress,
            policy: reference.effectivePolicy(for: unit.id), calendar: reference.calendar,
            queriesTodayByUser: used[scopes.user] ?? 0, queriesTodayByOrganisation: used[scopes.unit] ?? 0, organisationRegion: unit.regionCode,
            allowedNetworks: try await networks.networks(of: user.id) + unit.networks
        )
    }

    /// The counters an admitted query takes a place in. A cap an approval excepted still counts the query, with no
    /// upper bound, so that the day's figures stay true.
    static func caps(user: User.ID, unit: Organisation.ID, policy: EffectivePolicy, at: Date, excepted: Set<PolicyRule>) -> [DailyCap] {
        let scopes = scopes(user: user, unit: unit)
        let day = CalendarDate(at).description
        return [
            DailyCap(scope: scopes.user, day: day, limit: excepted.contains(.dailyCapUser) ? Int(Int64.max) : policy.userDailyCap),
            DailyCap(scope: scopes.unit, day: day, limit: excepted.contains(.dailyCapOrganisation) ? Int(Int64.max) : policy.organisationDailyCap),
        ]
    }

    /// The cap reasons to give when the last place went to a concurrent query between deciding and counting.
    func capReasons(user: User.ID, unit: Organisation.ID, policy: EffectivePolicy, at: Date, excepted: Set<PolicyRule>) async throws -> [QueryRefusalReason] {
        let scopes = Self.scopes(user: user, unit: unit)
        let used = try await queries.usedToday([scopes.user, scopes.unit], day: CalendarDate(at).description)
        var reasons: [QueryRefusalReason] = []
        let userUsed = used[scopes.user] ?? 0, unitUsed = used[scopes.unit] ?? 0
        if !excepted.contains(.dailyCapUser), userUsed >= policy.userDailyCap {
            reasons.append(QueryRefusalReason(code: PolicyRule.dailyCapUser.rawValue, facts: ["used": String(userUsed), "cap": String(policy.userDailyCap)]))
        }
        if !excepted.contains(.dailyCapOrganisation), unitUsed >= policy.organisationDailyCap {
            reasons.append(QueryRefusalReason(code: PolicyRule.dailyCapOrganisation.rawValue,
                                              facts: ["used": String(unitUsed), "cap": String(policy.organisationDailyCap)]))
        }
        return reasons.isEmpty
            ? [QueryRefusalReason(code: PolicyRule.dailyCapUser.rawValue, facts: ["used": String(userUsed), "cap": String(policy.userDailyCap)])]
            : reasons
    }

    static func scopes(user: User.ID, unit: Organisation.ID) -> (user: String, unit: String) {
        ("user:\(user.rawValue)", "organisation:\(unit.rawValue)")
    }
}
