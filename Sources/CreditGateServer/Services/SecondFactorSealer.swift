import CreditGateCore
import Crypto
import Foundation

/// Seals TOTP secrets at rest with AES-256-GCM under a key derived from the master key. The user's ID is the
/// associated data, so a sealed secret copied onto another account's row does not open.
public struct SecondFactorSealer: Sendable {
    let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    public func seal(_ secret: [UInt8], for user: User.ID) throws -> String {
        let box = try AES.GCM.seal(secret, using: key, authenticating: Data("totp:\(user.rawValue)".utf8))
        guard let combined = box.combined else { throw CreditGateError(.internalError, cause: "AES-GCM combined form unavailable") }
        return combined.base64EncodedString()
    }

    /// The secret, or `nil` when the sealed text is damaged, belongs to another user or another master key.
    public func open(_ sealed: String, for user: User.ID) -> [UInt8]? {
        guard let data = Data(base64Encoded: sealed), let box = try? AES.GCM.SealedBox(combined: data),
              let plain = try? AES.GCM.open(box, using: key, authenticating: Data("totp:\(user.rawValue)".utf8))
        else { return nil }
        return Array(plain)
    }
}
