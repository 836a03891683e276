import CreditGateCore
import CreditGateStore
import Synchronization

/// The slowly changing data every query is decided with: the organisation tree with its networks, each unit's own
/// policy settings, the parsed holiday calendars, the client applications with their units and each person's bound
/// addresses.
public struct ReferenceData: Sendable {
    /// The database's reference version this data was read at (or after).
    let version: Int64
    public let tree: OrganisationTree
    let ownSettings: [Organisation.ID: PolicySettings]
    public let calendar: WorkingCalendar
    let apps: [ClientApp.ID: ClientApp]
    let userNetworks: [User.ID: [NetworkCIDR]]
    /// The keyed hashes of the identifiers in the register of related parties (migration 10).
    let relatedPartyHashes: Set<String>

    /// The policy in force for a unit: its own settings over its parents', over the defaults.
    public func effectivePolicy(for unit: Organisation.ID) -> EffectivePolicy {
        EffectivePolicy.of(unit, in: tree, own: ownSettings)
    }
}

/// Holds ``ReferenceData`` in memory so that a query reads one number instead of the tables behind it.
///
/// Each use reads the reference version, which the database's triggers move with every change to those tables
/// (migration 8), in this instance or another. An unchanged version serves the data held; a moved one reads the
/// data again before anything is decided with it, so a revoked application or a changed cap takes effect with the
/// next query, exactly as without the cache. Concurrent queries that find the same new version share one reading.
public final class ReferenceCache: Sendable {
    private let versions: any ReferenceVersionRepository
    private let organisations: any OrganisationRepository
    private let settings: any PolicySettingsRepository
    private let calendars: any HolidayCalendarRepository
    private let apps: any ClientAppRepository
    private let userNetworks: any UserNetworkRepository
    private let relatedParties: any RelatedPartyRepository
    private let held = Mutex<ReferenceData?>(nil)
    private let readings = Readings()

    public init(versions: any ReferenceVersionRepository, organisations: any OrganisationRepository, settings: any PolicySettingsRepository,
                calendars: any HolidayCalendarRepository, apps: any ClientAppRepository, userNetworks: any UserNetworkRepository,
                relatedParties: any RelatedPartyRepository) {
        self.versions = versions
        self.organisations = organisations
        self.settings = settings
        self.calendars = calendars
        self.apps = apps
        self.userNetworks = userNetworks
        self.relatedParties = relatedParties
    }

    /// The data as of the database's current reference version.
    public func current() async throws -> ReferenceData {
        let version = try await versions.current()
        // Equal, not at least: a database restored to an earlier state has an earlier version, and the data held
        // from before must not outlive it.
        if let data = held.withLock({ $0 }), data.version == version { return data }
        return try await readings.read(version) { try await self.read() }
    }

    /// Reads the version first and the tables after it: a change landing in between is then in the data but not in
    /// its version, and is only read once more, never missed.
    private func read() async throws -> ReferenceData {
        let version = try await versions.current()
        let data = ReferenceData(
            version: version, tree: OrganisationTree(try await organisations.all()), ownSettings: try await settings.all(),
            calendar: WorkingCalendar(try await calendars.all().map(\.calendar)),
            apps: Dictionary(try await apps.all().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }),
            userNetworks: try await userNetworks.all(), relatedPartyHashes: try await relatedParties.subjectHashes()
        )
        // The latest reading is held; should an older one land after it, the next version check reads again.
        held.withLock { $0 = data }
        return data
    }

    /// One reading at a time for a given version: queries arriving while it runs wait for it instead of each reading
    /// every table again.
    private actor Readings {
        private var inFlight: (version: Int64, task: Task<ReferenceData, any Error>)?

        func read(_ version: Int64, _ body: @escaping @Sendable () async throws -> ReferenceData) async throws -> ReferenceData {
            if let inFlight, inFlight.version == version { return try await inFlight.task.value }
            let task = Task { try await body() }
            inFlight = (version, task)
            defer { if inFlight?.task == task { inFlight = nil } }
            return try await task.value
        }
    }
}
