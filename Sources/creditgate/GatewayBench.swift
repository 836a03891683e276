import ArgumentParser
import CreditGateServer
import Foundation
import Logging

/// `creditgate bench gateway`: the cost of the whole gateway. Policy decision latency as `bench policy` measures it,
/// then credit queries per second through real HTTP — the application listening on 127.0.0.1, the sandbox bureau
/// at zero latency — beside a bare Hummingbird route at the same number of keep-alive clients, on SQLite and (with
/// --postgres) PostgreSQL.
struct GatewayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Benchmark the gateway: decision latency, then queries/s through HTTP against a bare route (1, 8, 64 clients).",
        discussion: """
            Each client is one keep-alive HTTP/1.1 connection sending POST /api/v1/queries back to back; every query \
            is checked to be answered 201 and anything else is counted as an error. The bare route (GET /bare, \
            answering "ok") runs on the same server settings; gateway ÷ bare is the gateway's own cost. The clock \
            stands at 2026-03-10 10:00 China Standard Time, a working day inside working hours.
            """
    )

    @Option(help: "A PostgreSQL URL to benchmark as well (a fresh schema is created and dropped).") var postgres: String?
    @Option(help: "Seconds each cell (one backend, one number of clients, gateway or bare) runs.") var seconds: Double = 5
    @Option(parsing: .upToNextOption, help: "Numbers of concurrent clients.") var clients: [Int] = [1, 8, 64]
    @Option(help: "Seconds of unmeasured load on each server before the first cell.") var warmUp: Double = 1
    @Option(help: "Policy decisions to time.") var decisions: Int = 200_000
    @Option(help: "Folder for the SQLite database.") var directory: String = NSTemporaryDirectory()

    func validate() throws {
        guard seconds > 0, warmUp >= 0 else { throw ValidationError("--seconds must be positive and --warm-up not negative") }
        guard !clients.isEmpty, clients.allSatisfy({ (1...1024).contains($0) }) else { throw ValidationError("--clients takes 1 to 1024") }
        guard decisions > 0 else { throw ValidationError("--decisions must be positive") }
    }

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let latency = try DecisionLatency.measure(decisions: decisions)
        print("policy decision latency (\(decisions) decisions, the rule set of bench policy): "
            + String(format: "p50 %.2f µs, p99 %.2f µs (target p99 ≤ 20 µs)", latency.microseconds(percentile: 0.5), latency.microseconds(percentile: 0.99)))
        print(String(format: "HTTP: %.1f s per cell after %.1f s of warm-up; sandbox bureau at zero latency; clients in this process on one thread",
                     seconds, warmUp))
        print("")
        print(Self.header)

        let folder = URL(fileURLWithPath: directory).appendingPathComponent("creditgate-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var rows = try await measure(GatewayBenchmark(databaseURL: "sqlite://" + folder.appendingPathComponent("bench.sqlite").path,
                                                      dataDirectory: folder.path),
                                     backend: "SQLite", target: 1_000, logger: logger)
        if let postgres {
            let schema = try await ScratchSchema.create(url: postgres, logger: logger)
            do {
                rows += try await measure(GatewayBenchmark(databaseURL: postgres, postgresSearchPath: [schema.name], dataDirectory: folder.path),
                                          backend: "PostgreSQL", target: 500, logger: logger)
                try await schema.drop()
            } catch {
                try? await schema.drop()
                throw error
            }
        }
        let errors = rows.reduce(0) { $0 + $1.gateway.errors + $1.bare.errors }
        print("")
        print(errors == 0 ? "every query was answered 201 and every bare request 200" : "\(errors) requests were not answered as expected (see above)")
    }

    /// Runs one backend's cells, printing each row as it is measured.
    func measure(_ benchmark: GatewayBenchmark, backend: String, target: Int, logger: Logger) async throws -> [GatewayBenchmark.Row] {
        try await benchmark.run(clients: clients, duration: .milliseconds(Int(seconds * 1000)), warmUp: .milliseconds(Int(warmUp * 1000)),
                                logger: logger) { row in
            print(Self.line(row, backend: backend, target: target))
            for (name, figures) in [("gateway", row.gateway), ("bare", row.bare)] where figures.errors > 0 {
                let statuses = figures.unexpectedStatuses.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ")
                print("  \(name): \(figures.errors) errors (\(statuses.isEmpty ? "connections closed" : statuses)); first: \(figures.firstUnexpectedBody ?? "-")")
            }
        }
    }

    static let columns: [(title: String, width: Int)] = [
        ("backend", 10), ("clients", 7), ("queries/s", 9), ("target", 7), ("errors", 6), ("p50 ms", 7), ("p99 ms", 7),
        ("bare req/s", 10), ("bare p50", 8), ("bare p99", 8), ("errors", 6), ("gateway ÷ bare", 14),
    ]

    static var header: String {
        columns.enumerated().map { $0.offset == 0 ? pad($0.element.title, $0.element.width, left: true) : pad($0.element.title, $0.element.width) }
            .joined(separator: "  ")
    }

    static func line(_ row: GatewayBenchmark.Row, backend: String, target: Int) -> String {
        let cells = [
            backend, String(row.clients), String(format: "%.0f", row.gateway.perSecond), "≥ \(target)", String(row.gateway.errors),
            String(format: "%.2f", row.gateway.latencyMilliseconds(percentile: 0.5)), String(format: "%.2f", row.gateway.latencyMilliseconds(percentile: 0.99)),
            String(format: "%.0f", row.bare.perSecond), String(format: "%.3f", row.bare.latencyMilliseconds(percentile: 0.5)),
            String(format: "%.3f", row.bare.latencyMilliseconds(percentile: 0.99)), String(row.bare.errors), String(format: "%.3f", row.ratio),
        ]
        return zip(cells, columns).enumerated().map { $0.offset == 0 ? pad($0.element.0, $0.element.1.width, left: true) : pad($0.element.0, $0.element.1.width) }
            .joined(separator: "  ")
    }

    /// Right-aligned (numbers) unless `left`.
    static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let room = String(repeating: " ", count: max(0, width - text.count))
        return left ? text + room : room + text
    }
}
