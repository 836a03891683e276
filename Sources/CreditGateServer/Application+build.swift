import CreditGateBureau
import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// What it takes to build a CreditGate application. The `serve`/`demo` commands and the tests each conform;
/// ``buildApplication(_:)`` is the only place live implementations are chosen.
public protocol AppArguments: Sendable {
    var configuration: AppConfiguration { get }
    var secrets: Secrets { get }
    var mode: RunMode { get }
    var logger: Logger { get }
    /// The time source; tests pass a fixed or steerable clock.
    var clock: @Sendable () -> Date { get }
    /// Confines a PostgreSQL pool to one schema (tests); `nil` uses the server's default search path.
    var postgresSearchPath: [String]? { get }
}

extension AppArguments {
    public var clock: @Sendable () -> Date { Date.init }
    public var postgresSearchPath: [String]? { nil }
}

/// The live services of one instance, built once from the arguments.
public struct AppServices: Sendable {
    public let database: Database
    public let organisations: any OrganisationRepository
    public let users: any UserRepository
    public let sessions: any SessionRepository
    public let settings: any SettingsRepository
    public let hasher: any PasswordHasher
    public let bureau: any CreditBureau
    public let authentication: AuthenticationService
    public let accounts: AccountService
    public let administration: AccountAdministration
    public let access: AccessService
    public let suspension: SuspensionService
    public let responsibility: ResponsibilityService
    public let consents: ConsentService
    public let loans: LoanRegisterService
    public let clientApps: ClientAppService
    public let queries: QueryService
    public let specialCases: SpecialQueryCaseService
    public let exceptions: PolicyExceptionService
    public let reports: ReportService
    public let retention: RetentionService
    public let keyRotation: KeyRotationService
    public let policy: PolicyService
    public let userNetworks: any UserNetworkRepository
    public let simulator: PolicySimulator
    /// The register of related parties.
    public let relatedParties: RelatedPartyService
    public let exams: any ExamRepository
    public let auditLog: any AuditLogRepository
    public let auditTrail: AuditTrail
    public let logSigner: NoteSigner
    public let clock: @Sendable () -> Date

