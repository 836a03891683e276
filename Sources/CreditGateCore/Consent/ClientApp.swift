import Crypto
import Foundation

/// A client application allowed to call the query API (R-20: 严禁未经授权认可的APP接入征信系统).
///
/// Registered by a system administrator, it stays `pending` until a second system administrator approves it (no
/// one person lets an application in), and it may be revoked at any time. Its credential is shown once, at
/// registration, and stored only as a SHA-256: the credential is 256 random bits, so a plain hash cannot be
/// reversed by trying candidates.
public struct ClientApp: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<ClientApp>

    public enum Status: String, CaseIterable, Sendable, Codable {
        case pending
        case approved
        case revoked

        public var nameKey: String { "client_app_status_\(rawValue)" }
    }

    public let id: ID
    public var name: String
    public var status: Status
    /// The units whose staff may query through the application (each with its subtree).
    public var organisations: Set<Organisation.ID>
    public let credentialHash: String
    public let registeredBy: User.ID
    public let registeredAt: Date
    public var approvedBy: User.ID?
    public var approvedAt: Date?
    public var revokedBy: User.ID?
    public var revokedAt: Date?

    public init(id: ID, name: String, status: Status, organisations: Set<Organisation.ID>, credentialHash: String, registeredBy: User.ID,
                registeredAt: Date, approvedBy: User.ID? = nil, approvedAt: Date? = nil, revokedBy: User.ID? = nil, revokedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.status = status
        self.organisations = organisations
        self.credentialHash = credentialHash
        self.registeredBy = registeredBy
        self.registeredAt = registeredAt
        self.approvedBy = approvedBy
        self.approvedAt = approvedAt
        self.revokedBy = revokedBy
        self.revokedAt = revokedAt
    }

    /// The stored form of a credential.
    public static func hashCredential(_ secret: String) -> String {
        Hex.encode(SHA256.hash(data: Data(secret.utf8)))
    }

    /// Whether `secret` is this application's credential, compared in constant time.
    public func accepts(secret: String) -> Bool {
        ConstantTime.equals(Array(Self.hashCredential(secret).utf8), Array(credentialHash.utf8))
    }

    /// Why a user of `unit` may not query through this application presenting `secret`; `nil` when they may.
    public func refusal(secret: String, unit: Organisation.ID, tree: OrganisationTree) -> ClientAppRefusal? {
        guard accepts(secret: secret) else { return .unknown }
        switch status {
        case .pending: return .notApproved
        case .revoked: return .revoked
        case .approved: break
        }
        guard organisations.contains(where: { tree.isWithin(unit, subtreeOf: $0) }) else { return .outOfScope }
        return nil
    }

    /// The decision on an application's registration; the registrant can never approve it.
    public mutating func approve(by approver: User.ID, at time: Date) -> ClientAppTransitionProblem? {
        guard status == .pending else { return .notPending }
        guard approver != registeredBy else { return .ownRegistration }
        status = .approved
        approvedBy = approver
        approvedAt = time
        return nil
    }

    public mutating func revoke(by actor: User.ID, at time: Date) -> ClientAppTransitionProblem? {
        guard status != .revoked else { return .alreadyRevoked }
        status = .revoked
        revokedBy = actor
        revokedAt = time
        return nil
    }
}

/// Why a request through a client application is refused; the raw value is the stable reason code.
public enum ClientAppRefusal: String, CaseIterable, Sendable {
    /// No credential, or one that matches no registered application: the same answer for both, so that a
    /// caller learns nothing about which application IDs exist.
    case unknown = "app_unknown"
    case notApproved = "app_not_approved"
    case revoked = "app_revoked"
    case outOfScope = "app_out_of_scope"
}

public enum ClientAppTransitionProblem: String, Error, Sendable {
    case notPending = "client_app_not_pending"
    case ownRegistration = "client_app_own_registration"
    case alreadyRevoked = "client_app_already_revoked"
}
