import CreditGateCore
import CreditGateStore
import Crypto
import Foundation

/// Written authorisations on file: filing with the encrypted scan, seeing them in scope, opening a
/// scan (audited), and recording a withdrawal.
///
/// Scope: a system administrator and a compliance auditor see every consent; everyone else those filed in their
/// own unit and its subtree (a branch's central query post works from its sub-branches' consents). Outside the
/// scope a consent is reported as not found.
public struct ConsentService: Sendable {
    let consents: any ConsentRepository
    let organisations: any OrganisationRepository
    let sealer: EnvelopeSealer
    let maxDocumentBytes: Int
    let audit: AuditTrail
    let clock: @Sendable () -> Date

    public init(consents: any ConsentRepository, organisations: any OrganisationRepository, sealer: EnvelopeSealer, maxDocumentBytes: Int,
                audit: AuditTrail, clock: @escaping @Sendable () -> Date) {
        self.consents = consents
        self.organisations = organisations
        self.sealer = sealer
        self.maxDocumentBytes = maxDocumentBytes
        self.audit = audit
        self.clock = clock
    }

    /// What a person enters to file a consent, as text, before anything is checked.
    public struct Filing: Sendable {
        public var certificateType: String
        public var certificateNumber: String
        public var subjectName: String
        public var purposes: [String]
        public var signedOn: String
        public var validUntil: String
        public var fileName: String
        public var document: Data

        public init(certificateType: String, certificateNumber: String, subjectName: String, purposes: [String], signedOn: String,
                    validUntil: String, fileName: String, document: Data) {
            self.certificateType = certificateType
            self.certificateNumber = certificateNumber
            self.subjectName = subjectName
            self.purposes = purposes
            self.signedOn = signedOn
            self.validUntil = validUntil
            self.fileName = fileName
            self.document = document
        }
    }

    /// Checks, encrypts and stores a consent. The audit event is written before the consent exists.
    public func file(_ filing: Filing, by actor: AuthenticatedUser, clientIP: String) async throws -> Consent {
        let now = clock()
        let subject = try SubjectInput.identifier(type: filing.certificateType, number: filing.certificateNumber, today: now)
        var purposes: Set<QueryPurpose> = []
        for code in filing.purposes {
            guard let purpose = QueryPurpose(rawValue: code.trimmingCharacters(in: .whitespaces)) else {
                throw CreditGateError(.validationFailed, detailKey: "query_purpose_unknown", cause: "unknown purpose code")
            }
            purposes.insert(purpose)
        }
        guard let signedOn = CalendarDate(filing.signedOn), let validUntil = CalendarDate(filing.validUntil) else {
            throw CreditGateError(.validationFailed, detailKey: "consent_date_format", cause: "consent dates not yyyy-MM-dd")
        }
        let draft = ConsentDraft(subject: subject, subjectName: filing.subjectName.trimmingCharacters(in: .whitespacesAndNewlines),
                                 purposes: purposes, signedOn: signedOn, validUntil: validUntil)
        if let problem = draft.problems(today: CalendarDate(now)).first {
            throw CreditGateError(.validationFailed, detailKey: problem, cause: "consent draft refused: \(problem)")
        }
        guard !filing.document.isEmpty else { throw CreditGateError(.validationFailed, detailKey: "consent_document_empty", cause: "no document") }
        guard filing.document.count <= maxDocumentBytes else {
            throw CreditGateError(.payloadTooLarge, detailKey: "consent_document_too_large", cause: "document of \(filing.document.count) bytes")
        }
        guard let mediaType = ConsentDocumentType.detect(filing.document) else {
            throw CreditGateError(.unsupportedMediaType, detailKey: "consent_document_type", cause: "document bytes are not PDF, JPEG or PNG")
        }
        let id = Consent.ID.random()
        let fileName = String(filing.fileName.filter { !$0.isNewline && $0 != "\0" }.suffix(120))
        let consent = Consent(
            id: id, subject: subject, subjectName: draft.subjectName, purposes: purposes, signedOn: signedOn, validUntil: validUntil,
            organisationID: actor.user.organisationID, uploadedBy: actor.user.id, uploadedAt: now,
            document: ConsentDocument(mediaType: mediaType, byteCount: filing.document.count,
                                      sha256: Hex.encode(SHA256.hash(data: filing.document)), fileName: fileName)
        )
        let envelope = try sealer.seal(filing.document, binding: Consent.documentBinding(id))
        try await audit.record(AuditEvent(
            kind: .consentFiled, occurredAt: now, actor: .init(actor.user), clientIP: clientIP,
            subjectHash: audit.subjects.hash(identifierType: subject.type.rawValue, identifier: subject.number), consentID: id.rawValue,
            outcome: .success, details: [
                "purposes": purposes.map(\.code).sorted().joined(separator: ","), "signed_on": signedOn.description,
                "valid_until": validUntil.description, "document_sha256": consent.document.sha256, "document_type": mediaType.rawValue,
            ]
        ))
        try await consents.create(consent, document: envelope)
        return consent
    }

