import CreditGateCore
import CreditGateStore
import Foundation

/// The what-if simulator (R-23): what the current policy would decide for a query by a given person, about a given
/// subject, at a given moment, from a given address and application. It reads the same facts a real query would
/// — the consents on file, the loan register, today's counters, the person's bound addresses and the unit's
/// networks — and stores nothing but its own audit event.
public struct PolicySimulator: Sendable {
    let users: any UserRepository
    let organisations: any OrganisationRepository
    let consents: any ConsentRepository
    let queries: any QueryRepository
    let gate: PolicyGate
    let loans: LoanRegisterService
    let apps: ClientAppService
    let relatedParties: RelatedPartyService
    let audit: AuditTrail
    let clock: @Sendable () -> Date

    init(users: any UserRepository, organisations: any OrganisationRepository, consents: any ConsentRepository, queries: any QueryRepository, gate: PolicyGate,
         loans: LoanRegisterService, apps: ClientAppService, relatedParties: RelatedPartyService, audit: AuditTrail, clock: @escaping @Sendable () -> Date) {
        self.users = users
        self.organisations = organisations
        self.consents = consents
        self.queries = queries
        self.gate = gate
        self.loans = loans
        self.apps = apps
        self.relatedParties = relatedParties
        self.audit = audit
        self.clock = clock
    }

    /// A question as the simulator's caller asks it, as text.
    public struct Question: Sendable {
        public var employeeID: String
        public var certificateType: String
        public var certificateNumber: String
        public var purpose: String
        public var at: String
        public var ip: String
        public var appID: String?

        public init(employeeID: String, certificateType: String, certificateNumber: String, purpose: String, at: String, ip: String, appID: String?) {
            self.employeeID = employeeID
            self.certificateType = certificateType
            self.certificateNumber = certificateNumber
            self.purpose = purpose
            self.at = at
            self.ip = ip
            self.appID = appID
        }
    }

