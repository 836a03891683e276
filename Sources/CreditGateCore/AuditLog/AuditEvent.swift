import Crypto
import Foundation

/// One thing that happened, as the audit log records it (R-40: 有记录、可定位、可追溯).
///
/// Every event says who (user and employee ID), from where (client address and app), when (UTC, milliseconds),
/// about whom (the subject only as a keyed hash — never the identifier), under which consent and purpose, and with
/// what outcome and reasons. Its ``leaf`` bytes are canonical: the same event always gives the same bytes, which is
/// what the Merkle tree commits to. The encoding is written down in `docs/AUDIT-LOG.md`.
public struct AuditEvent: Sendable, Equatable {
    /// The catalogue of event types. Codes never change once shipped.
    public enum Kind: String, CaseIterable, Sendable {
        case queryAttempted = "query.attempted"
        case queryDecided = "query.decided"
        case queryAnswered = "query.answered"
        case queryFailed = "query.failed"
        case reportViewed = "report.viewed"
        case signIn = "auth.sign_in"
        case signInFailed = "auth.sign_in_failed"
        case signOut = "auth.sign_out"
        case sessionExpired = "auth.session_expired"
        case accessDenied = "access.denied"
        case roleChanged = "access.role_changed"
        case permissionChanged = "access.permission_changed"
        case approvalGiven = "approval.given"
        case approvalRefused = "approval.refused"
        case settingChanged = "setting.changed"
        case checkRecorded = "check.recorded"
        case exported = "data.exported"
        case keyRotated = "key.rotated"
        case destroyed = "data.destroyed"
        case logVerified = "log.verified"
        case passwordChanged = "auth.password_changed"
        case passwordReset = "auth.password_reset"
        case secondFactorEnrolled = "auth.second_factor_enrolled"
        case secondFactorReset = "auth.second_factor_reset"
        case accountChanged = "account.changed"
        case accountSuspended = "account.suspended"
        case accountReinstated = "account.reinstated"
        case suspensionRun = "account.suspension_run"
        case organisationChanged = "organisation.changed"
        case examBankImported = "exam.bank_imported"
        case examPermitGranted = "exam.permit_granted"
        case examStarted = "exam.started"
        case examSubmitted = "exam.submitted"
        case accessRequested = "access.requested"
        case queryRightsGranted = "access.query_rights_granted"
        case responsibilityChanged = "responsibility.changed"
        case trainingRecorded = "training.recorded"
        case consentFiled = "consent.filed"
        case consentDocumentOpened = "consent.document_opened"
        case consentWithdrawn = "consent.withdrawn"
        case loanRecorded = "loan.recorded"
        case clientAppRegistered = "client_app.registered"
        case clientAppApproved = "client_app.approved"
        case clientAppRevoked = "client_app.revoked"
        case specialCaseOpened = "special_case.opened"
        case specialCaseDecided = "special_case.decided"
        case calendarImported = "calendar.imported"
        case policySimulated = "policy.simulated"
        case exceptionRequested = "exception.requested"
        case exceptionDecided = "exception.decided"
        case reportViewTraced = "report.view_traced"
        case relatedPartyDeclared = "related_party.declared"
        case relatedPartyRemoved = "related_party.removed"

        public var nameKey: String { "audit_kind_\(rawValue.replacingOccurrences(of: ".", with: "_"))" }
    }

    public enum Outcome: String, Sendable, CaseIterable {
        case success
        case denied
        case failed
    }

    /// Who acted. Absent for events with no signed-in person (a failed sign-in records the attempted ID instead).
    public struct Actor: Sendable, Equatable {
        public let userID: String
        public let employeeID: String

        public init(userID: String, employeeID: String) {
            self.userID = userID
            self.employeeID = employeeID
        }
    }

    public let kind: Kind
    /// Milliseconds since the Unix epoch, UTC.
    public let occurredAt: Int64
    public let actor: Actor?
    public let clientIP: String
    /// The registered client application, when the request came through one.
    public let clientApp: String?
    /// `HMAC-SHA256(log key, identifier)` in hex; see ``SubjectHasher``.
    public let subjectHash: String?
    public let consentID: String?
    public let purposeCode: String?
    public let outcome: Outcome
    public let reasonCodes: [String]
    /// Further facts of the event (e.g. a role change's before and after), never a personal identifier in clear.
    public let details: [String: String]

    public init(
        kind: Kind, occurredAt: Date, actor: Actor?, clientIP: String, clientApp: String? = nil, subjectHash: String? = nil,
        consentID: String? = nil, purposeCode: String? = nil, outcome: Outcome, reasonCodes: [String] = [], details: [String: String] = [:]
    ) {
        self.kind = kind
        self.occurredAt = Int64((occurredAt.timeIntervalSince1970 * 1000).rounded(.down))
        self.actor = actor
        self.clientIP = clientIP
        self.clientApp = clientApp
        self.subjectHash = subjectHash
        self.consentID = consentID
        self.purposeCode = purposeCode
        self.outcome = outcome
        self.reasonCodes = reasonCodes
        self.details = details
    }

    /// The encoding version, inside every leaf so that a later format cannot be confused with this one.
    public static let version: Int64 = 1

    /// The canonical JSON object of the event.
    public var canonical: CanonicalJSON {
        var object: [String: CanonicalJSON] = [
            "v": .integer(Self.version),
            "kind": .string(kind.rawValue),
            "at": .integer(occurredAt),
            "ip": .string(clientIP),
            "outcome": .string(outcome.rawValue),
            "reasons": .array(reasonCodes.map(CanonicalJSON.string)),
            "details": .object(details.mapValues(CanonicalJSON.string)),
        ]
        object["actor"] = actor.map { .object(["user": .string($0.userID), "employee": .string($0.employeeID)]) } ?? .null
        object["app"] = clientApp.map(CanonicalJSON.string) ?? .null
        object["subject"] = subjectHash.map(CanonicalJSON.string) ?? .null
        object["consent"] = consentID.map(CanonicalJSON.string) ?? .null
        object["purpose"] = purposeCode.map(CanonicalJSON.string) ?? .null
        return .object(object)
    }

    /// The bytes the Merkle tree commits to: the canonical JSON of the event.
    public var leaf: [UInt8] { canonical.encoded }
}

/// Keyed hashing of personal identifiers for the audit log (R-42): `HMAC-SHA256(key, "<type>:<identifier>")`.
///
/// A keyed hash, not a plain one: an 18-digit ID number has too little entropy for a plain hash to hide it from
/// anyone who tries every birth date. The same subject always gives the same hash, so a compliance officer with
/// access to the key can still find every entry about one person.
public struct SubjectHasher: Sendable {
    let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    public func hash(identifierType: String, identifier: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(identifierType):\(identifier)".utf8), using: key)
        return Hex.encode(mac)
    }
}
