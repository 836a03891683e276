import CreditGateCore
import CreditGateStore
import Crypto
import Foundation

/// Policy settings per unit (inherited down the tree) and the holiday calendar (R-21, SPEC §8).
///
/// A system administrator sets any unit's policy; a credit administrator the units of their own subtree. Every
/// change is a `setting.changed` audit event carrying the settings before and after, which is where the page's
/// "who changed what" comes from. Calendars are imported by system administrators; the 2025 and 2026 notices ship
/// with the product and are imported on first start.
public struct PolicyService: Sendable {
    let settings: any PolicySettingsRepository
    let calendars: any HolidayCalendarRepository
    let organisations: any OrganisationRepository
    let auditLog: any AuditLogRepository
    let audit: AuditTrail
    let clock: @Sendable () -> Date
    /// What the engine decides with, held in memory until the settings, calendars or tree change.
    let reference: ReferenceCache

    public init(settings: any PolicySettingsRepository, calendars: any HolidayCalendarRepository, organisations: any OrganisationRepository,
                auditLog: any AuditLogRepository, audit: AuditTrail, reference: ReferenceCache, clock: @escaping @Sendable () -> Date) {
        self.reference = reference
        self.settings = settings
        self.calendars = calendars
        self.organisations = organisations
        self.auditLog = auditLog
        self.audit = audit
        self.clock = clock
    }

    /// The calendar years shipped with this release.
    static let bundledYears = [2025, 2026]

    /// The shipped calendars, read from the bundle (for the benchmark and for a first start).
    public static func bundledCalendars() throws -> [HolidayCalendarYear] {
        try bundledYears.map { try HolidayCalendarYear.parse(try BundledResources.data("calendar/\($0).json")) }
    }

    // MARK: Calendar

    /// Imports each shipped year the database does not have yet.
    public func importBundledCalendarsIfMissing() async throws {
        let stored = Set(try await calendars.all().map(\.calendar.year))
        for year in Self.bundledYears where !stored.contains(year) {
            _ = try await importCalendar(try BundledResources.data("calendar/\(year).json"), by: nil, clientIP: "local-command")
        }
    }

    /// Checks and stores a year's calendar; a year already there is replaced (a correction), and the log says so.
    public func importCalendar(_ data: Data, by actor: AuthenticatedUser?, clientIP: String) async throws -> HolidayCalendarYear {
        let calendar: HolidayCalendarYear
        do {
            calendar = try HolidayCalendarYear.parse(data)
        } catch {
            throw CreditGateError(.validationFailed, detailKey: error.rawValue, cause: "holiday calendar refused: \(error.rawValue)")
        }
        let sha256 = Hex.encode(SHA256.hash(data: data))
        let now = clock()
        try await audit.record(AuditEvent(
            kind: .calendarImported, occurredAt: now, actor: actor.map { .init($0.user) }, clientIP: clientIP, outcome: .success,
            details: ["year": String(calendar.year), "sha256": sha256, "source": calendar.source.title]
        ))
        try await calendars.save(calendar, content: data, sha256: sha256, by: actor?.user.id, now: now)
        return calendar
    }

    public func storedCalendars() async throws -> [StoredHolidayCalendar] {
        try await calendars.all()
    }

    /// The calendar the engine decides with; the notices are parsed again only after an import, here or in another
    /// instance.
    public func workingCalendar() async throws -> WorkingCalendar {
        try await reference.current().calendar
    }

    /// The years an administrator must import now (see ``WorkingCalendar/missingYears(today:)``).
    public func missingYears() async throws -> [Int] {
        try await workingCalendar().missingYears(today: CalendarDate(clock()))
    }

    // MARK: Settings

    /// One unit as the policy page shows it: its own settings and what is in force after inheritance.
    public struct UnitPolicy: Sendable {
        public let organisation: Organisation
        public let own: PolicySettings?
        public let effective: EffectivePolicy
    }

    /// The policy in force for a unit: its own settings over its parents', over the defaults.
    public func effectivePolicy(for unit: Organisation.ID) async throws -> EffectivePolicy {
        try await reference.current().effectivePolicy(for: unit)
    }

    /// The policy each unit of a subtree would have if `unit`'s own settings were `proposed` (units below keep theirs).
    public func proposedPolicies(under unit: Organisation.ID, proposed: PolicySettings) async throws -> [Organisation.ID: EffectivePolicy] {
        let tree = OrganisationTree(try await organisations.all())
        var own = try await settings.all()
        own[unit] = proposed
        return Dictionary(uniqueKeysWithValues: tree.unitIDs(under: unit).map { id in
            (id, EffectivePolicy.of(id, in: tree, own: own))
        })
    }

