import CreditGateCore
import CreditGateStore
import Crypto
import Foundation

/// Opens accounts: the bootstrap administrator from the command line, and the demo bank's staff.
public struct AccountService: Sendable {
    let users: any UserRepository
    let organisations: any OrganisationRepository
    let hasher: any PasswordHasher
    let passwordPolicy: PasswordPolicy
    let audit: AuditTrail
    let clock: @Sendable () -> Date

    public init(users: any UserRepository, organisations: any OrganisationRepository, hasher: any PasswordHasher,
                passwordPolicy: PasswordPolicy = PasswordPolicy(), audit: AuditTrail, clock: @escaping @Sendable () -> Date) {
        self.users = users
        self.organisations = organisations
        self.hasher = hasher
        self.passwordPolicy = passwordPolicy
        self.audit = audit
        self.clock = clock
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case invalidEmployeeID
        case weakPassword([PasswordPolicy.Violation])
        case unknownOrganisation(String)
        case employeeIDTaken
        case emptyName
        case noRoles

        /// The reason in both languages, Chinese first, for the command line.
        public var description: String {
            let chinese = Localizer(.zhCN), english = Localizer(.en)
            return messageKeys.map { "\(chinese($0)) / \(english($0))" }.joined(separator: "\n")
        }

        /// The catalogue keys of the reason.
        public var messageKeys: [String] {
            switch self {
            case .invalidEmployeeID: ["detail_employee_id_invalid"]
            case .weakPassword(let violations): violations.map(\.rawValue)
            case .unknownOrganisation: ["failure_unknown_organisation"]
            case .employeeIDTaken: ["failure_employee_id_taken"]
            case .emptyName: ["failure_empty_name"]
            case .noRoles: ["failure_no_roles"]
            }
        }
    }

    /// Opens an active account after checking the employee ID, the password policy and the organisation. The
    /// roles granted are an audit event, recorded before the account exists (and its failure after, if the store
    /// refuses it); `openedBy` is `nil` for the server's own commands.
    public func open(employeeID text: String, displayName: String, organisationCode: String, roles: Set<Role>, password: String,
                     mustChangePassword: Bool = false, openedBy: AuditEvent.Actor? = nil, clientIP: String = "local-command") async throws -> User {
        guard let employeeID = EmployeeID(text) else { throw Failure.invalidEmployeeID }
        let name = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw Failure.emptyName }
        guard !roles.isEmpty else { throw Failure.noRoles }
        let violations = passwordPolicy.violations(of: password, employeeID: employeeID, name: name)
        guard violations.isEmpty else { throw Failure.weakPassword(violations) }
        guard let organisation = try await organisations.find(code: organisationCode) else {
            throw Failure.unknownOrganisation(organisationCode)
        }
        let now = clock()
        let user = User(id: .random(), employeeID: employeeID, displayName: name, organisationID: organisation.id,
                        roles: roles, status: .active, preferredLanguage: nil, createdAt: now)
        let details = ["user": user.id.rawValue, "employee_id": employeeID.value, "organisation": organisation.code,
                       "before": "", "after": roles.sorted().map(\.rawValue).joined(separator: ","),
                       "must_change_password": mustChangePassword ? "yes" : "no"]
        try await audit.record(AuditEvent(kind: .roleChanged, occurredAt: now, actor: openedBy, clientIP: clientIP,
                                          outcome: .success, reasonCodes: ["account_opened"], details: details))
        do {
            try await users.create(user, passwordHash: try await hasher.hash(password), mustChangePassword: mustChangePassword, now: now)
        } catch {
            try await audit.record(AuditEvent(kind: .roleChanged, occurredAt: clock(), actor: openedBy, clientIP: clientIP,
                                              outcome: .failed, reasonCodes: ["account_not_opened"], details: details))
            if case StoreError.duplicate = error { throw Failure.employeeIDTaken }
            throw error
        }
        return user
    }

    /// A password that satisfies the policy: 18 characters from an alphabet without look-alikes, with every class
    /// present. Shown once to the person who runs the command.
    public static func generatePassword() -> String {
        let lower = Array("abcdefghijkmnpqrstuvwxyz"), upper = Array("ABCDEFGHJKLMNPQRSTUVWXYZ")
        let digits = Array("23456789"), symbols = Array("-_.!@#%+=")
        let all = lower + upper + digits + symbols
        var generator = SystemRandomNumberGenerator()
        var characters = [lower.randomElement(using: &generator)!, upper.randomElement(using: &generator)!,
                          digits.randomElement(using: &generator)!, symbols.randomElement(using: &generator)!]
        while characters.count < 18 { characters.append(all.randomElement(using: &generator)!) }
        characters.shuffle(using: &generator)
        return String(characters)
    }
}
