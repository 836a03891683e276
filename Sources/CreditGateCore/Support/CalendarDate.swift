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

    /// The day an instant falls on in China Standard Time. China Standard Time is UTC+8 all year (no daylight saving),
    /// so this is plain arithmetic on the day number, which the policy engine relies on for speed.
    public init(_ instant: Date) {
        let (year, month, day) = Self.civil(fromDayNumber: Self.dayNumber(of: instant))
        self.year = year
        self.month = month
        self.day = day
    }

    /// The first instant of the day in China Standard Time.
    public var start: Date {
        Date(timeIntervalSince1970: Double(Self.dayNumber(year: year, month: month, day: day)) * 86_400 - Double(Self.offset))
    }

    /// The day number (days since 1970-01-01) of the instant in China Standard Time.
    static func dayNumber(of instant: Date) -> Int {
        Int(((instant.timeIntervalSince1970 + Double(offset)) / 86_400).rounded(.down))
    }

    /// Seconds since midnight, China Standard Time, of the instant.
    public static func secondsIntoDay(_ instant: Date) -> Int {
        let seconds = (instant.timeIntervalSince1970 + Double(offset)).rounded(.down)
        return Int(seconds - (seconds / 86_400).rounded(.down) * 86_400)
    }

    /// Days since 1970-01-01 of this date.
    var dayNumber: Int { Self.dayNumber(year: year, month: month, day: day) }

    /// UTC+8, in seconds.
    static let offset = 8 * 3600

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days-from-civil).
    static func dayNumber(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day number (civil-from-days).
    static func civil(fromDayNumber number: Int) -> (Int, Int, Int) {
        let z = number + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    public var description: String { "\(Self.zeroPadded(year, 4))-\(Self.zeroPadded(month, 2))-\(Self.zeroPadded(day, 2))" }

    /// `n` in decimal with leading zeros to `width` digits. Plain string work: `String(format:)` costs microseconds
    /// on Linux, and the policy engine writes dates and times into every reason.
    public static func zeroPadded(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

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