    /// Opens the database pool and wires the repositories and services. Does not migrate.
    public static func make(_ arguments: some AppArguments) throws -> AppServices {
        let configuration = arguments.configuration
        let database = try Database(
            location: try DatabaseLocation(url: configuration.databaseURL),
            maxConnectionsPerEventLoop: configuration.databaseMaxConnectionsPerEventLoop,
            postgresSearchPath: arguments.postgresSearchPath,
            logger: arguments.logger
        )
        let organisations = SQLOrganisationRepository(database: database)
        let users = SQLUserRepository(database: database)
        let sessions = SQLSessionRepository(database: database)
        let exams = SQLExamRepository(database: database)
        let hasher = BcryptPasswordHasher(cost: configuration.bcryptCost)
        let clock = arguments.clock
        let auditLog = SQLAuditLogRepository(database: database)
        let auditTrail = AuditTrail(
            writer: AuditLogWriter(repository: auditLog, timeout: configuration.auditAppendTimeout, logger: arguments.logger),
            subjects: SubjectHasher(key: arguments.secrets.hashingKey)
        )
        var passwordPolicy = configuration.passwordPolicy
        passwordPolicy.commonPasswords = try CommonPasswords.bundled()
        let accessRequests = SQLAccessRequestRepository(database: database)
        let userNetworks = SQLUserNetworkRepository(database: database)
        let administration = AccountAdministration(
            users: users, organisations: organisations, sessions: sessions, exams: exams, requests: accessRequests,
            networks: userNetworks, hasher: hasher,
            passwordPolicy: passwordPolicy,
            lifecycle: configuration.lifecyclePolicy, audit: auditTrail, clock: clock, logger: arguments.logger
        )
        let sealer = try ReportKeyring.sealer(root: arguments.secrets.masterKey, path: configuration.reportKeysPath)
        let consentRepository = SQLConsentRepository(database: database)
        let queryRepository = SQLQueryRepository(database: database)
        let bureau = SandboxBureau(
            behaviour: SandboxBureauBehaviour(latency: configuration.sandboxLatency,
                                              fault: SandboxBureauBehaviour.Fault(rawValue: configuration.sandboxFault) ?? .none,
                                              timeout: configuration.bureauTimeout),
            history: GatewayQueryHistory(queries: queryRepository), clock: clock
        )
        let loans = LoanRegisterService(loans: SQLLoanRepository(database: database), organisations: organisations, audit: auditTrail, clock: clock)
        let appRepository = SQLClientAppRepository(database: database)
        let clientApps = ClientAppService(apps: appRepository, organisations: organisations, audit: auditTrail, clock: clock)
        let policySettings = SQLPolicySettingsRepository(database: database)
        let calendars = SQLHolidayCalendarRepository(database: database)
        let relatedPartyRepository = SQLRelatedPartyRepository(database: database)
        let reference = ReferenceCache(versions: SQLReferenceVersionRepository(database: database), organisations: organisations,
                                       settings: policySettings, calendars: calendars, apps: appRepository, userNetworks: userNetworks,
                                       relatedParties: relatedPartyRepository)
        let policy = PolicyService(settings: policySettings, calendars: calendars, organisations: organisations, auditLog: auditLog, audit: auditTrail,
                                   reference: reference, clock: clock)
        let specialCases = SpecialQueryCaseService(cases: SQLSpecialQueryCaseRepository(database: database), organisations: organisations,
                                                   audit: auditTrail, clock: clock)
        let exceptionRepository = SQLPolicyExceptionRepository(database: database)
        let relatedParties = RelatedPartyService(parties: relatedPartyRepository, administration: administration, audit: auditTrail, clock: clock)
        let queries = QueryService(queries: queryRepository, consents: consentRepository, loans: loans,
                                   apps: clientApps, specialCases: specialCases, exceptions: exceptionRepository, relatedParties: relatedParties,
                                   policy: policy, networks: userNetworks,
                                   bureau: bureau, sealer: sealer, audit: auditTrail, clock: clock, logger: arguments.logger)
        return AppServices(
            database: database, organisations: organisations, users: users, sessions: sessions,
            settings: SQLSettingsRepository(database: database), hasher: hasher,
            bureau: bureau,
            authentication: AuthenticationService(
                users: users, reference: reference, organisations: organisations, sessions: sessions, failures: SQLSignInFailureRepository(database: database),
                hasher: hasher, policy: configuration.sessionPolicy, passwordPolicy: passwordPolicy, limits: configuration.signInLimits,
                sealer: SecondFactorSealer(key: arguments.secrets.secondFactorKey), audit: auditTrail, clock: clock, logger: arguments.logger
            ),
            accounts: AccountService(users: users, organisations: organisations, hasher: hasher, passwordPolicy: passwordPolicy, audit: auditTrail, clock: clock),
            administration: administration,
            access: AccessService(users: users, organisations: organisations, exams: exams, requests: accessRequests, administration: administration,
                                  examPolicy: configuration.examPolicy, lifecycle: configuration.lifecyclePolicy, audit: auditTrail, clock: clock),
            suspension: SuspensionService(users: users, runs: SQLSuspensionRunRepository(database: database), administration: administration,
                                          lifecycle: configuration.lifecyclePolicy, audit: auditTrail, clock: clock, logger: arguments.logger),
            responsibility: ResponsibilityService(repository: SQLResponsibilityRepository(database: database), administration: administration,
                                                  audit: auditTrail, clock: clock),
            consents: ConsentService(consents: consentRepository, organisations: organisations, sealer: sealer,
                                     maxDocumentBytes: configuration.consentMaxDocumentBytes, audit: auditTrail, clock: clock),
            loans: loans, clientApps: clientApps,
            queries: queries,
            specialCases: specialCases,
            exceptions: PolicyExceptionService(exceptions: exceptionRepository, queries: queries, users: users, organisations: organisations,
                                               audit: auditTrail, validity: configuration.exceptionValidity, clock: clock),
            reports: ReportService(queries: queryRepository, views: SQLReportViewRepository(database: database), sealer: sealer, audit: auditTrail,
                                   viewingWindow: configuration.reportViewingWindow, clock: clock, logger: arguments.logger),
            retention: RetentionService(retention: SQLRetentionRepository(database: database), queries: queryRepository, auditLog: auditLog,
                                        audit: auditTrail, reportRetention: configuration.reportViewingWindow + configuration.reportGrace,
                                        recordRetention: configuration.recordRetention, clock: clock, logger: arguments.logger),
            keyRotation: KeyRotationService(items: SQLWrappedKeyRepository(database: database), audit: auditTrail, clock: clock),
            policy: policy,
            userNetworks: userNetworks,
            simulator: PolicySimulator(users: users, organisations: organisations, consents: consentRepository, queries: queryRepository,
                                       gate: PolicyGate(policy: policy, queries: queryRepository, networks: userNetworks), loans: loans, apps: clientApps,
                                       relatedParties: relatedParties, audit: auditTrail, clock: clock),
            relatedParties: relatedParties,
            exams: exams,
            auditLog: auditLog, auditTrail: auditTrail,
            logSigner: NoteSigner(keyName: configuration.logOrigin, privateKey: arguments.secrets.logSigningKey),
            clock: clock
        )
    }

