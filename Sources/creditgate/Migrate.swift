import ArgumentParser
import CreditGateServer
import CreditGateStore
import Foundation

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations and report the schema version.",
        discussion: "Safe to run while other instances start: migrations take a lock on PostgreSQL."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        try await readable {
            let (configuration, logger) = try await options.load()
            let database = try Database(location: try DatabaseLocation(url: configuration.databaseURL), logger: logger)
            do {
                let runner = MigrationRunner(database: database, logger: logger)
                let applied = try await runner.migrate()
                let status = try await runner.status()
                print(applied.isEmpty
                      ? "Schema is current at version \(status.appliedVersion)."
                      : "Applied migrations \(applied.map(String.init).joined(separator: ", ")); schema is at version \(status.appliedVersion).")
            } catch {
                try? await database.shutdown()
                throw error
            }
            try await database.shutdown()
        }
    }
}
