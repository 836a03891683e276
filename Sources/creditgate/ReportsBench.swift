import ArgumentParser
import CreditGateServer
import Foundation
import Logging

/// `creditgate bench reports`: sealing and storing a 50 KB report, opening and decrypting it, and the rate of key
/// rotation, on SQLite and (with --postgres) PostgreSQL.
struct ReportsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reports",
        abstract: "Benchmark encrypted reports: seal and store, open and decrypt a 50 KB report; re-wrap 10^5 data keys.",
        discussion: """
            Each report gets its own AES-256-GCM data key, wrapped under the master key and bound to the report's ID; it is \
            stored in the transaction that marks its query answered. Opening reads it back, unwraps, decrypts and decodes it. \
            Rotation re-wraps every data key under a new master key without re-encrypting, in batches of 1,000.
            """
    )

    @Option(help: "A PostgreSQL URL to benchmark as well (a fresh schema is created and dropped).") var postgres: String?
    @Option(help: "50 KB reports to seal, store and open.") var reports: Int = 1_000
    @Option(help: "Items to re-wrap in the rotation.") var rotationItems: Int = 100_000
    @Option(help: "Folder for the SQLite database.") var directory: String = NSTemporaryDirectory()

    func validate() throws {
        guard reports > 0, rotationItems >= 0 else { throw ValidationError("--reports must be positive and --rotation-items not negative") }
    }

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("creditgate-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        print("backend      report  seal+store p50/p99 ms  open+decrypt p50/p99 ms  rotation: items  seconds  items/s")
        try print(row("SQLite", await ReportsBenchmark(databaseURL: "sqlite://" + folder.appendingPathComponent("bench.sqlite").path,
                                                       dataDirectory: folder.path).run(reports: reports, rotationItems: rotationItems, logger: logger)))
        if let postgres {
            let schema = try await ScratchSchema.create(url: postgres, logger: logger)
            do {
                try print(row("PostgreSQL", await ReportsBenchmark(databaseURL: postgres, postgresSearchPath: [schema.name], dataDirectory: folder.path)
                    .run(reports: reports, rotationItems: rotationItems, logger: logger)))
                try await schema.drop()
            } catch {
                try? await schema.drop()
                throw error
            }
        }
    }

    func row(_ backend: String, _ result: ReportsBenchmark.Result) -> String {
        let ms = ReportsBenchmark.Result.milliseconds
        return String(format: "%-10@ %6.1f KB  %9.2f / %-9.2f  %11.2f / %-9.2f  %15d  %7.1f  %7.0f",
                      backend as NSString, Double(result.reportBytes) / 1024, ms(result.sealAndStore, 0.5), ms(result.sealAndStore, 0.99),
                      ms(result.openAndDecrypt, 0.5), ms(result.openAndDecrypt, 0.99), result.rotated, result.rotationSeconds,
                      result.rotationSeconds > 0 ? Double(result.rotated) / result.rotationSeconds : 0)
    }
}