    public func simulate(_ question: Question, by actor: AuthenticatedUser, clientIP: String) async throws -> PolicyDecision {
        guard let employeeID = EmployeeID(question.employeeID), let user = try await users.find(employeeID: employeeID) else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "simulated employee unknown")
        }
        let tree = OrganisationTree(try await organisations.all())
        // Only about people the actor may see; anyone else is not found.
        guard AdministrativeScope.of(roles: actor.user.roles, organisation: actor.user.organisationID).contains(user.organisationID, in: tree),
              let unit = tree.units[user.organisationID]
        else { throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "simulated employee outside scope") }
        guard let at = Self.instant(question.at) else {
            throw CreditGateError(.validationFailed, detailKey: "simulate_time_format", cause: "time not RFC 3339 with an offset")
        }
        let subject = try SubjectInput.identifier(type: question.certificateType, number: question.certificateNumber, today: at)
        let subjectHash = audit.subjects.hash(identifierType: subject.type.rawValue, identifier: subject.number)
        guard let purpose = QueryPurpose(rawValue: question.purpose.trimmingCharacters(in: .whitespaces)) else {
            throw CreditGateError(.validationFailed, detailKey: "query_purpose_unknown", cause: "unknown purpose code")
        }
        let appRefusal: ClientAppRefusal? = if let appID = question.appID?.trimmingCharacters(in: .whitespaces), !appID.isEmpty {
            try await apps.refusalIgnoringSecret(appID: appID, unit: user.organisationID)
        } else {
            nil
        }
        // The consent a real query would cite: one on file in the person's unit or below that covers the query, else
        // the newest one with its problems, else none.
        let candidates = try await consents.consents(in: tree.unitIDs(under: user.organisationID), subject: subject, limit: 50)
        let consent = candidates.first { $0.problems(covering: subject, purpose: purpose, at: at).isEmpty } ?? candidates.first
        let admission = QueryAdmission.decide(QueryAdmissionFacts(
            user: user, subject: subject, purpose: purpose, appRefusal: appRefusal, consent: consent,
            hasActiveLoan: purpose.requiresActiveLoan ? try await loans.hasActiveLoan(subject, at: at) : false,
            relatedParty: try await relatedParties.match(subject, hashed: subjectHash, querier: user), at: at
        ))
        let decision = PolicyEngine.decide(try await gate.facts(
            admission: admission.reasons, user: user, unit: unit, subject: subject, purpose: purpose, at: at,
            clientAddress: question.ip.trimmingCharacters(in: .whitespaces)
        ))
        try await audit.record(AuditEvent(
            kind: .policySimulated, occurredAt: clock(), actor: .init(actor.user), clientIP: clientIP,
            subjectHash: subjectHash, purposeCode: purpose.code, outcome: .success, reasonCodes: decision.reasons.map(\.code),
            details: ["about": user.id.rawValue, "at": question.at, "decision": decision.code]
        ))
        return decision
    }

    /// A day replayed under a proposed policy.
    public struct Replay: Sendable {
        public let unit: Organisation
        public let day: CalendarDate
        public let outcomes: [PolicyReplay.Outcome]
        /// The day had more queries than one replay takes; only the first ones were replayed.
        public let truncated: Bool
    }

    /// The most queries of one day a replay takes.
    static let replayLimit = 20_000

    /// Decides a past day's queries of a unit and the units below it again, as if `proposed` had been the unit's own
    /// settings (see ``PolicyReplay``). Stores nothing but its audit event.
    public func replay(unit unitID: Organisation.ID, day dayText: String, proposed: PolicySettings, by actor: AuthenticatedUser,
                       clientIP: String) async throws -> Replay {
        let tree = OrganisationTree(try await organisations.all())
        guard AdministrativeScope.of(roles: actor.user.roles, organisation: actor.user.organisationID).contains(unitID, in: tree),
              let unit = tree.units[unitID]
        else { throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "replay unit outside scope") }
        guard let day = CalendarDate(dayText.trimmingCharacters(in: .whitespaces)), day <= CalendarDate(clock()) else {
            throw CreditGateError(.validationFailed, detailKey: "replay_day_invalid", cause: "replay day not a past date")
        }
        if let problem = proposed.problems.first {
            throw CreditGateError(.validationFailed, detailKey: problem, cause: "proposed policy invalid")
        }
        let units = tree.unitIDs(under: unitID)
        let recorded = try await queries.queries(in: units, from: day.start, until: day.start.addingTimeInterval(86_400),
                                                 limit: Self.replayLimit + 1)
        var networks: [User.ID: [NetworkCIDR]] = [:]
        for user in Set(recorded.map(\.userID)) {
            networks[user] = try await gate.networks.networks(of: user)
        }
        for query in recorded {
            networks[query.userID, default: []] += tree.units[query.organisationID]?.networks ?? []
        }
        let context = PolicyReplay.Context(
            policies: try await gate.policy.proposedPolicies(under: unitID, proposed: proposed),
            regions: Dictionary(uniqueKeysWithValues: units.compactMap { id in tree.units[id].map { (id, $0.regionCode) } }),
            networks: networks.mapValues { Array(Set($0.map(\.description))).sorted().compactMap(NetworkCIDR.init) },
            calendar: try await gate.policy.workingCalendar()
        )
        let outcomes = PolicyReplay.replay(recorded.prefix(Self.replayLimit).map(PolicyReplay.Query.init), in: context)
        try await audit.record(AuditEvent(
            kind: .policySimulated, occurredAt: clock(), actor: .init(actor.user), clientIP: clientIP, outcome: .success,
            details: ["mode": "replay", "unit": unitID.rawValue, "day": day.description, "queries": String(outcomes.count),
                      "changed": String(outcomes.filter(\.changed).count), "proposed": PolicyService.json(proposed)]
        ))
        return Replay(unit: unit, day: day, outcomes: outcomes, truncated: recorded.count > Self.replayLimit)
    }

    /// An RFC 3339 instant that states its offset (`2026-11-24T09:30:00+08:00` or `…Z`).
    static func instant(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.count <= 40, trimmed.contains("T"), trimmed.hasSuffix("Z") || trimmed.range(of: #"[+-]\d{2}:\d{2}$"#, options: .regularExpression) != nil
        else { return nil }
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: trimmed) ?? withFraction.date(from: trimmed)
    }
}
