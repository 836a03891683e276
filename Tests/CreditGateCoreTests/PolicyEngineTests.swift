import Foundation
import Testing

@testable import CreditGateCore

@Suite struct PolicyEngineTests {
    static let subject = SubjectIdentifier(type: .residentID, number: "110105199003071239")
    static let beijing = RegionCode("110102")!
    static let calendar: WorkingCalendar = {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/CreditGateServer/Resources/calendar")
        return WorkingCalendar([2025, 2026].map { year in
            try! HolidayCalendarYear.parse(try! Data(contentsOf: folder.appendingPathComponent("\(year).json")))
        })
    }()

    /// An instant in China Standard Time.
    static func at(_ day: String, _ time: String) -> Date {
        let parts = time.split(separator: ":").map { Double($0)! }
        return CalendarDate(day)!.start.addingTimeInterval(parts[0] * 3600 + parts[1] * 60 + (parts.count > 2 ? parts[2] : 0))
    }

    static func facts(at instant: Date = at("2026-03-10", "10:00"), user: Int = 0, organisation: Int = 0, subject: SubjectIdentifier = subject,
                      purpose: QueryPurpose = .loanApproval, address: String = "10.10.1.5", policy: EffectivePolicy = .defaults,
                      admission: [QueryRefusalReason] = [], networks: [NetworkCIDR] = [NetworkCIDR("10.10.0.0/16")!, NetworkCIDR("fd00:10::/48")!],
                      calendar: WorkingCalendar = calendar) -> PolicyFacts {
        PolicyFacts(admission: admission, subject: subject, purpose: purpose, at: instant, clientAddress: address, policy: policy, calendar: calendar,
                    queriesTodayByUser: user, queriesTodayByOrganisation: organisation, organisationRegion: beijing, allowedNetworks: networks)
    }

    static func codes(_ decision: PolicyDecision) -> [String] { decision.reasons.map(\.code) }

    @Test func anOrdinaryQueryIsAllowed() {
        #expect(PolicyEngine.decide(Self.facts()) == .allow)
    }

    @Test func theCapFiresExactlyAtTheCap() {
        #expect(PolicyEngine.decide(Self.facts(user: 49)) == .allow)
        let capped = PolicyEngine.decide(Self.facts(user: 50))
        #expect(Self.codes(capped) == ["daily_cap_user"])
        guard case .approvalRequired(let reasons) = capped else { Issue.record("expected approval"); return }
        #expect(reasons[0].reason.message(in: .zhCN) == "您今日已查询 50 笔，上限 50 笔。")
        #expect(reasons[0].reason.message(in: .en) == "50 of 50 queries used today.")
        #expect(Self.codes(PolicyEngine.decide(Self.facts(organisation: 500))) == ["daily_cap_organisation"])
        // A unit's own setting below the bank's default, inherited down the tree.
        let policy = EffectivePolicy.resolve([PolicySettings(userDailyCap: 30), PolicySettings(workdayEnd: TimeOfDay("18:00"))])
        #expect(policy.userDailyCap == 30 && policy.workdayEnd == TimeOfDay("18:00"))
        #expect(Self.codes(PolicyEngine.decide(Self.facts(user: 30, policy: policy))) == ["daily_cap_user"])
    }

    @Test func workingHoursEndAtHalfPastFive() {
        #expect(PolicyEngine.decide(Self.facts(at: Self.at("2026-03-10", "17:29:59"))) == .allow)
        #expect(Self.codes(PolicyEngine.decide(Self.facts(at: Self.at("2026-03-10", "17:30:00")))) == ["outside_working_hours"])
        #expect(Self.codes(PolicyEngine.decide(Self.facts(at: Self.at("2026-03-10", "08:29:59")))) == ["outside_working_hours"])
        #expect(PolicyEngine.decide(Self.facts(at: Self.at("2026-03-10", "08:30:00"))) == .allow)
    }

