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

    /// `reference` is the reference data the caller already holds; without it, the current data is read. Without
    /// `countingToday` the facts say no query was made today yet: for a query that is then counted against its caps
    /// in the transaction that records it, which is where a cap holds (see ``recounted(_:user:unit:)``).
    func facts(admission: [QueryRefusalReason], user: User, unit: Organisation, reference: ReferenceData? = nil, subject: SubjectIdentifier,
               purpose: QueryPurpose, at: Date, clientAddress: String, countingToday: Bool = true) async throws -> PolicyFacts {
        let reference = if let reference { reference } else { try await policy.reference.current() }
        let facts = PolicyFacts(
            admission: admission, subject: subject, purpose: purpose, at: at, clientAddress: clientAddress,
            policy: reference.effectivePolicy(for: unit.id), calendar: reference.calendar,
            queriesTodayByUser: 0, queriesTodayByOrganisation: 0, organisationRegion: unit.regionCode,
            allowedNetworks: (reference.userNetworks[user.id] ?? []) + unit.networks
        )
        return countingToday ? try await recounted(facts, user: user.id, unit: unit.id) : facts
    }

    /// The same facts with today's counters as they stand now.
    func recounted(_ facts: PolicyFacts, user: User.ID, unit: Organisation.ID) async throws -> PolicyFacts {
        let scopes = Self.scopes(user: user, unit: unit)
        let used = try await queries.usedToday([scopes.user, scopes.unit], day: CalendarDate(facts.at).description)
        var facts = facts
        facts.queriesTodayByUser = used[scopes.user] ?? 0
        facts.queriesTodayByOrganisation = used[scopes.unit] ?? 0
        return facts
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

    static func scopes(user: User.ID, unit: Organisation.ID) -> (user: String, unit: String) {
        ("user:\(user.rawValue)", "organisation:\(unit.rawValue)")
    }
}
