import Foundation

/// One year of the State Council's public-holiday notice (国务院办公厅关于部分节假日安排的通知): the days off and
/// the make-up working days (调休) that fall on weekends. Data, not code, so that next year's notice is an import,
/// not a release.
public struct HolidayCalendarYear: Sendable, Equatable {
    public struct Holiday: Sendable, Equatable {
        public let name: BilingualText
        public let from: CalendarDate
        public let to: CalendarDate
    }

    /// Where the dates come from, shown beside the calendar so that anyone can check them against the notice.
    public struct Source: Sendable, Equatable {
        public let title: String
        public let document: String
        public let published: String
        public let publisher: String
    }

    public let year: Int
    public let holidays: [Holiday]
    /// 调休上班日: weekend days that are working days that year.
    public let workdays: [CalendarDate]
    public let source: Source

    public static let format = "creditgate-holiday-calendar/1"

    /// Why a calendar file is refused; the raw value is the catalogue key.
    public enum Problem: String, Error, CaseIterable, Sendable {
        case unreadable = "calendar_unreadable"
        case wrongFormat = "calendar_wrong_format"
        case wrongYear = "calendar_wrong_year"
        case badRange = "calendar_bad_range"
        case workdayNotWeekend = "calendar_workday_not_weekend"
        case workdayInHoliday = "calendar_workday_in_holiday"
        case noSource = "calendar_no_source"
    }

    private struct File: Decodable {
        struct Name: Decodable { let zh: String; let en: String }
        struct Holiday: Decodable { let name: Name; let from: String; let to: String }
        struct Source: Decodable { let title: String; let document: String?; let published: String; let publisher: String }
        let format: String
        let year: Int
        let source: Source
        let holidays: [Holiday]
        let workdays: [String]
    }

    /// Reads and checks a calendar file: every date in its year, ranges in order, make-up days on weekends and
    /// outside the holidays, and a named source.
    public static func parse(_ data: Data) throws(Problem) -> HolidayCalendarYear {
        guard let file = try? JSONDecoder().decode(File.self, from: data) else { throw .unreadable }
        guard file.format == format else { throw .wrongFormat }
        guard (2000...2199).contains(file.year) else { throw .wrongYear }
        guard !file.source.title.trimmingCharacters(in: .whitespaces).isEmpty, !file.source.publisher.trimmingCharacters(in: .whitespaces).isEmpty
        else { throw .noSource }
        var holidays: [Holiday] = []
        for holiday in file.holidays {
            guard let from = CalendarDate(holiday.from), let to = CalendarDate(holiday.to) else { throw .badRange }
            // A holiday may reach into a neighbouring year (the 2023 New Year ran from 31 December 2022).
            guard abs(from.year - file.year) <= 1, abs(to.year - file.year) <= 1 else { throw .wrongYear }
            // No holiday of the notices lasts a month; a longer range is a typo in the file.
            guard from <= to, to.start.timeIntervalSince(from.start) < 31 * 86_400, !holiday.name.zh.isEmpty, !holiday.name.en.isEmpty
            else { throw .badRange }
            holidays.append(Holiday(name: BilingualText(zh: holiday.name.zh, en: holiday.name.en), from: from, to: to))
        }
        var workdays: [CalendarDate] = []
        for text in file.workdays {
            guard let day = CalendarDate(text) else { throw .badRange }
            guard abs(day.year - file.year) <= 1 else { throw .wrongYear }
            guard day.isWeekend else { throw .workdayNotWeekend }
            guard !holidays.contains(where: { $0.from <= day && day <= $0.to }) else { throw .workdayInHoliday }
            workdays.append(day)
        }
        return HolidayCalendarYear(year: file.year, holidays: holidays, workdays: workdays,
                                   source: Source(title: file.source.title, document: file.source.document ?? "", published: file.source.published,
                                                  publisher: file.source.publisher))
    }
}

/// Working and non-working days (R-21, SPEC §8): the imported State Council calendars, and for a year without one
/// the safe assumption that weekends are non-working.
public struct WorkingCalendar: Sendable {
    public let years: [Int: HolidayCalendarYear]

    public init(_ years: [HolidayCalendarYear]) {
        self.years = Dictionary(years.map { ($0.year, $0) }, uniquingKeysWith: { _, latest in latest })
    }

    /// What a day is, and why.
    public enum Day: Sendable, Equatable {
        case workday
        /// 调休上班: a weekend day that is a working day.
        case makeUpWorkday
        case weekend
        case holiday(BilingualText)
        /// A weekend in a year with no imported calendar: non-working by the fail-safe rule.
        case weekendWithoutCalendar
        /// A weekday in a year with no imported calendar: treated as working, but the calendar is missing.
        case weekdayWithoutCalendar

        public var isWorking: Bool {
            switch self {
            case .workday, .makeUpWorkday, .weekdayWithoutCalendar: true
            case .weekend, .holiday, .weekendWithoutCalendar: false
            }
        }
    }

    public func day(_ date: CalendarDate) -> Day {
        // A notice may name days of the neighbouring years, so the three files around the date are all asked.
        let nearby = [date.year, date.year - 1, date.year + 1].compactMap { years[$0] }
        if let holiday = nearby.lazy.flatMap(\.holidays).first(where: { $0.from <= date && date <= $0.to }) { return .holiday(holiday.name) }
        if nearby.contains(where: { $0.workdays.contains(date) }) { return .makeUpWorkday }
        guard years[date.year] != nil else { return date.isWeekend ? .weekendWithoutCalendar : .weekdayWithoutCalendar }
        return date.isWeekend ? .weekend : .workday
    }

    /// The years administrators must import now: the current year when it is missing, and from 1 December the next
    /// year when it is missing, so that the new year never starts on a guessed calendar.
    public func missingYears(today: CalendarDate) -> [Int] {
        var missing: [Int] = []
        if years[today.year] == nil { missing.append(today.year) }
        if today.month == 12, years[today.year + 1] == nil { missing.append(today.year + 1) }
        return missing
    }
}

extension CalendarDate {
    /// Saturday or Sunday.
    public var isWeekend: Bool {
        // 1970-01-01 was a Thursday: with Sunday as 0, day number 0 is weekday 4.
        let weekday = ((dayNumber % 7) + 7 + 4) % 7
        return weekday == 0 || weekday == 6
    }
}
