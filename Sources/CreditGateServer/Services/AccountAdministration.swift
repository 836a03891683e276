import CreditGateCore
import CreditGateStore
import Foundation
import Logging

/// What administrators do to accounts and units: open, grant roles, transfer, confirm, reset, suspend, reinstate,
/// record HR status, allow a stricter re-examination (R-01–R-06).
///
/// Every operation is checked against the actor's scope: outside it a record is reported as not found, so that a
/// branch's credit administrator cannot learn whether a person works at another branch. Every change is an audit
/// event recorded before it takes effect; nobody changes their own roles or resets their own credentials.
public struct AccountAdministration: Sendable {
    let users: any UserRepository
    let organisations: any OrganisationRepository
    let sessions: any SessionRepository
    let exams: any ExamRepository
    let requests: any AccessRequestRepository
    let networks: any UserNetworkRepository
    let hasher: any PasswordHasher
    let passwordPolicy: PasswordPolicy
    let lifecycle: LifecyclePolicy
    let audit: AuditTrail
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(users: any UserRepository, organisations: any OrganisationRepository, sessions: any SessionRepository,
                exams: any ExamRepository, requests: any AccessRequestRepository, networks: any UserNetworkRepository, hasher: any PasswordHasher, passwordPolicy: PasswordPolicy, lifecycle: LifecyclePolicy,
                audit: AuditTrail, clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.users = users
        self.organisations = organisations
        self.sessions = sessions
        self.exams = exams
        self.requests = requests
        self.networks = networks
        self.hasher = hasher
        self.passwordPolicy = passwordPolicy
        self.lifecycle = lifecycle
        self.audit = audit
        self.clock = clock
        self.logger = logger
    }

    // MARK: Scope

    func tree() async throws -> OrganisationTree {
        OrganisationTree(try await organisations.all())
    }

    func scope(of actor: AuthenticatedUser) -> AdministrativeScope {
        AdministrativeScope.of(roles: actor.user.roles, organisation: actor.user.organisationID)
    }

    /// The units the actor may see.
    public func visibleOrganisations(for actor: AuthenticatedUser) async throws -> [Organisation] {
        let units = try await organisations.all()
        let tree = OrganisationTree(units)
        let scope = scope(of: actor)
        return units.filter { scope.contains($0.id, in: tree) }
    }

    /// The accounts the actor may see.
    public func visibleUsers(for actor: AuthenticatedUser) async throws -> [User] {
        let tree = try await tree()
        let scope = scope(of: actor)
        return try await users.all().filter { scope.contains($0.organisationID, in: tree) }
    }