    public func migrate(logger: Logger) async throws {
        try await MigrationRunner(database: database, logger: logger).migrate()
    }
}

/// Builds the HTTP application: routes, middleware, and the services that live and die with it.
public func buildApplication(_ arguments: some AppArguments) async throws -> some ApplicationProtocol {
    let services = try AppServices.make(arguments)
    return try await buildApplication(arguments, services: services)
}

/// Builds the application around services the caller already made (the `demo` command seeds through them first).
public func buildApplication(_ arguments: some AppArguments, services: AppServices) async throws -> some ApplicationProtocol {
    let configuration = arguments.configuration
    let logger = arguments.logger
    if arguments.mode == .serve, services.bureau.isSandbox, !configuration.allowSandboxBureau {
        throw ConfigurationError.sandboxNotAllowed
    }
    if configuration.migrateOnStart {
        try await services.migrate(logger: logger)
    }
    // The access exam needs a question bank from the first day; the bundled one serves until the bank imports its own.
    try await services.access.importBundledBankIfNone()
    // Likewise the holiday calendars of the years this release knows.
    try await services.policy.importBundledCalendarsIfMissing()
    let startedAt = services.clock()
    let router = try await buildRouter(arguments, services: services, startedAt: startedAt)
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        logger: logger
    )
    app.addServices(
        CheckpointSigner(repository: services.auditLog, signer: services.logSigner, origin: configuration.logOrigin,
                         interval: configuration.checkpointInterval, clock: services.clock, logger: logger),
        PeriodicJob(name: "automatic suspension", interval: configuration.suspensionInterval, logger: logger) { [suspension = services.suspension] in
            let run = try await suspension.run(trigger: "schedule")
            if !run.items.isEmpty { logger.notice("automatic suspension", metadata: ["suspended": .stringConvertible(run.items.count)]) }
        },
        // In every instance: a destruction happens once, so two instances at it together is harmless.
        PeriodicJob(name: "retention run", interval: configuration.retentionInterval, logger: logger) { [retention = services.retention] in
            _ = try await retention.runDue()
        },
        DatabaseLifecycle(database: services.database, logger: logger)
    )
    return app
}

