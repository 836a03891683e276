import CreditGateCore
import CreditGateStore
import Foundation

/// The state-organ and internal-staff procedure: a querier opens a case, a supervisor with the approver role
/// in the querier's unit or above decides it, and the approved case allows one query, recorded as made under it.
public struct SpecialQueryCaseService: Sendable {
    let cases: any SpecialQueryCaseRepository
    let organisations: any OrganisationRepository
    let audit: AuditTrail
    /// How long an approval stays usable.
    let validity: TimeInterval
    let clock: @Sendable () -> Date

    public init(cases: any SpecialQueryCaseRepository, organisations: any OrganisationRepository, audit: AuditTrail, validity: TimeInterval = 7 * 86_400,
                clock: @escaping @Sendable () -> Date) {
        self.cases = cases
        self.organisations = organisations
        self.audit = audit
        self.validity = validity
        self.clock = clock
    }

    /// What a querier enters to open a case, as text.
    public struct Opening: Sendable {
        public var procedure: String
        public var certificateType: String
        public var certificateNumber: String
        public var purpose: String
        public var authority: String
        public var documentNumber: String
        public var grounds: String

        public init(procedure: String, certificateType: String, certificateNumber: String, purpose: String, authority: String,
                    documentNumber: String, grounds: String) {
            self.procedure = procedure
            self.certificateType = certificateType
            self.certificateNumber = certificateNumber
            self.purpose = purpose
            self.authority = authority
            self.documentNumber = documentNumber
            self.grounds = grounds
        }
    }

    public func open(_ opening: Opening, by actor: AuthenticatedUser, clientIP: String) async throws -> SpecialQueryCase {
        let now = clock()
        guard let procedure = SpecialQueryCase.Procedure(rawValue: opening.procedure) else {
            throw CreditGateError(.validationFailed, detailKey: "special_case_procedure_unknown", cause: "unknown procedure")
        }
        let subject = try SubjectInput.identifier(type: opening.certificateType, number: opening.certificateNumber, today: now)
        guard let purpose = QueryPurpose(rawValue: opening.purpose.trimmingCharacters(in: .whitespaces)) else {
            throw CreditGateError(.validationFailed, detailKey: "query_purpose_unknown", cause: "unknown purpose code")
        }
        if let problem = SpecialQueryCase.problems(procedure: procedure, subject: subject, purpose: purpose, authority: opening.authority,
                                                   documentNumber: opening.documentNumber, grounds: opening.grounds).first {
            throw CreditGateError(.validationFailed, detailKey: problem, cause: "special case refused: \(problem)")
        }
        let specialCase = SpecialQueryCase(
            id: .random(), procedure: procedure, subject: subject, purpose: purpose, requestedBy: actor.user.id,
            organisationID: actor.user.organisationID, authority: opening.authority.trimmingCharacters(in: .whitespacesAndNewlines),
            documentNumber: opening.documentNumber.trimmingCharacters(in: .whitespacesAndNewlines),
            grounds: opening.grounds.trimmingCharacters(in: .whitespacesAndNewlines), requestedAt: now
        )
        // The case and its entry are durable together: no entry for a case never stored, no case unlogged.
        try await audit.record(AuditEvent(
            kind: .specialCaseOpened, occurredAt: now, actor: .init(actor.user), clientIP: clientIP,
            subjectHash: audit.subjects.hash(identifierType: subject.type.rawValue, identifier: subject.number), purposeCode: purpose.code,
            outcome: .success, details: ["case": specialCase.id.rawValue, "procedure": procedure.rawValue, "document": specialCase.documentNumber]
        ), alwaysWith: cases.creating(specialCase))
        return specialCase
    }

    /// Decides a pending case. Outside the approver's unit and the units below it a case is not found.
    public func decide(_ id: SpecialQueryCase.ID, approve: Bool, note: String, by actor: AuthenticatedUser, clientIP: String) async throws -> SpecialQueryCase {
        let tree = OrganisationTree(try await organisations.all())
        guard var specialCase = try await cases.find(id), visible(specialCase, to: actor, tree: tree) else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "special case outside scope or unknown")
        }
        let now = clock()
        let covers = tree.isWithin(specialCase.organisationID, subtreeOf: actor.user.organisationID)
        let event = { (outcome: AuditEvent.Outcome, reasons: [String]) in
            AuditEvent(kind: .specialCaseDecided, occurredAt: now, actor: .init(actor.user), clientIP: clientIP,
                       subjectHash: self.audit.subjects.hash(identifierType: specialCase.subject.type.rawValue, identifier: specialCase.subject.number),
                       purposeCode: specialCase.purpose.code, outcome: outcome, reasonCodes: reasons,
                       details: ["case": id.rawValue, "decision": approve ? "approve" : "refuse"])
        }
        if let refusal = specialCase.decide(approve: approve, by: actor.user.id, approverRoles: actor.user.roles, approverUnitCovers: covers,
                                            note: note, at: now, validity: validity) {
            try await audit.record(event(.denied, [refusal.rawValue]))
            throw CreditGateError(refusal == .notPending ? .conflict : refusal == .noteRequired ? .validationFailed : .forbidden,
                                  detailKey: refusal.rawValue, cause: "special case decision refused")
        }
        // The decision and its entry are durable together. When another approver decided first the write declines,
        // nothing is written with it, and the log says this decision was refused, never that it was made.
        guard try await audit.record(event(.success, []), with: cases.deciding(specialCase)) != nil else {
            try await audit.record(event(.denied, [SpecialQueryCaseRefusal.notPending.rawValue]))
            throw CreditGateError(.conflict, detailKey: SpecialQueryCaseRefusal.notPending.rawValue, cause: "special case decided concurrently")
        }
        return specialCase
    }

    /// The actor's own cases, and, for an approver or a compliance auditor, the cases they may see.
    public func cases(for actor: AuthenticatedUser) async throws -> (own: [SpecialQueryCase], toReview: [SpecialQueryCase]) {
        let own = try await cases.cases(requestedBy: actor.user.id, limit: 100)
        guard actor.user.roles.contains(.approver) || actor.user.roles.contains(.complianceAuditor) else { return (own, []) }
        let tree = OrganisationTree(try await organisations.all())
        let units: Set<Organisation.ID>? = actor.user.roles.contains(.complianceAuditor)
            ? nil : tree.unitIDs(under: actor.user.organisationID)
        return (own, try await cases.cases(in: units, limit: 200).filter { $0.requestedBy != actor.user.id })
    }

    func visible(_ specialCase: SpecialQueryCase, to actor: AuthenticatedUser, tree: OrganisationTree) -> Bool {
        specialCase.requestedBy == actor.user.id || actor.user.roles.contains(.complianceAuditor)
            || (actor.user.roles.contains(.approver) && tree.isWithin(specialCase.organisationID, subtreeOf: actor.user.organisationID))
    }

    func find(_ id: SpecialQueryCase.ID) async throws -> SpecialQueryCase? {
        try await cases.find(id)
    }

    func use(_ id: SpecialQueryCase.ID, by query: CreditQuery.ID) async throws -> Bool {
        try await cases.use(id, by: query)
    }

    func release(_ id: SpecialQueryCase.ID, from query: CreditQuery.ID) async throws {
        try await cases.release(id, from: query)
    }
}
