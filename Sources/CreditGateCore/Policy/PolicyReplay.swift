import Foundation

/// A past day's queries decided again under a proposed policy ("with a cap of 30, these 12 queries of yesterday
/// would have needed approval"), so that a compliance team sees what a change would do before making it.
///
/// The day is replayed as it happened: the same queries, in the same order, from the same addresses. Each query
/// that reached the bureau counts towards the day's caps, as it did then; admission's refusals (consent, account,
/// application) stand as they were; the policy rules are decided afresh with the proposed settings, today's
/// calendar and today's networks.
public enum PolicyReplay {
    /// One query of the day, as recorded.
    public struct Query: Sendable {
        public let id: CreditQuery.ID
        public let userID: User.ID
        public let organisationID: Organisation.ID
        public let subject: SubjectIdentifier
        public let purpose: QueryPurpose
        public let at: Date
        public let clientAddress: String
        public let status: CreditQuery.Status
        public let reasons: [QueryRefusalReason]
        /// Whether it was made under an approved exception.
        public let excepted: Bool
        /// What the engine decided then, when the register kept it.
        public let decided: String?

        public init(_ query: CreditQuery) {
            self.id = query.id
            self.userID = query.userID
            self.organisationID = query.organisationID
            self.subject = query.subject
            self.purpose = query.purpose
            self.at = query.requestedAt
            self.clientAddress = query.clientIP
            self.status = query.status
            self.reasons = query.reasons
            self.excepted = query.exceptionID != nil
            self.decided = query.policyDecision
        }

        /// What happened, in the policy engine's terms: as the engine recorded it, or — for a query recorded before it
        /// did — worked out from the reasons.
        public var happened: String {
            if let decided { return decided }
            if status != .refused { return excepted ? "approval_required" : "allow" }
            return reasons.contains { PolicyRule(rawValue: $0.code) == nil || PolicyRule(rawValue: $0.code)?.mayBeExcepted == false }
                ? "block" : "approval_required"
        }

        /// Admission's refusals as recorded: everything that is not a policy rule nor about an approval.
        var admission: [QueryRefusalReason] {
            reasons.filter { PolicyRule(rawValue: $0.code) == nil && !$0.code.hasPrefix("exception_") }
        }
    }

    /// What the proposed policy would have decided for one query.
    public struct Outcome: Sendable {
        public let query: Query
        public let decision: PolicyDecision

        public var changed: Bool { decision.code != query.happened }
    }

    /// The facts of the day that do not come from the queries themselves.
    public struct Context: Sendable {
        /// The policy in force for each unit under the proposal.
        public let policies: [Organisation.ID: EffectivePolicy]
        public let regions: [Organisation.ID: RegionCode]
        /// Each person's bound addresses together with their unit's networks.
        public let networks: [User.ID: [NetworkCIDR]]
        public let calendar: WorkingCalendar

        public init(policies: [Organisation.ID: EffectivePolicy], regions: [Organisation.ID: RegionCode], networks: [User.ID: [NetworkCIDR]],
                    calendar: WorkingCalendar) {
            self.policies = policies
            self.regions = regions
            self.networks = networks
            self.calendar = calendar
        }
    }

    public static func replay(_ queries: [Query], in context: Context) -> [Outcome] {
        var usedByUser: [User.ID: Int] = [:]
        var usedByUnit: [Organisation.ID: Int] = [:]
        return queries.sorted { ($0.at, $0.id.rawValue) < ($1.at, $1.id.rawValue) }.compactMap { query in
            guard let policy = context.policies[query.organisationID], let region = context.regions[query.organisationID] else { return nil }
            let decision = PolicyEngine.decide(PolicyFacts(
                admission: query.admission, subject: query.subject, purpose: query.purpose, at: query.at, clientAddress: query.clientAddress,
                policy: policy, calendar: context.calendar, queriesTodayByUser: usedByUser[query.userID, default: 0],
                queriesTodayByOrganisation: usedByUnit[query.organisationID, default: 0], organisationRegion: region,
                allowedNetworks: context.networks[query.userID] ?? []
            ))
            if query.status != .refused {
                usedByUser[query.userID, default: 0] += 1
                usedByUnit[query.organisationID, default: 0] += 1
            }
            return Outcome(query: query, decision: decision)
        }
    }
}
