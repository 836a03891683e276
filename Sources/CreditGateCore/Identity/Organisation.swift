import Foundation

/// An organisation unit of the bank: head office, branch or sub-branch.
public struct Organisation: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<Organisation>

    /// The unit's level in the tree. A head office has no parent; a branch's parent is the head office; a
    /// sub-branch's parent is a branch.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case headOffice = "head_office"
        case branch
        case subBranch = "sub_branch"

        public var nameKey: String { "org_kind_\(rawValue)" }
    }

    public let id: ID
    /// The bank's own code for the unit (e.g. its financial institution code); unique.
    public var code: String
    public var name: String
    public var kind: Kind
    public var parentID: ID?
    public var regionCode: RegionCode
    public var networks: [NetworkCIDR]

    public init(id: ID, code: String, name: String, kind: Kind, parentID: ID?, regionCode: RegionCode, networks: [NetworkCIDR]) {
        self.id = id
        self.code = code
        self.name = name
        self.kind = kind
        self.parentID = parentID
        self.regionCode = regionCode
        self.networks = networks
    }
}

extension Organisation.Kind {
    /// Whether a unit of this kind may sit directly under a unit of `parent` kind (`nil` = the root).
    public func mayHaveParent(_ parent: Organisation.Kind?) -> Bool {
        switch (self, parent) {
        case (.headOffice, nil), (.branch, .headOffice?), (.subBranch, .branch?): true
        default: false
        }
    }
}

/// 行政区划代码: a six-digit administrative division code whose first two digits name a province-level
/// division of GB/T 2260.
public struct RegionCode: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String

    /// The province-level prefixes of GB/T 2260 (31 mainland divisions, Taiwan 71, Hong Kong 81, Macao 82).
    public static let provincePrefixes: Set<String> = [
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
        "71", "81", "82",
    ]

    /// Returns `nil` unless the text is six ASCII digits with a known province prefix.
    public init?(_ text: String) {
        guard text.count == 6, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              Self.provincePrefixes.contains(String(text.prefix(2)))
        else { return nil }
        self.value = text
    }

    /// The two-digit province-level prefix.
    public var province: String { String(value.prefix(2)) }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let code = RegionCode(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid region code"))
        }
        self = code
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
