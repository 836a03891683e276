/// People and access: the account lifecycle (employment, query rights, suspension, dormancy, transfers), password
/// history and lockout, the second factor, stages of a session, the access exam, access requests decided level by
/// level, the automatic suspension's runs, the responsibility matrix and training records.
///
/// Flags are BIGINT 0/1 and times BIGINT milliseconds, as in the foundation, so both engines read them the same.
enum Migration0003PeopleAndAccess {
    static let migration = Migration(version: 3, name: "people_and_access") { _ in
        let userColumns = [
            "employment TEXT NOT NULL DEFAULT 'in_service'",
            "query_rights_granted_at BIGINT",
            "suspended_at BIGINT",
            "suspension_reason TEXT",
            "last_sign_in_at BIGINT",
            "reinstated_at BIGINT",
            "organisation_confirmation_due_at BIGINT",
            "strict_exam_required BIGINT NOT NULL DEFAULT 0",
            "must_change_password BIGINT NOT NULL DEFAULT 0",
            "failed_sign_ins BIGINT NOT NULL DEFAULT 0",
            "locked_until BIGINT",
            "totp_secret TEXT",
            "totp_pending_secret TEXT",
            "totp_last_step BIGINT",
        ]
        return userColumns.map { "ALTER TABLE users ADD COLUMN \($0)" } + [
            // Dormancy counts from the last sign-in; for accounts that existed before, that is their last session,
            // or their last change, so that an upgrade does not suspend everyone at once.
            """
            UPDATE users SET last_sign_in_at = COALESCE(
                (SELECT MAX(sessions.created_at) FROM sessions WHERE sessions.user_id = users.id), users.updated_at)
            """,
            "ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full'",
            // Sessions opened before the second factor existed end: everyone signs in again under the new rules.
            "UPDATE sessions SET ended_at = last_seen_at, end_reason = 'schema_upgrade' WHERE ended_at IS NULL",
            "CREATE INDEX sessions_open_by_user ON sessions(user_id, ended_at)",
            """
            CREATE TABLE password_history (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id),
                password_hash TEXT NOT NULL,
                changed_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX password_history_user ON password_history(user_id, changed_at)",
            """
            CREATE TABLE sign_in_failures (
                id TEXT PRIMARY KEY,
                client_ip TEXT NOT NULL,
                failed_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX sign_in_failures_ip ON sign_in_failures(client_ip, failed_at)",
            """
            CREATE TABLE exam_question_banks (
                id TEXT PRIMARY KEY,
                content TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                question_count BIGINT NOT NULL,
                imported_at BIGINT NOT NULL,
                imported_by TEXT
            )
            """,
            """
            CREATE TABLE exam_attempts (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id),
                bank_id TEXT NOT NULL REFERENCES exam_question_banks(id),
                paper TEXT NOT NULL,
                strict BIGINT NOT NULL,
                pass_mark BIGINT NOT NULL,
                started_at BIGINT NOT NULL,
                deadline_at BIGINT NOT NULL,
                submitted_at BIGINT,
                answers TEXT,
                score BIGINT,
                passed BIGINT,
                late BIGINT
            )
            """,
            "CREATE INDEX exam_attempts_user ON exam_attempts(user_id, started_at)",
            """
            CREATE TABLE exam_permits (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id),
                granted_by TEXT NOT NULL REFERENCES users(id),
                granted_at BIGINT NOT NULL,
                used_by_attempt TEXT
            )
            """,
            """
            CREATE TABLE access_requests (
                id TEXT PRIMARY KEY,
                applicant_id TEXT NOT NULL REFERENCES users(id),
                exam_attempt_id TEXT NOT NULL UNIQUE REFERENCES exam_attempts(id),
                chain TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX access_requests_applicant ON access_requests(applicant_id)",
            """
            CREATE TABLE access_request_decisions (
                request_id TEXT NOT NULL REFERENCES access_requests(id),
                step BIGINT NOT NULL,
                approver_id TEXT NOT NULL REFERENCES users(id),
                approved BIGINT NOT NULL,
                comment TEXT NOT NULL,
                decided_at BIGINT NOT NULL,
                PRIMARY KEY (request_id, step)
            )
            """,
            """
            CREATE TABLE suspension_runs (
                id TEXT PRIMARY KEY,
                triggered_by TEXT NOT NULL,
                started_at BIGINT NOT NULL,
                finished_at BIGINT,
                examined BIGINT NOT NULL DEFAULT 0,
                suspended BIGINT NOT NULL DEFAULT 0,
                outcome TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE suspension_run_items (
                run_id TEXT NOT NULL REFERENCES suspension_runs(id),
                user_id TEXT NOT NULL REFERENCES users(id),
                reason TEXT NOT NULL,
                PRIMARY KEY (run_id, user_id)
            )
            """,
            """
            CREATE TABLE responsibility_assignments (
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                responsibility TEXT NOT NULL,
                person_name TEXT NOT NULL,
                user_id TEXT REFERENCES users(id),
                assigned_by TEXT REFERENCES users(id),
                assigned_at BIGINT NOT NULL,
                PRIMARY KEY (organisation_id, responsibility)
            )
            """,
            """
            CREATE TABLE training_courses (
                id TEXT PRIMARY KEY,
                title TEXT NOT NULL,
                held_on TEXT NOT NULL,
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                recorded_by TEXT REFERENCES users(id),
                recorded_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE training_attendance (
                course_id TEXT NOT NULL REFERENCES training_courses(id),
                user_id TEXT NOT NULL REFERENCES users(id),
                score BIGINT,
                passed BIGINT NOT NULL,
                PRIMARY KEY (course_id, user_id)
            )
            """,
        ]
    }
}
