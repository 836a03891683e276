import Crypto
import Foundation

/// Envelope encryption for what CreditGate keeps of a subject: report contents and scanned consents.
///
/// Each item gets its own random AES-256-GCM data key. The data key is stored only wrapped (itself sealed with
/// AES-256-GCM) under a key-encryption key derived from the master key, named by an ID so that a later master key
/// can take over. Both seals authenticate the item's binding (`"report:<id>"`, `"consent:<id>"`): a ciphertext or
/// a wrapped key copied onto another row does not open. Destroying the wrapped key destroys the item.
public struct SealedEnvelope: Sendable, Equatable {
    /// The ID of the master key that wrapped the data key.
    public let keyID: String
    /// The data key, sealed (nonce ‖ ciphertext ‖ tag).
    public let wrappedKey: Data
    /// The item, sealed under the data key (nonce ‖ ciphertext ‖ tag).
    public let ciphertext: Data

    public init(keyID: String, wrappedKey: Data, ciphertext: Data) {
        self.keyID = keyID
        self.wrappedKey = wrappedKey
        self.ciphertext = ciphertext
    }
}

/// Why an envelope did not open. Deliberately coarse: the caller must not learn which byte was wrong.
public enum EnvelopeError: Error, Equatable, Sendable {
    /// The envelope names a master key this installation does not hold.
    case unknownKey(String)
    /// The wrapped key or the ciphertext fails authentication: damaged, tampered with, or moved to another item.
    case damaged
}

/// A master key with its ID. The ID is derived from the key (a one-way HKDF), so the same key has the same ID on
/// every instance, and the ID reveals nothing about the key.
public struct MasterKey: Sendable {
    public let id: String
    let keyEncryptionKey: SymmetricKey

    public init(_ masterKey: SymmetricKey) {
        let fingerprint = HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey, info: Data("creditgate master key id v1".utf8), outputByteCount: 8)
        self.id = fingerprint.withUnsafeBytes { Hex.encode($0) }
        self.keyEncryptionKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: masterKey, info: Data("creditgate data key wrapping v1".utf8), outputByteCount: 32
        )
    }
}

/// Seals with the current master key; opens with any master key it holds.
public struct EnvelopeSealer: Sendable {
    public let current: MasterKey
    let byID: [String: MasterKey]
    /// Asked for a key this sealer does not hold — one brought in by a rotation after it was made.
    let lookup: @Sendable (String) -> MasterKey?

    /// `current` seals; `retired` keys still open what they sealed until everything has been re-wrapped.
    public init(current: MasterKey, retired: [MasterKey] = [], lookup: @escaping @Sendable (String) -> MasterKey? = { _ in nil }) {
        self.current = current
        self.byID = Dictionary((retired + [current]).map { ($0.id, $0) }, uniquingKeysWith: { _, latest in latest })
        self.lookup = lookup
    }

    /// The IDs of the master keys this sealer opens with.
    public var keyIDs: Set<String> { Set(byID.keys) }

    func master(_ id: String) -> MasterKey? {
        byID[id] ?? lookup(id).flatMap { $0.id == id ? $0 : nil }
    }

    /// The same item under the current master key: the data key is unwrapped and wrapped again, the item's
    /// ciphertext stays as it is (key rotation re-wraps, it does not re-encrypt).
    public func rewrap(_ envelope: SealedEnvelope, binding: String) throws -> SealedEnvelope {
        guard let master = master(envelope.keyID) else { throw EnvelopeError.unknownKey(envelope.keyID) }
        let keyBytes: Data
        do {
            let wrapped = try AES.GCM.SealedBox(combined: envelope.wrappedKey)
            keyBytes = try AES.GCM.open(wrapped, using: master.keyEncryptionKey, authenticating: Data("wrap|\(master.id)|\(binding)".utf8))
        } catch {
            throw EnvelopeError.damaged
        }
        let rewrapped = try AES.GCM.seal(keyBytes, using: current.keyEncryptionKey, authenticating: Data("wrap|\(current.id)|\(binding)".utf8))
        guard let wrappedKey = rewrapped.combined else { throw EnvelopeError.damaged }
        return SealedEnvelope(keyID: current.id, wrappedKey: wrappedKey, ciphertext: envelope.ciphertext)
    }

    public func seal(_ plaintext: Data, binding: String) throws -> SealedEnvelope {
        let dataKey = SymmetricKey(size: .bits256)
        let item = try AES.GCM.seal(plaintext, using: dataKey, authenticating: Data("item|\(binding)".utf8))
        let wrapped = try dataKey.withUnsafeBytes { keyBytes in
            try AES.GCM.seal(Data(keyBytes), using: current.keyEncryptionKey, authenticating: Data("wrap|\(current.id)|\(binding)".utf8))
        }
        guard let ciphertext = item.combined, let wrappedKey = wrapped.combined else { throw EnvelopeError.damaged }
        return SealedEnvelope(keyID: current.id, wrappedKey: wrappedKey, ciphertext: ciphertext)
    }

    public func open(_ envelope: SealedEnvelope, binding: String) throws -> Data {
        guard let master = master(envelope.keyID) else { throw EnvelopeError.unknownKey(envelope.keyID) }
        do {
            let wrapped = try AES.GCM.SealedBox(combined: envelope.wrappedKey)
            let keyBytes = try AES.GCM.open(wrapped, using: master.keyEncryptionKey, authenticating: Data("wrap|\(master.id)|\(binding)".utf8))
            let item = try AES.GCM.SealedBox(combined: envelope.ciphertext)
            return try AES.GCM.open(item, using: SymmetricKey(data: keyBytes), authenticating: Data("item|\(binding)".utf8))
        } catch {
            throw EnvelopeError.damaged
        }
    }
}
