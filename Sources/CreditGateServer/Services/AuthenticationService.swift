import CreditGateCore
import CreditGateStore
import Crypto
import Foundation
import Logging
import Synchronization

/// Signs people in and out, recognises their sessions, and takes them through the steps a new or reset account
/// must finish first (a new password, a second factor).
///
/// Tokens are 256 random bits; only their SHA-256 is stored. An unknown employee ID, a wrong password and a locked
/// account give the same answer and take the same time (a hash is checked either way), so the sign-in form does not
/// reveal who has an account or whose account is locked.
public struct AuthenticationService: Sendable {
    let users: any UserRepository
    /// The organisation tree as the policy holds it, for the signed-in person's unit on every request.
    let reference: ReferenceCache
    /// The unit read on its own when the reference data cannot be read whole (a damaged settings row must not lock
    /// out the administrators who would mend it).
    let organisations: any OrganisationRepository
    let sessions: any SessionRepository
    let failures: any SignInFailureRepository
    let hasher: any PasswordHasher
    let policy: SessionPolicy
    let passwordPolicy: PasswordPolicy
    let limits: SignInLimits
    let sealer: SecondFactorSealer
    let matrix: PermissionMatrix
    let audit: AuditTrail
    let clock: @Sendable () -> Date
    let logger: Logger
    /// A hash of a random password, checked when the employee ID is unknown so that timing is the same.
    private let decoyHash: DecoyHash

    public init(
        users: any UserRepository, reference: ReferenceCache, organisations: any OrganisationRepository, sessions: any SessionRepository,
        failures: any SignInFailureRepository, hasher: any PasswordHasher, policy: SessionPolicy, passwordPolicy: PasswordPolicy,
        limits: SignInLimits, sealer: SecondFactorSealer, matrix: PermissionMatrix = .standard, audit: AuditTrail,
        clock: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.users = users
        self.reference = reference
        self.organisations = organisations
        self.sessions = sessions
        self.failures = failures
        self.hasher = hasher
        self.policy = policy
        self.passwordPolicy = passwordPolicy
        self.limits = limits
        self.sealer = sealer
        self.matrix = matrix
        self.audit = audit
        self.clock = clock
        self.logger = logger
        self.decoyHash = DecoyHash()
    }

    /// A new session: the bearer token (shown to the client once) and what was stored.
    public struct SignIn: Sendable {
        public let token: String
        public let session: StoredSession
        public let user: User
        /// How many older sessions of the same user this sign-in ended (one active session per user).
        public let endedOtherSessions: Int
    }

