import SQLKit

/// The version of the reference data (the organisation tree, policy settings, holiday calendars, client applications
/// and bound addresses). The database's triggers move it with every change to those tables.
public protocol ReferenceVersionRepository: Sendable {
    func current() async throws -> Int64
}

public struct SQLReferenceVersionRepository: ReferenceVersionRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func current() async throws -> Int64 {
        try await database.withConnection { connection in
            guard let row = try await connection.raw("SELECT version FROM reference_version WHERE id = 1").first() else {
                throw StoreError.corruptRow("reference_version")
            }
            return try row.decode(column: "version", as: Int64.self)
        }
    }
}
