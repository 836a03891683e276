import Foundation

/// 授权查询: requests to except a query from the policy, their decisions and their single use.
enum Migration0006PolicyExceptions {
    static let migration = Migration(version: 6, name: "policy_exceptions") { _ in
        [
            """
            CREATE TABLE policy_exceptions (
                id TEXT PRIMARY KEY,
                requested_by TEXT NOT NULL REFERENCES users(id),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                subject_type TEXT NOT NULL,
                subject_number TEXT NOT NULL,
                subject_name TEXT NOT NULL,
                purpose TEXT NOT NULL,
                consent_id TEXT,
                reasons TEXT NOT NULL,
                justification TEXT NOT NULL,
                risks TEXT NOT NULL,
                client_ip TEXT NOT NULL,
                requested_at BIGINT NOT NULL,
                lapses_at BIGINT NOT NULL,
                status TEXT NOT NULL,
                decided_by TEXT REFERENCES users(id),
                decided_at BIGINT,
                decision_note TEXT,
                on_site_verification TEXT,
                expires_at BIGINT,
                used_by_query TEXT,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX policy_exceptions_requester ON policy_exceptions(requested_by, requested_at)",
            "CREATE INDEX policy_exceptions_queue ON policy_exceptions(organisation_id, status, updated_at)",
            // A query made under an approved exception says so.
            "ALTER TABLE queries ADD COLUMN exception_id TEXT",
            // What the policy engine decided, for a later replay of the day against a proposed policy.
            "ALTER TABLE queries ADD COLUMN policy_decision TEXT",
            // A unit's queries of one day, for the replay of a day against a proposed policy.
            "CREATE INDEX queries_unit_time ON queries(organisation_id, requested_at)",
        ]
    }
}