    /// Checks the credentials and opens a session.
    ///
    /// Throws ``CreditGateError`` with `.invalidCredentials` for an unknown employee ID, a wrong password or a locked
    /// account alike; `.tooManyRequests` when the client address has failed too often; `.forbidden` for an account
    /// that is not active (said only after the password proved who is asking); `.invalidCredentials` with
    /// `signin_code_required` / `signin_code_invalid` when the second factor is missing or wrong. Every attempt is an
    /// audit event, recorded before the session exists; if the log cannot take it, nobody is signed in.
    public func signIn(employeeID text: String, password: String, code: String? = nil, clientIP: String) async throws -> SignIn {
        let now = clock()
        let recentFailures = try await failures.count(clientIP: clientIP, since: now.addingTimeInterval(-limits.addressWindow))
        if limits.isAddressThrottled(recentFailures: recentFailures) {
            try await recordFailure(claimed: EmployeeID(text), clientIP: clientIP, reason: "address_throttled")
            throw CreditGateError(.tooManyRequests, detailKey: "signin_throttled", cause: "too many failures from one address")
        }
        guard let employeeID = EmployeeID(text), !password.isEmpty, password.count <= 1024 else {
            try await refuse(nil, attempt: 0, claimed: nil, clientIP: clientIP, reason: "malformed_credentials")
            throw CreditGateError(.invalidCredentials, detailKey: "signin_failed", cause: "malformed employee ID or empty password")
        }
        let credentials = try await users.credentials(for: employeeID)
        let hash: String
        var attempt = 0
        if let credentials {
            hash = credentials.passwordHash
            if credentials.lockedUntil.map({ now >= $0 }) == true {
                // The lock has run out: counting starts again.
                try await users.recordFailedSignIn(credentials.user.id, failures: 0, lockedUntil: nil)
            }
            attempt = try await users.countSignInAttempt(credentials.user.id)
        } else {
            hash = try await decoyHash.value(using: hasher)
        }
        let matches = try await hasher.verify(password, against: hash)
        guard let credentials else {
            try await refuse(nil, attempt: 0, claimed: employeeID, clientIP: clientIP, reason: "bad_credentials")
            throw CreditGateError(.invalidCredentials, detailKey: "signin_failed", cause: "unknown employee ID")
        }
        if limits.isLocked(lockedUntil: credentials.lockedUntil, now: now) || !limits.mayCheck(attempt: attempt) {
            // Locked, or more attempts in flight than the lock allows: refused even with the right password, and
            // said in the same words as a wrong one.
            try await refuse(credentials, attempt: attempt, claimed: employeeID, clientIP: clientIP, reason: "account_locked")
            throw CreditGateError(.invalidCredentials, detailKey: "signin_failed", cause: "account locked")
        }
        guard matches else {
            try await refuse(credentials, attempt: attempt, claimed: employeeID, clientIP: clientIP, reason: "bad_credentials")
            throw CreditGateError(.invalidCredentials, detailKey: "signin_failed", cause: "bad credentials")
        }
        let user = credentials.user
        guard user.status == .active else {
            try await recordFailure(claimed: employeeID, clientIP: clientIP, reason: "account_\(user.status.rawValue)")
            throw CreditGateError(.forbidden, detailKey: "signin_inactive", cause: "account \(user.status.rawValue)")
        }
        let hasSecondFactor = credentials.sealedTOTPSecret != nil
        if let sealed = credentials.sealedTOTPSecret {
            guard let typed = code?.trimmingCharacters(in: .whitespaces), !typed.isEmpty else {
                try await recordFailure(claimed: employeeID, clientIP: clientIP, reason: "second_factor_missing")
                throw CreditGateError(.invalidCredentials, detailKey: "signin_code_required", cause: "second factor missing")
            }
            guard let secret = sealer.open(sealed, for: user.id) else {
                throw CreditGateError(.internalError, cause: "stored TOTP secret does not open")
            }
            let step = TOTP(secret: secret).verify(typed, at: now, lastUsedStep: credentials.totpLastStep)
            let accepted: Bool
            if let step { accepted = try await users.useTOTPStep(user.id, step: step) } else { accepted = false }
            guard accepted else {
                try await refuse(credentials, attempt: attempt, claimed: employeeID, clientIP: clientIP, reason: "second_factor_invalid")
                throw CreditGateError(.invalidCredentials, detailKey: "signin_code_invalid", cause: "second factor wrong or reused")
            }
        }
        let mustChange = credentials.mustChangePassword || passwordPolicy.isExpired(changedAt: credentials.passwordChangedAt, now: now)
        let stage = SessionStage.next(mustChangePassword: mustChange, hasSecondFactor: hasSecondFactor,
                                      secondFactorRequired: user.roles.contains(where: \.requiresSecondFactor) || user.roles.isEmpty)
        let open = try await sessions.open(of: user.id)
        try await audit.record(AuditEvent(
            kind: .signIn, occurredAt: now, actor: .init(user), clientIP: clientIP, outcome: .success,
            reasonCodes: mustChange ? ["password_change_required"] : [],
            details: ["stage": stage.rawValue, "second_factor": hasSecondFactor ? "totp" : "none", "ended_sessions": String(open.count)]
        ))
        // One active session per person: the new one replaces any other, which learns why at its next request.
        let ended = try await sessions.endAll(of: user.id, except: nil, at: now, reason: .superseded)
        try await users.recordSignIn(user.id, at: now)
        let token = Self.randomToken()
        let session = StoredSession(
            tokenHash: Self.tokenHash(token), userID: user.id, csrfToken: Self.randomToken(),
            createdAt: now, lastSeenAt: now, clientIP: clientIP, stage: stage
        )
        try await sessions.create(session)
        logger.info("signed in", metadata: ["user": .string(user.id.rawValue), "stage": .string(stage.rawValue)])
        return SignIn(token: token, session: session, user: user, endedOtherSessions: ended)
    }

