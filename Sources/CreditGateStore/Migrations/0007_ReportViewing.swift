import Foundation

/// Reports view-only: every opening of a report, legal holds, and the record of each destruction.
enum Migration0007ReportViewing {
    static let migration = Migration(version: 7, name: "report_viewing") { _ in
        [
            // One row per opening, written after its audit event (whose index it keeps) and before the report is shown.
            """
            CREATE TABLE report_views (
                id TEXT PRIMARY KEY,
                query_id TEXT NOT NULL REFERENCES queries(id),
                report_id TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES users(id),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                viewed_at BIGINT NOT NULL,
                client_ip TEXT NOT NULL,
                log_index BIGINT NOT NULL
            )
            """,
            "CREATE INDEX report_views_query ON report_views(query_id, viewed_at)",
            // A hold stops destruction of a query's report and consent until it is released (诉讼保全、监管调查).
            """
            CREATE TABLE legal_holds (
                query_id TEXT PRIMARY KEY REFERENCES queries(id),
                reason TEXT NOT NULL,
                placed_by TEXT NOT NULL REFERENCES users(id),
                placed_at BIGINT NOT NULL,
                released_by TEXT REFERENCES users(id),
                released_at BIGINT
            )
            """,
            // What was destroyed, when and why: the report's contents are gone, this row says so.
            """
            CREATE TABLE report_destructions (
                report_id TEXT PRIMARY KEY,
                query_id TEXT NOT NULL REFERENCES queries(id),
                destroyed_at BIGINT NOT NULL,
                reason TEXT NOT NULL,
                log_index BIGINT NOT NULL
            )
            """,
        ]
    }
}
