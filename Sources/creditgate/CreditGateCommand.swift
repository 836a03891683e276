import ArgumentParser
import CreditGateCore
import CreditGateServer
import CreditGateStore
import Foundation
import Hummingbird
import Logging

@main
struct CreditGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "creditgate",
        abstract: "CreditGate: the gateway through which every credit-report query passes, and its console.",
        discussion: """
            Every setting can come from the environment (CREDITGATE_HTTP_PORT, CREDITGATE_DATABASE_URL, …) or a \
            JSON file given with --config; the README lists each key and its default.

            To try it: `creditgate demo` creates an SQLite database under ./creditgate-data, seeds a demo bank and \
            serves the console on http://127.0.0.1:8080/console.
            """,
        version: CreditGateVersion.current,
        subcommands: [Serve.self, Demo.self, Migrate.self, Admin.self, CalendarCommand.self, KeysCommand.self, Log.self, Bench.self]
    )
}

/// Options shared by the commands that read configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "A JSON configuration file; the environment overrides it.")
    var config: String?

    func load() async throws -> (AppConfiguration, Logger) {
        let reader = try await AppConfiguration.reader(configFile: config)
        let configuration = try AppConfiguration.read(from: reader)
        let logger = LogSetup.bootstrapJSON(level: configuration.logLevel)
        return (configuration, logger)
    }

    func reader() async throws -> Configuration.ConfigReader {
        try await AppConfiguration.reader(configFile: config)
    }
}

import Configuration

extension ConfigOptions {
    /// Opens the installation's services for a one-off command, with the secrets `serve` needs and the schema
    /// migrated, and closes the database pool afterwards whatever happens.
    func withServices<T>(_ body: (AppServices) async throws -> T) async throws -> T {
        let (configuration, logger) = try await load()
        let secrets = try Secrets.load(from: try await reader(), mode: .serve, dataDirectory: configuration.dataDirectory)
        let services = try AppServices.make(LiveArguments(configuration: configuration, secrets: secrets, mode: .serve, logger: logger))
        do {
            try await services.migrate(logger: logger)
            let result = try await body(services)
            try await services.database.shutdown()
            return result
        } catch {
            try? await services.database.shutdown()
            throw error
        }
    }
}

struct LiveArguments: AppArguments {
    let configuration: AppConfiguration
    let secrets: Secrets
    let mode: RunMode
    let logger: Logger
}

enum LogSetup {
    /// Installs the JSON log handler for the whole process, once.
    static func bootstrapJSON(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        var logger = Logger(label: "creditgate")
        logger.logLevel = level
        return logger
    }
}


/// A failure the operator must fix, printed plainly without a stack trace.
struct OperatorError: Error, CustomStringConvertible {
    let description: String
}

func readable<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ConfigurationError {
        throw OperatorError(description: error.description)
    } catch let error as DatabaseError {
        throw OperatorError(description: error.description)
    }
}
