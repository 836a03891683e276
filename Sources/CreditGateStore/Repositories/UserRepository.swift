import CreditGateCore
import Foundation
import SQLKit

/// A user with what proves who they are, for sign-in and account security only. None of it leaves the server.
public struct UserCredentials: Sendable {
    public let user: User
    /// The KDF's output with its parameters inside (bcrypt's `$2b$<cost>$…`), so a raised cost applies to new hashes
    /// while old ones still verify.
    public let passwordHash: String
    public let passwordChangedAt: Date
    public let mustChangePassword: Bool
    public let failedSignIns: Int
    public let lockedUntil: Date?
    /// The TOTP secret sealed with the master key; `nil` until enrolment is confirmed.
    public let sealedTOTPSecret: String?
    /// A secret shown for enrolment but not yet confirmed with a code.
    public let sealedPendingTOTPSecret: String?
    /// The last TOTP time step accepted: a code for it or an earlier step is never accepted again.
    public let totpLastStep: Int64?
}

/// Accounts and their roles, with the account-security state and the lifecycle.
public protocol UserRepository: Sendable {
    /// Stores a new account with its roles and first password. Throws ``StoreError/duplicate(_:)`` when the employee
    /// ID already has an account — whatever that account's status: one person, one account.
    func create(_ user: User, passwordHash: String, mustChangePassword: Bool, now: Date) async throws
    func find(_ id: User.ID) async throws -> User?
    func find(employeeID: EmployeeID) async throws -> User?
    func credentials(for employeeID: EmployeeID) async throws -> UserCredentials?
    func credentials(of id: User.ID) async throws -> UserCredentials?
    /// Every account, by employee ID.
    func all() async throws -> [User]
    func count() async throws -> Int
    func setPreferredLanguage(_ language: Language?, for id: User.ID, now: Date) async throws
    /// Writes the account's organisation, roles, status and lifecycle fields as they are in `user`.
    func update(_ user: User, now: Date) async throws
    func recordFailedSignIn(_ id: User.ID, failures: Int, lockedUntil: Date?) async throws
    /// Counts one more sign-in attempt in one statement and returns the count, so that parallel attempts each see a
    /// different number; a successful sign-in resets it.
    func countSignInAttempt(_ id: User.ID) async throws -> Int
    /// Grants query rights only if the account is still active and in service at the moment of writing, so that a
    /// suspension decided meanwhile is never undone; `false` when it was not.
    func grantQueryRights(_ id: User.ID, at time: Date) async throws -> Bool
    /// Locks the account until `time`, leaving the count as it is.
    func lock(_ id: User.ID, until time: Date) async throws
    /// Clears the failure count and records the sign-in time.
    func recordSignIn(_ id: User.ID, at time: Date) async throws
    /// Sets a new password hash, keeps the old one in the history, and sets whether it must be changed at next use.
    func setPassword(_ id: User.ID, hash: String, mustChange: Bool, now: Date) async throws
    /// The most recent password hashes, newest first, the current one included.
    func passwordHistory(_ id: User.ID, limit: Int) async throws -> [String]
    func setPendingTOTPSecret(_ id: User.ID, sealed: String?) async throws
    /// Makes the pending secret the enrolled one, with the step of the code that confirmed it.
    func confirmTOTP(_ id: User.ID, sealed: String, step: Int64) async throws
    /// Records `step` as used if it is later than the last one used; `false` when another request used it (or a
    /// later one) first — a check and a write in one statement, so two instances cannot both accept one code.
    func useTOTPStep(_ id: User.ID, step: Int64) async throws -> Bool
    /// Removes the enrolled and pending secrets (a lost device); the next sign-in must enrol again.
    func resetTOTP(_ id: User.ID) async throws
}

