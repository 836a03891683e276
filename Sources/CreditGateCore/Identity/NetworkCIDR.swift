/// An IPv4 or IPv6 network in CIDR notation, e.g. `10.12.0.0/16` or `fd00:12::/48` (R-01: each organisation unit
/// has its networks; later rules block requests from outside them).
public struct NetworkCIDR: Hashable, Sendable, CustomStringConvertible {
    /// The network address, 4 bytes for IPv4 or 16 for IPv6, with host bits cleared.
    public let address: [UInt8]
    public let prefixLength: Int

    /// Parses `address/prefix`. A bare address is a single host (/32 or /128). Host bits must be zero, so that
    /// `10.1.2.3/16` — most likely a typing mistake — is refused rather than silently widened.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let bytes = IPAddress.parse(String(parts[0])) else { return nil }
        let maximum = bytes.count * 8
        let length: Int
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...maximum).contains(parsed), parts[1].allSatisfy(\.isNumber) else { return nil }
            length = parsed
        } else {
            length = maximum
        }
        guard IPAddress.masked(bytes, prefixLength: length) == bytes else { return nil }
        self.address = bytes
        self.prefixLength = length
    }

    /// `true` when the address (text form) lies inside this network. IPv4 and IPv6 never match each other,
    /// except that an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is treated as its IPv4 form.
    public func contains(_ addressText: String) -> Bool {
        guard let bytes = IPAddress.parse(addressText) else { return false }
        return contains(bytes: bytes)
    }

    /// The same for an address already parsed (4 or 16 bytes), to check one address against many networks.
    public func contains(bytes parsed: [UInt8]) -> Bool {
        var bytes = parsed
        if bytes.count == 16, address.count == 4, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            bytes = Array(bytes[12..<16])
        }
        guard bytes.count == address.count else { return false }
        return IPAddress.masked(bytes, prefixLength: prefixLength) == address
    }

    public var description: String {
        "\(IPAddress.format(address))/\(prefixLength)"
    }
}

/// Parsing and formatting of IP addresses without the operating system's resolver.
public enum IPAddress {
    /// The bytes of an IPv4 (dotted quad) or IPv6 (RFC 4291 text, with `::` and an optional trailing IPv4) address.
    public static func parse(_ text: String) -> [UInt8]? {
        if text.contains(":") { return parseIPv6(text) }
        return parseIPv4(text)
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = UInt8(part), !(part.count > 1 && part.first == "0")
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }  // fe80::1%eth0
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseIPv4(String(piece)) else { return nil }
                    bytes += v4
                } else {
                    guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                    bytes += [UInt8(value >> 8), UInt8(value & 0xff)]
                }
            }
            return bytes
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 {
            return head.count == 16 ? head : nil
        }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    static func masked(_ bytes: [UInt8], prefixLength: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsHere = max(0, min(8, prefixLength - index * 8))
            let mask: UInt8 = bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - bitsHere))
            return byte & mask
        }
    }

    /// Text form: dotted quad, or lower-case IPv6 with the longest run of zero groups compressed.
    public static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for (index, group) in groups.enumerated() {
            if group == 0 {
                if runStart < 0 { runStart = index }
                if index - runStart + 1 > bestLength, index - runStart + 1 >= 2 { bestStart = runStart; bestLength = index - runStart + 1 }
            } else {
                runStart = -1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestStart >= 0 else { return hex.joined(separator: ":") }
        let head = hex[..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return "\(head)::\(tail)"
    }
}
