import CreditGateCore
import CreditGateStore
import Foundation

/// The demo bank: a head office in Beijing and branches in Shanghai and Guangdong, each with a region code and
/// networks, and one account per role. Seeded once per database: a second run finds the marker and does nothing.
///
/// So that the main job can be tried at once, the demo's query operator starts with query rights, as if the access
/// exam and the approval chain were behind them, and with this machine bound as their workstation (绑定IP), since the
/// demo's browser connects from loopback; both are in the audit log, marked as the demo's.
public struct DemoBank: Sendable {
    let organisations: any OrganisationRepository
    let settings: any SettingsRepository
    let accounts: AccountService
    let users: any UserRepository
    let networks: any UserNetworkRepository
    let audit: AuditTrail
    let clock: @Sendable () -> Date

    public init(organisations: any OrganisationRepository, settings: any SettingsRepository, accounts: AccountService, users: any UserRepository,
                networks: any UserNetworkRepository, audit: AuditTrail, clock: @escaping @Sendable () -> Date) {
        self.organisations = organisations
        self.settings = settings
        self.accounts = accounts
        self.users = users
        self.networks = networks
        self.audit = audit
        self.clock = clock
    }

    static let seededKey = "demo_bank_seeded"

    /// A demo account as printed once at seeding.
    public struct SeededAccount: Sendable {
        public let employeeID: String
        public let displayName: String
        public let role: Role
        public let organisationCode: String
        public let password: String
    }

    struct Unit {
        let code: String, name: String, kind: Organisation.Kind, parent: String?, region: String, networks: [String]
    }

    static let units: [Unit] = [
        Unit(code: "DEMO-HO", name: "示范银行总行 Demo Bank Head Office", kind: .headOffice, parent: nil, region: "110102",
             networks: ["10.10.0.0/16", "fd00:10::/48", "127.0.0.0/8", "::1/128"]),
        Unit(code: "DEMO-SH", name: "示范银行上海分行 Shanghai Branch", kind: .branch, parent: "DEMO-HO", region: "310101",
             networks: ["10.31.0.0/16", "fd00:31::/48"]),
        Unit(code: "DEMO-GD", name: "示范银行广东分行 Guangdong Branch", kind: .branch, parent: "DEMO-HO", region: "440106",
             networks: ["10.44.0.0/16", "fd00:44::/48"]),
    ]

    /// The query operator's bound workstation: this machine, where the demo runs.
    static let workstation = ["127.0.0.1/32", "::1/128"]

    static let staff: [(employeeID: String, name: String, role: Role, unit: String)] = [
        ("D0001", "王建国", .systemAdministrator, "DEMO-HO"),
        ("D0002", "李秀英", .creditAdministrator, "DEMO-SH"),
        ("D0003", "张伟", .queryOperator, "DEMO-SH"),
        ("D0004", "刘洋", .approver, "DEMO-SH"),
        ("D0005", "陈静", .complianceAuditor, "DEMO-HO"),
        ("D0006", "杨帆", .dataOfficer, "DEMO-GD"),
    ]

    /// Seeds the bank if this database has not been seeded; returns the accounts created (empty on a re-run).
    /// The marker is written last: a run that failed half-way is completed by the next one, which creates only
    /// what is missing.
    public func seedIfNeeded() async throws -> [SeededAccount] {
        guard try await settings.value(for: Self.seededKey) == nil else { return [] }
        var ids: [String: Organisation.ID] = [:]
        for unit in Self.units {
            let existing = try await organisations.find(code: unit.code)
            if let existing { ids[unit.code] = existing.id; continue }
            let organisation = Organisation(
                id: .random(), code: unit.code, name: unit.name, kind: unit.kind,
                parentID: unit.parent.flatMap { ids[$0] }, regionCode: RegionCode(unit.region)!,
                networks: unit.networks.compactMap(NetworkCIDR.init)
            )
            try await organisations.create(organisation, now: clock())
            ids[unit.code] = organisation.id
        }
        var seeded: [SeededAccount] = []
        for member in Self.staff {
            let password = AccountService.generatePassword()
            do {
                let user = try await accounts.open(employeeID: member.employeeID, displayName: member.name,
                                                   organisationCode: member.unit, roles: [member.role], password: password)
                if member.role == .queryOperator {
                    try await audit.record(AuditEvent(kind: .queryRightsGranted, occurredAt: clock(), actor: nil, clientIP: "local-command",
                                                      outcome: .success, details: ["user": user.id.rawValue, "by": "demo seed"]))
                    _ = try await users.grantQueryRights(user.id, at: clock())
                    let workstation = Self.workstation.compactMap(NetworkCIDR.init)
                    try await audit.record(AuditEvent(kind: .accountChanged, occurredAt: clock(), actor: nil, clientIP: "local-command", outcome: .success,
                                                      details: ["user": user.id.rawValue, "change": "bound_networks", "before": "",
                                                                "after": workstation.map(\.description).joined(separator: ","), "by": "demo seed"]))
                    try await networks.setNetworks(workstation, of: user.id)
                }
                seeded.append(SeededAccount(employeeID: member.employeeID, displayName: member.name, role: member.role,
                                            organisationCode: member.unit, password: password))
            } catch AccountService.Failure.employeeIDTaken {
                continue
            }
        }
        _ = try await settings.insertIfAbsent(Self.seededKey, value: ISO8601DateFormatter().string(from: clock()), now: clock())
        return seeded
    }
}