public struct SQLUserRepository: UserRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func create(_ user: User, passwordHash: String, mustChangePassword: Bool, now: Date) async throws {
        do {
            try await database.transaction { connection in
                try await connection.insert(into: "users")
                    .columns("id", "employee_id", "display_name", "organisation_id", "status", "preferred_language",
                             "password_hash", "password_changed_at", "created_at", "updated_at", "must_change_password", "employment")
                    .values(
                        SQLBind(user.id.rawValue), SQLBind(user.employeeID.value), SQLBind(user.displayName),
                        SQLBind(user.organisationID.rawValue), SQLBind(user.status.rawValue),
                        SQLBind(user.preferredLanguage?.rawValue), SQLBind(passwordHash),
                        SQLBind(now.storedMilliseconds), SQLBind(user.createdAt.storedMilliseconds), SQLBind(now.storedMilliseconds),
                        SQLBind(Int64(mustChangePassword ? 1 : 0)), SQLBind(user.employment.rawValue)
                    )
                    .run()
                try await Self.insertRoles(user.roles, for: user.id, now: now, on: connection)
                try await Self.appendHistory(user.id, hash: passwordHash, now: now, on: connection)
            }
        } catch where ConstraintViolation.isUnique(error) {
            throw StoreError.duplicate("employee ID")
        } catch where ConstraintViolation.isForeignKey(error) {
            throw StoreError.missingReference("organisation")
        }
    }

    public func find(_ id: User.ID) async throws -> User? {
        try await load(where: "id", equals: id.rawValue).first?.user
    }

    public func find(employeeID: EmployeeID) async throws -> User? {
        try await load(where: "employee_id", equals: employeeID.value).first?.user
    }

    public func credentials(for employeeID: EmployeeID) async throws -> UserCredentials? {
        try await load(where: "employee_id", equals: employeeID.value).first
    }

    public func credentials(of id: User.ID) async throws -> UserCredentials? {
        try await load(where: "id", equals: id.rawValue).first
    }

    public func all() async throws -> [User] {
        try await load(where: nil, equals: nil).map(\.user)
    }

    public func count() async throws -> Int {
        try await database.withConnection { connection in
            let row = try await connection.raw("SELECT COUNT(*) AS total FROM users").first()
            return Int(try row?.decode(column: "total", as: Int64.self) ?? 0)
        }
    }

    public func setPreferredLanguage(_ language: Language?, for id: User.ID, now: Date) async throws {
        try await database.transaction { connection in
            try await connection.update("users")
                .set("preferred_language", to: SQLBind(language?.rawValue))
                .set("updated_at", to: SQLBind(now.storedMilliseconds))
                .where("id", .equal, SQLBind(id.rawValue))
                .run()
        }
    }

    public func update(_ user: User, now: Date) async throws {
        do {
            try await database.transaction { connection in
                try await connection.update("users")
                    .set("display_name", to: SQLBind(user.displayName))
                    .set("organisation_id", to: SQLBind(user.organisationID.rawValue))
                    .set("status", to: SQLBind(user.status.rawValue))
                    .set("employment", to: SQLBind(user.employment.rawValue))
                    .set("query_rights_granted_at", to: SQLBind(user.queryRightsGrantedAt?.storedMilliseconds))
                    .set("suspended_at", to: SQLBind(user.suspendedAt?.storedMilliseconds))
                    .set("suspension_reason", to: SQLBind(user.suspensionReason?.rawValue))
                    .set("last_sign_in_at", to: SQLBind(user.lastSignInAt?.storedMilliseconds))
                    .set("reinstated_at", to: SQLBind(user.reinstatedAt?.storedMilliseconds))
                    .set("organisation_confirmation_due_at", to: SQLBind(user.organisationConfirmationDueAt?.storedMilliseconds))
                    .set("strict_exam_required", to: SQLBind(Int64(user.strictExamRequired ? 1 : 0)))
                    .set("updated_at", to: SQLBind(now.storedMilliseconds))
                    .where("id", .equal, SQLBind(user.id.rawValue))
                    .run()
                try await connection.delete(from: "user_roles").where("user_id", .equal, SQLBind(user.id.rawValue)).run()
                try await Self.insertRoles(user.roles, for: user.id, now: now, on: connection)
            }
        } catch where ConstraintViolation.isForeignKey(error) {
            throw StoreError.missingReference("organisation")
        }
    }

    public func recordFailedSignIn(_ id: User.ID, failures: Int, lockedUntil: Date?) async throws {
        try await database.transaction { connection in
            try await connection.update("users")
                .set("failed_sign_ins", to: SQLBind(Int64(failures)))
                .set("locked_until", to: SQLBind(lockedUntil?.storedMilliseconds))
                .where("id", .equal, SQLBind(id.rawValue))
                .run()
        }
    }

    public func countSignInAttempt(_ id: User.ID) async throws -> Int {
        try await database.transaction { connection in
            let row = try await connection.update("users")
                .set(SQLIdentifier("failed_sign_ins"), to: SQLBinaryExpression(SQLColumn("failed_sign_ins"), .add, SQLLiteral.numeric("1")))
                .where("id", .equal, SQLBind(id.rawValue))
                .returning("failed_sign_ins")
                .first()
            return Int(try row?.decode(column: "failed_sign_ins", as: Int64.self) ?? 0)
        }
    }

    public func grantQueryRights(_ id: User.ID, at time: Date) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.update("users")
                .set("query_rights_granted_at", to: SQLBind(time.storedMilliseconds))
                .set("strict_exam_required", to: SQLBind(Int64(0)))
                .set("updated_at", to: SQLBind(time.storedMilliseconds))
                .where("id", .equal, SQLBind(id.rawValue))
                .where("status", .equal, SQLBind(AccountStatus.active.rawValue))
                .where("employment", .equal, SQLBind(Employment.inService.rawValue))
                .returning("id")
                .all()
                .count == 1
        }
    }

    public func lock(_ id: User.ID, until time: Date) async throws {
        try await database.transaction { connection in
            try await connection.update("users")
                .set("locked_until", to: SQLBind(time.storedMilliseconds))
                .where("id", .equal, SQLBind(id.rawValue))
                .run()
        }
    }

    public func recordSignIn(_ id: User.ID, at time: Date) async throws {
        try await database.transaction { connection in
            try await connection.update("users")
                .set("failed_sign_ins", to: SQLBind(Int64(0)))
                .set("locked_until", to: SQLLiteral.null)
                .set("last_sign_in_at", to: SQLBind(time.storedMilliseconds))
                .where("id", .equal, SQLBind(id.rawValue))
                .run()
        }
    }

    public func setPassword(_ id: User.ID, hash: String, mustChange: Bool, now: Date) async throws {
        try await database.transaction { connection in
            try await connection.update("users")
                .set("password_hash", to: SQLBind(hash))
                .set("password_changed_at", to: SQLBind(now.storedMilliseconds))
                .set("must_change_password", to: SQLBind(Int64(mustChange ? 1 : 0)))
                .set("failed_sign_ins", to: SQLBind(Int64(0)))
                .set("locked_until", to: SQLLiteral.null)
                .set("updated_at", to: SQLBind(now.storedMilliseconds))
                .where("id", .equal, SQLBind(id.rawValue))
                .run()
            try await Self.appendHistory(id, hash: hash, now: now, on: connection)
        }
    }

    public func passwordHistory(_ id: User.ID, limit: Int) async throws -> [String] {
        try await database.withConnection { connection in
            try await connection.select().column("password_hash").from("password_history")
                .where("user_id", .equal, SQLBind(id.rawValue))
                .orderBy("changed_at", .descending)
                .limit(limit)
                .all()
                .map { try $0.decode(column: "password_hash", as: String.self) }
        }
    }

    public func setPendingTOTPSecret(_ id: User.ID, sealed: String?) async throws {
        try await database.transaction { connection in
            try await connection.update("users")
                .set("totp_pending_secret", to: SQLBind(sealed))
                .where("id", .equal, SQLBind(id.rawValue))
                .run()
        }
    }

    public func confirmTOTP(_ id: User.ID, sealed: String, step: Int64) async throws {
        try await database.transaction { connection in
            try await connection.update("users")
                .set("totp_secret", to: SQLBind(sealed))
                .set("totp_pending_secret", to: SQLLiteral.null)
                .set("totp_last_step", to: SQLBind(step))
                .where("id", .equal, SQLBind(id.rawValue))
                .run()
        }
    }

    public func useTOTPStep(_ id: User.ID, step: Int64) async throws -> Bool {
        try await database.transaction { connection in
            let rows = try await connection.update("users")
                .set("totp_last_step", to: SQLBind(step))
                .where("id", .equal, SQLBind(id.rawValue))
                .where(SQLGroupExpression(SQLBinaryExpression(
                    SQLBinaryExpression(SQLColumn("totp_last_step"), .is, SQLLiteral.null), .or,
                    SQLBinaryExpression(SQLColumn("totp_last_step"), .lessThan, SQLBind(step))
                )))
                .returning("id")
                .all()
            return !rows.isEmpty
        }
    }

    public func resetTOTP(_ id: User.ID) async throws {
        try await database.transaction { connection in
            try await connection.update("users")
                .set("totp_secret", to: SQLLiteral.null)
                .set("totp_pending_secret", to: SQLLiteral.null)
                .set("totp_last_step", to: SQLLiteral.null)
                .where("id", .equal, SQLBind(id.rawValue))
                .run()
        }
    }

    private static func insertRoles(_ roles: Set<Role>, for id: User.ID, now: Date, on connection: any SQLDatabase) async throws {
        for role in roles.sorted() {
            try await connection.insert(into: "user_roles")
                .columns("user_id", "role", "granted_at")
                .values(SQLBind(id.rawValue), SQLBind(role.rawValue), SQLBind(now.storedMilliseconds))
                .run()
        }
    }

    private static func appendHistory(_ id: User.ID, hash: String, now: Date, on connection: any SQLDatabase) async throws {
        try await connection.insert(into: "password_history")
            .columns("id", "user_id", "password_hash", "changed_at")
            .values(SQLBind(UUID().uuidString.lowercased()), SQLBind(id.rawValue), SQLBind(hash), SQLBind(now.storedMilliseconds))
            .run()
    }

    static let columnList = ColumnList(columns)

    static let columns = [
        "id", "employee_id", "display_name", "organisation_id", "status", "preferred_language", "password_hash",
        "password_changed_at", "created_at", "employment", "query_rights_granted_at", "suspended_at", "suspension_reason",
        "last_sign_in_at", "reinstated_at", "organisation_confirmation_due_at", "strict_exam_required",
        "must_change_password", "failed_sign_ins", "locked_until", "totp_secret", "totp_pending_secret", "totp_last_step",
    ]

    private func load(where column: String?, equals value: String?) async throws -> [UserCredentials] {
        try await database.withConnection { connection in
            // The roles come in the same statement, as one comma-separated column.
            var query = connection.select().column(Self.columnList)
                .column(SQLAlias(SQLRaw(Self.roleList(database.backend, of: "users")), as: SQLIdentifier("role_list")))
                .from("users").orderBy("employee_id")
            if let column, let value {
                query = query.where(SQLIdentifier(column), .equal, SQLBind(value))
            }
            return try await query.all().map { try Self.credentials(from: $0) }
        }
    }

    /// The aggregate that lists a user's roles in one column, comma-separated.
    static func roleList(_ backend: DatabaseBackend, of user: String) -> String {
        let aggregate = backend == .postgres ? "string_agg(role, ',')" : "group_concat(role, ',')"
        return "(SELECT \(aggregate) FROM user_roles WHERE user_roles.user_id = \(user).id)"
    }

    /// A user with its credentials from a row holding ``columns`` and `role_list`, each name after `prefix`.
    static func credentials(from row: any SQLRow, prefix: String = "") throws -> UserCredentials {
        func time(_ name: String) throws -> Date? {
            try row.decode(column: prefix + name, as: Int64?.self).map(Date.init(storedMilliseconds:))
        }
        let id = try row.decode(column: prefix + "id", as: String.self)
        guard let employeeID = EmployeeID(try row.decode(column: prefix + "employee_id", as: String.self)),
              let status = AccountStatus(rawValue: try row.decode(column: prefix + "status", as: String.self)),
              let employment = Employment(rawValue: try row.decode(column: prefix + "employment", as: String.self))
        else { throw StoreError.corruptRow("users") }
        let suspensionText = try row.decode(column: prefix + "suspension_reason", as: String?.self)
        let suspension = suspensionText.flatMap(SuspensionReason.init(rawValue:))
        if suspensionText != nil, suspension == nil { throw StoreError.corruptRow("users.suspension_reason") }
        let user = User(
            id: .init(id), employeeID: employeeID,
            displayName: try row.decode(column: prefix + "display_name", as: String.self),
            organisationID: .init(try row.decode(column: prefix + "organisation_id", as: String.self)),
            // A role this build does not know (written by a newer version) grants nothing.
            roles: Set((try row.decode(column: prefix + "role_list", as: String?.self) ?? "").split(separator: ",").compactMap { Role(rawValue: String($0)) }),
            status: status,
            preferredLanguage: try row.decode(column: prefix + "preferred_language", as: String?.self).flatMap(Language.init(code:)),
            createdAt: Date(storedMilliseconds: try row.decode(column: prefix + "created_at", as: Int64.self)),
            employment: employment,
            queryRightsGrantedAt: try time("query_rights_granted_at"),
            suspendedAt: try time("suspended_at"), suspensionReason: suspension,
            lastSignInAt: try time("last_sign_in_at"), reinstatedAt: try time("reinstated_at"),
            organisationConfirmationDueAt: try time("organisation_confirmation_due_at"),
            strictExamRequired: try row.decode(column: prefix + "strict_exam_required", as: Int64.self) != 0
        )
        return UserCredentials(
            user: user,
            passwordHash: try row.decode(column: prefix + "password_hash", as: String.self),
            passwordChangedAt: Date(storedMilliseconds: try row.decode(column: prefix + "password_changed_at", as: Int64.self)),
            mustChangePassword: try row.decode(column: prefix + "must_change_password", as: Int64.self) != 0,
            failedSignIns: Int(try row.decode(column: prefix + "failed_sign_ins", as: Int64.self)),
            lockedUntil: try time("locked_until"),
            sealedTOTPSecret: try row.decode(column: prefix + "totp_secret", as: String?.self),
            sealedPendingTOTPSecret: try row.decode(column: prefix + "totp_pending_secret", as: String?.self),
            totpLastStep: try row.decode(column: prefix + "totp_last_step", as: Int64?.self)
        )
    }
}
