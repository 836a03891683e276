import CreditGateCore
import CreditGateStore
import Foundation

/// 授权查询: a querier asks for a query the policy routed to approval to be excepted, with a reason; a
/// supervisor with the approver role in the querier's unit or above approves or refuses it, never their own; an
/// approval allows exactly that query once, for a short time. Everything is in the audit log.
public struct PolicyExceptionService: Sendable {
    let exceptions: any PolicyExceptionRepository
    let queries: QueryService
    let users: any UserRepository
    let organisations: any OrganisationRepository
    let audit: AuditTrail
    /// How long an approval stays usable (30 minutes by default).
    let validity: TimeInterval
    let clock: @Sendable () -> Date

    public init(exceptions: any PolicyExceptionRepository, queries: QueryService, users: any UserRepository, organisations: any OrganisationRepository,
                audit: AuditTrail, validity: TimeInterval, clock: @escaping @Sendable () -> Date) {
        self.exceptions = exceptions
        self.queries = queries
        self.users = users
        self.organisations = organisations
        self.audit = audit
        self.validity = validity
        self.clock = clock
    }

    /// Requests an exception for the query described. The policy is asked again now: only a query that needs
    /// approval can have one, and the request records the reasons as they fired.
    public func request(_ query: QueryService.Request, justification: String, by actor: AuthenticatedUser, clientIP: String) async throws -> PolicyException {
        let now = clock()
        let evaluation = try await queries.evaluate(query, by: actor, clientIP: clientIP, at: now)
        let subjectHash = audit.subjects.hash(identifierType: evaluation.subject.type.rawValue, identifier: evaluation.subject.number)
        if let problem = PolicyException.problem(requesting: evaluation.decision, justification: justification) {
            try await audit.record(AuditEvent(
                kind: .exceptionRequested, occurredAt: now, actor: .init(actor.user), clientIP: clientIP, subjectHash: subjectHash,
                consentID: evaluation.consent?.id.rawValue, purposeCode: evaluation.purpose.code, outcome: .denied,
                reasonCodes: [problem] + evaluation.decision.reasons.map(\.code), details: ["decision": evaluation.decision.code]
            ))
            throw CreditGateError(problem == "exception_justification_required" ? .validationFailed : .conflict, detailKey: problem,
                                  cause: "exception request refused: \(problem)",
                                  extensions: ["decision": evaluation.decision.code, "reasons": evaluation.decision.reasons.map(\.code).joined(separator: ",")])
        }
        let colleagues = evaluation.subject.type.isCorporate ? [] : try await users.all().filter {
            $0.organisationID == actor.user.organisationID && $0.id != actor.user.id
        }
        let subjectIsColleague = colleagues.contains { $0.displayName == evaluation.subjectName }
        let exception = PolicyException(
            id: .random(), requestedBy: actor.user.id, organisationID: actor.user.organisationID, subject: evaluation.subject,
            subjectName: evaluation.subjectName, purpose: evaluation.purpose, consentID: evaluation.consent?.id,
            reasons: evaluation.decision.reasons.map(\.reason),
            justification: String(justification.trimmingCharacters(in: .whitespacesAndNewlines).prefix(PolicyException.justificationLength.upperBound)),
            risks: PolicyException.risks(of: evaluation.decision.reasons, subjectIsColleague: subjectIsColleague), clientIP: clientIP,
            requestedAt: now, lapsesAt: Self.endOfDay(now)
        )
        try await audit.record(AuditEvent(
            kind: .exceptionRequested, occurredAt: now, actor: .init(actor.user), clientIP: clientIP, subjectHash: subjectHash,
            consentID: exception.consentID?.rawValue, purposeCode: exception.purpose.code, outcome: .success,
            reasonCodes: exception.reasons.map(\.code),
            details: ["exception": exception.id.rawValue, "risks": exception.risks.map(\.rawValue).joined(separator: ","),
                      "justification": exception.justification]
        ))
        try await exceptions.create(exception)
        return exception
    }

