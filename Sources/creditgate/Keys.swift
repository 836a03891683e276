import ArgumentParser
import CreditGateCore
import CreditGateServer
import Crypto
import Foundation

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Rotate and retire the master keys that wrap reports' and consents' data keys (R-30).",
        discussion: """
            The keyring is the file named by secrets.reportKeysFile (default <data.directory>/secrets/report-keys), current \
            key first. Running instances read it again when they meet a key they do not hold. Retire a key only once \
            every instance has restarted since the rotation, so that none still seals with it.
            """,
        subcommands: [List.self, Rotate.self, Retire.self]
    )

    static func keyring(_ options: ConfigOptions) async throws -> (path: String, keys: [SymmetricKey]) {
        let configuration = try AppConfiguration.read(from: try await options.reader())
        let secrets = try Secrets.load(from: try await options.reader(), mode: .serve, dataDirectory: configuration.dataDirectory)
        let path = configuration.reportKeysPath
        return (path, try ReportKeyring.keys(root: secrets.masterKey, path: path))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show each master key's ID, whether it is current, and how many items it wraps.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            try await readable {
                let (path, keys) = try await KeysCommand.keyring(options)
                let counts = try await options.withServices { try await $0.keyRotation.counts() }
                print("keyring: \(path)")
                for (position, key) in keys.enumerated() {
                    let id = MasterKey(key).id
                    print("  \(id)  \(position == 0 ? "current" : "retiring")  \(counts[id] ?? 0) items")
                }
                let known = Set(keys.map { MasterKey($0).id })
                for (id, count) in counts where !known.contains(id) {
                    print("  \(id)  NOT IN THE KEYRING  \(count) items (cannot be opened)")
                }
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring in a new master key and re-wrap every data key under it (the items themselves are not re-encrypted).",
            discussion: "With --resume no new key is made: whatever is not yet under the current key is re-wrapped (after an interruption)."
        )
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Finish an interrupted rotation instead of starting a new one.") var resume = false

        func run() async throws {
            try await readable {
                var (path, keys) = try await KeysCommand.keyring(options)
                if !resume {
                    keys.insert(SymmetricKey(size: .bits256), at: 0)
                    try ReportKeyring.write(keys, to: path)
                    print("new current key \(MasterKey(keys[0]).id) written to \(path)")
                }
                let sealer = EnvelopeSealer(current: MasterKey(keys[0]), retired: keys.dropFirst().map(MasterKey.init))
                let started = Date()
                let result = try await options.withServices { services in
                    try await services.keyRotation.rewrapAll(with: sealer) { done in
                        if done > 0, done % 5000 == 0 { print("  \(done) re-wrapped") }
                    }
                }
                let seconds = Date().timeIntervalSince(started)
                print("re-wrapped \(result.rewrapped) items in \(String(format: "%.1f", seconds)) s under \(sealer.current.id)")
                if result.failed > 0 {
                    throw OperatorError(description: "\(result.failed) items did not open and were left as they are; see `creditgate keys list`.")
                }
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a master key from the keyring once nothing is wrapped under it.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The key's ID, as `creditgate keys list` shows it.") var keyID: String

        func run() async throws {
            try await readable {
                let (path, keys) = try await KeysCommand.keyring(options)
                guard let position = keys.firstIndex(where: { MasterKey($0).id == keyID }) else {
                    throw OperatorError(description: "No key \(keyID) in \(path).")
                }
                guard position > 0 else { throw OperatorError(description: "\(keyID) is the current key; rotate first.") }
                let wrapped = try await options.withServices { try await $0.keyRotation.counts()[keyID] ?? 0 }
                guard wrapped == 0 else {
                    throw OperatorError(description: "\(wrapped) items are still wrapped under \(keyID); run `creditgate keys rotate --resume` first.")
                }
                var remaining = keys
                remaining.remove(at: position)
                try ReportKeyring.write(remaining, to: path)
                print("retired \(keyID); \(remaining.count) keys remain in \(path)")
            }
        }
    }
}
