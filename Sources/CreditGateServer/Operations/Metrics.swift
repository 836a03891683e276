import CreditGateStore
import Foundation
import Metrics
import Prometheus
import Synchronization

/// The process-wide Prometheus registry. swift-metrics allows one bootstrap per process, so the first
/// application built installs it and later ones (tests build many) share it.
enum MetricsBootstrap {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}

/// Writes the Prometheus exposition: request counters and latency histograms (from Hummingbird's metrics
/// middleware), the database pool, and the process (memory, CPU, open files, start time).
struct MetricsExporter: Sendable {
    let registry: PrometheusCollectorRegistry
    let database: Database
    let startedAt: Date

    /// A gauge named `creditgate_<subsystem>_<name>`, or exactly `name` for the standard process metrics.
    private func gauge(_ subsystem: String?, _ name: String, _ help: String, _ labels: [(String, String)] = []) -> Prometheus.Gauge {
        let descriptor = MetricNameDescriptor(
            namespace: subsystem == nil ? nil : "creditgate", subsystem: subsystem, metricName: name, unitName: "", helpText: help
        )
        return registry.makeGauge(descriptor: descriptor, labels: labels)
    }

    func render() -> [UInt8] {
        let pool = database.poolStatistics
        let backend = [("backend", database.backend.rawValue)]
        gauge("db_pool", "connections_in_use", "Database connections currently lent out", backend).set(Double(pool.connectionsInUse))
        gauge("db_pool", "connections_max", "Most connections the pool may open", backend).set(Double(pool.maximumConnections))
        gauge("db_pool", "acquisitions", "Connections lent out since start", backend).set(Double(pool.acquisitions))
        gauge("db_pool", "acquisition_failures", "Connection requests that failed or timed out", backend).set(Double(pool.acquisitionFailures))
        gauge("db_pool", "wait_seconds", "Total time spent waiting for a connection", backend).set(pool.totalWaitSeconds)
        gauge("db_pool", "waiting", "Callers waiting for a connection now", backend).set(Double(pool.waiting))
        let process = ProcessFigures.read()
        gauge(nil, "process_resident_memory_bytes", "Resident memory").set(Double(process.residentBytes))
        gauge(nil, "process_virtual_memory_bytes", "Virtual memory").set(Double(process.virtualBytes))
        gauge(nil, "process_cpu_seconds_total", "User and system CPU time").set(process.cpuSeconds)
        gauge(nil, "process_open_fds", "Open file descriptors").set(Double(process.openFiles))
        gauge(nil, "process_start_time_seconds", "Start time since the Unix epoch").set(startedAt.timeIntervalSince1970)
        return registry.emitToBuffer()
    }
}

/// Figures about this process read from Linux's `/proc`; zeros where `/proc` is absent.
struct ProcessFigures {
    var residentBytes = 0
    var virtualBytes = 0
    var cpuSeconds = 0.0
    var openFiles = 0

    static func read() -> ProcessFigures {
        var figures = ProcessFigures()
        let pageSize = 4096
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = statm.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if fields.count >= 2 {
                figures.virtualBytes = fields[0] * pageSize
                figures.residentBytes = fields[1] * pageSize
            }
        }
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let closing = stat.lastIndex(of: ")") {
            // Fields after the command name: state is field 3, utime 14, stime 15 (in clock ticks, 100 a second).
            let rest = stat[stat.index(after: closing)...].split(separator: " ")
            if rest.count > 13, let user = Double(rest[11]), let system = Double(rest[12]) {
                figures.cpuSeconds = (user + system) / 100
            }
        }
        figures.openFiles = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return figures
    }
}
