/// Consent and the query path: written authorisations with their encrypted documents, the loan register, the
/// client applications allowed to call the query API, the state-organ and internal-staff cases, the register of
/// queries and the encrypted reports.
///
/// Encrypted bytes are stored as base64 text, which both engines hold and compare the same way. Dates of a
/// document (signing, validity, loan dates) are `yyyy-MM-dd` text in China Standard Time; instants are BIGINT
/// milliseconds, as elsewhere.
enum Migration0004ConsentAndQueries {
    static let migration = Migration(version: 4, name: "consent_and_queries") { _ in
        [
            """
            CREATE TABLE consents (
                id TEXT PRIMARY KEY,
                subject_type TEXT NOT NULL,
                subject_number TEXT NOT NULL,
                subject_name TEXT NOT NULL,
                purposes TEXT NOT NULL,
                signed_on TEXT NOT NULL,
                valid_until TEXT NOT NULL,
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                uploaded_by TEXT NOT NULL REFERENCES users(id),
                uploaded_at BIGINT NOT NULL,
                document_type TEXT NOT NULL,
                document_size BIGINT NOT NULL,
                document_sha256 TEXT NOT NULL,
                document_file_name TEXT NOT NULL,
                withdrawn_at BIGINT,
                withdrawn_by TEXT REFERENCES users(id),
                withdrawal_reason TEXT
            )
            """,
            "CREATE INDEX consents_subject ON consents(subject_type, subject_number)",
            "CREATE INDEX consents_uploaded ON consents(uploaded_at)",
            """
            CREATE TABLE consent_documents (
                consent_id TEXT PRIMARY KEY REFERENCES consents(id),
                key_id TEXT NOT NULL,
                wrapped_key TEXT NOT NULL,
                ciphertext TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE loans (
                id TEXT PRIMARY KEY,
                contract_number TEXT NOT NULL UNIQUE,
                subject_type TEXT NOT NULL,
                subject_number TEXT NOT NULL,
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                amount_yuan BIGINT NOT NULL,
                starts_on TEXT NOT NULL,
                matures_on TEXT NOT NULL,
                settled_on TEXT,
                updated_at BIGINT NOT NULL,
                updated_by TEXT NOT NULL REFERENCES users(id)
            )
            """,
            "CREATE INDEX loans_subject ON loans(subject_type, subject_number)",
            """
            CREATE TABLE client_apps (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                status TEXT NOT NULL,
                credential_hash TEXT NOT NULL UNIQUE,
                registered_by TEXT NOT NULL REFERENCES users(id),
                registered_at BIGINT NOT NULL,
                approved_by TEXT REFERENCES users(id),
                approved_at BIGINT,
                revoked_by TEXT REFERENCES users(id),
                revoked_at BIGINT
            )
            """,
            """
            CREATE TABLE client_app_organisations (
                app_id TEXT NOT NULL REFERENCES client_apps(id),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                PRIMARY KEY (app_id, organisation_id)
            )
            """,
            """
            CREATE TABLE queries (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                channel TEXT NOT NULL,
                client_app_id TEXT REFERENCES client_apps(id),
                subject_type TEXT NOT NULL,
                subject_number TEXT NOT NULL,
                subject_name TEXT NOT NULL,
                purpose TEXT NOT NULL,
                consent_id TEXT REFERENCES consents(id),
                procedure TEXT,
                special_case_id TEXT,
                client_ip TEXT NOT NULL,
                requested_at BIGINT NOT NULL,
                status TEXT NOT NULL,
                reasons TEXT NOT NULL,
                failure TEXT,
                answered_at BIGINT,
                report_id TEXT
            )
            """,
            "CREATE INDEX queries_user ON queries(user_id, requested_at)",
            "CREATE INDEX queries_subject ON queries(subject_type, subject_number, status)",
            "CREATE INDEX queries_consent ON queries(consent_id)",
            """
            CREATE TABLE special_query_cases (
                id TEXT PRIMARY KEY,
                procedure TEXT NOT NULL,
                subject_type TEXT NOT NULL,
                subject_number TEXT NOT NULL,
                purpose TEXT NOT NULL,
                requested_by TEXT NOT NULL REFERENCES users(id),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                authority TEXT NOT NULL,
                document_number TEXT NOT NULL,
                grounds TEXT NOT NULL,
                requested_at BIGINT NOT NULL,
                status TEXT NOT NULL,
                decided_by TEXT REFERENCES users(id),
                decided_at BIGINT,
                decision_note TEXT,
                expires_at BIGINT,
                used_by_query TEXT
            )
            """,
            "CREATE INDEX special_query_cases_requester ON special_query_cases(requested_by, requested_at)",
            "CREATE INDEX special_query_cases_status ON special_query_cases(status, organisation_id)",
            """
            CREATE TABLE reports (
                id TEXT PRIMARY KEY,
                query_id TEXT NOT NULL UNIQUE REFERENCES queries(id),
                kind TEXT NOT NULL,
                report_number TEXT NOT NULL,
                key_id TEXT NOT NULL,
                wrapped_key TEXT,
                ciphertext TEXT,
                stored_at BIGINT NOT NULL
            )
            """,
        ]
    }
}
