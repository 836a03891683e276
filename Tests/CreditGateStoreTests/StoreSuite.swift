import CreditGateCore
import Foundation
import Logging
import SQLKit
import Testing

@testable import CreditGateStore

/// One body of tests, run against every configured backend.
@Suite struct StoreSuite {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    var logger: Logger {
        var logger = Logger(label: "store-tests")
        logger.logLevel = .warning
        return logger
    }

    func migrated(_ database: Database) async throws {
        try await MigrationRunner(database: database, logger: logger).migrate()
    }

    /// A migrated database holding one head office, which the account and session tests need.
    func migratedWithHeadOffice(_ database: Database) async throws -> Organisation {
        try await migrated(database)
        let organisation = headOffice()
        try await SQLOrganisationRepository(database: database).create(organisation, now: Self.now)
        return organisation
    }

    func headOffice(code: String = "HO") -> Organisation {
        Organisation(id: .random(), code: code, name: "总行", kind: .headOffice, parentID: nil,
                     regionCode: RegionCode("110102")!, networks: [NetworkCIDR("10.10.0.0/16")!, NetworkCIDR("fd00:10::/48")!])
    }

    func user(_ employeeID: String, in organisation: Organisation, roles: Set<Role> = [.queryOperator]) -> User {
        User(id: .random(), employeeID: EmployeeID(employeeID)!, displayName: "张伟", organisationID: organisation.id,
             roles: roles, status: .active, preferredLanguage: nil, createdAt: Self.now)
    }

    // MARK: Migrations

