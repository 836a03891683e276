import CreditGateCore
import CreditGateStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@testable import CreditGateServer

/// 只准许查询人本人在线浏览: the querier alone opens the report, inside the window; the watermark and the audit
/// log name the same view; no other route carries the report; a tampered or moved ciphertext never opens.
@Suite struct ReportViewerTests {
    /// Makes `count` answered queries by Q0001 and returns them with the console session.
    static func answeredQueries(_ client: some TestClientProtocol, bank: TestBank, count: Int = 1) async throws -> [String] {
        let clientApp = try await QueryPathTests.approvedApp(client, bank: bank)
        let token = try await client.apiToken("Q0001", bank: bank)
        let consentID = try #require(try await QueryPathTests.fileConsent(client, token: token).1["id"] as? String)
        var ids: [String] = []
        for _ in 0..<count {
            let (status, answer) = try await QueryPathTests.query(client, token: token, consentID: consentID, app: clientApp)
            #expect(status == .created)
            ids.append(try #require(answer["queryId"] as? String))
        }
        return ids
    }

    /// The mobile phone number on the report: a value that appears nowhere but in the report itself.
    static func phone(in page: String) throws -> String {
        try #require(page.firstMatch(of: /手机号码.*?<dd>(1\d{10})<\/dd>/.dotMatchesNewlines())?.1).description
    }

    @Test func onlyTheQuerierOpensItAndEachOpeningIsAViewInTheLog() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        let other = try await bank.services.accounts.open(employeeID: "Q0002", displayName: "测试Q0002", organisationCode: "HO", roles: [.queryOperator],
                                                          password: TestBank.password)
        try await bank.enrolSecondFactor(other.id)
        _ = try await bank.services.users.grantQueryRights(other.id, at: bank.clock.now)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let queryID = try #require(try await Self.answeredQueries(client, bank: bank).first)
            let officer = try await PeopleConsoleTests.console(client, "Q0001", bank: bank)
            #expect(try await officer.get("/console/queries/\(queryID)").1.contains("data-testid=\"open-report\""))
            let (status, headers, page) = try await client.execute(uri: "/console/queries/\(queryID)/report", method: .get,
                                                                   headers: [.cookie: "cg_session=\(officer.cookie)"]) { ($0.status, $0.headers, $0.text) }
            #expect(status == .ok)
            #expect(headers[.cacheControl] == "no-store" && headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            let viewID = try #require(page.firstMatch(of: /data-testid="view-id">([0-9a-f-]{19})</)?.1).description
            // The watermark names the viewer, the address, the view and the log entry, in every section.
            let watermark = try #require(page.firstMatch(of: /<p class="watermark-line">([^<]+)<\/p>/)?.1).description
            #expect(watermark.contains("测试Q0001 Q0001") && watermark.contains("127.0.0.1") && watermark.contains(viewID))
            #expect(page.components(separatedBy: "class=\"watermark\"").count - 1 >= 8)
            #expect(page.contains("信用报告") && page.contains("Last 24 months"))
            let phone = try Self.phone(in: page)
            // The audit log holds the same view, at the index the watermark shows.
            let view = try #require(try await SQLReportViewRepository(database: bank.services.database).view(ReportView.ID(viewID)))
            #expect(watermark.hasSuffix("#\(view.logIndex)"))
            let event = try #require(try await QueryPathTests.events(bank).first { ($0["details"] as? [String: String])?["view"] == viewID })
            #expect(event["kind"] as? String == "report.viewed" && event["outcome"] as? String == "success")
            // Someone else, even with query rights, gets the same 404 as for a query that does not exist.
            let stranger = try await PeopleConsoleTests.console(client, "Q0002", bank: bank)
            let theirs = try await stranger.get("/console/queries/\(queryID)/report")
            let none = try await stranger.get("/console/queries/00000000-0000-0000-0000-000000000000/report")
            #expect(theirs.0 == .notFound && none.0 == .notFound)
            #expect(!theirs.1.contains(phone))
            #expect(try await PeopleConsoleTests.console(client, "A0001", bank: bank).get("/console/queries/\(queryID)/report").0 == .forbidden)
            // The compliance officer traces the view ID back to the person, the address and the query.
            let auditor = try await PeopleConsoleTests.console(client, "C0001", bank: bank)
            let trace = try await auditor.post("/console/report-views", "view_id=\(viewID.uppercased().replacingOccurrences(of: "-", with: ""))")
            #expect(trace.0 == .ok && trace.1.contains("测试Q0001 (Q0001)") && trace.1.contains(queryID))
            #expect(try await auditor.post("/console/report-views", "view_id=0000-0000-0000-0000").0 == .notFound)
            #expect(try await auditor.post("/console/report-views", "view_id=xyz").0 == .unprocessableContent)
            // After the viewing window it is closed to the querier too.
            bank.clock.advance(by: 24 * 3600)
            let late = try await PeopleConsoleTests.console(client, "Q0001", bank: bank)
            #expect(try await late.get("/console/queries/\(queryID)/report").0 == .notFound)
            #expect(!(try await late.get("/console/queries/\(queryID)").1.contains("data-testid=\"open-report\"")))
            let refusals = try await QueryPathTests.events(bank).filter { $0["kind"] as? String == "report.viewed" && $0["outcome"] as? String == "denied" }
            #expect(Set(refusals.compactMap { ($0["reasons"] as? [String])?.first }) == ["report_not_querier", "report_unknown_query", "report_window_closed"])
        }
    }

    @Test func aTamperedOrMovedCiphertextNeverOpens() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        let app = try await bank.application()
        try await app.test(.live) { client in
            let ids = try await Self.answeredQueries(client, bank: bank, count: 3)
            let reports = try await ids.asyncMap { try #require(try await bank.services.queries.queries.query(CreditQuery.ID($0))?.reportID) }
            try await bank.services.database.withConnection { connection in
                // The second report's envelope moved onto the first; the third's ciphertext altered by one byte.
                let second = try #require(try await connection.select().columns("key_id", "wrapped_key", "ciphertext").from("reports")
                    .where("id", .equal, SQLBind(reports[1].rawValue)).first())
                try await connection.update("reports")
                    .set("wrapped_key", to: SQLBind(try second.decode(column: "wrapped_key", as: String.self)))
                    .set("ciphertext", to: SQLBind(try second.decode(column: "ciphertext", as: String.self)))
                    .where("id", .equal, SQLBind(reports[0].rawValue)).run()
                let third = try #require(try await connection.select().column("ciphertext").from("reports")
                    .where("id", .equal, SQLBind(reports[2].rawValue)).first())
                var bytes = try #require(Data(base64Encoded: try third.decode(column: "ciphertext", as: String.self)))
                bytes[bytes.count / 2] ^= 0x01
                try await connection.update("reports").set("ciphertext", to: SQLBind(bytes.base64EncodedString()))
                    .where("id", .equal, SQLBind(reports[2].rawValue)).run()
            }
            let officer = try await PeopleConsoleTests.console(client, "Q0001", bank: bank)
            for id in [ids[0], ids[2]] {
                let (status, page) = try await officer.get("/console/queries/\(id)/report")
                #expect(status == .conflict && page.contains(Localizer(.zhCN)("report_unreadable")))
            }
            #expect(try await officer.get("/console/queries/\(ids[1])/report").0 == .ok)
            let failures = try await QueryPathTests.events(bank).filter { $0["kind"] as? String == "report.viewed" && $0["outcome"] as? String == "failed" }
            #expect(failures.count == 2)
        }
    }

    /// Every route there is, called by the querier, the auditor and the administrator with the IDs of the query and
    /// its report: the report's contents come back from the viewer only.
    @Test func noRouteButTheViewerCarriesTheReport() async throws {
        let bank = try await TestBank.make()
        try await QueryPathTests.grantRights(bank)
        let router = try await buildRouter(bank.arguments, services: bank.services, startedAt: bank.clock.now)
        let routes = router.routes.filter { $0.method == .get }.map { $0.path.description }
        #expect(routes.count > 40 && routes.contains("/console/queries/{id}/report"))
        let app = try await bank.application()
        try await app.test(.live) { client in
            let queryID = try #require(try await Self.answeredQueries(client, bank: bank).first)
            let reportID = try #require(try await bank.services.queries.queries.query(CreditQuery.ID(queryID))?.reportID).rawValue
            let officer = try await PeopleConsoleTests.console(client, "Q0001", bank: bank)
            let phone = try Self.phone(in: try await officer.get("/console/queries/\(queryID)/report").1)
            var visited = 0
            for who in ["Q0001", "C0001", "A0001"] {
                let console = try await PeopleConsoleTests.console(client, who, bank: bank)
                let token = try await client.apiToken(who, bank: bank)
                for route in routes where route != "/console/queries/{id}/report" && !route.hasSuffix("/events") {
                    for id in [queryID, reportID] {
                        let path = route.replacingOccurrences(of: "{id}", with: id).replacingOccurrences(of: "{index}", with: "1")
                            .replacingOccurrences(of: "{year}", with: "2026")
                        guard !path.contains("{") && !path.contains("*") else { continue }
                        let body = try await client.execute(uri: path, method: .get,
                                                            headers: [.cookie: "cg_session=\(console.cookie)", .authorization: "Bearer \(token)"]) { $0.text }
                        #expect(!body.contains(phone), "\(who) GET \(path)")
                        visited += 1
                    }
                }
            }
            #expect(visited > 200)
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