    /// The account, if it exists and lies in the actor's scope; otherwise 404 — the same answer for both.
    public func user(_ id: User.ID, for actor: AuthenticatedUser) async throws -> User {
        guard let user = try await users.find(id), scope(of: actor).contains(user.organisationID, in: try await tree()) else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "user outside scope or unknown")
        }
        return user
    }

    /// The account, in scope, and holding no role the actor could not grant: a credit administrator never resets,
    /// suspends or moves a system administrator, an auditor or another credit administrator — otherwise a reset of
    /// someone else's credentials would be a way to become them.
    func managedUser(_ id: User.ID, by actor: AuthenticatedUser) async throws -> User {
        let user = try await self.user(id, for: actor)
        guard user.roles.isSubset(of: Role.grantable(by: actor.user.roles)) else {
            throw CreditGateError(.forbidden, detailKey: "account_refusal_higher", cause: "target holds a role beyond the actor's grant")
        }
        return user
    }

    func organisation(_ id: Organisation.ID, for actor: AuthenticatedUser) async throws -> Organisation {
        let tree = try await tree()
        guard let unit = tree.units[id], scope(of: actor).contains(id, in: tree) else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "organisation outside scope or unknown")
        }
        return unit
    }

    private func notSelf(_ actor: AuthenticatedUser, _ target: User.ID, key: String) throws {
        if actor.user.id == target { throw CreditGateError(.forbidden, detailKey: key, cause: "self-administration refused") }
    }

    private func record(_ kind: AuditEvent.Kind, by actor: AuthenticatedUser?, clientIP: String, outcome: AuditEvent.Outcome = .success,
                        reasons: [String] = [], details: [String: String]) async throws {
        try await audit.record(AuditEvent(kind: kind, occurredAt: clock(), actor: actor.map { .init($0.user) }, clientIP: clientIP,
                                          outcome: outcome, reasonCodes: reasons, details: details))
    }

    // MARK: Organisation units

    /// Creates a unit under a parent in the actor's scope; the root (head office) only by a system administrator
    /// when there is none yet.
    public func createOrganisation(by actor: AuthenticatedUser, code: String, name: String, kind: Organisation.Kind, parentID: Organisation.ID?,
                                   regionCode: String, networks: [String], clientIP: String) async throws -> Organisation {
        let code = code.trimmingCharacters(in: .whitespaces), name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (2...32).contains(code.count), code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw CreditGateError(.validationFailed, detailKey: "org_code_invalid")
        }
        guard !name.isEmpty, name.count <= 100 else { throw CreditGateError(.validationFailed, detailKey: "failure_empty_name") }
        guard let region = RegionCode(regionCode) else { throw CreditGateError(.validationFailed, detailKey: "org_region_invalid") }
        let cidrs = try parseNetworks(networks)
        var parent: Organisation?
        if let parentID { parent = try await organisation(parentID, for: actor) }
        guard kind.mayHaveParent(parent?.kind) else { throw CreditGateError(.validationFailed, detailKey: "org_kind_parent_mismatch") }
        if parent == nil, !actor.user.roles.contains(.systemAdministrator) {
            throw CreditGateError(.forbidden, detailKey: "detail_forbidden", cause: "only a system administrator creates a root unit")
        }
        let unit = Organisation(id: .random(), code: code, name: name, kind: kind, parentID: parent?.id, regionCode: region, networks: cidrs)
        try await record(.organisationChanged, by: actor, clientIP: clientIP, reasons: ["created"], details: [
            "organisation": unit.id.rawValue, "code": code, "kind": kind.rawValue, "parent": parent?.code ?? "",
            "region": region.value, "networks": cidrs.map(\.description).joined(separator: " "),
        ])
        do {
            try await organisations.create(unit, now: clock())
        } catch StoreError.duplicate {
            throw CreditGateError(.conflict, detailKey: "org_code_taken")
        }
        return unit
    }

    /// Changes a unit's name, region code and networks.
    public func updateOrganisation(by actor: AuthenticatedUser, id: Organisation.ID, name: String?, regionCode: String?, networks: [String]?,
                                   clientIP: String) async throws -> Organisation {
        var unit = try await organisation(id, for: actor)
        let before = unit
        if let name {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= 100 else { throw CreditGateError(.validationFailed, detailKey: "failure_empty_name") }
            unit.name = trimmed
        }
        if let regionCode {
            guard let region = RegionCode(regionCode) else { throw CreditGateError(.validationFailed, detailKey: "org_region_invalid") }
            unit.regionCode = region
        }
        if let networks { unit.networks = try parseNetworks(networks) }
        try await record(.organisationChanged, by: actor, clientIP: clientIP, reasons: ["updated"], details: [
            "organisation": unit.id.rawValue, "code": unit.code,
            "before": "\(before.name) \(before.regionCode.value) \(before.networks.map(\.description).joined(separator: ","))",
            "after": "\(unit.name) \(unit.regionCode.value) \(unit.networks.map(\.description).joined(separator: ","))",
        ])
        try await organisations.update(unit, now: clock())
        return unit
    }

    /// A person's bound addresses (绑定IP), from which — besides their unit's networks — they may query.
    public func boundNetworks(of id: User.ID, for actor: AuthenticatedUser) async throws -> [NetworkCIDR] {
        try await networks.networks(of: try await user(id, for: actor).id)
    }

    /// Replaces a person's bound addresses; never one's own, and only for a person the actor manages.
    public func setBoundNetworks(by actor: AuthenticatedUser, of id: User.ID, to texts: [String], clientIP: String) async throws -> [NetworkCIDR] {
        try notSelf(actor, id, key: "account_refusal_self")
        let target = try await managedUser(id, by: actor)
        let parsed = try parseNetworks(texts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        let before = try await networks.networks(of: target.id)
        try await record(.accountChanged, by: actor, clientIP: clientIP, details: [
            "user": target.id.rawValue, "change": "bound_networks",
            "before": before.map(\.description).joined(separator: ","), "after": parsed.map(\.description).joined(separator: ","),
        ])
        try await networks.setNetworks(parsed, of: target.id)
        return parsed
    }

    private func parseNetworks(_ texts: [String]) throws -> [NetworkCIDR] {
        guard texts.count <= 64 else { throw CreditGateError(.validationFailed, detailKey: "org_network_invalid") }
        return try texts.map { text in
            guard let cidr = NetworkCIDR(text) else { throw CreditGateError(.validationFailed, detailKey: "org_network_invalid") }
            return cidr
        }
    }

    // MARK: Accounts

    /// A new account and its one-time initial password, which must be changed at first sign-in.
    public struct Opened: Sendable {
        public let user: User
        public let initialPassword: String
    }

    /// Opens an account in a unit of the actor's scope with roles the actor may grant. A second account for the same
    /// employee ID is refused whatever the first one's state (人户统一); a suspended one is reinstated instead.
    public func openAccount(by actor: AuthenticatedUser, employeeID text: String, displayName: String, organisationID: Organisation.ID,
                            roles: Set<Role>, clientIP: String) async throws -> Opened {
        guard let employeeID = EmployeeID(text) else { throw CreditGateError(.validationFailed, detailKey: "detail_employee_id_invalid") }
        let name = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else { throw CreditGateError(.validationFailed, detailKey: "failure_empty_name") }
        guard !roles.isEmpty else { throw CreditGateError(.validationFailed, detailKey: "failure_no_roles") }
        let unit = try await organisation(organisationID, for: actor)
        guard roles.isSubset(of: Role.grantable(by: actor.user.roles)) else {
            throw CreditGateError(.forbidden, detailKey: "role_not_grantable", cause: "role beyond the actor's grant")
        }
        if let existing = try await users.find(employeeID: employeeID) {
            try await record(.accountChanged, by: actor, clientIP: clientIP, outcome: .denied, reasons: ["employee_id_taken"],
                             details: ["employee_id": employeeID.value, "existing_status": existing.status.rawValue])
            // The state of an account outside the actor's scope is not theirs to learn: one neutral answer.
            let inScope = scope(of: actor).contains(existing.organisationID, in: try await tree())
            throw CreditGateError(.conflict, detailKey: inScope && existing.status != .active ? "account_exists_reinstate" : "failure_employee_id_taken",
                                  cause: "employee ID already has an account")
        }
        var password = AccountService.generatePassword()
        while !passwordPolicy.violations(of: password, employeeID: employeeID, name: name).isEmpty { password = AccountService.generatePassword() }
        let now = clock()
        let user = User(id: .random(), employeeID: employeeID, displayName: name, organisationID: unit.id, roles: roles,
                        status: .active, preferredLanguage: nil, createdAt: now)
        try await record(.roleChanged, by: actor, clientIP: clientIP, reasons: ["account_opened"], details: [
            "user": user.id.rawValue, "employee_id": employeeID.value, "organisation": unit.code, "before": "",
            "after": roles.sorted().map(\.rawValue).joined(separator: ","), "must_change_password": "yes",
        ])
        do {
            try await users.create(user, passwordHash: try await hasher.hash(password), mustChangePassword: true, now: now)
        } catch StoreError.duplicate {
            throw CreditGateError(.conflict, detailKey: "failure_employee_id_taken")
        }
        return Opened(user: user, initialPassword: password)
    }

    /// Replaces a user's roles. Nobody changes their own; both the roles given and the roles taken away must be
    /// within what the actor may grant. Losing the query operator role ends query rights.
    public func setRoles(by actor: AuthenticatedUser, of id: User.ID, to roles: Set<Role>, clientIP: String) async throws -> User {
        try notSelf(actor, id, key: "role_refusal_self")
        var user = try await managedUser(id, by: actor)
        let grantable = Role.grantable(by: actor.user.roles)
        guard roles.union(user.roles).subtracting(roles.intersection(user.roles)).isSubset(of: grantable) else {
            throw CreditGateError(.forbidden, detailKey: "role_not_grantable", cause: "role change beyond the actor's grant")
        }
        guard !roles.isEmpty else { throw CreditGateError(.validationFailed, detailKey: "failure_no_roles") }
        let before = user.roles
        user.roles = roles
        if !roles.contains(.queryOperator) { user.queryRightsGrantedAt = nil }
        try await record(.roleChanged, by: actor, clientIP: clientIP, reasons: ["roles_changed"], details: [
            "user": user.id.rawValue, "employee_id": user.employeeID.value,
            "before": before.sorted().map(\.rawValue).joined(separator: ","), "after": roles.sorted().map(\.rawValue).joined(separator: ","),
        ])
        try await users.update(user, now: clock())
        return user
    }

    /// Moves a person to another unit (both in the actor's scope). The new unit must confirm them within the
    /// configured days, or the automatic suspension stops the account.
    public func transfer(by actor: AuthenticatedUser, _ id: User.ID, to organisationID: Organisation.ID, clientIP: String) async throws -> User {
        try notSelf(actor, id, key: "account_refusal_self")
        var user = try await managedUser(id, by: actor)
        let target = try await organisation(organisationID, for: actor)
        guard target.id != user.organisationID else { throw CreditGateError(.conflict, detailKey: "transfer_same_unit") }
        let now = clock()
        let before = user.organisationID
        user.organisationID = target.id
        user.organisationConfirmationDueAt = now.addingTimeInterval(lifecycle.organisationConfirmation)
        try await record(.accountChanged, by: actor, clientIP: clientIP, reasons: ["transferred"], details: [
            "user": user.id.rawValue, "employee_id": user.employeeID.value, "before": before.rawValue, "after": target.id.rawValue,
            "confirm_by": ConsolePages.utc(user.organisationConfirmationDueAt!.millisecondsSinceEpoch),
        ])
        try await users.update(user, now: now)
        return user
    }

    /// The new unit's confirmation of a transferred person.
    public func confirmOrganisation(by actor: AuthenticatedUser, _ id: User.ID, clientIP: String) async throws -> User {
        try notSelf(actor, id, key: "account_refusal_self")
        var user = try await managedUser(id, by: actor)
        guard user.organisationConfirmationDueAt != nil else { throw CreditGateError(.conflict, detailKey: "transfer_nothing_to_confirm") }
        user.organisationConfirmationDueAt = nil
        try await record(.accountChanged, by: actor, clientIP: clientIP, reasons: ["organisation_confirmed"],
                         details: ["user": user.id.rawValue, "employee_id": user.employeeID.value, "organisation": user.organisationID.rawValue])
        try await users.update(user, now: clock())
        return user
    }

    /// A new one-time password for someone else; all their sessions end at once.
    public func resetPassword(by actor: AuthenticatedUser, _ id: User.ID, clientIP: String) async throws -> String {
        try notSelf(actor, id, key: "account_refusal_self")
        let user = try await managedUser(id, by: actor)
        var password = AccountService.generatePassword()
        while !passwordPolicy.violations(of: password, employeeID: user.employeeID, name: user.displayName).isEmpty {
            password = AccountService.generatePassword()
        }
        let now = clock()
        try await record(.passwordReset, by: actor, clientIP: clientIP, details: ["user": user.id.rawValue, "employee_id": user.employeeID.value])
        try await users.setPassword(user.id, hash: try await hasher.hash(password), mustChange: true, now: now)
        try await sessions.endAll(of: user.id, except: nil, at: now, reason: .credentialsReset)
        return password
    }

    /// Removes a lost device's second factor; the person enrols again at next sign-in. All their sessions end.
    public func resetSecondFactor(by actor: AuthenticatedUser, _ id: User.ID, clientIP: String) async throws {
        try notSelf(actor, id, key: "account_refusal_self")
        let user = try await managedUser(id, by: actor)
        try await record(.secondFactorReset, by: actor, clientIP: clientIP, details: ["user": user.id.rawValue, "employee_id": user.employeeID.value])
        try await users.resetTOTP(user.id)
        try await sessions.endAll(of: user.id, except: nil, at: clock(), reason: .credentialsReset)
    }

    /// An administrator's suspension, in scope.
    public func suspend(by actor: AuthenticatedUser, _ id: User.ID, clientIP: String) async throws -> User {
        try notSelf(actor, id, key: "account_refusal_self")
        let user = try await managedUser(id, by: actor)
        return try await suspend(user.id, reason: .administrator, by: actor, clientIP: clientIP)
    }

    /// 停用: suspends an account for a reason, revokes its query rights and ends all its sessions at once, so its
    /// very next request is refused. The oversight work calls this with `.securityGradeC`; the automatic suspension
    /// with its own reasons. Suspending a suspended account changes nothing.
    @discardableResult
    public func suspend(_ id: User.ID, reason: SuspensionReason, by actor: AuthenticatedUser? = nil, clientIP: String = "scheduler") async throws -> User {
        guard var user = try await users.find(id) else { throw CreditGateError(.notFound, detailKey: "detail_not_found") }
        guard user.status == .active else { return user }
        let now = clock()
        user.status = .suspended
        user.suspendedAt = now
        user.suspensionReason = reason
        user.queryRightsGrantedAt = nil
        try await record(.accountSuspended, by: actor, clientIP: clientIP, reasons: [reason.rawValue], details: [
            "user": user.id.rawValue, "employee_id": user.employeeID.value,
            "reapply_from": ConsolePages.utc(Reinstatement.earliest(suspendedAt: now, policy: lifecycle).millisecondsSinceEpoch),
            "pending_access_requests": "refused",
        ])
        try await users.update(user, now: now)
        try await requests.refusePending(of: user.id)
        let ended = try await sessions.endAll(of: user.id, except: nil, at: now, reason: .accountInactive)
        logger.notice("account suspended", metadata: ["user": .string(user.id.rawValue), "reason": .string(reason.rawValue), "sessions_ended": .stringConvertible(ended)])
        return user
    }

    /// 重新申请: makes a suspended account active again after the waiting period, without query rights and with the
    /// stricter exam required.
    public func reinstate(by actor: AuthenticatedUser, _ id: User.ID, clientIP: String) async throws -> User {
        try notSelf(actor, id, key: "account_refusal_self")
        var user = try await managedUser(id, by: actor)
        let now = clock()
        if let refusal = Reinstatement.refusal(status: user.status, suspendedAt: user.suspendedAt, employment: user.employment, now: now, policy: lifecycle) {
            try await record(.accountReinstated, by: actor, clientIP: clientIP, outcome: .denied, reasons: [refusal.rawValue],
                             details: ["user": user.id.rawValue, "employee_id": user.employeeID.value])
            throw CreditGateError(.conflict, detailKey: refusal.rawValue, cause: "reinstatement refused")
        }
        let previous = user.suspensionReason?.rawValue ?? ""
        user.status = .active
        user.suspendedAt = nil
        user.suspensionReason = nil
        user.reinstatedAt = now
        user.queryRightsGrantedAt = nil
        user.strictExamRequired = true
        try await record(.accountReinstated, by: actor, clientIP: clientIP, reasons: ["strict_exam_required"],
                         details: ["user": user.id.rawValue, "employee_id": user.employeeID.value, "previous_reason": previous])
        try await users.update(user, now: now)
        return user
    }

    /// An administrator's permission for one attempt of the stricter exam after a reinstatement.
    public func grantExamPermit(by actor: AuthenticatedUser, _ id: User.ID, clientIP: String) async throws {
        try notSelf(actor, id, key: "account_refusal_self")
        let user = try await managedUser(id, by: actor)
        guard user.strictExamRequired, user.status == .active else { throw CreditGateError(.conflict, detailKey: "exam_permit_not_needed") }
        let permit = UUID().uuidString.lowercased()
        try await record(.examPermitGranted, by: actor, clientIP: clientIP, details: ["user": user.id.rawValue, "employee_id": user.employeeID.value, "permit": permit])
        try await exams.grantPermit(id: permit, to: user.id, by: actor.user.id, now: clock())
    }

    // MARK: HR status

    /// Records a person's employment from HR. Leaving suspends the account at once (the automatic suspension would
    /// catch it too, but there is no reason to wait).
    public func setEmployment(by actor: AuthenticatedUser?, employeeID text: String, to employment: Employment, clientIP: String) async throws -> User {
        guard let employeeID = EmployeeID(text), var user = try await users.find(employeeID: employeeID) else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "HR status for an unknown employee ID")
        }
        if user.employment != employment {
            try await record(.accountChanged, by: actor, clientIP: clientIP, reasons: ["employment_\(employment.rawValue)"], details: [
                "user": user.id.rawValue, "employee_id": user.employeeID.value, "before": user.employment.rawValue, "after": employment.rawValue,
            ])
            user.employment = employment
            try await users.update(user, now: clock())
        }
        if employment == .left, user.status == .active {
            user = try await suspend(user.id, reason: .left, by: actor, clientIP: clientIP)
        }
        return user
    }

    /// One line of an HR file that was not applied, with why.
    public struct ImportProblem: Sendable {
        public let line: Int
        public let reasonKey: String
    }

    /// Applies an HR file: UTF-8 text, one `employee_id,status` per line (`in_service` or `left`; `在职`/`离职` also
    /// read), `#` comments and a header line allowed. Lines that do not apply are reported; the others are applied.
    public func importEmployment(by actor: AuthenticatedUser, text: String, clientIP: String) async throws -> (applied: Int, problems: [ImportProblem]) {
        var applied = 0
        var problems: [ImportProblem] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || (index == 0 && line.lowercased().hasPrefix("employee_id")) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 2 else { problems.append(.init(line: index + 1, reasonKey: "hr_line_malformed")); continue }
            let employment: Employment? = switch fields[1] {
            case "in_service", "在职": .inService
            case "left", "离职": .left
            default: nil
            }
            guard let employment else { problems.append(.init(line: index + 1, reasonKey: "hr_status_unknown")); continue }
            do {
                _ = try await setEmployment(by: actor, employeeID: fields[0], to: employment, clientIP: clientIP)
                applied += 1
            } catch let error as CreditGateError where error.kind == .notFound {
                problems.append(.init(line: index + 1, reasonKey: "hr_employee_unknown"))
            }
        }
        return (applied, problems)
    }
}

extension Date {
    /// Whole milliseconds since the Unix epoch, as the audit log and the console show times.
    var millisecondsSinceEpoch: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
}