/// Every route of the API and the console, with their middleware. Separate from the application so that a test can
/// list the routes and call each one.
func buildRouter(_ arguments: some AppArguments, services: AppServices, startedAt: Date) async throws -> Router<AppRequestContext> {
    let configuration = arguments.configuration
    let logger = arguments.logger
    let statusService = SystemStatusService(database: services.database, bureau: services.bureau, audit: services.auditTrail, startedAt: startedAt, logger: logger)
    let directory = DirectoryService(organisations: services.organisations, users: services.users, audit: services.auditTrail)
    let renderer = try await ConsoleRenderer.load()
    let problems = ProblemRenderer(console: renderer)
    let cookies = SessionCookies(secure: configuration.isTLS)

    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestLoggingMiddleware(
        trustedProxies: configuration.trustedProxies, bodyLimit: configuration.maxBodyBytes,
        // Room for the form fields and the multipart framing around the largest scan.
        uploadLimit: configuration.consentMaxDocumentBytes + 65_536, uploadPaths: ["/api/v1/consents", "/console/consents"]
    ))
    router.add(middleware: SecurityHeadersMiddleware(isTLS: configuration.isTLS))
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: SessionMiddleware(authentication: services.authentication, cookies: cookies, problems: problems))
    router.add(middleware: AccessDeniedRecorder(audit: services.auditTrail, problems: problems, clock: services.clock))
    router.add(middleware: ErrorMiddleware(renderer: problems))

    router.get { _, _ in Response.redirect(to: "/console", type: .normal) }
    OperationsController(
        status: statusService,
        metrics: MetricsExporter(registry: MetricsBootstrap.registry, database: services.database, startedAt: startedAt)
    ).addRoutes(to: router)
    APIController(
        authentication: services.authentication, directory: directory, sessionPolicy: configuration.sessionPolicy,
        openAPIDocument: try BundledResources.data("openapi.yaml")
    ).addRoutes(to: router.group("api/v1"))
    PeopleAPIController(
        authentication: services.authentication, administration: services.administration, access: services.access,
        suspension: services.suspension, responsibility: services.responsibility, clock: services.clock
    ).addRoutes(to: router.group("api/v1"))
    RelatedPartyAPIController(relatedParties: services.relatedParties).addRoutes(to: router.group("api/v1"))
    QueryAPIController(consents: services.consents, queries: services.queries, loans: services.loans, apps: services.clientApps,
                       specialCases: services.specialCases, exceptions: services.exceptions, retention: services.retention,
                       clock: services.clock)
        .addRoutes(to: router.group("api/v1"))
    PolicyAPIController(policy: services.policy, simulator: services.simulator).addRoutes(to: router.group("api/v1"))
    AuditLogController(
        repository: services.auditLog, verifier: services.logSigner.verifier
    ).addRoutes(to: router.group("api/v1/log"))
    let console = router.group("console").add(middleware: CSRFMiddleware(cookies: cookies, publicBaseURL: configuration.publicBaseURL))
    ConsoleController(
        authentication: services.authentication, directory: directory, status: statusService, renderer: renderer,
        cookies: cookies, sessionPolicy: configuration.sessionPolicy,
        stylesheet: try BundledResources.data("static/app.css"), liveScript: try BundledResources.data("static/live.js"),
        reportScript: try BundledResources.data("static/report.js"), clock: services.clock
    ).addRoutes(to: console)
    PeopleConsoleController(administration: services.administration, access: services.access, responsibility: services.responsibility,
                            relatedParties: services.relatedParties, renderer: renderer, clock: services.clock).addRoutes(to: console)
    QueryConsoleController(consents: services.consents, queries: services.queries, loans: services.loans, apps: services.clientApps,
                           specialCases: services.specialCases, exceptions: services.exceptions, authentication: services.authentication,
                           reportViewingWindow: configuration.reportViewingWindow, administration: services.administration,
                           renderer: renderer,
                           clock: services.clock).addRoutes(to: console)
    ReportConsoleController(reports: services.reports, retention: services.retention, users: services.users, renderer: renderer).addRoutes(to: console)
    PolicyConsoleController(policy: services.policy, simulator: services.simulator, users: services.users, renderer: renderer).addRoutes(to: console)
    AuditLogConsoleController(
        repository: services.auditLog, users: services.users, signer: services.logSigner, origin: configuration.logOrigin,
        audit: services.auditTrail, renderer: renderer, clock: services.clock
    ).addRoutes(to: console)
    return router
}

/// Closes the database pool when the application shuts down.
struct DatabaseLifecycle: Service {
    let database: Database
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        do {
            try await database.shutdown()
        } catch {
            logger.warning("database pool did not close cleanly", metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
    }
}
