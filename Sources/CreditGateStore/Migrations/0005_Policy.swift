/// The policy engine's data (R-21, SPEC §8): each unit's own settings (the rest is inherited), the imported
/// State Council holiday calendars, each person's bound addresses, and the daily query counters that keep caps exact
/// across instances.
enum Migration0005Policy {
    static let migration = Migration(version: 5, name: "policy") { _ in
        [
            """
            CREATE TABLE policy_settings (
                organisation_id TEXT PRIMARY KEY REFERENCES organisations(id),
                settings TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                updated_by TEXT REFERENCES users(id)
            )
            """,
            """
            CREATE TABLE holiday_calendars (
                year BIGINT PRIMARY KEY,
                content TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                imported_at BIGINT NOT NULL,
                imported_by TEXT REFERENCES users(id)
            )
            """,
            // 绑定IP: the addresses a person may query from, besides their unit's networks.
            """
            CREATE TABLE user_networks (
                user_id TEXT NOT NULL REFERENCES users(id),
                cidr TEXT NOT NULL,
                PRIMARY KEY (user_id, cidr)
            )
            """,
            // One row per person or unit and day; an increment succeeds only below the cap, inside the transaction
            // that records the query, so two instances cannot both take the last place.
            """
            CREATE TABLE daily_query_counts (
                scope TEXT NOT NULL,
                day TEXT NOT NULL,
                used BIGINT NOT NULL,
                PRIMARY KEY (scope, day)
            )
            """,
        ]
    }
}