    /// The user behind a token, or `nil` (with why) when the token is unknown, ended, expired, or its account is no
    /// longer active. An expired session is ended with its reason. Activity is recorded at most every 15 seconds, so
    /// a burst of requests is not a burst of writes.
    /// `touching: false` leaves the session's last activity as it was: a page that updates itself in the background
    /// must not keep an unattended workstation signed in past the idle timeout.
    public func authenticate(token: String, via credential: AuthenticatedUser.Credential, touching: Bool = true) async throws -> Recognition {
        guard token.count <= 128, !token.isEmpty else { return .rejected(nil) }
        let hash = Self.tokenHash(token)
        guard let (session, user) = try await sessions.findWithUser(tokenHash: hash) else { return .rejected(nil) }
        if session.endedAt != nil { return .rejected(session.endReason) }
        let now = clock()
        let endReason: SessionEndReason? = switch policy.validity(createdAt: session.createdAt, lastSeenAt: session.lastSeenAt, now: now) {
        case .idleExpired: .idleTimeout
        case .lifetimeExpired: .lifetimeExceeded
        case .valid: user?.status == .active ? nil : .accountInactive
        }
        if let endReason {
            // The end of a session is recorded before it takes effect, like its start.
            try await audit.record(AuditEvent(
                kind: .sessionExpired, occurredAt: now, actor: user.map(AuditEvent.Actor.init), clientIP: session.clientIP,
                outcome: .success, reasonCodes: [endReason.rawValue]
            ))
            try await sessions.end(tokenHash: hash, at: now, reason: endReason)
            return .rejected(endReason)
        }
        guard let user else { return .rejected(nil) }
        if touching, now.timeIntervalSince(session.lastSeenAt) >= 15 {
            try await sessions.touch(tokenHash: hash, at: now)
        }
        let organisation: Organisation?
        let referenceData: ReferenceData?
        let referenceCheckedAt = ContinuousClock.now
        do {
            referenceData = try await reference.current()
            organisation = referenceData?.tree.units[user.organisationID]
        } catch {
            logger.error("reference data unreadable", metadata: ["error": .string(String(reflecting: type(of: error)))])
            referenceData = nil
            organisation = try await organisations.find(user.organisationID)
        }
        return .recognised(AuthenticatedUser(
            user: user, organisation: organisation, session: session,
            // Until the account's set-up is finished the session carries no permission at all.
            permissions: session.stage == .full ? matrix.permissions(for: user.roles) : [], via: credential,
            reference: referenceData, referenceCheckedAt: referenceCheckedAt
        ))
    }

    /// Whether the session is still usable now — not ended, not idle or past its lifetime, its account active —
    /// without recording activity: what a long-lived stream checks as it runs.
    public func sessionIsLive(tokenHash: String) async throws -> Bool {
        guard let session = try await sessions.find(tokenHash: tokenHash), session.endedAt == nil,
              policy.validity(createdAt: session.createdAt, lastSeenAt: session.lastSeenAt, now: clock()) == .valid,
              let user = try await users.find(session.userID), user.status == .active
        else { return false }
        return true
    }

    public enum Recognition: Sendable {
        case recognised(AuthenticatedUser)
        /// No usable session; the reason when the session existed and ended.
        case rejected(SessionEndReason?)
    }