    @Test func theHolidayCalendarDecidesWorkingDays() {
        // 2026-02-14 is a Saturday worked in exchange for the Spring Festival (调休).
        #expect(PolicyEngine.decide(Self.facts(at: Self.at("2026-02-14", "10:00"))) == .allow)
        // 2026-02-16 is a Monday of the Spring Festival holiday.
        let festival = PolicyEngine.decide(Self.facts(at: Self.at("2026-02-16", "10:00")))
        #expect(Self.codes(festival) == ["non_working_day"])
        #expect(festival.reasons[0].reason.facts["day_zh"]?.contains("春节") == true)
        // An ordinary Sunday; the 2025 National Day and Mid-Autumn holiday; its make-up Saturday.
        #expect(Self.codes(PolicyEngine.decide(Self.facts(at: Self.at("2026-03-08", "10:00")))) == ["non_working_day"])
        #expect(Self.codes(PolicyEngine.decide(Self.facts(at: Self.at("2025-10-08", "10:00")))) == ["non_working_day"])
        #expect(PolicyEngine.decide(Self.facts(at: Self.at("2025-10-11", "10:00"))) == .allow)
    }

    @Test func aYearWithoutACalendarKeepsWeekendsNonWorkingAndAsksForIt() {
        #expect(Self.codes(PolicyEngine.decide(Self.facts(at: Self.at("2027-01-09", "10:00")))) == ["non_working_day"])
        #expect(PolicyEngine.decide(Self.facts(at: Self.at("2027-01-11", "10:00"))) == .allow)
        #expect(Self.calendar.day(CalendarDate("2027-01-11")!) == .weekdayWithoutCalendar)
        #expect(Self.calendar.missingYears(today: CalendarDate("2026-11-30")!).isEmpty)
        #expect(Self.calendar.missingYears(today: CalendarDate("2026-12-01")!) == [2027])
        #expect(Self.calendar.missingYears(today: CalendarDate("2027-01-02")!) == [2027])
    }

