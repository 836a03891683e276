import Configuration
import Crypto
import Foundation

/// The installation's secrets. Never logged, never rendered: `description` shows only which keys are present.
public struct Secrets: Sendable, CustomStringConvertible {
    /// 256-bit key that wraps every data key (reports, consent documents).
    public let masterKey: SymmetricKey
    /// Ed25519 key that signs audit-log checkpoints.
    public let logSigningKey: Curve25519.Signing.PrivateKey
    /// Key for keyed hashes of identifiers in the audit log; derived from the master key so that one secret fewer
    /// has to be managed.
    public let hashingKey: SymmetricKey

    public init(masterKey: SymmetricKey, logSigningKey: Curve25519.Signing.PrivateKey) {
        self.masterKey = masterKey
        self.logSigningKey = logSigningKey
        self.hashingKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: masterKey, info: Data("creditgate identifier hashing v1".utf8), outputByteCount: 32
        )
    }

    /// The key that seals each user's TOTP secret at rest (AES-256-GCM), derived from the master key so that a copy
    /// of the database alone does not give anyone's second factor.
    public var secondFactorKey: SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey, info: Data("creditgate second factor sealing v1".utf8), outputByteCount: 32)
    }

    public var description: String { "Secrets(masterKey: present, logSigningKey: present)" }

    /// Reads `secrets.masterKey` and `secrets.logSigningKey` (base64 of 32 bytes each) directly or from the files
    /// named by `secrets.masterKeyFile` / `secrets.logSigningKeyFile`.
    ///
    /// In demo mode a missing secret is generated once and kept in `<dataDirectory>/secrets/` (mode 0600), so
    /// that a restarted demo can still read its data. Outside demo mode a missing secret stops the server.
    public static func load(from reader: ConfigReader, mode: RunMode, dataDirectory: String) throws -> Secrets {
        func read(_ key: String) throws -> Data? {
            if let inline = reader.string(forKey: ConfigKey(key), isSecret: true) {
                return try decode(inline, key: key)
            }
            if let path = reader.string(forKey: ConfigKey(key + "File")) {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ConfigurationError.invalid(key: key + "File", reason: "cannot read the file")
                }
                return try decode(text, key: key)
            }
            return nil
        }
        func obtain(_ key: String, fileName: String) throws -> Data {
            if let value = try read(key) { return value }
            guard mode == .demo else { throw ConfigurationError.missingSecret(key: key) }
            return try demoSecret(fileName: fileName, directory: dataDirectory)
        }
        let master = try obtain("secrets.masterKey", fileName: "master.key")
        let signing = try obtain("secrets.logSigningKey", fileName: "log-signing.key")
        guard let signingKey = try? Curve25519.Signing.PrivateKey(rawRepresentation: signing) else {
            throw ConfigurationError.invalid(key: "secrets.logSigningKey", reason: "not an Ed25519 seed")
        }
        return Secrets(masterKey: SymmetricKey(data: master), logSigningKey: signingKey)
    }

    static func decode(_ text: String, key: String) throws -> Data {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
            throw ConfigurationError.invalid(key: key, reason: "must be the base64 encoding of exactly 32 bytes")
        }
        return data
    }

    /// Reads a demo secret from its file, creating it with fresh random bytes (readable by the owner only) first.
    static func demoSecret(fileName: String, directory: String) throws -> Data {
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("secrets")
        let file = folder.appendingPathComponent(fileName)
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            return try decode(text, key: "demo secret \(fileName)")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        guard FileManager.default.createFile(atPath: file.path, contents: Data(bytes.base64EncodedString().utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError.invalid(key: "data.directory", reason: "cannot write \(file.path)")
        }
        return bytes
    }
}
