import CreditGateCore
import Foundation
import SQLKit

/// Every opening of a report, for the trace from a view ID read off a screenshot back to the view.
public protocol ReportViewRepository: Sendable {
    func record(_ view: ReportView) async throws
    func view(_ id: ReportView.ID) async throws -> ReportView?
    /// The openings of a query's report, oldest first.
    func views(of query: CreditQuery.ID) async throws -> [ReportView]
}

public struct SQLReportViewRepository: ReportViewRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = ["id", "query_id", "report_id", "user_id", "organisation_id", "viewed_at", "client_ip", "log_index"]

    public func record(_ view: ReportView) async throws {
        try await database.transaction { connection in
            try await connection.insert(into: "report_views").columns(Self.columns)
                .values(SQLBind(view.id.rawValue), SQLBind(view.queryID.rawValue), SQLBind(view.reportID.rawValue), SQLBind(view.userID.rawValue),
                        SQLBind(view.organisationID.rawValue), SQLBind(view.viewedAt.storedMilliseconds), SQLBind(view.clientIP),
                        SQLBind(Int64(view.logIndex)))
                .run()
        }
    }

    public func view(_ id: ReportView.ID) async throws -> ReportView? {
        try await load { $0.where("id", .equal, SQLBind(id.rawValue)) }.first
    }

    public func views(of query: CreditQuery.ID) async throws -> [ReportView] {
        try await load { $0.where("query_id", .equal, SQLBind(query.rawValue)).orderBy("viewed_at").orderBy("id") }
    }

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [ReportView] {
        try await database.withConnection { connection in
            try await filter(connection.select().columns(Self.columns).from("report_views")).all().map { row in
                ReportView(
                    id: ReportView.ID(try row.decode(column: "id", as: String.self)),
                    queryID: CreditQuery.ID(try row.decode(column: "query_id", as: String.self)),
                    reportID: StoredReport.ID(try row.decode(column: "report_id", as: String.self)),
                    userID: User.ID(try row.decode(column: "user_id", as: String.self)),
                    organisationID: Organisation.ID(try row.decode(column: "organisation_id", as: String.self)),
                    viewedAt: Date(storedMilliseconds: try row.decode(column: "viewed_at", as: Int64.self)),
                    clientIP: try row.decode(column: "client_ip", as: String.self),
                    logIndex: UInt64(try row.decode(column: "log_index", as: Int64.self))
                )
            }
        }
    }
}
