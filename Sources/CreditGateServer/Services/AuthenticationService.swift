import CreditGateCore
import CreditGateStore
import Crypto
import Foundation
import Logging
import Synchronization

/// Signs people in and out and recognises their sessions.
///
/// Tokens are 256 random bits; only their SHA-256 is stored. An unknown employee ID and a wrong password take
/// the same time (a hash is checked either way) and give the same answer, so the sign-in form does not reveal
/// who has an account.
public struct AuthenticationService: Sendable {
    let users: any UserRepository
    let organisations: any OrganisationRepository
    let sessions: any SessionRepository
    let hasher: any PasswordHasher
    let policy: SessionPolicy
    let matrix: PermissionMatrix
    let audit: AuditTrail
    let clock: @Sendable () -> Date
    let logger: Logger
    /// A hash of a random password, checked when the employee ID is unknown so that timing is the same.
    private let decoyHash: DecoyHash

    public init(
        users: any UserRepository, organisations: any OrganisationRepository, sessions: any SessionRepository,
        hasher: any PasswordHasher, policy: SessionPolicy, matrix: PermissionMatrix = .standard, audit: AuditTrail,
        clock: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.users = users
        self.organisations = organisations
        self.sessions = sessions
        self.hasher = hasher
        self.policy = policy
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
    }

    /// Checks the credentials and opens a session. Throws ``CreditGateError`` with `.invalidCredentials` for an
    /// unknown employee ID or a wrong password alike, and `.forbidden` for an account that is not active (said
    /// only after the password proved who is asking). Every attempt is an audit event, recorded before the
    /// session exists; if the log cannot take it, nobody is signed in.
    public func signIn(employeeID text: String, password: String, clientIP: String) async throws -> SignIn {
        guard let employeeID = EmployeeID(text), !password.isEmpty else {
            try await recordFailure(claimed: nil, clientIP: clientIP, reason: "malformed_credentials")
            throw CreditGateError(.invalidCredentials, detailKey: "signin_failed", cause: "malformed employee ID or empty password")
        }
        let credentials = try await users.credentials(for: employeeID)
        let hash: String
        if let credentials {
            hash = credentials.passwordHash
        } else {
            hash = try await decoyHash.value(using: hasher)
        }
        let matches = try await hasher.verify(password, against: hash)
        guard let credentials, matches else {
            logger.notice("sign-in refused", metadata: ["reason": "bad credentials", "client": .string(Masking.ipAddress(clientIP))])
            try await recordFailure(claimed: employeeID, clientIP: clientIP, reason: "bad_credentials")
            throw CreditGateError(.invalidCredentials, detailKey: "signin_failed", cause: "bad credentials")
        }
        guard credentials.user.status == .active else {
            try await recordFailure(claimed: employeeID, clientIP: clientIP, reason: "account_\(credentials.user.status.rawValue)")
            throw CreditGateError(.forbidden, detailKey: "signin_inactive", cause: "account \(credentials.user.status.rawValue)")
        }
        try await audit.record(AuditEvent(kind: .signIn, occurredAt: clock(), actor: .init(credentials.user), clientIP: clientIP, outcome: .success))
        let now = clock()
        let token = Self.randomToken()
        let session = StoredSession(
            tokenHash: Self.tokenHash(token), userID: credentials.user.id, csrfToken: Self.randomToken(),
            createdAt: now, lastSeenAt: now, clientIP: clientIP
        )
        try await sessions.create(session)
        logger.info("signed in", metadata: ["user": .string(credentials.user.id.rawValue)])
        return SignIn(token: token, session: session, user: credentials.user)
    }

    /// The user behind a token, or `nil` when the token is unknown, ended, expired, or its account is no longer
    /// active. An expired session is ended with its reason. Activity is recorded at most every 15 seconds, so a
    /// burst of requests is not a burst of writes.
    public func authenticate(token: String, via credential: AuthenticatedUser.Credential) async throws -> AuthenticatedUser? {
        guard token.count <= 128, !token.isEmpty else { return nil }
        let hash = Self.tokenHash(token)
        guard let session = try await sessions.findActive(tokenHash: hash) else { return nil }
        let now = clock()
        let user = try await users.find(session.userID)
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
            return nil
        }
        guard let user else { return nil }
        if now.timeIntervalSince(session.lastSeenAt) >= 15 {
            try await sessions.touch(tokenHash: hash, at: now)
        }
        let organisation = try await organisations.find(user.organisationID)
        return AuthenticatedUser(
            user: user, organisation: organisation, session: session,
            permissions: matrix.permissions(for: user.roles), via: credential
        )
    }

    public func signOut(_ identity: AuthenticatedUser, clientIP: String) async throws {
        try await audit.record(AuditEvent(kind: .signOut, occurredAt: clock(), actor: .init(identity.user), clientIP: clientIP, outcome: .success))
        try await sessions.end(tokenHash: identity.session.tokenHash, at: clock(), reason: .signedOut)
        logger.info("signed out", metadata: ["user": .string(identity.user.id.rawValue)])
    }

    /// A refused sign-in. The claimed employee ID is kept (it names a member of staff, not a credit subject), so
    /// that repeated guessing at one account can be seen.
    private func recordFailure(claimed: EmployeeID?, clientIP: String, reason: String) async throws {
        try await audit.record(AuditEvent(
            kind: .signInFailed, occurredAt: clock(), actor: nil, clientIP: clientIP, outcome: .denied,
            reasonCodes: [reason], details: claimed.map { ["claimed_employee_id": $0.value] } ?? [:]
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
