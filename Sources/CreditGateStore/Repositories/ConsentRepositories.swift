import CreditGateCore
import Foundation
import SQLKit

/// Written authorisations on file and their encrypted documents.
public protocol ConsentRepository: Sendable {
    /// Stores the consent and its sealed document together: both or neither.
    func create(_ consent: Consent, document: SealedEnvelope) async throws
    func consent(_ id: Consent.ID) async throws -> Consent?
    func document(of id: Consent.ID) async throws -> SealedEnvelope?
    /// Consents filed in the given units (all units when `nil`), newest first; only those of `subject` when given.
    func consents(in units: Set<Organisation.ID>?, subject: SubjectIdentifier?, limit: Int) async throws -> [Consent]
    /// Records the withdrawal once; `false` when the consent was already withdrawn.
    func withdraw(_ id: Consent.ID, _ withdrawal: Consent.Withdrawal) async throws -> Bool
}

public struct SQLConsentRepository: ConsentRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columnList = ColumnList(columns)

    static let columns = [
        "id", "subject_type", "subject_number", "subject_name", "purposes", "signed_on", "valid_until", "organisation_id", "uploaded_by",
        "uploaded_at", "document_type", "document_size", "document_sha256", "document_file_name", "withdrawn_at", "withdrawn_by",
        "withdrawal_reason",
    ]

    public func create(_ consent: Consent, document: SealedEnvelope) async throws {
        try await database.transaction { connection in
            try await connection.insert(into: "consents").columns(Self.columns.dropLast(3))
                .values(SQLBind(consent.id.rawValue), SQLBind(consent.subject.type.rawValue), SQLBind(consent.subject.number),
                        SQLBind(consent.subjectName), SQLBind(consent.purposes.map(\.code).sorted().joined(separator: ",")),
                        SQLBind(consent.signedOn.description), SQLBind(consent.validUntil.description), SQLBind(consent.organisationID.rawValue),
                        SQLBind(consent.uploadedBy.rawValue), SQLBind(consent.uploadedAt.storedMilliseconds),
                        SQLBind(consent.document.mediaType.rawValue), SQLBind(Int64(consent.document.byteCount)),
                        SQLBind(consent.document.sha256), SQLBind(consent.document.fileName))
                .run()
            try await connection.insert(into: "consent_documents").columns("consent_id", "key_id", "wrapped_key", "ciphertext")
                .values(SQLBind(consent.id.rawValue), SQLBind(document.keyID), SQLBind(document.wrappedKey.base64EncodedString()),
                        SQLBind(document.ciphertext.base64EncodedString()))
                .run()
        }
    }

    public func consent(_ id: Consent.ID) async throws -> Consent? {
        try await load { $0.where("id", .equal, SQLBind(id.rawValue)) }.first
    }

    public func document(of id: Consent.ID) async throws -> SealedEnvelope? {
        try await database.withConnection { connection in
            guard let row = try await connection.select().columns("key_id", "wrapped_key", "ciphertext").from("consent_documents")
                .where("consent_id", .equal, SQLBind(id.rawValue)).first()
            else { return nil }
            return try SealedEnvelope(row: row, table: "consent_documents")
        }
    }

    public func consents(in units: Set<Organisation.ID>?, subject: SubjectIdentifier?, limit: Int) async throws -> [Consent] {
        // An empty `IN ()` is not valid SQL on every engine; an empty set of units simply finds nothing.
        if let units, units.isEmpty { return [] }
        return try await load { query in
            var query = query
            if let units { query = query.where("organisation_id", .in, SQLBind.group(units.map(\.rawValue).sorted())) }
            if let subject {
                query = query.where("subject_type", .equal, SQLBind(subject.type.rawValue)).where("subject_number", .equal, SQLBind(subject.number))
            }
            return query.orderBy("uploaded_at", .descending).orderBy("id").limit(limit)
        }
    }

    public func withdraw(_ id: Consent.ID, _ withdrawal: Consent.Withdrawal) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.update("consents")
                .set("withdrawn_at", to: SQLBind(withdrawal.at.storedMilliseconds))
                .set("withdrawn_by", to: SQLBind(withdrawal.recordedBy.rawValue))
                .set("withdrawal_reason", to: SQLBind(withdrawal.reason))
                .where("id", .equal, SQLBind(id.rawValue)).where("withdrawn_at", .is, SQLLiteral.null)
                .returning("id").all().count == 1
        }
    }

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [Consent] {
        try await database.withConnection { connection in
            try await filter(connection.select().column(Self.columnList).from("consents")).all().map(Self.consent(from:))
        }
    }

    static func consent(from row: any SQLRow) throws -> Consent {
        guard let type = CertificateType(rawValue: try row.decode(column: "subject_type", as: String.self)),
              let signedOn = CalendarDate(try row.decode(column: "signed_on", as: String.self)),
              let validUntil = CalendarDate(try row.decode(column: "valid_until", as: String.self)),
              let mediaType = ConsentDocumentType(rawValue: try row.decode(column: "document_type", as: String.self))
        else { throw StoreError.corruptRow("consents") }
        let purposes = try row.decode(column: "purposes", as: String.self).split(separator: ",").map { code in
            guard let purpose = QueryPurpose(rawValue: String(code)) else { throw StoreError.corruptRow("consents") }
            return purpose
        }
        var withdrawal: Consent.Withdrawal?
        if let at = try row.decode(column: "withdrawn_at", as: Int64?.self) {
            withdrawal = Consent.Withdrawal(at: Date(storedMilliseconds: at),
                                            recordedBy: User.ID(try row.decode(column: "withdrawn_by", as: String?.self) ?? ""),
                                            reason: try row.decode(column: "withdrawal_reason", as: String?.self) ?? "")
        }
        return Consent(
            id: Consent.ID(try row.decode(column: "id", as: String.self)),
            subject: SubjectIdentifier(type: type, number: try row.decode(column: "subject_number", as: String.self)),
            subjectName: try row.decode(column: "subject_name", as: String.self),
            purposes: Set(purposes), signedOn: signedOn, validUntil: validUntil,
            organisationID: Organisation.ID(try row.decode(column: "organisation_id", as: String.self)),
            uploadedBy: User.ID(try row.decode(column: "uploaded_by", as: String.self)),
            uploadedAt: Date(storedMilliseconds: try row.decode(column: "uploaded_at", as: Int64.self)),
            document: ConsentDocument(mediaType: mediaType, byteCount: Int(try row.decode(column: "document_size", as: Int64.self)),
                                      sha256: try row.decode(column: "document_sha256", as: String.self),
                                      fileName: try row.decode(column: "document_file_name", as: String.self)),
            withdrawal: withdrawal
        )
    }
}

