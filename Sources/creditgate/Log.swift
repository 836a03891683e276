import ArgumentParser
import CreditGateCore
import CreditGateServer
import CreditGateStore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the tamper-evident audit log.",
        subcommands: [Verify.self, Prove.self]
    )

    /// Where the log is read from: a running CreditGate's API, with an auditor's token.
    struct Remote: ParsableArguments {
        @Option(help: "Base address of a running CreditGate, e.g. https://creditgate.bank.example") var url: String?
        @Option(help: "An auditor's session token (or set CREDITGATE_TOKEN).") var token: String?
        @Option(help: "The log's verifier key (name+keyID+base64), obtained independently of the server.") var key: String?

        func client() throws -> LogClient {
            guard let url, let base = URL(string: url.hasSuffix("/") ? String(url.dropLast()) : url) else {
                throw ValidationError("give --url, or --database to check the database directly")
            }
            guard let token = token ?? ProcessInfo.processInfo.environment["CREDITGATE_TOKEN"], !token.isEmpty else {
                throw ValidationError("give --token or set CREDITGATE_TOKEN: reading the log needs an auditor's session")
            }
            return LogClient(base: base, token: token)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the whole log: signatures, consistency between checkpoints, and every entry.",
            discussion: """
                With --url, fetches every checkpoint, checks its Ed25519 signature and the consistency proof from the \
                one before, recomputes every leaf hash from its bytes and the root at every checkpoint. With \
                --database, checks the database this installation is configured for, including every stored node. \
                Prints a verdict and, if the log is not intact, the first bad index; exits 1 then.
                """
        )

        @OptionGroup var remote: Remote
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Check the configured database directly instead of a server.") var database = false

        func run() async throws {
            let verdict: LogAuditor.Verdict
            if database {
                verdict = try await readable { try await verifyDatabase() }
            } else {
                verdict = try await RemoteLogVerification(client: try remote.client(), trustedKey: remote.key).run()
            }
            if verdict.isIntact {
                print("INTACT: \(verdict.size) entries, \(verdict.checkpointsChecked) signed checkpoints verified.")
            } else {
                print("NOT INTACT: first bad index \(verdict.firstBadIndex.map(String.init) ?? "unknown").")
                for problem in verdict.problems.prefix(20) { print("  - \(problem)") }
                throw ExitCode(1)
            }
        }

        func verifyDatabase() async throws -> LogAuditor.Verdict {
            let (configuration, logger) = try await options.load()
            let secrets = try Secrets.load(from: try await options.reader(), mode: .serve, dataDirectory: configuration.dataDirectory)
            let database = try Database(location: try DatabaseLocation(url: configuration.databaseURL), logger: logger)
            do {
                let signer = NoteSigner(keyName: configuration.logOrigin, privateKey: secrets.logSigningKey)
                let verdict = try await StoredLogVerification(
                    repository: SQLAuditLogRepository(database: database), verifier: signer.verifier, origin: configuration.logOrigin
                ).run()
                try await database.shutdown()
                return verdict
            } catch {
                try? await database.shutdown()
                throw error
            }
        }
    }

    struct Prove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print and check the inclusion proof of one entry.")

        @OptionGroup var remote: Remote
        @Option(help: "The entry's index.") var index: UInt64
        @Option(help: "The tree size to prove against (default: the latest checkpoint).") var size: UInt64?

        func run() async throws {
            let client = try remote.client()
            let verifier = try await client.verifier(trusting: remote.key)
            let note = try await client.text("/api/v1/log/checkpoint")
            let head = try Checkpoint(body: verifier.verify(note))
            let size = self.size ?? head.size
            let root = size == head.size ? head.root : try await client.rootAt(size: size, verifier: verifier)
            let proof = try await client.json("/api/v1/log/proof/inclusion?index=\(index)&size=\(size)")
            let hashes = (proof["hashes"] as? [String] ?? []).compactMap(TreeHash.init(base64:))
            guard let leafText = proof["leafHash"] as? String, let leafHash = TreeHash(base64: leafText) else {
                throw ValidationError("the server returned no leaf hash")
            }
            print("entry \(index) in the tree of \(size) entries, root \(root.base64)")
            print("leaf hash \(leafHash.base64)")
            for (level, hash) in hashes.enumerated() { print("  \(level): \(hash.base64)") }
            do {
                try MerkleVerifier.verifyInclusion(leafHash: leafHash, index: index, size: size, proof: hashes, root: root)
                print("VERIFIED against a signed root.")
            } catch {
                print("NOT VERIFIED: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

/// A minimal client of the log's read API.
struct LogClient: Sendable {
    let base: URL
    let token: String

    func data(_ path: String) async throws -> Data {
        var request = URLRequest(url: URL(string: base.absoluteString + path)!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            throw ValidationError("\(path) answered \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        return data
    }

    func text(_ path: String) async throws -> String { String(decoding: try await data(path), as: UTF8.self) }

    func json(_ path: String) async throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: try await data(path)) as? [String: Any] else {
            throw ValidationError("\(path) did not return a JSON object")
        }
        return object
    }

    /// The verifier: the key given on the command line, else the server's own (which proves less, and says so).
    func verifier(trusting key: String?) async throws -> NoteVerifier {
        if let key { return try NoteVerifier(verifierKey: key) }
        FileHandle.standardError.write(Data("warning: no --key given; trusting the key the server reports\n".utf8))
        return try NoteVerifier(verifierKey: try await text("/api/v1/log/public-key"))
    }

    func rootAt(size: UInt64, verifier: NoteVerifier) async throws -> TreeHash {
        let list = try await json("/api/v1/log/checkpoints?from=\(size)&to=\(size)")
        guard let note = (list["checkpoints"] as? [[String: Any]])?.first?["note"] as? String else {
            throw ValidationError("no signed checkpoint at size \(size)")
        }
        return try Checkpoint(body: verifier.verify(note)).root
    }
}

/// Verifies a log through its API alone, sharing nothing with the server but the protocol.
struct RemoteLogVerification {
    let client: LogClient
    let trustedKey: String?

    func run() async throws -> LogAuditor.Verdict {
        let verifier = try await client.verifier(trusting: trustedKey)
        var checkpoints: [(size: UInt64, note: String)] = []
        var from: UInt64 = 0
        while true {
            let page = try await client.json("/api/v1/log/checkpoints?from=\(from)")["checkpoints"] as? [[String: Any]] ?? []
            for item in page {
                guard let size = (item["size"] as? NSNumber)?.uint64Value, let note = item["note"] as? String else { continue }
                checkpoints.append((size, note))
            }
            guard let last = checkpoints.last, page.count == 1000 else { break }
            from = last.size + 1
        }
        var auditor = LogAuditor(storedNodes: nil, checkpointSizes: checkpoints.map(\.size))
        // Each checkpoint must extend the one before it.
        var previous: (size: UInt64, root: TreeHash)?
        for (_, note) in checkpoints {
            guard let head = try? Checkpoint(body: verifier.verify(note)) else { continue }
            if let previous, previous.size > 0, previous.size < head.size {
                let proof = try await client.json("/api/v1/log/proof/consistency?from=\(previous.size)&to=\(head.size)")
                let hashes = (proof["hashes"] as? [String] ?? []).compactMap(TreeHash.init(base64:))
                do {
                    try MerkleVerifier.verifyConsistency(oldSize: previous.size, newSize: head.size, oldRoot: previous.root, newRoot: head.root, proof: hashes)
                } catch {
                    auditor.report("checkpoint \(head.size) does not extend checkpoint \(previous.size)", at: previous.size)
                }
            }
            previous = (head.size, head.root)
        }
        // Every entry up to the latest checkpoint, recomputed from its bytes.
        let total = checkpoints.last?.size ?? 0
        var start: UInt64 = 0
        while start < total {
            let end = min(total, start + 1000)
            let page = try await client.json("/api/v1/log/entries?start=\(start)&end=\(end)")["entries"] as? [[String: Any]] ?? []
            for item in page {
                guard let index = (item["index"] as? NSNumber)?.uint64Value, let hashText = item["leafHash"] as? String,
                      let stored = TreeHash(base64: hashText) else { continue }
                let leaf = (item["leaf"] as? String).flatMap { Data(base64Encoded: $0) }.map(Array.init)
                auditor.consume(index: index, leaf: leaf, storedLeafHash: stored)
            }
            start = end
        }
        return auditor.finish(recordedSize: total, checkpoints: checkpoints.map { (size: $0.size, note: $0.note, storedRoot: nil) },
                              verifier: verifier, origin: nil)
    }
}
