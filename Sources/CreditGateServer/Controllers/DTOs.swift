import CreditGateCore
import Foundation
import Hummingbird

/// The JSON shapes of the API, as described in `openapi.yaml`.
struct SignInRequest: Decodable {
    let employeeId: String
    let password: String
    /// The current TOTP code, required once a second factor is enrolled.
    let code: String?
}

struct SessionResponse: ResponseEncodable {
    let token: String
    let tokenType: String
    /// When the session ends at the latest (absolute lifetime); it ends earlier after the idle timeout.
    let expiresAt: Date
    let idleTimeoutSeconds: Int
    let user: UserDTO
    /// `full`, or the set-up step to finish before anything else is allowed.
    let stage: String
    /// Older sessions of the same user that this sign-in ended.
    let endedSessions: Int
}

struct UserDTO: ResponseEncodable {
    let id: String
    let employeeId: String
    let displayName: String
    let organisationId: String
    let roles: [String]
    let status: String
    let preferredLanguage: String?
    let employment: String
    let queryRights: Bool
    let suspensionReason: String?
    let suspendedAt: Date?
    let lastSignInAt: Date?
    let organisationConfirmationDueAt: Date?
    let strictExamRequired: Bool

    init(_ user: User) {
        id = user.id.rawValue
        employeeId = user.employeeID.value
        displayName = user.displayName
        organisationId = user.organisationID.rawValue
        roles = user.roles.sorted().map(\.rawValue)
        status = user.status.rawValue
        preferredLanguage = user.preferredLanguage?.rawValue
        employment = user.employment.rawValue
        queryRights = user.hasQueryRights
        suspensionReason = user.suspensionReason?.rawValue
        suspendedAt = user.suspendedAt
        lastSignInAt = user.lastSignInAt
        organisationConfirmationDueAt = user.organisationConfirmationDueAt
        strictExamRequired = user.strictExamRequired
    }
}

struct MeResponse: ResponseEncodable {
    let user: UserDTO
    /// `full`, or the set-up step still to do (`password_change`, `second_factor_enrolment`).
    let stage: String
    let permissions: [String]
    let sessionExpiresAt: Date
}

struct OrganisationDTO: ResponseEncodable {
    let id: String
    let code: String
    let name: String
    let kind: String
    let parentId: String?
    let regionCode: String
    let networks: [String]

    init(_ organisation: Organisation) {
        id = organisation.id.rawValue
        code = organisation.code
        name = organisation.name
        kind = organisation.kind.rawValue
        parentId = organisation.parentID?.rawValue
        regionCode = organisation.regionCode.value
        networks = organisation.networks.map(\.description)
    }
}

struct OrganisationList: ResponseEncodable {
    let organisations: [OrganisationDTO]
}

struct UserList: ResponseEncodable {
    let users: [UserDTO]
}

struct VersionResponse: ResponseEncodable {
    let name: String
    let version: String
}

struct HealthResponse: ResponseEncodable {
    let status: String
}

struct ReadinessResponse: ResponseEncodable {
    let status: String
    let database: String
    let auditLog: String
    let migrationsApplied: Int
    let migrationsExpected: Int
}
