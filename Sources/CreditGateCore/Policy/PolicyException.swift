import Foundation

/// 授权查询: a query the policy engine routed to approval, submitted with the querier's reason for a supervisor
/// to approve or refuse.
///
/// The request names exactly what it is for — the person, the subject, the purpose, the consent — and the rules it
/// asks to except, as they fired when it was made. An approval allows one query matching all of it, within a short
/// time (30 minutes by default); a query that trips a rule the approval did not cover needs a new request. A request
/// nobody decides lapses at the end of its day (China Standard Time), because the facts it rests on are the day's.
public struct PolicyException: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<PolicyException>

    public enum Status: String, CaseIterable, Sendable, Codable {
        case pending
        case approved
        case refused
        /// Its one query has been made.
        case used

        public var nameKey: String { "exception_status_\(rawValue)" }
    }

    /// Why the approver must verify the request on site (现场核实) before approving it.
    public enum Risk: String, CaseIterable, Sendable, Codable {
        /// Outside working hours or on a non-working day, about someone whose name is a colleague's in the
        /// querier's unit: the pattern of staff looking up each other's reports after hours.
        case offHoursColleague = "off_hours_colleague"
        /// Outside working hours or on a non-working day, with other rules broken at the same time.
        case offHoursCombined = "off_hours_combined"

        public var nameKey: String { "exception_risk_\(rawValue)" }
    }

    public let id: ID
    public let requestedBy: User.ID
    public let organisationID: Organisation.ID
    public let subject: SubjectIdentifier
    public let subjectName: String
    public let purpose: QueryPurpose
    public let consentID: Consent.ID?
    /// The rules the request asks to except, with the facts that fired them when it was made.
    public let reasons: [QueryRefusalReason]
    /// The querier's reason for the exception (mandatory).
    public let justification: String
    public let risks: [Risk]
    public let clientIP: String
    public let requestedAt: Date
    /// When an undecided request lapses.
    public let lapsesAt: Date
    public var status: Status
    public var decidedBy: User.ID?
    public var decidedAt: Date?
    public var decisionNote: String?
    /// What the approver verified on site, when the request required it.
    public var onSiteVerification: String?
    /// When an approval stops being usable.
    public var expiresAt: Date?
    public var usedByQuery: CreditQuery.ID?

    public init(id: ID, requestedBy: User.ID, organisationID: Organisation.ID, subject: SubjectIdentifier, subjectName: String, purpose: QueryPurpose,
                consentID: Consent.ID?, reasons: [QueryRefusalReason], justification: String, risks: [Risk], clientIP: String, requestedAt: Date,
                lapsesAt: Date, status: Status = .pending, decidedBy: User.ID? = nil, decidedAt: Date? = nil, decisionNote: String? = nil,
                onSiteVerification: String? = nil, expiresAt: Date? = nil, usedByQuery: CreditQuery.ID? = nil) {
        self.id = id
        self.requestedBy = requestedBy
        self.organisationID = organisationID
        self.subject = subject
        self.subjectName = subjectName
        self.purpose = purpose
        self.consentID = consentID
        self.reasons = reasons
        self.justification = justification
        self.risks = risks
        self.clientIP = clientIP
        self.requestedAt = requestedAt
        self.lapsesAt = lapsesAt
        self.status = status
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.decisionNote = decisionNote
        self.onSiteVerification = onSiteVerification
        self.expiresAt = expiresAt
        self.usedByQuery = usedByQuery
    }

    /// The rules this request excepts.
    public var exceptedRules: Set<PolicyRule> { Set(reasons.compactMap { PolicyRule(rawValue: $0.code) }) }

    public var requiresOnSiteVerification: Bool { !risks.isEmpty }

    /// Whether a pending request has lapsed, or an approval expired, at `time`.
    public func isStale(at time: Date) -> Bool {
        switch status {
        case .pending: time >= lapsesAt
        case .approved: expiresAt.map { time >= $0 } ?? true
        case .refused, .used: false
        }
    }

    /// The state as a person should read it at `time`: a pending request past its day, or an approval past its
    /// expiry, has `lapsed`.
    public func state(at time: Date) -> String {
        isStale(at: time) ? "lapsed" : status.rawValue
    }

    /// The shortest and longest justification accepted, in characters.
    public static let justificationLength = 5...1000

    /// Why a request cannot be made from this decision, as a catalogue key; `nil` when it can. Only a decision that
    /// needs approval can be excepted: an allowed query needs none, a blocked one can never have one.
    public static func problem(requesting decision: PolicyDecision, justification: String) -> String? {
        switch decision {
        case .allow: return "exception_not_needed"
        case .block: return "exception_not_exceptable"
        case .approvalRequired: break
        }
        let text = justification.trimmingCharacters(in: .whitespacesAndNewlines)
        return justificationLength.contains(text.count) ? nil : "exception_justification_required"
    }

    /// Whether two names are the same person's name as written: spaces and the full-width space do not count.
    public static func sameName(_ one: String, _ other: String) -> Bool {
        let strip = { (name: String) in name.filter { !$0.isWhitespace }.lowercased() }
        return strip(one) == strip(other)
    }

    /// The high-risk patterns among the reasons (现场核实). `subjectIsColleague` says whether the subject's name is that
    /// of the querier or of someone in the querier's unit — names are what the bank holds of its staff, so a namesake
    /// also counts: a verification too many is the safe side.
    public static func risks(of reasons: [PolicyReason], subjectIsColleague: Bool) -> [Risk] {
        let rules = Set(reasons.compactMap { PolicyRule(rawValue: $0.code) })
        let offHours = rules.contains(.workingHours) || rules.contains(.workingDay)
        guard offHours else { return [] }
        var risks: [Risk] = []
        if subjectIsColleague { risks.append(.offHoursColleague) }
        if !rules.subtracting([.workingHours, .workingDay]).isEmpty { risks.append(.offHoursCombined) }
        return risks
    }

    /// The approver's decision. `approverUnitCovers` says whether the approver's unit is the request's unit or one
    /// above it. A refusal needs a note; an approval of a high-risk request needs what was verified on site.
    public mutating func decide(approve: Bool, by approver: User.ID, approverRoles: Set<Role>, approverUnitCovers: Bool, note: String,
                                onSite: String, at time: Date, validity: TimeInterval) -> PolicyExceptionRefusal? {
        guard status == .pending, !isStale(at: time) else { return .notPending }
        guard approver != requestedBy else { return .ownRequest }
        guard approverRoles.contains(.approver), approverUnitCovers else { return .notThisApprover }
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        let onSite = onSite.trimmingCharacters(in: .whitespacesAndNewlines)
        if !approve, note.isEmpty { return .noteRequired }
        if approve, requiresOnSiteVerification, onSite.count < Self.justificationLength.lowerBound { return .onSiteRequired }
        status = approve ? .approved : .refused
        decidedBy = approver
        decidedAt = time
        decisionNote = note.isEmpty ? nil : String(note.prefix(1000))
        onSiteVerification = approve && !onSite.isEmpty ? String(onSite.prefix(1000)) : nil
        expiresAt = approve ? time.addingTimeInterval(validity) : nil
        return nil
    }

    /// Why this request does not allow the query described; `nil` when it does. `firing` is what the policy engine
    /// would except now: every one must be among the rules the approval covered.
    public func problem(for user: User.ID, subject: SubjectIdentifier, subjectName: String, purpose: QueryPurpose, consent: Consent.ID?,
                        firing: Set<PolicyRule>, at time: Date) -> String? {
        switch status {
        case .pending, .refused: return "exception_not_approved"
        case .used: return "exception_used"
        case .approved: break
        }
        if isStale(at: time) { return "exception_expired" }
        guard user == requestedBy, subject == self.subject, Self.sameName(subjectName, self.subjectName), purpose == self.purpose, consent == consentID
        else { return "exception_mismatch" }
        guard firing.isSubset(of: exceptedRules) else { return "exception_rules_changed" }
        return nil
    }
}

/// Why a decision on an exception request is refused; the raw value is the catalogue key.
public enum PolicyExceptionRefusal: String, Error, CaseIterable, Sendable {
    case notPending = "exception_refusal_not_pending"
    case ownRequest = "exception_refusal_own"
    case notThisApprover = "exception_refusal_not_approver"
    case noteRequired = "exception_refusal_note_required"
    case onSiteRequired = "exception_refusal_on_site_required"
}
