import Foundation

/// 规范内部人员和国家机关查询: a query on behalf of a state organ under law, or about one of the bank's own
/// staff, goes through its own approved procedure instead of the ordinary one, and is recorded as such.
///
/// The querier opens a case naming the subject, the purpose and the grounds (for a state organ: the organ, the
/// number of its written request for assistance and the law it relies on); a supervisor with the approver role in
/// the querier's unit or a unit above approves or refuses it, never their own. An approved case allows exactly one
/// query by the person who opened it, of that subject for that purpose, before it expires.
public struct SpecialQueryCase: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<SpecialQueryCase>

    public enum Procedure: String, CaseIterable, Sendable, Codable {
        /// 国家机关查询: a state organ's query under law (e.g. 司法调查). No consent of the subject is needed: the
        /// law says otherwise (征信业管理条例 Art. 18).
        case stateOrgan = "state_organ"
        /// 内部人员查询: a query about the bank's own staff. The staff member's written consent is still needed.
        case internalStaff = "internal_staff"

        public var nameKey: String { "procedure_\(rawValue)" }
        /// Whether a query under this procedure still needs the subject's consent on file.
        public var needsConsent: Bool { self == .internalStaff }
    }

    public enum Status: String, CaseIterable, Sendable, Codable {
        case pending
        case approved
        case refused
        /// Its one query has been made.
        case used

        public var nameKey: String { "special_case_status_\(rawValue)" }
    }

    public let id: ID
    public let procedure: Procedure
    public let subject: SubjectIdentifier
    public let purpose: QueryPurpose
    public let requestedBy: User.ID
    public let organisationID: Organisation.ID
    /// For a state organ: the organ's name (e.g. 某某市人民法院); for internal staff: the staff member's unit.
    public let authority: String
    /// For a state organ: the number of its written request (协助查询通知书文号); for internal staff: may be empty.
    public let documentNumber: String
    /// The grounds: the law relied on, or why the bank must look at its own staff member's report.
    public let grounds: String
    public let requestedAt: Date
    public var status: Status
    public var decidedBy: User.ID?
    public var decidedAt: Date?
    public var decisionNote: String?
    /// An approval is good for a limited time only.
    public var expiresAt: Date?
    public var usedByQuery: CreditQuery.ID?

    public init(id: ID, procedure: Procedure, subject: SubjectIdentifier, purpose: QueryPurpose, requestedBy: User.ID,
                organisationID: Organisation.ID, authority: String, documentNumber: String, grounds: String, requestedAt: Date,
                status: Status = .pending, decidedBy: User.ID? = nil, decidedAt: Date? = nil, decisionNote: String? = nil,
                expiresAt: Date? = nil, usedByQuery: CreditQuery.ID? = nil) {
        self.id = id
        self.procedure = procedure
        self.subject = subject
        self.purpose = purpose
        self.requestedBy = requestedBy
        self.organisationID = organisationID
        self.authority = authority
        self.documentNumber = documentNumber
        self.grounds = grounds
        self.requestedAt = requestedAt
        self.status = status
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.decisionNote = decisionNote
        self.expiresAt = expiresAt
        self.usedByQuery = usedByQuery
    }

    /// Why a case cannot be opened with these facts, as catalogue keys.
    public static func problems(procedure: Procedure, subject: SubjectIdentifier, purpose: QueryPurpose, authority: String,
                                documentNumber: String, grounds: String) -> [String] {
        var problems: [String] = []
        let authority = authority.trimmingCharacters(in: .whitespacesAndNewlines)
        let grounds = grounds.trimmingCharacters(in: .whitespacesAndNewlines)
        let document = documentNumber.trimmingCharacters(in: .whitespacesAndNewlines)
        switch procedure {
        case .stateOrgan:
            if !purpose.isStateOrganOnly { problems.append("special_case_state_organ_purpose") }
            if document.isEmpty { problems.append("special_case_document_required") }
        case .internalStaff:
            if purpose.isStateOrganOnly { problems.append("special_case_staff_purpose") }
            if subject.type.isCorporate { problems.append("special_case_staff_person") }
        }
        if authority.isEmpty || authority.count > 200 { problems.append("special_case_authority_required") }
        if grounds.isEmpty || grounds.count > 1000 { problems.append("special_case_grounds_required") }
        if document.count > 100 { problems.append("special_case_document_required") }
        return problems
    }

    /// The approver's decision. `approverUnitCovers` says whether the approver's unit is the case's unit or one
    /// above it. A refusal needs a note.
    public mutating func decide(approve: Bool, by approver: User.ID, approverRoles: Set<Role>, approverUnitCovers: Bool, note: String,
                                at time: Date, validity: TimeInterval) -> SpecialQueryCaseRefusal? {
        guard status == .pending else { return .notPending }
        guard approver != requestedBy else { return .ownCase }
        guard approverRoles.contains(.approver), approverUnitCovers else { return .notThisApprover }
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        if !approve, note.isEmpty { return .noteRequired }
        status = approve ? .approved : .refused
        decidedBy = approver
        decidedAt = time
        decisionNote = note.isEmpty ? nil : String(note.prefix(1000))
        expiresAt = approve ? time.addingTimeInterval(validity) : nil
        return nil
    }

    /// Why this case does not allow a query by `user` of `subject` for `purpose` at `time`; `nil` when it does.
    public func problem(for user: User.ID, subject: SubjectIdentifier, purpose: QueryPurpose, at time: Date) -> String? {
        switch status {
        case .pending, .refused: return "special_case_not_approved"
        case .used: return "special_case_used"
        case .approved: break
        }
        if let expiresAt, time >= expiresAt { return "special_case_expired" }
        guard user == requestedBy, subject == self.subject, purpose == self.purpose else { return "special_case_mismatch" }
        return nil
    }
}

/// Why a decision on a special case is refused; the raw value is the catalogue key.
public enum SpecialQueryCaseRefusal: String, Error, CaseIterable, Sendable {
    case notPending = "special_case_refusal_not_pending"
    case ownCase = "special_case_refusal_own"
    case notThisApprover = "special_case_refusal_not_approver"
    case noteRequired = "special_case_refusal_note_required"
}
