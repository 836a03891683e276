import Foundation

/// A day of the calendar in China Standard Time (`yyyy-MM-dd`), for the dates a document carries: the signing date
/// and the validity end of a consent, the start and end of a loan. A day, not an instant, so that no time zone
/// can move it.
public struct CalendarDate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// `nil` unless `text` is `yyyy-MM-dd` naming a real day between 1900 and 2199.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1900...2199).contains(year)
        else { return nil }
        var components = DateComponents(year: year, month: month, day: day)
        components.hour = 12
        guard let date = ChinaStandardTime.calendar.date(from: components),
              ChinaStandardTime.calendar.dateComponents([.year, .month, .day], from: date) == DateComponents(year: year, month: month, day: day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// The day an instant falls on in China Standard Time.
    public init(_ instant: Date) {
        let parts = ChinaStandardTime.calendar.dateComponents([.year, .month, .day], from: instant)
        self.year = parts.year ?? 1970
        self.month = parts.month ?? 1
        self.day = parts.day ?? 1
    }

    /// The first instant of the day in China Standard Time.
    public var start: Date {
        ChinaStandardTime.calendar.date(from: DateComponents(year: year, month: month, day: day)) ?? .distantPast
    }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CalendarDate(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a yyyy-MM-dd date"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
