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

    /// The roles a holder of `grantorRoles` may grant to someone else (never to themselves: see
    /// ``RoleGrantRule``). A system administrator grants any role; a credit administrator grants the working roles
    /// of their own subtree, not the administrative or oversight ones, so that nobody widens their own reach.
    public static func grantable(by grantorRoles: Set<Role>) -> Set<Role> {
        if grantorRoles.contains(.systemAdministrator) { return Set(allCases) }
        if grantorRoles.contains(.creditAdministrator) { return [.queryOperator, .approver, .dataOfficer] }
        return []
    }

    /// Whether an account with this role must prove a second factor (TOTP, RFC 6238) at sign-in. Every
    /// role either sees credit data, sees audit data or decides who does, so every role requires it.
    public var requiresSecondFactor: Bool { true }
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
    /// Create and change organisation units (within the administrator's scope).
    case organisationsManage = "organisations.manage"
    /// Open accounts, grant roles, transfer, reset passwords and second factors, reinstate, allow a re-application
    /// exam (within the administrator's scope).
    case usersManage = "users.manage"
    /// Record a person's employment status from HR (in service or left), by API or file.
    case hrUpdate = "hr.update"
    /// Take the access exam (准入测试) and apply for query rights.
    case examTake = "exam.take"
    /// Import the question bank and see every attempt.
    case examManage = "exam.manage"
    /// Decide a step of an access request (逐级审批) for an organisation in scope.
    case accessApprove = "access.approve"
    /// See access requests and exam attempts in scope.
    case accessRead = "access.read"
    /// Run the automatic suspension (自动停用) now and see its runs.
    case suspensionRun = "accounts.suspension.run"
    /// See the automatic suspension's runs.
    case suspensionRead = "accounts.suspension.read"
    /// Name the responsible persons of an organisation unit and record training.
    case responsibilityManage = "responsibility.manage"
    /// See responsibility matrices, training records and the yearly coverage list.
    case responsibilityRead = "responsibility.read"
    /// File a subject's written authorisation (授权书) with its scanned document, and see those of one's own unit.
    case consentsUpload = "consents.upload"
    /// See the consents filed in scope (not their documents).
    case consentsRead = "consents.read"
    /// Open a consent's scanned document, for per-query checks (逐笔核查); every opening is an audit event.
    case consentsDocumentOpen = "consents.document.open"
    /// Record a subject's withdrawal of a consent.
    case consentsWithdraw = "consents.withdraw"
    /// Query a credit report (also needs query rights: the exam passed and the approval chain granted).
    case queriesMake = "queries.make"
    /// See the loan register in scope.
    case loansRead = "loans.read"
    /// Add and update loans of the register, by API or file.
    case loansManage = "loans.manage"
    /// See the registered client applications.
    case clientAppsRead = "client_apps.read"
    /// Register, approve (never one's own registration) and revoke client applications.
    case clientAppsManage = "client_apps.manage"
    /// Decide a state-organ or internal-staff case of one's own unit or a unit below; never one's own.
    case specialCasesApprove = "special_cases.approve"
    /// Decide a request to except a query from the policy (授权查询, R-22) of one's own unit or a unit below; never
    /// one's own.
    case exceptionsApprove = "exceptions.approve"
    /// Trace a report view from the view ID on a screenshot back to the person, time, address, query and consent.
    case reportsTrace = "reports.trace"
    /// See what was destroyed under retention, and place or release a legal hold that keeps a query's records.
    case recordsRetention = "records.retention"
    /// See the policy of the units in scope (caps, hours, region, exceptions), its history, and the holiday calendar.
    case policyRead = "policy.read"
    /// Change the policy of a unit in one's own subtree (any unit for a system administrator).
    case policyManage = "policy.manage"
    /// Import a year's State Council holiday calendar.
    case calendarManage = "calendar.manage"
    /// Ask the what-if simulator what the current policy would decide, about people in scope.
    case policySimulate = "policy.simulate"
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
        .systemAdministrator: [
            .consoleUse, .profileUpdate, .organisationsRead, .usersRead, .systemStatusRead, .organisationsManage,
            .usersManage, .hrUpdate, .examManage, .accessRead, .suspensionRun, .suspensionRead, .responsibilityManage,
            .responsibilityRead, .clientAppsRead, .clientAppsManage, .policyRead, .policyManage, .calendarManage,
            .policySimulate,
        ],
        .creditAdministrator: [
            .consoleUse, .profileUpdate, .organisationsRead, .usersRead, .organisationsManage, .usersManage,
            .accessApprove, .accessRead, .suspensionRead, .responsibilityManage, .responsibilityRead,
            .consentsRead, .consentsDocumentOpen, .consentsWithdraw, .loansRead, .loansManage, .policyRead, .policyManage,
            .policySimulate,
        ],
        .queryOperator: [.consoleUse, .profileUpdate, .examTake, .consentsUpload, .consentsRead, .consentsWithdraw, .queriesMake, .loansRead],
        .approver: [.consoleUse, .profileUpdate, .specialCasesApprove, .exceptionsApprove],
        .complianceAuditor: [
            .consoleUse, .profileUpdate, .organisationsRead, .usersRead, .systemStatusRead, .auditLogRead,
            .accessRead, .suspensionRead, .responsibilityRead, .consentsRead, .consentsDocumentOpen, .loansRead, .clientAppsRead, .policyRead,
            .policySimulate, .reportsTrace, .recordsRetention,
        ],
        .dataOfficer: [.consoleUse, .profileUpdate, .loansRead, .loansManage],
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
