import Crypto
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The workings of `creditgate bench gateway`: a bank seeded through the services, the real application listening
/// on an ephemeral port of 127.0.0.1, a bare Hummingbird route beside it under the same server settings, and
/// closed-loop HTTP/1.1 clients against each in turn.
///
/// Every query goes the whole way a real one goes: session, permission, client application, consent, the policy
/// engine with its counters, the durable audit log (group commit), the sandbox bureau at zero latency, and the
/// encrypted report. The bare route is what Hummingbird alone costs on this machine, so that the ratio of the two
/// is the gateway's own cost.
public struct GatewayBenchmark: Sendable {
    /// `sqlite:///path` or `postgres://…`.
    public var databaseURL: String
    /// Confines a PostgreSQL pool to a schema of its own, so that the bench never touches anyone's tables.
    public var postgresSearchPath: [String]?
    /// Where the secrets of a demo would go; the bench keeps its own in memory.
    public var dataDirectory: String
    /// Subjects, each with a consent on file; the clients ask about them in turn.
    public var subjects = 128
    /// Query operators, each signed in once; the subjects' requests carry their tokens in turn. Each may make
    /// 10,000 queries a day (the largest cap a unit may set), so sixteen allow 160,000 a run.
    public var operators = 16
    /// Only sign-in hashes passwords, and sign-in is not measured: the cheapest cost the configuration allows.
    public var bcryptCost: UInt8 = 10

    public init(databaseURL: String, postgresSearchPath: [String]? = nil, dataDirectory: String) {
        self.databaseURL = databaseURL
        self.postgresSearchPath = postgresSearchPath
        self.dataDirectory = dataDirectory
    }

    /// 2026-03-10 10:00 China Standard Time: a Tuesday, a working day, inside working hours. The clock stands still
    /// there, so that every query meets the same rules whatever the time of the run.
    public static let standingTime = Date(timeIntervalSince1970: 1_773_108_000)

    /// The gateway's queries and the bare route, at one number of clients.
    public struct Row: Sendable {
        public let clients: Int
        public let gateway: LoadFigures
        public let bare: LoadFigures

        /// Queries per second ÷ the bare route's requests per second.
        public var ratio: Double { bare.perSecond > 0 ? gateway.perSecond / bare.perSecond : 0 }
    }

