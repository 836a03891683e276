import ArgumentParser
import CreditGateServer
import Foundation
import Hummingbird

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the gateway and console (production).",
        discussion: """
            Refuses to start without the master key and the log signing key (secrets.masterKey[File], \
            secrets.logSigningKey[File]), and with the sandbox bureau unless bureau.allowSandbox is true.
            """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "Address to listen on (overrides http.host).") var host: String?
    @Option(help: "Port to listen on (overrides http.port).") var port: Int?

    func run() async throws {
        try await readable {
            var (configuration, logger) = try await options.load()
            if let host { configuration.host = host }
            if let port { configuration.port = port }
            let secrets = try Secrets.load(from: try await options.reader(), mode: .serve, dataDirectory: configuration.dataDirectory)
            let location = try DatabaseLocation(url: configuration.databaseURL)
            logger.info("starting", metadata: ["mode": "serve", "database": .string(location.description)])
            let app = try await buildApplication(LiveArguments(configuration: configuration, secrets: secrets, mode: .serve, logger: logger))
            try await app.runService()
        }
    }
}

import CreditGateStore
