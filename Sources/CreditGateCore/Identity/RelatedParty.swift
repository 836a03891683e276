import Foundation

/// A person a member of staff may not look up through the ordinary route: themself, or a relative they
/// declared (关联人申报). A colleague of the same unit is found through the colleague's own entry.
///
/// The register keeps no identity number: only its keyed hash, made as the audit log makes a subject's, so that a
/// query's subject is matched without the bank holding its staff's and their families' numbers once more, and the
/// number masked for the person who keeps the register.
public struct RelatedParty: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<RelatedParty>

    public enum Relation: String, CaseIterable, Codable, Sendable {
        /// The member of staff themself (本人).
        case own = "self"
        case spouse
        case parent
        case child
        case sibling
        /// Any other close relative declared (其他近亲属).
        case otherRelative = "other_relative"

        /// The catalogue key of the relation's name in the register: 配偶 / Spouse.
        public var labelKey: String { "related_party_label_\(rawValue)" }
    }

    public let id: ID
    /// The member of staff the entry belongs to.
    public let userID: User.ID
    public let relation: Relation
    public let subjectType: CertificateType
    /// The keyed hash of the identifier (see ``SubjectHasher``).
    public let subjectHash: String
    public let maskedIdentifier: String
    public let declaredBy: User.ID
    public let declaredAt: Date

    public init(id: ID, userID: User.ID, relation: Relation, subjectType: CertificateType, subjectHash: String, maskedIdentifier: String,
                declaredBy: User.ID, declaredAt: Date) {
        self.id = id
        self.userID = userID
        self.relation = relation
        self.subjectType = subjectType
        self.subjectHash = subjectHash
        self.maskedIdentifier = maskedIdentifier
        self.declaredBy = declaredBy
        self.declaredAt = declaredAt
    }

    /// Whether someone holding `roles` may change the register. It stops queries, so whoever could change it must not
    /// profit from the change: a query operator could remove a colleague's own entry and then look the colleague up.
    /// The role is enough to be refused, query rights granted or not.
    public static func mayBeKept(by roles: Set<Role>) -> Bool {
        !roles.contains(.queryOperator)
    }

    /// The identifier as the register shows it: a resident ID's first three and last four characters (as everywhere
    /// else), any other document's first and last two, so that a short passport number is not all but shown.
    public static func masked(_ subject: SubjectIdentifier) -> String {
        subject.type == .residentID ? Masking.identifier(subject.number) : Masking.identifier(subject.number, keepStart: 1, keepEnd: 2)
    }
}

/// An entry of the register whose identifier is a query's subject, with the unit of the person it belongs to.
public struct RelatedPartyHolder: Sendable, Equatable {
    public let userID: User.ID
    public let organisationID: Organisation.ID
    public let relation: RelatedParty.Relation

    public init(userID: User.ID, organisationID: Organisation.ID, relation: RelatedParty.Relation) {
        self.userID = userID
        self.organisationID = organisationID
        self.relation = relation
    }
}

/// How a query's subject is related to the person querying, when it is: the querier's own report, a relative the
/// querier declared, or a colleague of the querier's unit.
public enum RelatedPartyMatch: Sendable, Equatable {
    case own
    case relative(RelatedParty.Relation)
    case colleague

    /// The closest relation among the register's entries for the subject: one's own report before a relative's,
    /// a relative's before a colleague's.
    public static func of(_ holders: [RelatedPartyHolder], querier: User) -> RelatedPartyMatch? {
        let own = holders.filter { $0.userID == querier.id }
        if own.contains(where: { $0.relation == .own }) { return .own }
        if let relative = own.first { return .relative(relative.relation) }
        if holders.contains(where: { $0.relation == .own && $0.organisationID == querier.organisationID }) { return .colleague }
        return nil
    }

    /// The catalogue key of the relation as the refusal says it: 您本人 / yourself.
    public var nameKey: String { "related_party_relation_\(code)" }

    /// The relation as the refusal's facts name it: `self`, a relation, or `colleague`.
    public var code: String {
        switch self {
        case .own: RelatedParty.Relation.own.rawValue
        case .relative(let relation): relation.rawValue
        case .colleague: "colleague"
        }
    }
}
