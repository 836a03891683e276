/// The version of the reference data every query decides with — the organisation tree and its networks, each unit's
/// policy settings, the holiday calendars, the client applications with their units and each person's bound
/// addresses.
///
/// Each instance keeps that data in memory and reads only this number on a query; when it has moved, the data is
/// read again. Triggers move it inside the transaction of any change to those tables, whatever makes the change (a
/// service, a command, another instance, an operator at the SQL prompt), so that no write path can forget to.
enum Migration0008ReferenceVersion {
    static let tables = ["organisations", "organisation_networks", "policy_settings", "holiday_calendars", "client_apps", "client_app_organisations",
                         "user_networks"]

    static let migration = Migration(version: 8, name: "reference_version") { backend in
        var statements = [
            "CREATE TABLE reference_version (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)",
            "INSERT INTO reference_version (id, version) VALUES (1, 1)",
        ]
        if backend == .postgres {
            statements.append("""
                CREATE FUNCTION move_reference_version() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    -- The version beside the changed table, whatever the changing session's search path.
                    EXECUTE format('UPDATE %I.reference_version SET version = version + 1 WHERE id = 1', TG_TABLE_SCHEMA);
                    RETURN NULL;
                END
                $$
                """)
        }
        for table in tables {
            statements += triggers(movingTheReferenceVersionOn: table, backend)
        }
        return statements
    }

    /// The triggers that move the version with every change to `table`, in the change's transaction. A later
    /// migration that adds a reference table calls this too.
    static func triggers(movingTheReferenceVersionOn table: String, _ backend: DatabaseBackend) -> [String] {
        switch backend {
        case .sqlite:
            // SQLite's triggers are per row and per kind of change.
            ["INSERT", "UPDATE", "DELETE"].map { change in
                """
                CREATE TRIGGER \(table)_\(change.lowercased())_moves_reference AFTER \(change) ON \(table)
                BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END
                """
            }
        case .postgres:
            ["""
            CREATE TRIGGER \(table)_moves_reference AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON \(table)
            FOR EACH STATEMENT EXECUTE FUNCTION move_reference_version()
            """]
        }
    }
}
