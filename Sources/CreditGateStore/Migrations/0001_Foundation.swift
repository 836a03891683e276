/// The foundation schema: the organisation tree, accounts with their roles, sessions shared by every instance,
/// and installation settings.
///
/// Times are stored as milliseconds since the Unix epoch (UTC) in BIGINT columns, identifiers as text: both
/// engines treat these the same, so one statement list serves both.
enum Migration0001Foundation {
    static let migration = Migration(version: 1, name: "foundation") { _ in
        [
            """
            CREATE TABLE organisations (
                id TEXT PRIMARY KEY,
                code TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('head_office', 'branch', 'sub_branch')),
                parent_id TEXT REFERENCES organisations(id),
                region_code TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX organisations_parent ON organisations(parent_id)",
            """
            CREATE TABLE organisation_networks (
                organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                cidr TEXT NOT NULL,
                PRIMARY KEY (organisation_id, position)
            )
            """,
            """
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                employee_id TEXT NOT NULL UNIQUE,
                display_name TEXT NOT NULL,
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),
                preferred_language TEXT,
                password_hash TEXT NOT NULL,
                password_changed_at BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX users_organisation ON users(organisation_id)",
            """
            CREATE TABLE user_roles (
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                role TEXT NOT NULL,
                granted_at BIGINT NOT NULL,
                PRIMARY KEY (user_id, role)
            )
            """,
            """
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id),
                csrf_token TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                client_ip TEXT NOT NULL,
                ended_at BIGINT,
                end_reason TEXT
            )
            """,
            "CREATE INDEX sessions_user ON sessions(user_id)",
            """
            CREATE TABLE installation_settings (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
        ]
    }
}
