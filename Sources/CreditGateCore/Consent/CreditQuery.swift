import Foundation

/// One request for a credit report through the gateway, allowed or refused, from admission to answer.
/// Every attempt that names a subject gets one, so the register of queries and the audit log tell the same story.
public struct CreditQuery: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<CreditQuery>

    /// Where the query came in.
    public enum Channel: String, Sendable, Codable, CaseIterable {
        /// CreditGate's own console.
        case console
        /// The query API, through a registered client application.
        case api
    }

    /// How far the query got.
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Admission refused it; the bureau was never called.
        case refused
        /// Admitted and sent to the bureau; no answer stored yet.
        case pending
        /// The bureau answered and the report is stored encrypted.
        case answered
        /// The bureau failed; nothing of an answer is stored.
        case failed

        public var nameKey: String { "query_status_\(rawValue)" }
    }

    /// What went wrong with the bureau, for a failed query.
    public enum Failure: String, Sendable, Codable, CaseIterable {
        case timeout
        case bureauError = "bureau_error"
        case malformedAnswer = "malformed_answer"
        case subjectNotFound = "subject_not_found"
        /// The bureau answered but the report could not be stored (or its storing not recorded); nothing is kept.
        case storage

        public var nameKey: String { "query_failure_\(rawValue)" }
    }

    public let id: ID
    public let userID: User.ID
    public let organisationID: Organisation.ID
    public let channel: Channel
    public let clientAppID: ClientApp.ID?
    public let subject: SubjectIdentifier
    public let subjectName: String
    public let purpose: QueryPurpose
    public let consentID: Consent.ID?
    /// The special procedure and its case, when the query was made under one; recorded as such.
    public let procedure: SpecialQueryCase.Procedure?
    public let specialCaseID: SpecialQueryCase.ID?
    /// The approved exception (授权查询, R-22) the query was made under, when a rule had to be excepted.
    public let exceptionID: PolicyException.ID?
    public let clientIP: String
    public let requestedAt: Date
    public var status: Status
    /// The reason codes of a refusal.
    public var reasons: [QueryRefusalReason]
    /// What the policy engine decided (`allow`, `block`, `approval_required`), as the register keeps it for a later
    /// replay; absent for queries recorded before the engine decided them.
    public var policyDecision: String?
    public var failure: Failure?
    public var answeredAt: Date?
    public var reportID: StoredReport.ID?

    public init(id: ID, userID: User.ID, organisationID: Organisation.ID, channel: Channel, clientAppID: ClientApp.ID?, subject: SubjectIdentifier,
                subjectName: String, purpose: QueryPurpose, consentID: Consent.ID?, procedure: SpecialQueryCase.Procedure? = nil,
                specialCaseID: SpecialQueryCase.ID? = nil, exceptionID: PolicyException.ID? = nil, clientIP: String, requestedAt: Date, status: Status,
                reasons: [QueryRefusalReason] = [], policyDecision: String? = nil, failure: Failure? = nil, answeredAt: Date? = nil, reportID: StoredReport.ID? = nil) {
        self.id = id
        self.userID = userID
        self.organisationID = organisationID
        self.channel = channel
        self.clientAppID = clientAppID
        self.subject = subject
        self.subjectName = subjectName
        self.purpose = purpose
        self.consentID = consentID
        self.procedure = procedure
        self.specialCaseID = specialCaseID
        self.exceptionID = exceptionID
        self.clientIP = clientIP
        self.requestedAt = requestedAt
        self.status = status
        self.reasons = reasons
        self.policyDecision = policyDecision
        self.failure = failure
        self.answeredAt = answeredAt
        self.reportID = reportID
    }
}

/// A report as stored: its contents only inside the envelope, bound to the report's ID.
public struct StoredReport: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<StoredReport>

    public let id: ID
    public let queryID: CreditQuery.ID
    public let kind: SubjectKind
    /// The bureau's report number (报告编号).
    public let reportNumber: String
    public let envelope: SealedEnvelope
    public let storedAt: Date

    public init(id: ID, queryID: CreditQuery.ID, kind: SubjectKind, reportNumber: String, envelope: SealedEnvelope, storedAt: Date) {
        self.id = id
        self.queryID = queryID
        self.kind = kind
        self.reportNumber = reportNumber
        self.envelope = envelope
        self.storedAt = storedAt
    }

    /// What the envelope is bound to: a ciphertext moved onto another report's row does not open.
    public static func binding(_ id: ID) -> String { "report:\(id.rawValue)" }
}

extension Consent {
    /// What the document's envelope is bound to.
    public static func documentBinding(_ id: ID) -> String { "consent:\(id.rawValue)" }
}