extension SealedEnvelope {
    init(row: any SQLRow, table: String) throws {
        guard let wrapped = Data(base64Encoded: try row.decode(column: "wrapped_key", as: String?.self) ?? ""),
              let ciphertext = Data(base64Encoded: try row.decode(column: "ciphertext", as: String?.self) ?? ""),
              !wrapped.isEmpty, !ciphertext.isEmpty
        else { throw StoreError.corruptRow(table) }
        self.init(keyID: try row.decode(column: "key_id", as: String.self), wrappedKey: wrapped, ciphertext: ciphertext)
    }
}

/// The bank's loan register, as far as post-loan management needs it.
public protocol LoanRepository: Sendable {
    /// Adds the loan, or updates the one with the same contract number if it is booked in one of `units` (the
    /// writer's scope); returns what is stored. A contract number of another unit is ``StoreError/duplicate(_:)``.
    func upsert(_ loan: Loan, within units: Set<Organisation.ID>, by actor: User.ID, now: Date) async throws -> Loan
    func loans(of borrower: SubjectIdentifier) async throws -> [Loan]
    /// Loans booked in the given units (all when `nil`), most recently changed first.
    func loans(in units: Set<Organisation.ID>?, limit: Int) async throws -> [Loan]
}

public struct SQLLoanRepository: LoanRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = ["id", "contract_number", "subject_type", "subject_number", "organisation_id", "amount_yuan", "starts_on", "matures_on", "settled_on"]

    public func upsert(_ loan: Loan, within units: Set<Organisation.ID>, by actor: User.ID, now: Date) async throws -> Loan {
        do {
            return try await upsertRow(loan, within: units, by: actor, now: now)
        } catch where ConstraintViolation.isUnique(error) {
            // Two writers inserting one contract number at once: the second learns it exists.
            throw StoreError.duplicate("loans.contract_number")
        }
    }

    private func upsertRow(_ loan: Loan, within units: Set<Organisation.ID>, by actor: User.ID, now: Date) async throws -> Loan {
        try await database.transaction { connection in
            let existing = try await connection.select().columns("id", "organisation_id").from("loans")
                .where("contract_number", .equal, SQLBind(loan.contractNumber)).first()
            if let existing {
                // Someone else's loan is never rewritten: a wrong borrower or settlement date would allow or block
                // another unit's post-loan queries.
                guard units.contains(Organisation.ID(try existing.decode(column: "organisation_id", as: String.self))) else {
                    throw StoreError.duplicate("loans.contract_number")
                }
                let id = try existing.decode(column: "id", as: String.self)
                try await connection.update("loans")
                    .set("subject_type", to: SQLBind(loan.borrower.type.rawValue)).set("subject_number", to: SQLBind(loan.borrower.number))
                    .set("organisation_id", to: SQLBind(loan.organisationID.rawValue)).set("amount_yuan", to: SQLBind(Int64(loan.amountYuan)))
                    .set("starts_on", to: SQLBind(loan.startsOn.description)).set("matures_on", to: SQLBind(loan.maturesOn.description))
                    .set("settled_on", to: SQLBind(loan.settledOn?.description))
                    .set("updated_at", to: SQLBind(now.storedMilliseconds)).set("updated_by", to: SQLBind(actor.rawValue))
                    .where("id", .equal, SQLBind(id)).run()
                return Loan(id: Loan.ID(id), contractNumber: loan.contractNumber, borrower: loan.borrower, organisationID: loan.organisationID,
                            amountYuan: loan.amountYuan, startsOn: loan.startsOn, maturesOn: loan.maturesOn, settledOn: loan.settledOn)
            }
            try await connection.insert(into: "loans").columns(Self.columns + ["updated_at", "updated_by"])
                .values(SQLBind(loan.id.rawValue), SQLBind(loan.contractNumber), SQLBind(loan.borrower.type.rawValue), SQLBind(loan.borrower.number),
                        SQLBind(loan.organisationID.rawValue), SQLBind(Int64(loan.amountYuan)), SQLBind(loan.startsOn.description),
                        SQLBind(loan.maturesOn.description), SQLBind(loan.settledOn?.description), SQLBind(now.storedMilliseconds),
                        SQLBind(actor.rawValue))
                .run()
            return loan
        }
    }

    public func loans(of borrower: SubjectIdentifier) async throws -> [Loan] {
        try await load {
            $0.where("subject_type", .equal, SQLBind(borrower.type.rawValue)).where("subject_number", .equal, SQLBind(borrower.number))
                .orderBy("starts_on", .descending)
        }
    }

    public func loans(in units: Set<Organisation.ID>?, limit: Int) async throws -> [Loan] {
        if let units, units.isEmpty { return [] }
        return try await load { query in
            var query = query
            if let units { query = query.where("organisation_id", .in, SQLBind.group(units.map(\.rawValue).sorted())) }
            return query.orderBy("updated_at", .descending).orderBy("id").limit(limit)
        }
    }

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [Loan] {
        try await database.withConnection { connection in
            try await filter(connection.select().columns(Self.columns).from("loans")).all().map { row in
                guard let type = CertificateType(rawValue: try row.decode(column: "subject_type", as: String.self)),
                      let startsOn = CalendarDate(try row.decode(column: "starts_on", as: String.self)),
                      let maturesOn = CalendarDate(try row.decode(column: "matures_on", as: String.self))
                else { throw StoreError.corruptRow("loans") }
                let settled = try row.decode(column: "settled_on", as: String?.self)
                return Loan(id: Loan.ID(try row.decode(column: "id", as: String.self)),
                            contractNumber: try row.decode(column: "contract_number", as: String.self),
                            borrower: SubjectIdentifier(type: type, number: try row.decode(column: "subject_number", as: String.self)),
                            organisationID: Organisation.ID(try row.decode(column: "organisation_id", as: String.self)),
                            amountYuan: Int(try row.decode(column: "amount_yuan", as: Int64.self)),
                            startsOn: startsOn, maturesOn: maturesOn, settledOn: settled.flatMap(CalendarDate.init))
            }
        }
    }
}
