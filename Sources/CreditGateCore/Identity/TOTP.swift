import Crypto
import Foundation

/// Time-based one-time passwords (TOTP, RFC 6238) for the second factor (R-05: 动态口令).
///
/// HMAC-SHA1, 30-second steps and six digits: the parameters every authenticator app understands. A code is
/// accepted one step either side of the server's clock (phones drift), and never twice: the caller keeps the last
/// step used and passes it in, so a code seen over a shoulder is useless once typed.
public struct TOTP: Sendable {
    public let secret: [UInt8]
    public let digits: Int
    public let period: TimeInterval
    /// Steps accepted either side of now.
    public let window: Int

    public init(secret: [UInt8], digits: Int = 6, period: TimeInterval = 30, window: Int = 1) {
        self.secret = secret
        self.digits = digits
        self.period = period
        self.window = window
    }

    /// A fresh 160-bit secret, the size RFC 4226 recommends for HMAC-SHA1.
    public static func generateSecret() -> [UInt8] {
        SymmetricKey(size: .init(bitCount: 160)).withUnsafeBytes { Array($0) }
    }

    /// The time step of a moment: whole periods since the Unix epoch.
    public func step(at time: Date) -> Int64 {
        Int64((time.timeIntervalSince1970 / period).rounded(.down))
    }

    /// The code for a time step (RFC 4226 §5.3 dynamic truncation), zero-padded to `digits`.
    public func code(forStep step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    public func code(at time: Date) -> String {
        code(forStep: step(at: time))
    }

    /// The step whose code matches, if any within the window and later than `lastUsedStep`; `nil` refuses the code.
    /// Every candidate is compared in constant time, and all of them are compared, so the answer's timing does not
    /// tell which step (if any) matched.
    public func verify(_ candidate: String, at time: Date, lastUsedStep: Int64?) -> Int64? {
        let typed = candidate.filter { !$0.isWhitespace }
        guard typed.count == digits, typed.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let now = step(at: time)
        var matched: Int64?
        for offset in -window...window {
            let step = now + Int64(offset)
            let equal = ConstantTime.equals(Array(code(forStep: step).utf8), Array(typed.utf8))
            if equal, step > (lastUsedStep ?? Int64.min), matched == nil { matched = step }
        }
        return matched
    }

    /// The `otpauth://` URI an authenticator app reads from the QR code (Key Uri Format).
    public func provisioningURI(issuer: String, account: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let label = "\(issuer):\(account)".addingPercentEncoding(withAllowedCharacters: allowed.union([":"])) ?? account
        let issuerParameter = issuer.addingPercentEncoding(withAllowedCharacters: allowed) ?? issuer
        return "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(issuerParameter)&algorithm=SHA1&digits=\(digits)&period=\(Int(period))"
    }
}

/// RFC 4648 base32 without padding, the form authenticator apps expect for a TOTP secret.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    public static func encode(_ bytes: [UInt8]) -> String {
        var result = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                result.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { result.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return result
    }

    /// Decodes upper- or lower-case base32, ignoring spaces and padding; `nil` for any other character.
    public static func decode(_ text: String) -> [UInt8]? {
        var result: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.uppercased() where character != " " && character != "=" {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                result.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
                bits -= 8
            }
        }
        return result
    }
}
