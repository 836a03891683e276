/// A role a person holds in CreditGate (R-03, 知所必需、最小授权).
///
/// A user gets only the roles granted to them; what each role may do is the ``PermissionMatrix``.
public enum Role: String, CaseIterable, Codable, Sendable, Hashable, Comparable {
    /// 系统管理员: runs the installation (organisations, accounts, settings); never queries.
    case systemAdministrator = "system_administrator"
    /// 征信管理员: administers credit-system access for one organisation and its subtree.
    case creditAdministrator = "credit_administrator"
    /// 查询用户: a loan officer who queries reports with the subject's consent.
    case queryOperator = "query_operator"
    /// 审批人: a supervisor who approves exceptions and access requests; never their own.
    case approver = "approver"
    /// 合规审计员: reads audit records, checks and reports; cannot query (read-only).
    case complianceAuditor = "compliance_auditor"
    /// 数据管理员: handles batch data and sharing with third parties.
    case dataOfficer = "data_officer"

    /// The catalogue key of the role's name.
    public var nameKey: String { "role_\(rawValue)" }

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Something a user may do. Routes name the permission they need; roles grant permissions through the
/// ``PermissionMatrix``. Nothing is allowed that the matrix does not list.
public enum Permission: String, CaseIterable, Codable, Sendable, Hashable {
    /// Use the console at all (sign in, see one's own account).
    case consoleUse = "console.use"
    /// Change one's own preferences (language).
    case profileUpdate = "profile.update"
    /// See the organisation tree with region codes and networks.
    case organisationsRead = "organisations.read"
    /// See the list of accounts and their roles.
    case usersRead = "users.read"
    /// See the installation's status (database, migrations, bureau).
    case systemStatusRead = "system.status.read"
    /// Read the audit log: entries, proofs, checkpoints, and run its verification.
    case auditLogRead = "audit.log.read"
}

/// The permission matrix (权限矩阵): which role grants which permission. Data, not code paths, so that it can be
/// printed in `docs/ROLES.md` and checked by one mechanism on every route.
public struct PermissionMatrix: Sendable {
    public let grants: [Role: Set<Permission>]

    public init(grants: [Role: Set<Permission>]) {
        self.grants = grants
    }

    /// The matrix CreditGate ships with. Least privilege: each role gets only what its job needs.
    public static let standard = PermissionMatrix(grants: [
        .systemAdministrator: [.consoleUse, .profileUpdate, .organisationsRead, .usersRead, .systemStatusRead],
        .creditAdministrator: [.consoleUse, .profileUpdate, .organisationsRead, .usersRead],
        .queryOperator: [.consoleUse, .profileUpdate],
        .approver: [.consoleUse, .profileUpdate],
        .complianceAuditor: [.consoleUse, .profileUpdate, .organisationsRead, .usersRead, .systemStatusRead, .auditLogRead],
        .dataOfficer: [.consoleUse, .profileUpdate],
    ])

    /// The union of what the given roles grant.
    public func permissions(for roles: some Sequence<Role>) -> Set<Permission> {
        roles.reduce(into: Set<Permission>()) { result, role in result.formUnion(grants[role] ?? []) }
    }

    /// `true` only when one of the roles grants the permission; no roles means nothing is allowed.
    public func allows(_ roles: some Sequence<Role>, _ permission: Permission) -> Bool {
        permissions(for: roles).contains(permission)
    }
}