    @Test func regionsAreComparedAtTheConfiguredGranularityExceptForExemptPurposes() {
        let shanghai = SubjectIdentifier(type: .residentID, number: "310101198512120015")
        #expect(Self.codes(PolicyEngine.decide(Self.facts(subject: shanghai))) == ["cross_region"])
        #expect(PolicyEngine.decide(Self.facts(subject: shanghai, purpose: .postLoanManagement)) == .allow)
        // Same province, other district: allowed by province, blocked by district.
        let haidian = SubjectIdentifier(type: .residentID, number: "110108199003070011")
        #expect(PolicyEngine.decide(Self.facts(subject: haidian)) == .allow)
        var district = EffectivePolicy.defaults
        district.regionGranularity = .district
        #expect(Self.codes(PolicyEngine.decide(Self.facts(subject: haidian, policy: district))) == ["cross_region"])
        district.regionGranularity = .off
        #expect(PolicyEngine.decide(Self.facts(subject: shanghai, policy: district)) == .allow)
        // A passport carries no region: the rule has nothing to compare.
        #expect(PolicyEngine.decide(Self.facts(subject: SubjectIdentifier(type: .passport, number: "E12345678"))) == .allow)
        // A corporate's region is its registration authority's.
        #expect(Self.codes(PolicyEngine.decide(Self.facts(subject: SubjectIdentifier(type: .unifiedSocialCreditCode, number: "91350100M000100Y43"))))
            == ["cross_region"])
    }

    @Test func anUnboundAddressIsBlockedWithoutExceptionOverIPv4AndIPv6() {
        #expect(PolicyEngine.decide(Self.facts(address: "fd00:10::25")) == .allow)
        let outside = PolicyEngine.decide(Self.facts(address: "fd00:11::25"))
        guard case .block(let reasons) = outside else { Issue.record("expected a block"); return }
        #expect(reasons.map(\.code) == ["unbound_address"] && !reasons[0].exceptable)
        #expect(Self.codes(PolicyEngine.decide(Self.facts(address: "10.11.0.1"))) == ["unbound_address"])
        // Deny on doubt: nothing configured, or an address that is not one.
        #expect(Self.codes(PolicyEngine.decide(Self.facts(networks: []))) == ["unbound_address"])
        #expect(Self.codes(PolicyEngine.decide(Self.facts(address: "unknown"))) == ["unbound_address"])
    }

    @Test func anyHardReasonBlocksWhatWouldOtherwiseNeedApproval() {
        let offHoursNoConsent = PolicyEngine.decide(Self.facts(at: Self.at("2026-03-10", "20:00"), admission: [QueryRefusalReason(code: "consent_missing")]))
        guard case .block(let reasons) = offHoursNoConsent else { Issue.record("expected a block"); return }
        #expect(reasons.map(\.code) == ["consent_missing", "outside_working_hours"])
        #expect(reasons.map(\.exceptable) == [false, true])
        // Policy can make hours a hard block; it can never make an unbound address exceptable.
        let strict = EffectivePolicy.resolve([PolicySettings(exceptable: [.dailyCapUser, .boundAddress])])
        #expect(!strict.exceptable.contains(.boundAddress))
        if case .block = PolicyEngine.decide(Self.facts(at: Self.at("2026-03-10", "20:00"), policy: strict)) {} else { Issue.record("expected a block") }
    }

    @Test func calendarFilesAreChecked() {
        func file(_ body: String) -> Data { Data(body.utf8) }
        let good = #"{"format":"creditgate-holiday-calendar/1","year":2027,"source":{"title":"通知","published":"2026-11-01","publisher":"国务院办公厅"},"holidays":[{"name":{"zh":"元旦","en":"New Year"},"from":"2027-01-01","to":"2027-01-01"}],"workdays":[]}"#
        #expect(throws: Never.self) { try HolidayCalendarYear.parse(file(good)) }
        #expect(throws: HolidayCalendarYear.Problem.workdayNotWeekend) {
            try HolidayCalendarYear.parse(file(good.replacingOccurrences(of: #""workdays":[]"#, with: #""workdays":["2027-01-04"]"#)))
        }
        #expect(throws: HolidayCalendarYear.Problem.wrongYear) {
            try HolidayCalendarYear.parse(file(good.replacingOccurrences(of: #""to":"2027-01-01""#, with: #""to":"2029-01-01""#)))
        }
        // No holiday lasts a month: a typo in a year is caught.
        #expect(throws: HolidayCalendarYear.Problem.badRange) {
            try HolidayCalendarYear.parse(file(good.replacingOccurrences(of: #""to":"2027-01-01""#, with: #""to":"2027-03-01""#)))
        }
        #expect(throws: HolidayCalendarYear.Problem.wrongFormat) {
            try HolidayCalendarYear.parse(file(good.replacingOccurrences(of: "calendar/1", with: "calendar/9")))
        }
        #expect(throws: HolidayCalendarYear.Problem.unreadable) { try HolidayCalendarYear.parse(file("not json")) }
        // The shipped files: 2026's Spring Festival is nine days, with two make-up Saturdays.
        let spring = Self.calendar.years[2026]?.holidays.first { $0.name.en == "Spring Festival" }
        #expect(spring?.from == CalendarDate("2026-02-15") && spring?.to == CalendarDate("2026-02-23"))
        #expect(Self.calendar.years[2026]?.workdays.count == 6 && Self.calendar.years[2025]?.workdays.count == 5)
    }

    @Test func everyRuleAndProblemHasWordsInBothLanguages() {
        let keys = PolicyRule.allCases.flatMap { ["query_reason_\($0.rawValue)", $0.nameKey] } + RegionGranularity.allCases.map(\.nameKey)
            + HolidayCalendarYear.Problem.allCases.map(\.rawValue) + ["policy_cap_range", "policy_hours_order"]
        for key in keys {
            #expect(Catalogue.zhCN[key] != nil && Catalogue.en[key] != nil, "\(key)")
        }
    }

    @Test func aHolidayMayReachIntoTheNeighbouringYear() throws {
        // The 2023 New Year holiday began on 31 December 2022.
        let notice = #"{"format":"creditgate-holiday-calendar/1","year":2023,"source":{"title":"国务院办公厅关于2023年部分节假日安排的通知","published":"2022-12-08","publisher":"国务院办公厅"},"holidays":[{"name":{"zh":"元旦","en":"New Year's Day"},"from":"2022-12-31","to":"2023-01-02"}],"workdays":[]}"#
        let calendar = WorkingCalendar([try HolidayCalendarYear.parse(Data(notice.utf8))])
        #expect(calendar.day(CalendarDate("2022-12-31")!) == .holiday(BilingualText(zh: "元旦", en: "New Year's Day")))
        #expect(calendar.day(CalendarDate("2023-01-02")!) == .holiday(BilingualText(zh: "元旦", en: "New Year's Day")))
        #expect(calendar.day(CalendarDate("2023-01-03")!) == .workday)
    }

    @Test func reasonsSpeakOnlyTheReadersLanguage() {
        let sunday = PolicyEngine.decide(Self.facts(at: Self.at("2026-03-08", "10:00"))).reasons[0].reason
        #expect(sunday.message(in: .zhCN) == "2026-03-08 是非工作日（周末）。")
        #expect(sunday.message(in: .en) == "2026-03-08 is not a working day (weekend).")
        let festival = PolicyEngine.decide(Self.facts(at: Self.at("2026-02-16", "10:00"))).reasons[0].reason
        #expect(festival.message(in: .zhCN).contains("春节") && !festival.message(in: .zhCN).contains("Spring"))
        #expect(festival.message(in: .en).contains("Spring Festival") && !festival.message(in: .en).contains("春节"))
        let noCalendar = PolicyEngine.decide(Self.facts(at: Self.at("2027-01-09", "10:00"))).reasons[0].reason
        #expect(noCalendar.message(in: .en).contains("has not been imported"))
    }

    @Test func clashingHoursMeanNoneAndTighteningIsMeasured() {
        // A parent's 09:00–16:00 and a child's start at 17:00: no working hours, never the defaults.
        let clash = EffectivePolicy.resolve([PolicySettings(workdayStart: TimeOfDay("09:00"), workdayEnd: TimeOfDay("16:00")),
                                             PolicySettings(workdayStart: TimeOfDay("17:00"))])
        #expect(clash.workdayStart == clash.workdayEnd)
        #expect(Self.codes(PolicyEngine.decide(Self.facts(at: Self.at("2026-03-10", "17:30"), policy: clash))) == ["outside_working_hours"])
        let parent = EffectivePolicy.defaults
        var tighter = parent
        tighter.userDailyCap = 20
        tighter.workdayEnd = TimeOfDay("17:00")!
        tighter.regionGranularity = .city
        tighter.exceptable = [.dailyCapUser]
        #expect(tighter.isAtLeastAsStrict(as: parent))
        var looser = parent
        looser.regionGranularity = .off
        #expect(!looser.isAtLeastAsStrict(as: parent))
        looser = parent
        looser.regionExemptPurposes.insert(.loanApproval)
        #expect(!looser.isAtLeastAsStrict(as: parent))
        looser = parent
        looser.workdayStart = TimeOfDay("07:00")!
        #expect(!looser.isAtLeastAsStrict(as: parent))
    }
}

/// The arithmetic calendar the engine uses agrees with Foundation's for every day of 1900–2199 and around midnight.
@Suite struct CalendarArithmeticTests {
    @Test func daysAndWeekdaysAgreeWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        var instant = calendar.date(from: DateComponents(year: 1900, month: 1, day: 1, hour: 0))!
        let end = calendar.date(from: DateComponents(year: 2200, month: 1, day: 1))!
        while instant < end {
            for offset in [0.0, 1, 86_399] {
                let moment = instant.addingTimeInterval(offset)
                let parts = calendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute, .second], from: moment)
                let date = CalendarDate(moment)
                guard date.year == parts.year, date.month == parts.month, date.day == parts.day,
                      date.isWeekend == (parts.weekday == 1 || parts.weekday == 7),
                      CalendarDate.secondsIntoDay(moment) == parts.hour! * 3600 + parts.minute! * 60 + parts.second!,
                      date.start == calendar.startOfDay(for: moment)
                else {
                    Issue.record("disagreement at \(moment)")
                    return
                }
            }
            instant = instant.addingTimeInterval(86_400 * 3 + 3_600 * 7)
            instant = calendar.startOfDay(for: instant)
        }
    }
}