    /// Decides a pending request. Outside the approver's unit and the units below it a request is not found.
    public func decide(_ id: PolicyException.ID, approve: Bool, note: String, onSite: String, by actor: AuthenticatedUser,
                       clientIP: String) async throws -> PolicyException {
        let tree = OrganisationTree(try await organisations.all())
        guard var exception = try await exceptions.find(id), visible(exception, to: actor, tree: tree) else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "exception outside scope or unknown")
        }
        let now = clock()
        let covers = tree.isWithin(exception.organisationID, subtreeOf: actor.user.organisationID)
        let subjectHash = audit.subjects.hash(identifierType: exception.subject.type.rawValue, identifier: exception.subject.number)
        let event = { (outcome: AuditEvent.Outcome, reasons: [String], details: [String: String]) in
            AuditEvent(kind: .exceptionDecided, occurredAt: now, actor: .init(actor.user), clientIP: clientIP, subjectHash: subjectHash,
                       consentID: exception.consentID?.rawValue, purposeCode: exception.purpose.code, outcome: outcome, reasonCodes: reasons,
                       details: details.merging(["exception": id.rawValue, "decision": approve ? "approve" : "refuse"]) { $1 })
        }
        if let refusal = exception.decide(approve: approve, by: actor.user.id, approverRoles: actor.user.roles, approverUnitCovers: covers,
                                          note: note, onSite: onSite, at: now, validity: validity) {
            try await audit.record(event(.denied, [refusal.rawValue], [:]))
            let status: ProblemKind = switch refusal {
            case .notPending: .conflict
            case .noteRequired, .onSiteRequired: .validationFailed
            case .ownRequest, .notThisApprover: .forbidden
            }
            throw CreditGateError(status, detailKey: refusal.rawValue, cause: "exception decision refused")
        }
        try await audit.record(event(.success, [], [
            "on_site": exception.onSiteVerification ?? "", "note": exception.decisionNote ?? "",
            "expires_at": exception.expiresAt.map { ISO8601DateFormatter().string(from: $0) } ?? "",
        ]))
        guard try await exceptions.decide(exception) else {
            try await audit.record(event(.denied, [PolicyExceptionRefusal.notPending.rawValue], [:]))
            throw CreditGateError(.conflict, detailKey: PolicyExceptionRefusal.notPending.rawValue, cause: "exception decided concurrently")
        }
        return exception
    }

    /// One request the actor may see.
    public func exception(_ id: PolicyException.ID, for actor: AuthenticatedUser) async throws -> PolicyException {
        let tree = OrganisationTree(try await organisations.all())
        guard let exception = try await exceptions.find(id), visible(exception, to: actor, tree: tree) else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "exception outside scope or unknown")
        }
        return exception
    }

    /// The actor's own requests, and, for an approver or a compliance auditor, those they may see.
    public func exceptions(for actor: AuthenticatedUser) async throws -> (own: [PolicyException], toReview: [PolicyException]) {
        let own = try await exceptions.exceptions(requestedBy: actor.user.id, limit: 100)
        guard let units = try await reviewUnits(of: actor) else { return (own, []) }
        return (own, try await exceptions.exceptions(in: units.all ? nil : units.ids, limit: 200).filter { $0.requestedBy != actor.user.id })
    }

    /// "Name (employee ID)" of each requester, for the approver's queue.
    public func requesterNames(of requests: [PolicyException]) async throws -> [User.ID: String] {
        let wanted = Set(requests.map(\.requestedBy))
        guard !wanted.isEmpty else { return [:] }
        return Dictionary(try await users.all().filter { wanted.contains($0.id) }.map { ($0.id, "\($0.displayName) (\($0.employeeID))") },
                          uniquingKeysWith: { first, _ in first })
    }

    /// Changes whenever a request the actor sees is made or changes state: what the live queue watches.
    public func version(for actor: AuthenticatedUser) async throws -> String {
        let units = try await reviewUnits(of: actor)
        return try await exceptions.version(requestedBy: actor.user.id, orIn: units.map { $0.all ? nil : $0.ids } ?? [])
    }

    /// The units whose requests the actor reviews: an approver's own unit and those below it, every unit for a
    /// compliance auditor (to read), none for anyone else.
    func reviewUnits(of actor: AuthenticatedUser) async throws -> (all: Bool, ids: Set<Organisation.ID>)? {
        if actor.user.roles.contains(.complianceAuditor) { return (true, []) }
        guard actor.user.roles.contains(.approver) else { return nil }
        return (false, OrganisationTree(try await organisations.all()).unitIDs(under: actor.user.organisationID))
    }

    func visible(_ exception: PolicyException, to actor: AuthenticatedUser, tree: OrganisationTree) -> Bool {
        exception.requestedBy == actor.user.id || actor.user.roles.contains(.complianceAuditor)
            || (actor.user.roles.contains(.approver) && tree.isWithin(exception.organisationID, subtreeOf: actor.user.organisationID))
    }

    /// Midnight at the end of the instant's day in China Standard Time.
    static func endOfDay(_ instant: Date) -> Date {
        Date(timeIntervalSince1970: instant.timeIntervalSince1970.rounded(.down) - TimeInterval(CalendarDate.secondsIntoDay(instant)) + 86_400)
    }
}
