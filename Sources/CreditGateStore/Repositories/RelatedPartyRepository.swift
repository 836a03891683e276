import CreditGateCore
import Foundation
import SQLKit

/// The register of related parties.
public protocol RelatedPartyRepository: Sendable {
    /// Stores the entry with the audit entry that records it; declines, storing nothing, when the person already
    /// has the same identifier registered.
    func declaring(_ party: RelatedParty) -> AuditedWrite
    /// Removes the entry of the person with the audit entry that records it; declines when there is none.
    func removing(_ id: RelatedParty.ID, of user: User.ID) -> AuditedWrite
    /// A person's entries, oldest first.
    func parties(of user: User.ID) async throws -> [RelatedParty]
    func party(_ id: RelatedParty.ID) async throws -> RelatedParty?
    /// The keyed hashes of every identifier in the register: what each instance holds in memory, so that a query
    /// about anyone else reads nothing more.
    func subjectHashes() async throws -> Set<String>
    /// Every entry whose identifier has this keyed hash, with the unit of the person it belongs to: what a query's
    /// subject is matched against.
    func holders(ofSubjectHash hash: String) async throws -> [RelatedPartyHolder]
}

public struct SQLRelatedPartyRepository: RelatedPartyRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = ["id", "user_id", "relation", "subject_type", "subject_hash", "masked_identifier", "declared_by", "declared_at"]

    /// An entry stored with the audit entry of its declaration.
    struct Declaration: Sendable {
        let party: RelatedParty
    }

    /// An entry removed with the audit entry of its removal.
    struct Removal: Sendable {
        let id: RelatedParty.ID
        let user: User.ID
    }

    public func declaring(_ party: RelatedParty) -> AuditedWrite {
        // One at a time: two declarations of one identifier for one person in a batch store it once.
        .oneAtATime(Declaration(party: party)) { declaration, connection in
            let party = declaration.party
            return try await connection.raw("""
                INSERT INTO related_parties (id, user_id, relation, subject_type, subject_hash, masked_identifier, declared_by, declared_at)
                VALUES (\(bind: party.id.rawValue), \(bind: party.userID.rawValue), \(bind: party.relation.rawValue),
                        \(bind: party.subjectType.rawValue), \(bind: party.subjectHash), \(bind: party.maskedIdentifier),
                        \(bind: party.declaredBy.rawValue), \(bind: party.declaredAt.storedMilliseconds))
                ON CONFLICT (user_id, subject_hash) DO NOTHING RETURNING id
                """).all().count == 1
        }
    }

    public func removing(_ id: RelatedParty.ID, of user: User.ID) -> AuditedWrite {
        .oneAtATime(Removal(id: id, user: user)) { removal, connection in
            try await connection.delete(from: "related_parties")
                .where("id", .equal, SQLBind(removal.id.rawValue)).where("user_id", .equal, SQLBind(removal.user.rawValue))
                .returning("id").all().count == 1
        }
    }

    public func parties(of user: User.ID) async throws -> [RelatedParty] {
        try await load { $0.where("user_id", .equal, SQLBind(user.rawValue)).orderBy("declared_at").orderBy("id") }
    }

    public func party(_ id: RelatedParty.ID) async throws -> RelatedParty? {
        try await load { $0.where("id", .equal, SQLBind(id.rawValue)) }.first
    }

    public func subjectHashes() async throws -> Set<String> {
        try await database.withConnection { connection in
            Set(try await connection.raw("SELECT DISTINCT subject_hash FROM related_parties").all().map {
                try $0.decode(column: "subject_hash", as: String.self)
            })
        }
    }

    public func holders(ofSubjectHash hash: String) async throws -> [RelatedPartyHolder] {
        try await database.withConnection { connection in
            // Written out rather than built: every query about a person makes this read.
            try await connection.raw("""
                SELECT related_parties.user_id, related_parties.relation, users.organisation_id FROM related_parties
                JOIN users ON related_parties.user_id = users.id
                WHERE related_parties.subject_hash = \(bind: hash)
                """)
                .all()
                .map { row in
                    guard let relation = RelatedParty.Relation(rawValue: try row.decode(column: "relation", as: String.self)) else {
                        throw StoreError.corruptRow("related_parties")
                    }
                    return RelatedPartyHolder(userID: User.ID(try row.decode(column: "user_id", as: String.self)),
                                              organisationID: Organisation.ID(try row.decode(column: "organisation_id", as: String.self)),
                                              relation: relation)
                }
        }
    }

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [RelatedParty] {
        try await database.withConnection { connection in
            try await filter(connection.select().columns(Self.columns.map { SQLIdentifier($0) }).from("related_parties")).all().map { row in
                guard let relation = RelatedParty.Relation(rawValue: try row.decode(column: "relation", as: String.self)),
                      let type = CertificateType(rawValue: try row.decode(column: "subject_type", as: String.self))
                else { throw StoreError.corruptRow("related_parties") }
                return RelatedParty(
                    id: RelatedParty.ID(try row.decode(column: "id", as: String.self)), userID: User.ID(try row.decode(column: "user_id", as: String.self)),
                    relation: relation, subjectType: type, subjectHash: try row.decode(column: "subject_hash", as: String.self),
                    maskedIdentifier: try row.decode(column: "masked_identifier", as: String.self),
                    declaredBy: User.ID(try row.decode(column: "declared_by", as: String.self)),
                    declaredAt: Date(storedMilliseconds: try row.decode(column: "declared_at", as: Int64.self))
                )
            }
        }
    }
}
