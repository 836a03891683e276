import Foundation

/// 只准许查询人本人在线浏览: who may open a stored report, and when.
///
/// Only the person who made the query, only while the viewing window after the answer lasts, and only while the
/// report still exists (not yet shredded). Everyone else, and everything else, is told the same: not found — so
/// that asking tells nothing about a report one may not see.
public enum ReportAccess {
    /// Why a report is not shown, for the audit log; the viewer is only ever told "not found".
    public enum Refusal: String, Sendable, Equatable, CaseIterable {
        case notTheQuerier = "report_not_querier"
        case notAnswered = "report_not_answered"
        case windowClosed = "report_window_closed"
        case destroyed = "report_destroyed"
    }

    public static func refusal(for query: CreditQuery, viewer: User.ID, reportExists: Bool, at time: Date, window: TimeInterval) -> Refusal? {
        guard query.userID == viewer else { return .notTheQuerier }
        guard query.status == .answered, let answeredAt = query.answeredAt, query.reportID != nil else { return .notAnswered }
        guard reportExists else { return .destroyed }
        guard time < answeredAt.addingTimeInterval(window) else { return .windowClosed }
        return nil
    }
}

/// One opening of a report: recorded before the report is shown, and drawn across it as a watermark so that a
/// photograph of the screen leads back to this view.
public struct ReportView: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<ReportView>

    public let id: ID
    public let queryID: CreditQuery.ID
    public let reportID: StoredReport.ID
    public let userID: User.ID
    public let organisationID: Organisation.ID
    public let viewedAt: Date
    public let clientIP: String
    /// The audit-log index of the view's event.
    public let logIndex: UInt64

    public init(id: ID, queryID: CreditQuery.ID, reportID: StoredReport.ID, userID: User.ID, organisationID: Organisation.ID, viewedAt: Date,
                clientIP: String, logIndex: UInt64) {
        self.id = id
        self.queryID = queryID
        self.reportID = reportID
        self.userID = userID
        self.organisationID = organisationID
        self.viewedAt = viewedAt
        self.clientIP = clientIP
        self.logIndex = logIndex
    }

    /// A view ID short enough to read off a photograph: 16 hexadecimal digits in groups of four (64 random bits).
    public static func newID() -> ID {
        var generator = SystemRandomNumberGenerator()
        let digits = Hex.encode((0..<8).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        return ID(stride(from: 0, to: 16, by: 4).map { start in
            String(digits[digits.index(digits.startIndex, offsetBy: start)..<digits.index(digits.startIndex, offsetBy: start + 4)])
        }.joined(separator: "-"))
    }

    /// A view ID as someone may type it from a screenshot: case and spacing do not matter, the dashes are optional.
    public static func normalisedID(_ text: String) -> ID? {
        let digits = text.lowercased().filter { !$0.isWhitespace && $0 != "-" }
        guard digits.count == 16, digits.allSatisfy(\.isHexDigit) else { return nil }
        return ID(stride(from: 0, to: 16, by: 4).map { start in
            String(digits[digits.index(digits.startIndex, offsetBy: start)..<digits.index(digits.startIndex, offsetBy: start + 4)])
        }.joined(separator: "-"))
    }

    /// The watermark's line: who, which employee ID, when (China Standard Time), from where, which view, which
    /// log entry.
    public func watermark(name: String, employeeID: EmployeeID) -> String {
        "\(name) \(employeeID.value) · \(CalendarDate(viewedAt).description) \(Self.clock(viewedAt)) · \(clientIP) · \(id.rawValue) · #\(logIndex)"
    }

    static func clock(_ instant: Date) -> String {
        let seconds = CalendarDate.secondsIntoDay(instant)
        return "\(CalendarDate.zeroPadded(seconds / 3600, 2)):\(CalendarDate.zeroPadded(seconds / 60 % 60, 2)):\(CalendarDate.zeroPadded(seconds % 60, 2))"
    }
}