    @Test(arguments: TestBackend.all)
    func migrationsApplyOnceAndReportCurrent(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let runner = MigrationRunner(database: database, logger: logger)
            #expect(try await runner.status() == MigrationStatus(appliedVersion: 0, expectedVersion: Migrations.latestVersion))
            #expect(try await runner.migrate() == Migrations.all.map(\.version))
            #expect(try await runner.migrate().isEmpty)
            #expect(try await runner.status().isCurrent)
        }
    }

    @Test(arguments: TestBackend.all)
    func concurrentMigrationRunsApplyEachMigrationOnce(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask { try await MigrationRunner(database: database, logger: logger).migrate() }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(applied.sorted() == Migrations.all.map(\.version))
        }
    }

    @Test(arguments: TestBackend.all)
    func aFailingMigrationLeavesNothingBehind(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            try await migrated(database)
            let broken = Migration(version: 999, name: "broken") { _ in
                ["CREATE TABLE half_done (id TEXT PRIMARY KEY)", "THIS IS NOT SQL"]
            }
            await #expect(throws: (any Error).self) {
                try await MigrationRunner(database: database, logger: logger).migrate(Migrations.all + [broken])
            }
            #expect(try await MigrationRunner(database: database, logger: logger).status().appliedVersion == Migrations.latestVersion)
            // The table from the failed migration's first statement was rolled back with it.
            await #expect(throws: (any Error).self) {
                try await database.withConnection { connection in
                    try await connection.raw("INSERT INTO half_done (id) VALUES ('x')").run()
                }
            }
        }
    }

    // MARK: Organisations

    @Test(arguments: TestBackend.all)
    func organisationsRoundTripInTreeOrder(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            try await migrated(database)
            let repository = SQLOrganisationRepository(database: database)
            let root = headOffice()
            let branchB = Organisation(id: .random(), code: "B-2", name: "广东分行", kind: .branch, parentID: root.id,
                                       regionCode: RegionCode("440106")!, networks: [])
            let branchA = Organisation(id: .random(), code: "B-1", name: "上海分行", kind: .branch, parentID: root.id,
                                       regionCode: RegionCode("310101")!, networks: [NetworkCIDR("10.31.0.0/16")!])
            let sub = Organisation(id: .random(), code: "B-2-1", name: "天河支行", kind: .subBranch, parentID: branchB.id,
                                   regionCode: RegionCode("440106")!, networks: [])
            for unit in [root, branchB, branchA, sub] { try await repository.create(unit, now: Self.now) }
            #expect(try await repository.all().map(\.code) == ["HO", "B-1", "B-2", "B-2-1"])
            #expect(try await repository.find(root.id) == root)
            #expect(try await repository.find(code: "B-1") == branchA)
            #expect(try await repository.find(code: "nope") == nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func organisationCodesAreUniqueAndParentsMustExist(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            try await migrated(database)
            let repository = SQLOrganisationRepository(database: database)
            try await repository.create(headOffice(), now: Self.now)
            await #expect(throws: StoreError.duplicate("organisation code")) {
                try await repository.create(headOffice(), now: Self.now)
            }
            let orphan = Organisation(id: .random(), code: "ORPHAN", name: "x", kind: .branch, parentID: .random(),
                                      regionCode: RegionCode("310101")!, networks: [])
            await #expect(throws: StoreError.missingReference("parent organisation")) {
                try await repository.create(orphan, now: Self.now)
            }
            #expect(try await repository.all().count == 1)
        }
    }

    // MARK: Users

    @Test(arguments: TestBackend.all)
    func usersRoundTripWithRolesAndCredentials(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let repository = SQLUserRepository(database: database)
            let person = user("E1001", in: organisation, roles: [.approver, .queryOperator])
            try await repository.create(person, passwordHash: "$2b$04$hash", mustChangePassword: false, now: Self.now)
            #expect(try await repository.find(person.id) == person)
            let credentials = try #require(try await repository.credentials(for: EmployeeID("e1001")!))
            #expect(credentials.user == person)
            #expect(credentials.passwordHash == "$2b$04$hash")
            #expect(try await repository.count() == 1)
            try await repository.setPreferredLanguage(.en, for: person.id, now: Self.now)
            #expect(try await repository.find(person.id)?.preferredLanguage == .en)
        }
    }

    @Test(arguments: TestBackend.all)
    func oneEmployeeIDOneAccount(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let repository = SQLUserRepository(database: database)
            try await repository.create(user("E1001", in: organisation), passwordHash: "h", mustChangePassword: false, now: Self.now)
            await #expect(throws: StoreError.duplicate("employee ID")) {
                try await repository.create(user("e1001", in: organisation), passwordHash: "h", mustChangePassword: false, now: Self.now)
            }
            #expect(try await repository.all().count == 1)
        }
    }

    // MARK: Sessions and settings

    @Test(arguments: TestBackend.all)
    func sessionsAreFoundUntilEnded(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let person = user("E1001", in: organisation)
            try await SQLUserRepository(database: database).create(person, passwordHash: "h", mustChangePassword: false, now: Self.now)
            let sessions = SQLSessionRepository(database: database)
            let session = StoredSession(tokenHash: "abc", userID: person.id, csrfToken: "csrf", createdAt: Self.now,
                                        lastSeenAt: Self.now, clientIP: "10.10.1.2")
            try await sessions.create(session)
            #expect(try await sessions.findActive(tokenHash: "abc") == session)
            // Read together with its holder, the session and the user are those stored, roles included.
            let held = try await sessions.findWithUser(tokenHash: "abc")
            #expect(held?.session == session)
            #expect(held?.user == person)
            #expect(held?.user?.roles.isEmpty == false)
            #expect(try await sessions.findWithUser(tokenHash: "other") == nil)
            let later = Self.now.addingTimeInterval(60)
            try await sessions.touch(tokenHash: "abc", at: later)
            #expect(try await sessions.findActive(tokenHash: "abc")?.lastSeenAt == later)
            try await sessions.end(tokenHash: "abc", at: later, reason: .signedOut)
            #expect(try await sessions.findActive(tokenHash: "abc") == nil)
            #expect(try await sessions.findActive(tokenHash: "other") == nil)
            // An ended session is still found, with why it ended, for the console to say so.
            #expect(try await sessions.findWithUser(tokenHash: "abc")?.session.endReason == .signedOut)
        }
    }

    @Test(arguments: TestBackend.all)
    func exactlyOneConcurrentInsertIfAbsentWins(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            try await migrated(database)
            let settings = SQLSettingsRepository(database: database)
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<8 {
                    group.addTask { try await settings.insertIfAbsent("seeded", value: "\(index)", now: Self.now) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            #expect(try await settings.value(for: "seeded") != nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func transactionsRollBackOnError(_ backend: TestBackend) async throws {
        struct Abort: Error {}
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            try await migrated(database)
            await #expect(throws: Abort.self) {
                try await database.transaction { connection in
                    try await connection.insert(into: "installation_settings").columns("key", "value", "updated_at")
                        .values(SQLBind("k"), SQLBind("v"), SQLBind(Int64(1))).run()
                    throw Abort()
                }
            }
            #expect(try await SQLSettingsRepository(database: database).value(for: "k") == nil)
        }
    }
}

@Suite struct DatabaseLocationTests {
    @Test func parsesTheSupportedForms() throws {
        #expect(try DatabaseLocation(url: "sqlite:///./creditgate-data/x.sqlite") == .sqliteFile(path: "./creditgate-data/x.sqlite"))
        #expect(try DatabaseLocation(url: "sqlite:///var/lib/cg.sqlite") == .sqliteFile(path: "/var/lib/cg.sqlite"))
        #expect(try DatabaseLocation(url: "postgres://u:p@db:5432/cg").backend == .postgres)
    }

    @Test func refusesOthers() {
        for url in ["mysql://x", "sqlite://relative.db", "", "postgres://"] {
            #expect(throws: DatabaseError.self) { try DatabaseLocation(url: url) }
        }
    }

    @Test func hidesThePassword() throws {
        let text = try DatabaseLocation(url: "postgres://cg:s3cret@db:5432/cg").description
        #expect(!text.contains("s3cret"))
        #expect(text.contains("***"))
    }
}
