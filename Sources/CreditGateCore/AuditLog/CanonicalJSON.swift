/// A JSON value restricted to what the audit log needs (strings, integers, arrays, objects) so that it has exactly
/// one byte encoding.
public indirect enum CanonicalJSON: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case array([CanonicalJSON])
    case object([String: CanonicalJSON])
    case null

    /// The canonical bytes: RFC 8785 (JCS) for this subset — object members sorted by key, no insignificant
    /// whitespace, strings escaped only where JSON requires (`"`, `\`, control characters; `\b \f \n \r \t` in short
    /// form, others as `\u00XX`), non-ASCII characters as raw UTF-8. Python's
    /// `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` gives the same bytes for ASCII
    /// keys, which is how the independent verifier checks it.
    public var encoded: [UInt8] {
        var output: [UInt8] = []
        write(into: &output)
        return output
    }

    private func write(into output: inout [UInt8]) {
        switch self {
        case .null:
            output += Array("null".utf8)
        case .integer(let value):
            output += Array(String(value).utf8)
        case .string(let text):
            Self.writeString(text, into: &output)
        case .array(let values):
            output.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                value.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            // JCS sorts by UTF-16 code units; for the ASCII keys used here that is byte order.
            for (index, key) in members.keys.sorted(by: { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }).enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                members[key]!.write(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: output += Array("\\b".utf8)
            case 0x0C: output += Array("\\f".utf8)
            case 0x0A: output += Array("\\n".utf8)
            case 0x0D: output += Array("\\r".utf8)
            case 0x09: output += Array("\\t".utf8)
            case 0x00..<0x20: output += Array(String(format: "\\u%04x", byte).utf8)
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

import Foundation
