import Foundation

/// China Standard Time (UTC+8, no daylight saving): the calendar of the bank's dates — dates of birth in identity
/// numbers, training days, yearly duties.
public enum ChinaStandardTime {
    public static let zone = TimeZone(secondsFromGMT: 8 * 3600)!

    /// Made once: building a calendar costs far more than asking it, and every policy decision asks it.
    public static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }()

    public static func year(of date: Date) -> Int {
        calendar.component(.year, from: date)
    }
}