    public func signOut(_ identity: AuthenticatedUser, clientIP: String) async throws {
        try await audit.record(AuditEvent(kind: .signOut, occurredAt: clock(), actor: .init(identity.user), clientIP: clientIP, outcome: .success))
        try await sessions.end(tokenHash: identity.session.tokenHash, at: clock(), reason: .signedOut)
        logger.info("signed out", metadata: ["user": .string(identity.user.id.rawValue)])
    }

    // MARK: Finishing an account's set-up

    /// Changes the signed-in user's own password after checking the current one, the rules and the history, and moves
    /// the session on to its next stage. Throws `.validationFailed` with the first violation's key.
    public func changePassword(_ identity: AuthenticatedUser, current: String, new: String, clientIP: String) async throws -> SessionStage {
        guard let credentials = try await users.credentials(of: identity.user.id),
              try await hasher.verify(current, against: credentials.passwordHash)
        else {
            try await audit.record(AuditEvent(kind: .passwordChanged, occurredAt: clock(), actor: .init(identity.user), clientIP: clientIP,
                                              outcome: .denied, reasonCodes: ["current_password_wrong"]))
            throw CreditGateError(.validationFailed, detailKey: "password_current_wrong", cause: "current password wrong")
        }
        var violations = passwordPolicy.violations(of: new, employeeID: identity.user.employeeID, name: identity.user.displayName)
        if violations.isEmpty {
            for old in try await users.passwordHistory(identity.user.id, limit: passwordPolicy.historyDepth)
            where try await hasher.verify(new, against: old) {
                violations.append(.reused)
                break
            }
        }
        if let first = violations.first {
            try await audit.record(AuditEvent(kind: .passwordChanged, occurredAt: clock(), actor: .init(identity.user), clientIP: clientIP,
                                              outcome: .denied, reasonCodes: violations.map(\.rawValue)))
            throw CreditGateError(.validationFailed, detailKey: first.rawValue, cause: "password policy")
        }
        let now = clock()
        let stage = SessionStage.next(mustChangePassword: false, hasSecondFactor: credentials.sealedTOTPSecret != nil,
                                      secondFactorRequired: true)
        try await audit.record(AuditEvent(kind: .passwordChanged, occurredAt: now, actor: .init(identity.user), clientIP: clientIP,
                                          outcome: .success, details: ["stage": stage.rawValue]))
        try await users.setPassword(identity.user.id, hash: try await hasher.hash(new), mustChange: false, now: now)
        try await sessions.setStage(stage, tokenHash: identity.session.tokenHash)
        return stage
    }

    /// The secret to enrol, shown once as text and as a QR code.
    public struct Enrolment: Sendable {
        public let secret: String
        public let uri: String
        public let qrSVG: String
    }

    /// Starts (or restarts) enrolment of a second factor: a fresh secret kept pending until a code from it is shown.
    /// Refused once a factor is enrolled: a lost device is reset by an administrator, never by the session itself.
    public func beginEnrolment(_ identity: AuthenticatedUser, label: String) async throws -> Enrolment {
        guard let credentials = try await users.credentials(of: identity.user.id) else {
            throw CreditGateError(.unauthenticated, detailKey: "detail_sign_in_required")
        }
        guard credentials.sealedTOTPSecret == nil else {
            throw CreditGateError(.conflict, detailKey: "totp_already_enrolled", cause: "second factor already enrolled")
        }
        let secret = TOTP.generateSecret()
        try await users.setPendingTOTPSecret(identity.user.id, sealed: try sealer.seal(secret, for: identity.user.id))
        let totp = TOTP(secret: secret)
        let uri = totp.provisioningURI(issuer: "CreditGate", account: identity.user.employeeID.value)
        let qr = try QRCode.encode(Array(uri.utf8), correction: .medium)
        return Enrolment(secret: Base32.encode(secret), uri: uri, qrSVG: qr.svg(quietZone: 4, label: label))
    }

