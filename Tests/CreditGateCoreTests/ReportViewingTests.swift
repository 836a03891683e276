import Foundation
import Testing

@testable import CreditGateCore

/// Who may open a report and when, and the view ID a photograph carries.
@Suite struct ReportViewingTests {
    static let querier = User.ID("querier")
    static let answeredAt = Date(timeIntervalSince1970: 1_800_000_000)

    static func query(status: CreditQuery.Status = .answered) -> CreditQuery {
        CreditQuery(id: .random(), userID: querier, organisationID: Organisation.ID("unit"), channel: .console, clientAppID: nil,
                    subject: PolicyEngineTests.subject, subjectName: "张三", purpose: .loanApproval, consentID: nil, clientIP: "10.0.0.1",
                    requestedAt: answeredAt, status: status, answeredAt: status == .answered ? answeredAt : nil,
                    reportID: status == .answered ? StoredReport.ID("r1") : nil)
    }

    @Test func onlyTheQuerierInsideTheWindowWhileTheReportExists() {
        let day: TimeInterval = 86_400
        let open = { (query: CreditQuery, viewer: User.ID, exists: Bool, after: TimeInterval) in
            ReportAccess.refusal(for: query, viewer: viewer, reportExists: exists, at: Self.answeredAt.addingTimeInterval(after), window: day)
        }
        #expect(open(Self.query(), Self.querier, true, 0) == nil)
        #expect(open(Self.query(), Self.querier, true, day - 0.001) == nil)
        #expect(open(Self.query(), Self.querier, true, day) == .windowClosed)
        #expect(open(Self.query(), User.ID("colleague"), true, 0) == .notTheQuerier)
        #expect(open(Self.query(), Self.querier, false, 0) == .destroyed)
        #expect(open(Self.query(status: .refused), Self.querier, true, 0) == .notAnswered)
        #expect(open(Self.query(status: .failed), Self.querier, true, 0) == .notAnswered)
    }

    @Test func viewIDsAreReadableAndTypedBackInAnyForm() {
        let id = ReportView.newID()
        #expect(id.rawValue.count == 19 && id.rawValue.split(separator: "-").count == 4)
        #expect(ReportView.normalisedID(id.rawValue.uppercased().replacingOccurrences(of: "-", with: " ")) == id)
        #expect(ReportView.normalisedID("1a2b3c4d5e6f7a8b")?.rawValue == "1a2b-3c4d-5e6f-7a8b")
        #expect(ReportView.normalisedID("1a2b-3c4d-5e6f-7a8") == nil && ReportView.normalisedID("1a2b-3c4d-5e6f-7a8g") == nil)
        #expect(Set((0..<1000).map { _ in ReportView.newID() }).count == 1000)
    }

    @Test func theWatermarkNamesTheViewerTheTimeTheAddressTheViewAndTheEntry() {
        let view = ReportView(id: ReportView.ID("1a2b-3c4d-5e6f-7a8b"), queryID: .random(), reportID: StoredReport.ID("r1"), userID: Self.querier,
                              organisationID: Organisation.ID("unit"), viewedAt: PolicyEngineTests.at("2026-11-25", "09:30:12"), clientIP: "10.31.4.5",
                              logIndex: 1234)
        #expect(view.watermark(name: "张伟", employeeID: EmployeeID("D0003")!) == "张伟 D0003 · 2026-11-25 09:30:12 · 10.31.4.5 · 1a2b-3c4d-5e6f-7a8b · #1234")
    }
}
