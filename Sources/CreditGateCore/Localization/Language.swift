/// A language the console and the API speak.
public enum Language: String, CaseIterable, Codable, Sendable {
    case zhCN = "zh-CN"
    case en = "en"

    /// The language used when nothing else decides: the bank's staff read Chinese first.
    public static let fallback: Language = .zhCN

    /// Picks the best supported language from an `Accept-Language` header (RFC 9110 §12.5.4), honouring
    /// q-values; any `zh` variant maps to Simplified Chinese, any `en` variant to English.
    public static func negotiate(acceptLanguage header: String?) -> Language? {
        guard let header, !header.isEmpty else { return nil }
        var best: (language: Language, quality: Double, order: Int)?
        for (order, item) in header.split(separator: ",").enumerated() {
            let fields = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = fields.first?.lowercased(), !tag.isEmpty else { continue }
            var quality = 1.0
            for parameter in fields.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            guard quality > 0 else { continue }
            let language: Language
            if tag == "zh" || tag.hasPrefix("zh-") { language = .zhCN }
            else if tag == "en" || tag.hasPrefix("en-") { language = .en }
            else { continue }
            if best == nil || quality > best!.quality { best = (language, quality, order) }
        }
        return best?.language
    }

    /// Parses a stored or submitted language code; `nil` for anything unsupported.
    public init?(code: String) {
        switch code.lowercased() {
        case "zh-cn", "zh", "zh-hans": self = .zhCN
        case "en", "en-us", "en-gb": self = .en
        default: return nil
        }
    }

    /// The value for the HTML `lang` attribute.
    public var htmlLang: String { self == .zhCN ? "zh-CN" : "en" }
}

/// Looks up user-facing strings in one language.
public struct Localizer: Sendable {
    public let language: Language
    public let strings: [String: String]

    public init(_ language: Language) {
        self.language = language
        self.strings = Catalogue.strings(for: language)
    }

    /// The string for `key`; a missing key shows as the key itself, which the catalogue test prevents.
    public func callAsFunction(_ key: String) -> String {
        strings[key] ?? key
    }
}
