import Crypto
import Foundation

/// A signed tree head in the C2SP `tlog-checkpoint` format: the origin line naming the log, the tree size in
/// decimal, and the root hash in standard base64, each ending in a newline.
public struct Checkpoint: Sendable, Equatable {
    public let origin: String
    public let size: UInt64
    public let root: TreeHash

    public init(origin: String, size: UInt64, root: TreeHash) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The note body that is signed.
    public var body: String { "\(origin)\n\(size)\n\(root.base64)\n" }

    /// Parses a checkpoint body (extension lines after the third are ignored, as the format allows).
    public init(body: String) throws {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard body.hasSuffix("\n"), lines.count >= 4, !lines[0].isEmpty,
              let size = UInt64(lines[1]), String(size) == lines[1],
              let root = TreeHash(base64: String(lines[2]))
        else { throw SignedNoteError.malformed("not a checkpoint") }
        self.init(origin: String(lines[0]), size: size, root: root)
    }
}

public enum SignedNoteError: Error, Equatable, Sendable {
    case malformed(String)
    case noValidSignature(keyName: String)
}

/// Signs notes in the C2SP `signed-note` format with an Ed25519 key: the body, a blank line, then one line per
/// signature, `— <key name> <base64(key ID ‖ signature)>`, where the key ID is the first four bytes of
/// `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)`.
public struct NoteSigner: Sendable {
    public let keyName: String
    let privateKey: Curve25519.Signing.PrivateKey

    /// Requires a key name without spaces, `+` or newlines.
    public init(keyName: String, privateKey: Curve25519.Signing.PrivateKey) {
        precondition(!keyName.contains(where: { $0 == " " || $0 == "+" || $0 == "\n" }), "invalid key name")
        self.keyName = keyName
        self.privateKey = privateKey
    }

    public var verifier: NoteVerifier { NoteVerifier(keyName: keyName, publicKey: privateKey.publicKey) }

    /// The complete signed note for `body` (which must end in a newline).
    public func sign(_ body: String) throws -> String {
        precondition(body.hasSuffix("\n"), "a note body ends with a newline")
        let signature = try privateKey.signature(for: Data(body.utf8))
        let blob = Data(verifier.keyID + Array(signature)).base64EncodedString()
        return body + "\n\u{2014} \(keyName) \(blob)\n"
    }
}

/// Checks signed notes against one Ed25519 public key.
public struct NoteVerifier: Sendable {
    public let keyName: String
    public let publicKey: Curve25519.Signing.PublicKey

    public init(keyName: String, publicKey: Curve25519.Signing.PublicKey) {
        self.keyName = keyName
        self.publicKey = publicKey
    }

    /// The four-byte key ID of the signed-note format.
    public var keyID: [UInt8] {
        var material = Array(keyName.utf8)
        material += [0x0A, 0x01]
        material += Array(publicKey.rawRepresentation)
        return Array(SHA256.hash(data: material).prefix(4))
    }

    /// The verifier key in the signed-note text form: `<name>+<key ID hex>+<base64(0x01 ‖ public key)>`.
    public var verifierKey: String {
        "\(keyName)+\(Hex.encode(keyID))+\(Data([0x01] + Array(publicKey.rawRepresentation)).base64EncodedString())"
    }

    /// Parses a verifier key in the text form.
    public init(verifierKey: String) throws {
        let parts = verifierKey.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let blob = Data(base64Encoded: String(parts[2])), blob.count == 33, blob.first == 0x01,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: blob.dropFirst())
        else { throw SignedNoteError.malformed("not an Ed25519 verifier key") }
        self.init(keyName: String(parts[0]), publicKey: key)
        guard Hex.encode(keyID) == parts[1] else {
            throw SignedNoteError.malformed("key ID does not match the key")
        }
    }

    /// Returns the note's body when at least one signature line is by this key and verifies; throws otherwise.
    public func verify(_ note: String) throws -> String {
        guard let separator = note.range(of: "\n\n", options: .backwards) else { throw SignedNoteError.malformed("no signature block") }
        let body = String(note[..<separator.lowerBound]) + "\n"
        let signatureBlock = note[separator.upperBound...]
        guard signatureBlock.hasSuffix("\n") else { throw SignedNoteError.malformed("signature block does not end in a newline") }
        for line in signatureBlock.split(separator: "\n") {
            let prefix = "\u{2014} \(keyName) "
            guard line.hasPrefix(prefix), let blob = Data(base64Encoded: String(line.dropFirst(prefix.count))), blob.count == 68,
                  Array(blob.prefix(4)) == keyID
            else { continue }
            if publicKey.isValidSignature(blob.dropFirst(4), for: Data(body.utf8)) { return body }
        }
        throw SignedNoteError.noValidSignature(keyName: keyName)
    }
}
