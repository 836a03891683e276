import Foundation

/// The register of related parties: each member of staff's own identifier and the relatives they declared,
/// kept as keyed hashes with a masked form, never the number itself.
///
/// The register's hashes are reference data (migration 8): every query is checked against them, so each instance
/// holds them in memory, and a change to the register moves the reference version as a change to the other
/// reference tables does.
enum Migration0010RelatedParties {
    static let migration = Migration(version: 10, name: "related_parties") { backend in
        [
            """
            CREATE TABLE related_parties (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id),
                relation TEXT NOT NULL,
                subject_type TEXT NOT NULL,
                subject_hash TEXT NOT NULL,
                masked_identifier TEXT NOT NULL,
                declared_by TEXT NOT NULL REFERENCES users(id),
                declared_at BIGINT NOT NULL
            )
            """,
            // One entry per person and identifier; every query looks its subject up by the hash.
            "CREATE UNIQUE INDEX related_parties_entry ON related_parties(user_id, subject_hash)",
            "CREATE INDEX related_parties_subject ON related_parties(subject_hash)",
        ] + Migration0008ReferenceVersion.triggers(movingTheReferenceVersionOn: "related_parties", backend)
    }
}