    /// The units whose consents the actor sees; `nil` means all.
    func visibleUnits(for actor: AuthenticatedUser) async throws -> Set<Organisation.ID>? {
        AdministrativeScope.of(roles: actor.user.roles, organisation: actor.user.organisationID).units(in: OrganisationTree(try await organisations.all()))
    }

    public func consents(for actor: AuthenticatedUser, subject: SubjectIdentifier? = nil, limit: Int = 200) async throws -> [Consent] {
        try await consents.consents(in: try await visibleUnits(for: actor), subject: subject, limit: limit)
    }

    /// The consent if it exists and lies in the actor's scope; otherwise 404 — the same answer for both.
    public func consent(_ id: Consent.ID, for actor: AuthenticatedUser) async throws -> Consent {
        guard let consent = try await consents.consent(id) else { throw Self.notFound }
        if let units = try await visibleUnits(for: actor), !units.contains(consent.organisationID) { throw Self.notFound }
        return consent
    }

    /// Decrypts the scan for a checker. The opening is recorded before the bytes leave the store.
    public func openDocument(_ id: Consent.ID, by actor: AuthenticatedUser, clientIP: String) async throws -> (ConsentDocument, Data) {
        let consent = try await consent(id, for: actor)
        guard let envelope = try await consents.document(of: id) else { throw Self.notFound }
        try await audit.record(AuditEvent(
            kind: .consentDocumentOpened, occurredAt: clock(), actor: .init(actor.user), clientIP: clientIP,
            subjectHash: audit.subjects.hash(identifierType: consent.subject.type.rawValue, identifier: consent.subject.number),
            consentID: id.rawValue, outcome: .success, details: ["document_sha256": consent.document.sha256]
        ))
        let bytes = try sealer.open(envelope, binding: Consent.documentBinding(id))
        // The stored hash is the proof of which document was filed; a scan that no longer matches it is not served.
        guard Hex.encode(SHA256.hash(data: bytes)) == consent.document.sha256 else {
            throw CreditGateError(.internalError, cause: "consent document does not match its recorded SHA-256")
        }
        return (consent.document, bytes)
    }

    /// Records the subject's withdrawal, effective now: later queries relying on the consent are refused.
    public func withdraw(_ id: Consent.ID, reason: String, by actor: AuthenticatedUser, clientIP: String) async throws -> Consent {
        var consent = try await consent(id, for: actor)
        // Reading may reach the whole bank (an auditor); changing stays within the actor's own subtree.
        guard OrganisationTree(try await organisations.all()).isWithin(consent.organisationID, subtreeOf: actor.user.organisationID) else {
            throw Self.notFound
        }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...500).contains(reason.count) else {
            throw CreditGateError(.validationFailed, detailKey: "consent_withdrawal_reason", cause: "withdrawal without a reason")
        }
        guard consent.withdrawal == nil else {
            throw CreditGateError(.conflict, detailKey: "consent_already_withdrawn", cause: "consent already withdrawn")
        }
        let withdrawal = Consent.Withdrawal(at: clock(), recordedBy: actor.user.id, reason: reason)
        let event = { (outcome: AuditEvent.Outcome, reasons: [String]) in
            AuditEvent(kind: .consentWithdrawn, occurredAt: withdrawal.at, actor: .init(actor.user), clientIP: clientIP,
                       subjectHash: self.audit.subjects.hash(identifierType: consent.subject.type.rawValue, identifier: consent.subject.number),
                       consentID: id.rawValue, outcome: outcome, reasonCodes: reasons)
        }
        try await audit.record(event(.success, []))
        guard try await consents.withdraw(id, withdrawal) else {
            // Someone withdrew it a moment earlier: the log says this attempt did not take effect.
            try await audit.record(event(.denied, ["consent_already_withdrawn"]))
            throw CreditGateError(.conflict, detailKey: "consent_already_withdrawn", cause: "consent withdrawn concurrently")
        }
        consent.withdrawal = withdrawal
        return consent
    }

    static let notFound = CreditGateError(.notFound, detailKey: "detail_not_found", cause: "consent outside scope or unknown")
}

/// Reads a subject identifier typed by a person, refusing it with the reason a loan officer understands.
enum SubjectInput {
    static func identifier(type: String, number: String, today: Date) throws -> SubjectIdentifier {
        guard let certificateType = CertificateType(rawValue: type.trimmingCharacters(in: .whitespaces)) else {
            throw CreditGateError(.validationFailed, detailKey: "certificate_type_unknown", cause: "unknown certificate type")
        }
        switch SubjectIdentifier.validate(number, as: certificateType, today: today) {
        case .success(let identifier): return identifier
        case .failure(let problem): throw CreditGateError(.validationFailed, detailKey: problem.rawValue, cause: "identifier refused: \(problem.rawValue)")
        }
    }
}
