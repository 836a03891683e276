import Foundation

/// A identifier that cannot be confused with another kind of identifier.
///
/// Every entity has its own `ID` type (`User.ID`, `Organisation.ID`, …) built on this one, so that passing a
/// user's ID where an organisation's is expected fails to compile.
public struct TypedID<Tag>: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// A fresh random identifier (a lower-case UUID string).
    public static func random() -> TypedID<Tag> {
        TypedID(UUID().uuidString.lowercased())
    }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static func < (lhs: TypedID<Tag>, rhs: TypedID<Tag>) -> Bool { lhs.rawValue < rhs.rawValue }
}
