import CreditGateCore
import CreditGateStore
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The master keys that wrap reports' and consents' data keys, kept in a file of their own so that they can
/// be rotated without touching the root secret (from which identifier hashing and second-factor sealing derive).
///
/// One base64 key per line, the current key first. Without the file the root master key is the only one. A running
/// instance that meets a key it does not hold reads the file again, so a rotation made by `creditgate keys rotate`
/// is picked up without a restart.
public enum ReportKeyring {
    public static func read(_ path: String) throws -> [SymmetricKey]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError.invalid(key: "secrets.reportKeysFile", reason: "cannot read \(path)")
        }
        let keys = try text.split(whereSeparator: \.isNewline).map { line in
            SymmetricKey(data: try Secrets.decode(String(line), key: "secrets.reportKeysFile"))
        }
        guard !keys.isEmpty else { throw ConfigurationError.invalid(key: "secrets.reportKeysFile", reason: "no key in \(path)") }
        return keys
    }

    /// Writes the keyring readable by its owner only, replacing the file in one step.
    public static func write(_ keys: [SymmetricKey], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let text = keys.map { key in key.withUnsafeBytes { Data($0).base64EncodedString() } }.joined(separator: "\n") + "\n"
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError.invalid(key: "secrets.reportKeysFile", reason: "cannot write \(path)")
        }
        // rename(2) replaces the old file in one step: a reader sees the old keyring or the new one, never half.
        guard rename(temporary.path, path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw ConfigurationError.invalid(key: "secrets.reportKeysFile", reason: "cannot replace \(path)")
        }
    }

    /// The keys in force: the file's, or the root master key alone.
    public static func keys(root: SymmetricKey, path: String) throws -> [SymmetricKey] {
        try read(path) ?? [root]
    }

    /// A sealer with the keyring's current key, opening with all of them, and reading the file again for a key it
    /// does not know.
    public static func sealer(root: SymmetricKey, path: String) throws -> EnvelopeSealer {
        let keys = try self.keys(root: root, path: path).map(MasterKey.init)
        return EnvelopeSealer(current: keys[0], retired: Array(keys.dropFirst())) { id in
            ((try? read(path)) ?? nil)?.map(MasterKey.init).first { $0.id == id }
        }
    }
}

/// Key rotation: every data key re-wrapped under the current master key, in batches, each item once;
/// interrupted, it is simply run again.
public struct KeyRotationService: Sendable {
    let items: any WrappedKeyRepository
    let audit: AuditTrail
    let clock: @Sendable () -> Date

    public init(items: any WrappedKeyRepository, audit: AuditTrail, clock: @escaping @Sendable () -> Date) {
        self.items = items
        self.audit = audit
        self.clock = clock
    }

    public func counts() async throws -> [String: Int] {
        try await items.countsByKey()
    }

    /// Re-wraps whatever is not yet under `sealer.current`; returns how many items it re-wrapped. An item that does
    /// not open (damaged, or under a key no longer held) is counted in `failed` and left as it is.
    public func rewrapAll(with sealer: EnvelopeSealer, batch: Int = 500,
                          progress: (Int) -> Void = { _ in }) async throws -> (rewrapped: Int, failed: Int) {
        try await audit.record(AuditEvent(kind: .keyRotated, occurredAt: clock(), actor: nil, clientIP: "local-command", outcome: .success,
                                          details: ["to": sealer.current.id, "step": "started"]))
        var rewrapped = 0
        var failed: Set<String> = []
        for kind in WrappedItem.Kind.allCases {
            while true {
                let due = try await items.items(notUnder: sealer.current.id, kind: kind, limit: batch + failed.count)
                    .filter { !failed.contains("\(kind.rawValue):\($0.id)") }
                if due.isEmpty { break }
                for item in due.prefix(batch) {
                    do {
                        if try await items.rewrap(item, to: try sealer.rewrap(item.envelope, binding: kind.binding(item.id))) { rewrapped += 1 }
                    } catch is EnvelopeError {
                        failed.insert("\(kind.rawValue):\(item.id)")
                    }
                }
                progress(rewrapped)
            }
        }
        try await audit.record(AuditEvent(kind: .keyRotated, occurredAt: clock(), actor: nil, clientIP: "local-command",
                                          outcome: failed.isEmpty ? .success : .failed,
                                          details: ["to": sealer.current.id, "step": "finished", "rewrapped": String(rewrapped), "failed": String(failed.count)]))
        return (rewrapped, failed.count)
    }
}