    /// Seeds the bank, starts both servers, warms them up, then measures each number of clients for `duration`
    /// against the gateway and then the bare route, handing each row to `report` as it is measured. The servers
    /// and the database pool are shut down before it returns.
    public func run(clients: [Int], duration: Duration, warmUp: Duration, logger: Logger,
                    report: @Sendable (Row) -> Void = { _ in }) async throws -> [Row] {
        let arguments = BenchArguments(
            configuration: AppConfiguration(host: "127.0.0.1", port: 0, databaseURL: databaseURL, bcryptCost: bcryptCost, allowSandboxBureau: true,
                                            logLevel: logger.logLevel, dataDirectory: dataDirectory),
            secrets: Secrets(masterKey: SymmetricKey(size: .bits256), logSigningKey: Curve25519.Signing.PrivateKey()),
            logger: logger, postgresSearchPath: postgresSearchPath
        )
        let (queries, application) = try await prepare(arguments)
        let gateway = PortReportingApplication(base: application)
        let bare = PortReportingApplication(base: Self.bareApplication(like: gateway.base, logger: logger))
        let bareRequests = [LoadRequest(method: .GET, uri: "/bare", headers: [])]
        // The clients get a thread of their own, so that they do not queue behind the server's event loops.
        let clientThreads = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let servers = ServiceGroup(configuration: .init(services: [gateway, bare], gracefulShutdownSignals: [], logger: logger))
        do {
            let rows = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer {
                        gateway.port.report(nil)
                        bare.port.report(nil)
                    }
                    try await servers.run()
                }
                do {
                    guard let gatewayPort = await gateway.port.wait(), let barePort = await bare.port.wait() else {
                        // The servers stopped before listening: their own error says why.
                        try await group.waitForAll()
                        throw BenchmarkError("the servers stopped before listening")
                    }
                    let queryLoad = ClosedLoopLoad(port: gatewayPort, requests: queries, expectedStatus: .created)
                    let bareLoad = ClosedLoopLoad(port: barePort, requests: bareRequests, expectedStatus: .ok)
                    if warmUp > .zero {
                        _ = try await queryLoad.run(clients: 8, duration: warmUp, on: clientThreads)
                        _ = try await bareLoad.run(clients: 8, duration: warmUp, on: clientThreads)
                    }
                    var rows: [Row] = []
                    for count in clients {
                        let row = Row(clients: count, gateway: try await queryLoad.run(clients: count, duration: duration, on: clientThreads),
                                      bare: try await bareLoad.run(clients: count, duration: duration, on: clientThreads))
                        report(row)
                        rows.append(row)
                    }
                    await servers.triggerGracefulShutdown()
                    try await group.waitForAll()
                    return rows
                } catch {
                    await servers.triggerGracefulShutdown()
                    throw error
                }
            }
            try await clientThreads.shutdownGracefully()
            return rows
        } catch {
            try? await clientThreads.shutdownGracefully()
            throw error
        }
    }

    /// Opens the database, migrates and seeds it, and builds the application on it; the pool is closed again if any
    /// of that fails. Returns the queries to send, one per subject.
    func prepare(_ arguments: BenchArguments) async throws -> (queries: [LoadRequest], application: some ApplicationProtocol) {
        let services = try AppServices.make(arguments)
        do {
            try await services.migrate(logger: arguments.logger)
            let queries = try await BenchBank(services: services, secrets: arguments.secrets, subjects: subjects, operators: operators).seed()
            return (queries, try await buildApplication(arguments, services: services))
        } catch {
            try? await services.database.shutdown()
            throw error
        }
    }

    /// One route answering a short text, on the gateway's server settings and event loops, with no middleware.
    static func bareApplication(like gateway: some ApplicationProtocol, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.get("bare") { _, _ in "ok" }
        return Application(router: router, server: gateway.server, configuration: gateway.configuration,
                           eventLoopGroupProvider: .shared(gateway.eventLoopGroup), logger: logger)
    }
}

/// What the bench builds its application from: the live implementations, a standing clock, and secrets made for
/// the run and kept in memory.
struct BenchArguments: AppArguments {
    let configuration: AppConfiguration
    let secrets: Secrets
    let mode = RunMode.serve
    let logger: Logger
    let clock: @Sendable () -> Date = { GatewayBenchmark.standingTime }
    let postgresSearchPath: [String]?
}

public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// An application that says which port it listens on once it does: the bench binds port 0 and learns the port the
/// system chose.
struct PortReportingApplication<Base: ApplicationProtocol>: ApplicationProtocol {
    typealias Responder = Base.Responder

    let base: Base
    let port = BoundPort()

    var responder: Responder {
        get async throws { try await base.responder }
    }

    var server: HTTPServerBuilder { base.server }
    var eventLoopGroup: any EventLoopGroup { base.eventLoopGroup }
    var configuration: ApplicationConfiguration { base.configuration }
    var logger: Logger { base.logger }
    var services: [any Service] { base.services }
    var processesRunBeforeServerStart: [@Sendable () async throws -> Void] { base.processesRunBeforeServerStart }

    @Sendable func onServerRunning(_ channel: any Channel) async {
        await base.onServerRunning(channel)
        port.report(channel.localAddress?.port)
    }
}

/// The port a server was bound to, once it is; `nil` when the server stopped without listening.
final class BoundPort: Sendable {
    private let stream: AsyncStream<Int?>
    private let continuation: AsyncStream<Int?>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Int?.self, bufferingPolicy: .bufferingOldest(1))
    }

    /// The first report counts; later ones are dropped.
    func report(_ port: Int?) {
        continuation.yield(port)
        continuation.finish()
    }

    /// Waits for the report. Call once.
    func wait() async -> Int? {
        for await port in stream { return port }
        return nil
    }
}
