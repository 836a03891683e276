import Foundation

/// 授权书: the subject's written authorisation on file. The scanned document itself is stored encrypted
/// apart from these facts; the SHA-256 of the original proves later which document the query relied on.
public struct Consent: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<Consent>

    public let id: ID
    public let subject: SubjectIdentifier
    /// The subject's name as written on the document.
    public let subjectName: String
    /// The purposes the subject agreed to; a query must name one of them.
    public let purposes: Set<QueryPurpose>
    public let signedOn: CalendarDate
    /// 授权有效期: the last date named on the document. A query needs this date to be later than its own.
    public let validUntil: CalendarDate
    public let organisationID: Organisation.ID
    public let uploadedBy: User.ID
    public let uploadedAt: Date
    public let document: ConsentDocument
    public var withdrawal: Withdrawal?

    public var kind: SubjectKind { subject.type.subjectKind }

    public init(id: ID, subject: SubjectIdentifier, subjectName: String, purposes: Set<QueryPurpose>, signedOn: CalendarDate,
                validUntil: CalendarDate, organisationID: Organisation.ID, uploadedBy: User.ID, uploadedAt: Date,
                document: ConsentDocument, withdrawal: Withdrawal? = nil) {
        self.id = id
        self.subject = subject
        self.subjectName = subjectName
        self.purposes = purposes
        self.signedOn = signedOn
        self.validUntil = validUntil
        self.organisationID = organisationID
        self.uploadedBy = uploadedBy
        self.uploadedAt = uploadedAt
        self.document = document
        self.withdrawal = withdrawal
    }

    /// The subject's withdrawal of the authorisation, effective from its time: queries before it stand, queries
    /// after it are refused.
    public struct Withdrawal: Sendable, Equatable {
        public let at: Date
        public let recordedBy: User.ID
        public let reason: String

        public init(at: Date, recordedBy: User.ID, reason: String) {
            self.at = at
            self.recordedBy = recordedBy
            self.reason = reason
        }
    }

    /// Why this consent does not cover a query of `subject` for `purpose` at `time`; empty when it does.
    ///
    /// "The consent's expiry date must be later than the query date": on the validity end date itself the consent
    /// no longer covers a query. Dates are days in China Standard Time.
    public func problems(covering subject: SubjectIdentifier, purpose: QueryPurpose, at time: Date) -> [ConsentProblem] {
        var problems: [ConsentProblem] = []
        if subject != self.subject { problems.append(.subjectMismatch) }
        if !purposes.contains(purpose) { problems.append(.purposeNotCovered) }
        let queryDate = CalendarDate(time)
        if queryDate < signedOn { problems.append(.notYetSigned) }
        if !(validUntil > queryDate) { problems.append(.expired) }
        if let withdrawal, withdrawal.at <= time { problems.append(.withdrawn) }
        return problems
    }
}

/// Why a consent does not cover a query; each raw value is the stable reason code.
public enum ConsentProblem: String, CaseIterable, Sendable {
    case subjectMismatch = "consent_subject_mismatch"
    case purposeNotCovered = "consent_purpose_not_covered"
    case notYetSigned = "consent_not_yet_signed"
    case expired = "consent_expired"
    case withdrawn = "consent_withdrawn"
}

/// What is known about a consent's scanned document without opening it.
public struct ConsentDocument: Sendable, Equatable {
    public let mediaType: ConsentDocumentType
    public let byteCount: Int
    /// SHA-256 of the original bytes, lower-case hex.
    public let sha256: String
    /// The file name the uploader gave, for their reference only; the type never comes from it.
    public let fileName: String

    public init(mediaType: ConsentDocumentType, byteCount: Int, sha256: String, fileName: String) {
        self.mediaType = mediaType
        self.byteCount = byteCount
        self.sha256 = sha256
        self.fileName = fileName
    }
}

/// The document formats a scanned authorisation may come in, recognised by their first bytes, never by a name
/// or a declared content type (either can say anything).
public enum ConsentDocumentType: String, CaseIterable, Sendable, Codable {
    case pdf = "application/pdf"
    case jpeg = "image/jpeg"
    case png = "image/png"

    public var mediaType: String { rawValue }

    /// The type the bytes begin with, or `nil` for anything else.
    public static func detect(_ bytes: some Collection<UInt8>) -> ConsentDocumentType? {
        let head = Array(bytes.prefix(8))
        if head.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        return nil
    }
}

/// The facts of a consent as the uploader enters them, checked before anything is stored.
public struct ConsentDraft: Sendable {
    public let subject: SubjectIdentifier
    public let subjectName: String
    public let purposes: Set<QueryPurpose>
    public let signedOn: CalendarDate
    public let validUntil: CalendarDate

    public init(subject: SubjectIdentifier, subjectName: String, purposes: Set<QueryPurpose>, signedOn: CalendarDate, validUntil: CalendarDate) {
        self.subject = subject
        self.subjectName = subjectName
        self.purposes = purposes
        self.signedOn = signedOn
        self.validUntil = validUntil
    }

    /// Why the draft cannot be filed, as catalogue keys; empty when it can. `today` is the upload day.
    public func problems(today: CalendarDate) -> [String] {
        var problems: [String] = []
        let name = subjectName.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 100 { problems.append("consent_name_invalid") }
        if purposes.isEmpty { problems.append("consent_purposes_empty") }
        if purposes.contains(where: \.isStateOrganOnly) { problems.append("consent_purpose_state_organ") }
        if purposes.contains(where: { !$0.reportKinds.contains(subject.type.subjectKind) }) { problems.append("consent_purpose_kind") }
        if signedOn > today { problems.append("consent_signed_in_future") }
        if !(validUntil > signedOn) { problems.append("consent_validity_before_signing") }
        if !(validUntil > today) { problems.append("consent_already_expired") }
        return problems
    }
}
