import CreditGateCore
import Crypto
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
        let subjectHash = evaluation.subjectHash
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
        // The querier themself, or a colleague of the unit, by the name typed or the name on the consent.
        let names = [evaluation.subjectName] + (evaluation.consent.map { [$0.subjectName] } ?? [])
        let staff = evaluation.subject.type.isCorporate ? [] : try await users.all()
        let subjectIsColleague = staff.contains { user in
            user.organisationID == actor.user.organisationID && names.contains { PolicyException.sameName($0, user.displayName) }
        }
        let exception = PolicyException(
            id: .random(), requestedBy: actor.user.id, organisationID: actor.user.organisationID, subject: evaluation.subject,
            subjectName: evaluation.subjectName, purpose: evaluation.purpose, consentID: evaluation.consent?.id,
            reasons: evaluation.decision.reasons.map(\.reason),
            justification: String(justification.trimmingCharacters(in: .whitespacesAndNewlines).prefix(PolicyException.justificationLength.upperBound)),
            risks: PolicyException.risks(of: evaluation.decision.reasons, subjectIsColleague: subjectIsColleague), clientIP: clientIP,
            requestedAt: now, lapsesAt: Self.endOfDay(now)
        )
        // The request and its entry are durable together: no entry for a request never stored, no request unlogged.
        try await audit.record(AuditEvent(
            kind: .exceptionRequested, occurredAt: now, actor: .init(actor.user), clientIP: clientIP, subjectHash: subjectHash,
            consentID: exception.consentID?.rawValue, purposeCode: exception.purpose.code, outcome: .success,
            reasonCodes: exception.reasons.map(\.code),
            details: ["exception": exception.id.rawValue, "risks": exception.risks.map(\.rawValue).joined(separator: ","),
                      "justification_sha256": Self.digest(exception.justification)]
        ), alwaysWith: exceptions.creating(exception))
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
        // The decision and its entry are durable together. When another approver decided first the write declines,
        // nothing is written with it, and the log says this decision was refused, never that it was made.
        let decided = try await audit.record(event(.success, [], [
            "on_site_sha256": exception.onSiteVerification.map(Self.digest) ?? "", "note_sha256": exception.decisionNote.map(Self.digest) ?? "",
            "expires_at": exception.expiresAt.map { ISO8601DateFormatter().string(from: $0) } ?? "",
        ]), with: exceptions.deciding(exception))
        guard decided != nil else {
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

    /// The actor's own requests, and, for an approver or a compliance auditor, those they may see: every request
    /// still waiting, however old, and the latest decided ones.
    public func exceptions(for actor: AuthenticatedUser) async throws -> (own: [PolicyException], toReview: [PolicyException]) {
        let own = try await exceptions.exceptions(requestedBy: actor.user.id, limit: 100)
        guard let units = try await reviewUnits(of: actor) else { return (own, []) }
        let scope = units.all ? nil : units.ids
        let waiting = try await exceptions.pending(in: scope, at: clock(), limit: 1000)
        let waitingIDs = Set(waiting.map(\.id))
        let recent = try await exceptions.exceptions(in: scope, limit: 200).filter { !waitingIDs.contains($0.id) }
        return (own, (waiting + recent).filter { $0.requestedBy != actor.user.id })
    }

    /// "Name (employee ID)" of each requester, for the approver's queue.
    public func requesterNames(of requests: [PolicyException]) async throws -> [User.ID: String] {
        let wanted = Set(requests.map(\.requestedBy))
        guard !wanted.isEmpty else { return [:] }
        return Dictionary(try await users.all().filter { wanted.contains($0.id) }.map { ($0.id, "\($0.displayName) (\($0.employeeID))") },
                          uniquingKeysWith: { first, _ in first })
    }

    /// What the live queue watches for one viewer: the scope is worked out once, each look is one query.
    public struct Watch: Sendable {
        let exceptions: any PolicyExceptionRepository
        let user: User.ID
        let units: Set<Organisation.ID>?
        let clock: @Sendable () -> Date

        /// Changes whenever a request the viewer sees is made, changes state, lapses or expires.
        public func version() async throws -> String {
            try await exceptions.version(requestedBy: user, orIn: units, at: clock())
        }
    }

    public func watch(for actor: AuthenticatedUser) async throws -> Watch {
        let units = try await reviewUnits(of: actor)
        return Watch(exceptions: exceptions, user: actor.user.id, units: units.map { $0.all ? nil : $0.ids } ?? [], clock: clock)
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

    /// Free text stays in the register of requests, where it can be erased with the record; the append-only log
    /// keeps only its digest, since people type identifiers into notes.
    static func digest(_ text: String) -> String {
        Hex.encode(SHA256.hash(data: Data(text.utf8)))
    }

    /// A request made from a query the console held for approval: the query's own subject, purpose and consent, so
    /// that the page never has to carry the identifier back.
    public func request(fromHeld queryID: CreditQuery.ID, justification: String, by actor: AuthenticatedUser, clientIP: String) async throws -> PolicyException {
        guard let held = try await queries.queries.query(queryID), held.userID == actor.user.id, held.status == .refused else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "held query unknown or another user's")
        }
        return try await request(QueryService.Request(
            certificateType: held.subject.type.rawValue, certificateNumber: held.subject.number, subjectName: held.subjectName,
            purpose: held.purpose.code, consentID: held.consentID?.rawValue, channel: .console
        ), justification: justification, by: actor, clientIP: clientIP)
    }

    /// Midnight at the end of the instant's day in China Standard Time.
    static func endOfDay(_ instant: Date) -> Date {
        Date(timeIntervalSince1970: instant.timeIntervalSince1970.rounded(.down) - TimeInterval(CalendarDate.secondsIntoDay(instant)) + 86_400)
    }
}
