import CreditGateCore
import CreditGateStore
import Foundation

/// The register of related parties (关联人申报, R-21): an administrator records a member of staff's own identifier and
/// the relatives they declared; every query is matched against it, and one about the querier, a relative they
/// declared or a colleague of their unit is refused unless made under a special procedure.
public struct RelatedPartyService: Sendable {
    let parties: any RelatedPartyRepository
    /// Whose accounts the actor administers: the same scope and role ceiling as every other change to an account.
    let administration: AccountAdministration
    let audit: AuditTrail
    let clock: @Sendable () -> Date

    public init(parties: any RelatedPartyRepository, administration: AccountAdministration, audit: AuditTrail, clock: @escaping @Sendable () -> Date) {
        self.parties = parties
        self.administration = administration
        self.audit = audit
        self.clock = clock
    }

    /// What an administrator enters to register one identifier, as text.
    public struct Declaration: Sendable {
        public var relation: String
        public var certificateType: String
        public var certificateNumber: String

        public init(relation: String, certificateType: String, certificateNumber: String) {
            self.relation = relation
            self.certificateType = certificateType
            self.certificateNumber = certificateNumber
        }
    }

    /// How a query's subject, whose keyed hash is `subjectHash`, is related to the querier by the register, when it
    /// is. Only a person can be.
    ///
    /// With the reference data a query is decided on, a subject whose hash is not in the register costs no read;
    /// one that is, is read with its holders' units as they are now (a transfer moves a colleague at once).
    public func match(_ subject: SubjectIdentifier, hashed subjectHash: String, querier: User,
                      reference: ReferenceData? = nil) async throws -> RelatedPartyMatch? {
        guard !subject.type.isCorporate else { return nil }
        if let reference, !reference.relatedPartyHashes.contains(subjectHash) { return nil }
        return RelatedPartyMatch.of(try await parties.holders(ofSubjectHash: subjectHash), querier: querier)
    }

    public func declare(_ declaration: Declaration, for userID: User.ID, by actor: AuthenticatedUser, clientIP: String) async throws -> RelatedParty {
        let person = try await keeper(of: userID, actor)
        let now = clock()
        guard let relation = RelatedParty.Relation(rawValue: declaration.relation.trimmingCharacters(in: .whitespaces)) else {
            throw CreditGateError(.validationFailed, detailKey: "related_party_relation_unknown", cause: "unknown relation")
        }
        let subject = try SubjectInput.identifier(type: declaration.certificateType, number: declaration.certificateNumber, today: now)
        guard !subject.type.isCorporate else {
            throw CreditGateError(.validationFailed, detailKey: "related_party_not_personal", cause: "corporate identifier")
        }
        let hash = audit.subjects.hash(identifierType: subject.type.rawValue, identifier: subject.number)
        let party = RelatedParty(id: .random(), userID: person.id, relation: relation, subjectType: subject.type, subjectHash: hash,
                                 maskedIdentifier: RelatedParty.masked(subject), declaredBy: actor.user.id, declaredAt: now)
        let event = { (outcome: AuditEvent.Outcome, reasons: [String]) in
            AuditEvent(kind: .relatedPartyDeclared, occurredAt: now, actor: .init(actor.user), clientIP: clientIP, subjectHash: hash,
                       outcome: outcome, reasonCodes: reasons,
                       details: ["person": person.id.rawValue, "entry": party.id.rawValue, "relation": relation.rawValue])
        }
        // The entry and its audit entry are durable together; the same identifier twice for one person is refused.
        guard try await audit.record(event(.success, []), with: parties.declaring(party)) != nil else {
            try await audit.record(event(.denied, ["related_party_duplicate"]))
            throw CreditGateError(.conflict, detailKey: "related_party_duplicate", cause: "identifier already registered for the person")
        }
        return party
    }

    public func remove(_ id: RelatedParty.ID, of userID: User.ID, by actor: AuthenticatedUser, clientIP: String) async throws {
        let person = try await keeper(of: userID, actor)
        guard let party = try await parties.party(id), party.userID == person.id else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "related party unknown or another person's")
        }
        let removed = try await audit.record(AuditEvent(
            kind: .relatedPartyRemoved, occurredAt: clock(), actor: .init(actor.user), clientIP: clientIP, subjectHash: party.subjectHash,
            outcome: .success, details: ["person": person.id.rawValue, "entry": id.rawValue, "relation": party.relation.rawValue]
        ), with: parties.removing(id, of: person.id))
        guard removed != nil else {
            // Removed by someone else a moment ago: there is nothing left to remove.
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "related party removed concurrently")
        }
    }

    public func parties(of userID: User.ID, for actor: AuthenticatedUser) async throws -> [RelatedParty] {
        try await parties.parties(of: try await administration.user(userID, for: actor).id)
    }

    /// The person whose entries the actor may change, or a refusal: never one's own, never by a query operator (see
    /// ``RelatedParty/mayBeKept(by:)``), and only of someone the actor administers and holding no role beyond the
    /// actor's grant, as with every other change to an account.
    func keeper(of userID: User.ID, _ actor: AuthenticatedUser) async throws -> User {
        if actor.user.id == userID { throw CreditGateError(.forbidden, detailKey: "account_refusal_self", cause: "own related parties") }
        guard RelatedParty.mayBeKept(by: actor.user.roles) else {
            throw CreditGateError(.forbidden, detailKey: "related_party_keeper_queries", cause: "register changed by a query operator")
        }
        return try await administration.managedUser(userID, by: actor)
    }
}
