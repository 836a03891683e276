import CreditGateCore
import Foundation
import SQLKit

/// A user with the stored password hash, for sign-in only. The hash never leaves the server.
public struct UserCredentials: Sendable {
    public let user: User
    public let passwordHash: String
    public let passwordChangedAt: Date
}

/// Accounts and their roles.
public protocol UserRepository: Sendable {
    /// Stores a new account with its roles. Throws ``StoreError/duplicate(_:)`` when the employee ID already has an
    /// account — whatever that account's status: one person, one account.
    func create(_ user: User, passwordHash: String, now: Date) async throws
    func find(_ id: User.ID) async throws -> User?
    func credentials(for employeeID: EmployeeID) async throws -> UserCredentials?
    /// Every account, by employee ID.
    func all() async throws -> [User]
    func count() async throws -> Int
    func setPreferredLanguage(_ language: Language?, for id: User.ID, now: Date) async throws
}

public struct SQLUserRepository: UserRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func create(_ user: User, passwordHash: String, now: Date) async throws {
        do {
            try await database.transaction { connection in
                try await connection.insert(into: "users")
                    .columns("id", "employee_id", "display_name", "organisation_id", "status", "preferred_language",
                             "password_hash", "password_changed_at", "created_at", "updated_at")
                    .values(
                        SQLBind(user.id.rawValue), SQLBind(user.employeeID.value), SQLBind(user.displayName),
                        SQLBind(user.organisationID.rawValue), SQLBind(user.status.rawValue),
                        SQLBind(user.preferredLanguage?.rawValue), SQLBind(passwordHash),
                        SQLBind(now.storedMilliseconds), SQLBind(user.createdAt.storedMilliseconds), SQLBind(now.storedMilliseconds)
                    )
                    .run()
                for role in user.roles.sorted() {
                    try await connection.insert(into: "user_roles")
                        .columns("user_id", "role", "granted_at")
                        .values(SQLBind(user.id.rawValue), SQLBind(role.rawValue), SQLBind(now.storedMilliseconds))
                        .run()
                }
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

    public func credentials(for employeeID: EmployeeID) async throws -> UserCredentials? {
        try await load(where: "employee_id", equals: employeeID.value).first
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

    private func load(where column: String?, equals value: String?) async throws -> [UserCredentials] {
        try await database.withConnection { connection in
            var query = connection.select()
                .columns("id", "employee_id", "display_name", "organisation_id", "status", "preferred_language",
                         "password_hash", "password_changed_at", "created_at")
                .from("users")
                .orderBy("employee_id")
            var roleQuery = connection.select().columns("user_id", "role").from("user_roles")
            if let column, let value {
                query = query.where(SQLIdentifier(column), .equal, SQLBind(value))
                roleQuery = roleQuery.where(SQLColumn("user_id"), .in,
                    SQLGroupExpression(connection.select().column("id").from("users").where(SQLIdentifier(column), .equal, SQLBind(value)).query))
            }
            var roles: [String: Set<Role>] = [:]
            for row in try await roleQuery.all() {
                // A role this build does not know (written by a newer version) grants nothing.
                if let role = Role(rawValue: try row.decode(column: "role", as: String.self)) {
                    roles[try row.decode(column: "user_id", as: String.self), default: []].insert(role)
                }
            }
            return try await query.all().map { row in
                let id = try row.decode(column: "id", as: String.self)
                guard let employeeID = EmployeeID(try row.decode(column: "employee_id", as: String.self)),
                      let status = AccountStatus(rawValue: try row.decode(column: "status", as: String.self))
                else { throw StoreError.corruptRow("users") }
                let user = User(
                    id: .init(id), employeeID: employeeID,
                    displayName: try row.decode(column: "display_name", as: String.self),
                    organisationID: .init(try row.decode(column: "organisation_id", as: String.self)),
                    roles: roles[id] ?? [], status: status,
                    preferredLanguage: try row.decode(column: "preferred_language", as: String?.self).flatMap(Language.init(code:)),
                    createdAt: Date(storedMilliseconds: try row.decode(column: "created_at", as: Int64.self))
                )
                return UserCredentials(
                    user: user,
                    passwordHash: try row.decode(column: "password_hash", as: String.self),
                    passwordChangedAt: Date(storedMilliseconds: try row.decode(column: "password_changed_at", as: Int64.self))
                )
            }
        }
    }
}
