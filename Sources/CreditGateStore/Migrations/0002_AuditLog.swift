/// The audit log: entries in one gapless order, the hashes of completed perfect subtrees, and every signed
/// checkpoint.
///
/// `audit_log_state` holds one row: the tree size and its right edge (the hashes of the perfect subtrees covering
/// the whole tree, which is all an append needs from before; verification checks it like any other hash).
/// Appending takes that row's lock (PostgreSQL `FOR UPDATE`; SQLite's
/// write lock), so entries from every instance get one total order with no index given twice and no gap.
/// `audit_entries.leaf` is the canonical event; it becomes NULL when erased at the end of retention while
/// `leaf_hash` stays, so the tree still verifies.
enum Migration0002AuditLog {
    static let migration = Migration(version: 2, name: "audit_log") { _ in
        [
            """
            CREATE TABLE audit_log_state (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                size BIGINT NOT NULL CHECK (size >= 0),
                edge TEXT NOT NULL
            )
            """,
            "INSERT INTO audit_log_state (id, size, edge) VALUES (1, 0, '')",
            """
            CREATE TABLE audit_entries (
                idx BIGINT PRIMARY KEY CHECK (idx >= 0),
                leaf TEXT,
                leaf_hash TEXT NOT NULL,
                kind TEXT NOT NULL,
                occurred_at BIGINT NOT NULL,
                actor_user TEXT,
                erased_at BIGINT
            )
            """,
            "CREATE INDEX audit_entries_time ON audit_entries(occurred_at)",
            "CREATE INDEX audit_entries_actor ON audit_entries(actor_user, occurred_at)",
            "CREATE INDEX audit_entries_kind ON audit_entries(kind, occurred_at)",
            """
            CREATE TABLE audit_nodes (
                level INTEGER NOT NULL CHECK (level >= 1),
                idx BIGINT NOT NULL CHECK (idx >= 0),
                hash TEXT NOT NULL,
                PRIMARY KEY (level, idx)
            )
            """,
            """
            CREATE TABLE audit_checkpoints (
                size BIGINT PRIMARY KEY,
                root TEXT NOT NULL,
                note TEXT NOT NULL,
                signed_at BIGINT NOT NULL
            )
            """,
        ]
    }
}
