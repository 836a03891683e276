/// Masking of personal identifiers for screens, logs and exports (JR/T 0171-2020 class C2).
///
/// Class C3 data (passwords, OTP seeds) is never displayed at all and has no masking function on purpose.
public enum Masking {
    /// An identity-document number with the first `keepStart` and last `keepEnd` characters visible:
    /// `110***********1234` (3+4) by default, `1****************X` with (1, 1).
    public static func identifier(_ value: String, keepStart: Int = 3, keepEnd: Int = 4) -> String {
        keep(value, start: keepStart, end: keepEnd)
    }

    /// A card or account number: `622202******1234` (6+4).
    public static func cardNumber(_ value: String) -> String { keep(value, start: 6, end: 4) }

    /// A mobile number: `138****5678` (3+4).
    public static func mobile(_ value: String) -> String { keep(value, start: 3, end: 4) }

    /// A personal name: the surname's first character and `*` for the rest, `张**`.
    public static func name(_ value: String) -> String {
        guard let first = value.first else { return "" }
        return String(first) + String(repeating: "*", count: max(1, value.count - 1))
    }

    /// An IP address for logs: an IPv4 address keeps its /24 (`10.1.2.*`), an IPv6 address its /64
    /// (`fd00:31:0:7:*`), an IPv4-mapped IPv6 address is treated as IPv4, and anything unparseable is `*`.
    public static func ipAddress(_ value: String) -> String {
        guard var bytes = IPAddress.parse(value) else { return "*" }
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            bytes = Array(bytes[12..<16])
        }
        if bytes.count == 4 {
            return bytes.prefix(3).map(String.init).joined(separator: ".") + ".*"
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + ":*"
    }

    static func keep(_ value: String, start: Int, end: Int) -> String {
        let characters = Array(value)
        // Too short to show both ends without revealing most of it: hide everything.
        guard characters.count > start + end else { return String(repeating: "*", count: characters.count) }
        let hidden = characters.count - start - end
        return String(characters.prefix(start)) + String(repeating: "*", count: hidden) + String(characters.suffix(end))
    }
}