    /// The units the actor may see, with their policies.
    public func units(for actor: AuthenticatedUser) async throws -> [UnitPolicy] {
        let units = try await organisations.all()
        let tree = OrganisationTree(units)
        let scope = AdministrativeScope.of(roles: actor.user.roles, organisation: actor.user.organisationID)
        let own = try await settings.all()
        return units.filter { scope.contains($0.id, in: tree) }.map { unit in
            UnitPolicy(organisation: unit, own: own[unit.id],
                       effective: EffectivePolicy.of(unit.id, in: tree, own: own))
        }
    }

    /// Replaces a unit's own settings.
    ///
    /// A system administrator may set any unit's policy. A credit administrator may set only the units below their
    /// own, and only tighter than what the unit inherits: a branch can never loosen the head office's rules for
    /// itself.
    public func update(_ unit: Organisation.ID, to new: PolicySettings, by actor: AuthenticatedUser, clientIP: String) async throws -> UnitPolicy {
        let tree = OrganisationTree(try await organisations.all())
        let isSystemAdministrator = actor.user.roles.contains(.systemAdministrator)
        guard let organisation = tree.units[unit],
              AdministrativeScope.of(roles: actor.user.roles, organisation: actor.user.organisationID).contains(unit, in: tree),
              isSystemAdministrator || tree.isWithin(unit, subtreeOf: actor.user.organisationID)
        else { throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "policy unit outside scope or unknown") }
        if !isSystemAdministrator, unit == actor.user.organisationID {
            throw CreditGateError(.forbidden, detailKey: "policy_own_unit", cause: "policy of the actor's own unit")
        }
        if let problem = new.problems.first {
            throw CreditGateError(.validationFailed, detailKey: problem, cause: "policy settings refused: \(problem)")
        }
        var cleaned = new
        cleaned.exceptable = new.exceptable.map { $0.filter(\.mayBeExcepted) }
        let all = try await settings.all()
        let chainAbove = tree.path(from: unit).dropFirst().reversed().compactMap { all[$0.id] }
        let inherited = EffectivePolicy.resolve(Array(chainAbove))
        let proposed = EffectivePolicy.resolve(Array(chainAbove) + [cleaned])
        // Hours that only clash after inheritance would mean no working hours at all: refused, not silently applied.
        guard proposed.workdayStart < proposed.workdayEnd else {
            throw CreditGateError(.validationFailed, detailKey: "policy_hours_order", cause: "inherited hours clash")
        }
        if !isSystemAdministrator, !proposed.isAtLeastAsStrict(as: inherited) {
            throw CreditGateError(.forbidden, detailKey: "policy_looser_than_parent", cause: "policy looser than inherited")
        }
        let before = all[unit]
        let now = clock()
        try await audit.record(AuditEvent(
            kind: .settingChanged, occurredAt: now, actor: .init(actor.user), clientIP: clientIP, outcome: .success,
            details: ["setting": "policy", "organisation": unit.rawValue, "before": Self.json(before), "after": Self.json(cleaned)]
        ))
        try await settings.save(cleaned, for: unit, by: actor.user.id, now: now)
        let own = try await settings.all()
        return UnitPolicy(organisation: organisation, own: cleaned,
                          effective: EffectivePolicy.of(unit, in: tree, own: own))
    }

    /// One change of a unit's policy, as the audit log recorded it.
    public struct Change: Sendable {
        public let index: UInt64
        public let at: Date
        public let actorUserID: String?
        public let organisationID: String
        public let before: String
        public let after: String
    }

    /// The recent policy changes of the units in the actor's scope, newest first, read from the audit log.
    public func history(for actor: AuthenticatedUser, limit: Int = 50) async throws -> [Change] {
        let visible = Set(try await units(for: actor).map(\.organisation.id.rawValue))
        let entries = try await auditLog.search(AuditEntryQuery(kind: AuditEvent.Kind.settingChanged.rawValue, limit: 500))
        return entries.compactMap { entry -> Change? in
            guard let leaf = entry.leaf, let object = try? JSONSerialization.jsonObject(with: Data(leaf)) as? [String: Any],
                  let details = object["details"] as? [String: String], details["setting"] == "policy",
                  let unit = details["organisation"], visible.contains(unit)
            else { return nil }
            return Change(index: entry.index, at: Date(timeIntervalSince1970: Double(entry.occurredAt) / 1000), actorUserID: entry.actorUserID,
                          organisationID: unit, before: details["before"] ?? "", after: details["after"] ?? "")
        }.sorted { $0.index > $1.index }.prefix(limit).map { $0 }
    }

    static func json(_ settings: PolicySettings?) -> String {
        guard let settings else { return "{}" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(settings)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