    /// Confirms the pending secret with a code from the device, and moves the session on.
    public func confirmEnrolment(_ identity: AuthenticatedUser, code: String, clientIP: String) async throws -> SessionStage {
        guard let credentials = try await users.credentials(of: identity.user.id),
              let sealed = credentials.sealedPendingTOTPSecret, let secret = sealer.open(sealed, for: identity.user.id)
        else {
            throw CreditGateError(.conflict, detailKey: "totp_not_started", cause: "no pending second factor")
        }
        let now = clock()
        guard let step = TOTP(secret: secret).verify(code, at: now, lastUsedStep: credentials.totpLastStep) else {
            try await audit.record(AuditEvent(kind: .secondFactorEnrolled, occurredAt: now, actor: .init(identity.user), clientIP: clientIP,
                                              outcome: .denied, reasonCodes: ["code_invalid"]))
            throw CreditGateError(.validationFailed, detailKey: "signin_code_invalid", cause: "enrolment code wrong")
        }
        let mustChange = credentials.mustChangePassword || passwordPolicy.isExpired(changedAt: credentials.passwordChangedAt, now: now)
        let stage = SessionStage.next(mustChangePassword: mustChange, hasSecondFactor: true, secondFactorRequired: true)
        try await audit.record(AuditEvent(kind: .secondFactorEnrolled, occurredAt: now, actor: .init(identity.user), clientIP: clientIP,
                                          outcome: .success, details: ["method": "totp", "stage": stage.rawValue]))
        try await users.confirmTOTP(identity.user.id, sealed: sealed, step: step)
        try await sessions.setStage(stage, tokenHash: identity.session.tokenHash)
        return stage
    }

    /// A refused sign-in that counts: against the client address, and against the account when there is one (five
    /// in a row lock it).
    private func refuse(_ credentials: UserCredentials?, attempt: Int, claimed: EmployeeID?, clientIP: String, reason: String) async throws {
        let now = clock()
        var reasons = [reason]
        let lockedUntil = credentials.flatMap { _ in limits.lockedUntil(afterAttempts: attempt, now: now) }
        if lockedUntil != nil, credentials?.lockedUntil.map({ now < $0 }) != true { reasons.append("account_locked_now") }
        logger.notice("sign-in refused", metadata: ["reason": .string(reason), "client": .string(Masking.ipAddress(clientIP))])
        try await recordFailure(claimed: claimed, clientIP: clientIP, reason: reasons.joined(separator: ","))
        try await failures.record(clientIP: clientIP, at: now)
        if let credentials, let lockedUntil, credentials.lockedUntil.map({ now < $0 }) != true {
            try await users.lock(credentials.user.id, until: lockedUntil)
        }
    }

    /// A refused sign-in in the audit log. The claimed employee ID is kept (it names a member of staff, not a credit
    /// subject), so that repeated guessing at one account can be seen.
    private func recordFailure(claimed: EmployeeID?, clientIP: String, reason: String) async throws {
        try await audit.record(AuditEvent(
            kind: .signInFailed, occurredAt: clock(), actor: nil, clientIP: clientIP, outcome: .denied,
            reasonCodes: reason.split(separator: ",").map(String.init), details: claimed.map { ["claimed_employee_id": $0.value] } ?? [:]
        ))
    }

    static func randomToken() -> String {
        Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    static func tokenHash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }
}

/// Computes the decoy hash once, on first use, at the configured cost.
final class DecoyHash: Sendable {
    private let stored = Mutex<String?>(nil)

    func value(using hasher: any PasswordHasher) async throws -> String {
        if let hash = stored.withLock({ $0 }) { return hash }
        let hash = try await hasher.hash(AuthenticationService.randomToken())
        stored.withLock { $0 = hash }
        return hash
    }
}

/// The names and attributes of the console's cookies. Under TLS the session cookie takes the `__Host-` prefix,
/// which browsers accept only with `Secure`, `Path=/` and no `Domain` — it cannot be planted by a sibling domain.
public struct SessionCookies: Sendable {
    public let secure: Bool

    public init(secure: Bool) {
        self.secure = secure
    }

    public var sessionName: String { secure ? "__Host-cg_session" : "cg_session" }
    public var csrfName: String { secure ? "__Host-cg_csrf" : "cg_csrf" }
}
