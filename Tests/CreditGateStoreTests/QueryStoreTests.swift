import CreditGateCore
import Foundation
import SQLKit
import Testing

@testable import CreditGateStore

/// The consent and query repositories, on every configured backend: rows round-trip, a withdrawal and a special
/// case's single use happen once even when asked for at the same time, and an answer is stored with its query or
/// not at all.
extension StoreSuite {
    static let subject = SubjectIdentifier(type: .residentID, number: "110105199003071239")

    func consent(in organisation: Organisation, by uploader: User) -> Consent {
        Consent(id: .random(), subject: Self.subject, subjectName: "张三", purposes: [.loanApproval, .postLoanManagement],
                signedOn: CalendarDate("2027-01-01")!, validUntil: CalendarDate("2027-12-31")!, organisationID: organisation.id,
                uploadedBy: uploader.id, uploadedAt: Self.now,
                document: ConsentDocument(mediaType: .pdf, byteCount: 3, sha256: "ab", fileName: "scan.pdf"))
    }

    func query(_ id: CreditQuery.ID = .random(), by person: User, status: CreditQuery.Status = .pending, consent: Consent.ID? = nil) -> CreditQuery {
        CreditQuery(id: id, userID: person.id, organisationID: person.organisationID, channel: .api, clientAppID: nil, subject: Self.subject,
                    subjectName: "张三", purpose: .loanApproval, consentID: consent, clientIP: "10.0.0.1", requestedAt: Self.now, status: status,
                    reasons: status == .refused ? [QueryRefusalReason(code: "consent_expired", facts: ["valid_until": "2027-12-31"])] : [])
    }

    @Test(arguments: TestBackend.all)
    func aConsentRoundTripsAndIsWithdrawnOnce(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let uploader = user("E1001", in: organisation)
            try await SQLUserRepository(database: database).create(uploader, passwordHash: "h", mustChangePassword: false, now: Self.now)
            let repository = SQLConsentRepository(database: database)
            let filed = consent(in: organisation, by: uploader)
            let envelope = SealedEnvelope(keyID: "k1", wrappedKey: Data([1, 2, 3]), ciphertext: Data([4, 5, 6]))
            try await repository.create(filed, document: envelope)
            #expect(try await repository.consent(filed.id) == filed)
            #expect(try await repository.document(of: filed.id) == envelope)
            #expect(try await repository.consents(in: [organisation.id], subject: Self.subject, limit: 10) == [filed])
            #expect(try await repository.consents(in: [], subject: nil, limit: 10).isEmpty)
            let withdrawals = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await repository.withdraw(filed.id, .init(at: Self.now.addingTimeInterval(Double(index)), recordedBy: uploader.id, reason: "撤回"))
                    }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(withdrawals == 1)
            #expect(try await repository.consent(filed.id)?.withdrawal != nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func anAnswerIsStoredWithItsQueryOrNotAtAll(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let person = user("E1001", in: organisation)
            try await SQLUserRepository(database: database).create(person, passwordHash: "h", mustChangePassword: false, now: Self.now)
            let repository = SQLQueryRepository(database: database)
            let refused = query(by: person, status: .refused)
            try await repository.record(refused)
            #expect(try await repository.query(refused.id) == refused)
            let envelope = SealedEnvelope(keyID: "k1", wrappedKey: Data([1]), ciphertext: Data([2]))
            // A refused query cannot take an answer: the report is rolled back with the refused update.
            await #expect(throws: StoreError.self) {
                try await repository.answer(refused.id, report: StoredReport(id: .random(), queryID: refused.id, kind: .personal, reportNumber: "R1",
                                                                            envelope: envelope, storedAt: Self.now))
            }
            let reports = try await database.withConnection { connection in
                try await connection.raw("SELECT COUNT(*) AS n FROM reports").first()?.decode(column: "n", as: Int64.self)
            }
            #expect(reports == 0)
            let pending = query(by: person)
            try await repository.record(pending)
            let report = StoredReport(id: .random(), queryID: pending.id, kind: .personal, reportNumber: "R2", envelope: envelope, storedAt: Self.now)
            try await repository.answer(pending.id, report: report)
            #expect(try await repository.report(report.id) == report)
            #expect(try await repository.query(pending.id)?.status == .answered)
            let history = try await repository.answeredQueries(about: Self.subject, limit: 10)
            #expect(history.map(\.organisationName) == [organisation.name] && history.first?.purpose == .loanApproval)
            // A failure only changes a pending query.
            try await repository.fail(pending.id, failure: .timeout, at: Self.now)
            #expect(try await repository.query(pending.id)?.status == .answered)
        }
    }

    /// What the bureau's query-records section is made from: the subject's newest answered queries, at most the
    /// limit, read in time order from the index of migration 9 without sorting the subject's whole history.
    @Test(arguments: TestBackend.all)
    func aSubjectsHistoryIsItsNewestAnsweredQueriesFirst(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let person = user("E1001", in: organisation)
            try await SQLUserRepository(database: database).create(person, passwordHash: "h", mustChangePassword: false, now: Self.now)
            let repository = SQLQueryRepository(database: database)
            let other = SubjectIdentifier(type: .residentID, number: "11010519491231002X")
            let envelope = SealedEnvelope(keyID: "k1", wrappedKey: Data([1]), ciphertext: Data([2]))
            // Answered out of time order; the purposes tell them apart.
            let answered: [(minutes: Double, purpose: QueryPurpose, subject: SubjectIdentifier)] = [
                (30, .loanApproval, Self.subject), (10, .postLoanManagement, Self.subject), (50, .creditCardApproval, Self.subject),
                (40, .guarantorReview, Self.subject), (60, .loanApproval, other),
            ]
            var items: [(query: CreditQuery, report: StoredReport)] = []
            for entry in answered {
                var item = CreditQuery(id: .random(), userID: person.id, organisationID: person.organisationID, channel: .api, clientAppID: nil,
                                       subject: entry.subject, subjectName: "张三", purpose: entry.purpose, consentID: nil, clientIP: "10.0.0.1",
                                       requestedAt: Self.now, status: .answered, reasons: [])
                item.answeredAt = Self.now.addingTimeInterval(entry.minutes * 60)
                let report = StoredReport(id: .random(), queryID: item.id, kind: .personal, reportNumber: "R", envelope: envelope, storedAt: item.answeredAt!)
                item.reportID = report.id
                items.append((item, report))
            }
            try await repository.recordAnswered(items)
            try await repository.record(query(by: person, status: .refused))
            let newest = try await repository.answeredQueries(about: Self.subject, limit: 3)
            #expect(newest.map(\.purpose) == [.creditCardApproval, .guarantorReview, .loanApproval])
            #expect(newest.map(\.answeredAt) == [50, 40, 30].map { Self.now.addingTimeInterval($0 * 60) })
            #expect(newest.allSatisfy { $0.organisationName == organisation.name })
            #expect(try await repository.answeredQueries(about: Self.subject, limit: 10).count == 4)
            if database.backend == .sqlite {
                let plan = try await database.withConnection { connection in
                    try await connection.raw("""
                        EXPLAIN QUERY PLAN SELECT queries.answered_at, queries.purpose, organisations.name FROM queries
                        JOIN organisations ON queries.organisation_id = organisations.id
                        WHERE queries.subject_type = '10' AND queries.subject_number = 'x' AND queries.status = 'answered'
                        ORDER BY queries.answered_at DESC LIMIT 50
                        """).all().map { try $0.decode(column: "detail", as: String.self) }
                }
                #expect(plan.contains { $0.contains("COVERING INDEX queries_subject_history") })
                #expect(!plan.contains { $0.contains("TEMP B-TREE") })
            }
        }
    }

    /// The register of related parties: an entry is stored with its audit entry, once per person and identifier, is
    /// found by its hash with the unit of its holder, and is removed with its audit entry, once.
    @Test(arguments: TestBackend.all)
    func aRelatedPartyIsRegisteredOnceFoundByItsHashAndRemovedOnce(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let holder = user("E1001", in: organisation), administrator = user("E2001", in: organisation, roles: [.systemAdministrator])
            for person in [holder, administrator] {
                try await SQLUserRepository(database: database).create(person, passwordHash: "h", mustChangePassword: false, now: Self.now)
            }
            let repository = SQLRelatedPartyRepository(database: database)
            let log = SQLAuditLogRepository(database: database)
            let entry = { (write: AuditedWrite) in
                PendingAuditEntry(event: AuditEvent(kind: .relatedPartyDeclared, occurredAt: Self.now, actor: nil, clientIP: "10.0.0.2", outcome: .success),
                                  write: write)
            }
            let party = RelatedParty(id: .random(), userID: holder.id, relation: .own, subjectType: .residentID, subjectHash: "h1",
                                     maskedIdentifier: "110***********1239", declaredBy: administrator.id, declaredAt: Self.now)
            let again = RelatedParty(id: .random(), userID: holder.id, relation: .spouse, subjectType: .residentID, subjectHash: "h1",
                                     maskedIdentifier: "110***********1239", declaredBy: administrator.id, declaredAt: Self.now)
            let size = try await log.size()
            #expect(try await log.append([entry(repository.declaring(party)), entry(repository.declaring(again))]) { $0.map { _ in true } }
                == [size, nil])
            #expect(try await repository.parties(of: holder.id) == [party])
            #expect(try await repository.party(party.id) == party)
            #expect(try await repository.holders(ofSubjectHash: "h1") == [RelatedPartyHolder(userID: holder.id, organisationID: organisation.id, relation: .own)])
            #expect(try await repository.holders(ofSubjectHash: "h2").isEmpty)
            // Only its holder's entry is removed, and only once.
            #expect(try await log.append([entry(repository.removing(party.id, of: administrator.id))]) { $0.map { _ in true } } == [nil])
            #expect(try await log.append([entry(repository.removing(party.id, of: holder.id)), entry(repository.removing(party.id, of: holder.id))]) {
                $0.map { _ in true }
            } == [size + 1, nil])
            #expect(try await repository.parties(of: holder.id).isEmpty)
            #expect(try await log.size() == size + 2)
        }
    }

    @Test(arguments: TestBackend.all)
    func aSpecialCaseIsUsedOnceAndAnAppDecidedOnce(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let users = SQLUserRepository(database: database)
            let requester = user("E1001", in: organisation), approver = user("E2001", in: organisation, roles: [.approver, .systemAdministrator])
            for person in [requester, approver] { try await users.create(person, passwordHash: "h", mustChangePassword: false, now: Self.now) }
            let cases = SQLSpecialQueryCaseRepository(database: database)
            var specialCase = SpecialQueryCase(id: .random(), procedure: .stateOrgan, subject: Self.subject, purpose: .judicialInvestigation,
                                               requestedBy: requester.id, organisationID: organisation.id, authority: "法院", documentNumber: "文号",
                                               grounds: "依法", requestedAt: Self.now)
            #expect(try await cases.creating(specialCase).performAlone(on: database))
            #expect(try await cases.use(specialCase.id, by: .random()) == false)
            _ = specialCase.decide(approve: true, by: approver.id, approverRoles: approver.roles, approverUnitCovers: true, note: "",
                                   at: Self.now, validity: 3600)
            #expect(try await cases.deciding(specialCase).performAlone(on: database))
            #expect(try await cases.deciding(specialCase).performAlone(on: database) == false)
            #expect(try await cases.find(specialCase.id) == specialCase)
            let caseID = specialCase.id
            let uses = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { try await cases.use(caseID, by: .random()) } }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(uses == 1)
            let apps = SQLClientAppRepository(database: database)
            var app = ClientApp(id: .random(), name: "信贷系统", status: .pending, organisations: [organisation.id], credentialHash: "hash",
                                registeredBy: requester.id, registeredAt: Self.now)
            try await apps.create(app)
            #expect(try await apps.app(app.id) == app)
            _ = app.approve(by: approver.id, at: Self.now)
            let approved = app
            let decisions = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 { group.addTask { try await apps.updateStatus(approved, expected: .pending) } }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(decisions == 1)
            #expect(try await apps.app(app.id)?.status == .approved)
            let loans = SQLLoanRepository(database: database)
            let loan = Loan(id: .random(), contractNumber: "HT-1", borrower: Self.subject, organisationID: organisation.id, amountYuan: 100,
                            startsOn: CalendarDate("2026-01-01")!, maturesOn: CalendarDate("2027-01-01")!, settledOn: nil)
            #expect(try await loans.upsert(loan, within: [organisation.id], by: approver.id, now: Self.now) == loan)
            await #expect(throws: StoreError.duplicate("loans.contract_number")) {
                try await loans.upsert(loan, within: [], by: approver.id, now: Self.now)
            }
            #expect(try await loans.loans(of: Self.subject) == [loan])
        }
    }
}

extension StoreSuite {
    /// R-21: with two instances on one database and 64 requests at once for one person, never one over the cap.
    @Test(arguments: TestBackend.all)
    func dailyCapsHoldExactlyUnderConcurrencyAcrossInstances(_ backend: TestBackend) async throws {
        try await backend.withTwoInstances { (first: Database, second: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(first)
            let person = user("E1001", in: organisation)
            try await SQLUserRepository(database: first).create(person, passwordHash: "h", mustChangePassword: false, now: Self.now)
            let instances = [SQLQueryRepository(database: first), SQLQueryRepository(database: second)]
            let caps = [DailyCap(scope: "user:\(person.id.rawValue)", day: "2027-01-15", limit: 10),
                        DailyCap(scope: "organisation:\(organisation.id.rawValue)", day: "2027-01-15", limit: 500)]
            let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<64 {
                    let repository = instances[index % 2]
                    let query = self.query(by: person)
                    group.addTask { try await repository.recordCounted(query, against: caps) }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(admitted == 10)
            let used = try await instances[1].usedToday(caps.map(\.scope), day: "2027-01-15")
            #expect(used[caps[0].scope] == 10 && used[caps[1].scope] == 10)
            let recorded = try await first.withConnection { connection in
                try await connection.raw("SELECT COUNT(*) AS n FROM queries").first()?.decode(column: "n", as: Int64.self)
            }
            #expect(recorded == 10)
            // Another day starts again; a cap of zero admits nobody.
            #expect(try await instances[0].recordCounted(query(by: person), against: [DailyCap(scope: caps[0].scope, day: "2027-01-16", limit: 10)]))
            #expect(try await instances[0].recordCounted(query(by: person), against: [DailyCap(scope: "user:x", day: "2027-01-16", limit: 0)]) == false)
        }
    }
}

extension StoreSuite {
    /// The same cap through the audit log's group commit, where many queries are counted in one transaction: two
    /// instances, 64 decisions at once, never one over the cap, each admitted query recorded with its entry and
    /// each refused one leaving neither.
    @Test(arguments: TestBackend.all)
    func dailyCapsHoldExactlyWhenQueriesAreCountedTogetherWithTheirAuditEntries(_ backend: TestBackend) async throws {
        try await backend.withTwoInstances { (first: Database, second: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(first)
            let person = user("E1001", in: organisation)
            try await SQLUserRepository(database: first).create(person, passwordHash: "h", mustChangePassword: false, now: Self.now)
            let instances = [(SQLQueryRepository(database: first), AuditLogWriter(repository: SQLAuditLogRepository(database: first), logger: logger)),
                             (SQLQueryRepository(database: second), AuditLogWriter(repository: SQLAuditLogRepository(database: second), logger: logger))]
            let caps = [DailyCap(scope: "user:\(person.id.rawValue)", day: "2027-01-15", limit: 10),
                        DailyCap(scope: "organisation:\(organisation.id.rawValue)", day: "2027-01-15", limit: 500)]
            let indices = try await withThrowingTaskGroup(of: UInt64?.self) { group in
                for index in 0..<64 {
                    let (repository, writer) = instances[index % 2]
                    let query = self.query(by: person)
                    let event = AuditEvent(kind: .queryDecided, occurredAt: Self.now, actor: nil, clientIP: "10.10.0.1", outcome: .success,
                                           details: ["query": query.id.rawValue])
                    group.addTask { try await writer.append(event, with: try repository.recordingCounted(query, against: caps)) }
                }
                return try await group.reduce(into: [UInt64?]()) { $0.append($1) }
            }
            #expect(indices.compactMap { $0 }.count == 10)
            let used = try await instances[1].0.usedToday(caps.map(\.scope), day: "2027-01-15")
            #expect(used[caps[0].scope] == 10 && used[caps[1].scope] == 10)
            let (recorded, logged) = try await first.withConnection { connection in
                (try await connection.raw("SELECT COUNT(*) AS n FROM queries").first()?.decode(column: "n", as: Int64.self),
                 try await connection.raw("SELECT COUNT(*) AS n FROM audit_entries").first()?.decode(column: "n", as: Int64.self))
            }
            #expect(recorded == 10 && logged == 10)
        }
    }
}

extension StoreSuite {
    /// A batch may count hundreds of queries against more than a thousand counters: still three statements, within
    /// what each engine takes in one statement.
    @Test(arguments: TestBackend.all)
    func aLargeBatchOfQueriesIsCountedInOneGo(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let person = user("E1001", in: organisation)
            try await SQLUserRepository(database: database).create(person, passwordHash: "h", mustChangePassword: false, now: Self.now)
            let repository = SQLQueryRepository(database: database)
            let unit = DailyCap(scope: "organisation:\(organisation.id.rawValue)", day: "2027-01-15", limit: 590)
            let writes = try (0..<600).map { number in
                try repository.recordingCounted(query(by: person), against: [
                    DailyCap(scope: "user:\(number)", day: "2027-01-15", limit: 1), DailyCap(scope: "desk:\(number)", day: "2027-01-15", limit: 5), unit,
                ])
            }
            let written = try await database.transaction { connection in
                try await writes[0].together(writes.map(\.payload), connection)
            }
            // The unit's cap of 590 admits the first 590 in order; the rest change nothing.
            #expect(written == (0..<600).map { $0 < 590 })
            let (counters, used, recorded) = try await database.withConnection { connection in
                (try await connection.raw("SELECT COUNT(*) AS n FROM daily_query_counts").first()?.decode(column: "n", as: Int64.self),
                 try await connection.raw("SELECT CAST(SUM(used) AS BIGINT) AS n FROM daily_query_counts WHERE scope LIKE 'user:%'").first()?.decode(column: "n", as: Int64.self),
                 try await connection.raw("SELECT COUNT(*) AS n FROM queries").first()?.decode(column: "n", as: Int64.self))
            }
            #expect(counters == 1201 && used == 590 && recorded == 590)
        }
    }
}

/// Exception requests (授权查询): decided once, used once even when two queries race for the approval, given back
/// when the query that took it never came to be, and watched by a version that moves with every change.
extension StoreSuite {
    @Test(arguments: TestBackend.all)
    func anExceptionIsDecidedOnceUsedOnceAndItsVersionMoves(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let requester = user("E1001", in: organisation), approver = user("E1002", in: organisation)
            for person in [requester, approver] {
                try await SQLUserRepository(database: database).create(person, passwordHash: "h", mustChangePassword: false, now: Self.now)
            }
            let repository = SQLPolicyExceptionRepository(database: database)
            let before = try await repository.version(requestedBy: requester.id, orIn: [organisation.id], at: Self.now)
            var exception = PolicyException(
                id: .random(), requestedBy: requester.id, organisationID: organisation.id, subject: Self.subject, subjectName: "张三",
                purpose: .loanApproval, consentID: Consent.ID("c1"),
                reasons: [QueryRefusalReason(code: "outside_working_hours", facts: ["time": "18:00:00", "start": "08:30", "end": "17:30"])],
                justification: "客户在柜台等候", risks: [.offHoursColleague], clientIP: "10.0.0.1", requestedAt: Self.now,
                lapsesAt: Self.now.addingTimeInterval(3600)
            )
            #expect(try await repository.creating(exception).performAlone(on: database))
            #expect(try await repository.find(exception.id) == exception)
            let afterRequest = try await repository.version(requestedBy: requester.id, orIn: [organisation.id], at: Self.now)
            #expect(afterRequest != before)
            // The approver's view (units) and the requester's view (own) both see it; another unit's approver does not.
            #expect(try await repository.version(requestedBy: approver.id, orIn: [organisation.id], at: Self.now) == afterRequest)
            #expect(try await repository.version(requestedBy: approver.id, orIn: [], at: Self.now) == before)
            #expect(try await repository.exceptions(in: [organisation.id], limit: 10).map(\.id) == [exception.id])
            _ = exception.decide(approve: true, by: approver.id, approverRoles: [.approver], approverUnitCovers: true, note: "", onSite: "已当面核实",
                                 at: Self.now.addingTimeInterval(60), validity: 1800)
            #expect(try await repository.deciding(exception).performAlone(on: database))
            #expect(try await !repository.deciding(exception).performAlone(on: database))
            #expect(try await repository.find(exception.id) == exception)
            let afterDecision = try await repository.version(requestedBy: requester.id, orIn: nil, at: Self.now)
            #expect(afterDecision != afterRequest)
            let at = Self.now.addingTimeInterval(120)
            let queries = (0..<8).map { _ in CreditQuery.ID.random() }
            let id = exception.id
            let taken = try await withThrowingTaskGroup(of: Bool.self) { group in
                for query in queries {
                    group.addTask { try await repository.use(id, by: query, at: at) }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(taken == 1)
            let usedBy = try #require(try await repository.find(exception.id)?.usedByQuery)
            let afterUse = try await repository.version(requestedBy: requester.id, orIn: nil, at: Self.now)
            #expect(afterUse != afterDecision)
            // Given back by the query that took it (and only by that one), then usable again — but not after expiry.
            try await repository.release(exception.id, from: queries.first { $0 != usedBy }!, at: at)
            #expect(try await repository.find(exception.id)?.status == .used)
            try await repository.release(exception.id, from: usedBy, at: at)
            #expect(try await repository.find(exception.id)?.status == .approved)
            // A give-back at the same moment, and the passing of the expiry, each move the version.
            #expect(try await repository.version(requestedBy: requester.id, orIn: nil, at: Self.now) != afterUse)
            #expect(try await repository.version(requestedBy: requester.id, orIn: nil, at: Self.now.addingTimeInterval(60 + 1800))
                != (try await repository.version(requestedBy: requester.id, orIn: nil, at: Self.now)))
            #expect(try await repository.pending(in: [organisation.id], at: Self.now, limit: 10).isEmpty)
            #expect(try await !repository.use(exception.id, by: .random(), at: Self.now.addingTimeInterval(60 + 1800)))

            // Made and decided with their audit entries: two decisions on one request in one batch of the log, and
            // only the first is written — the second's entry is not appended either.
            let raced = PolicyException(
                id: .random(), requestedBy: requester.id, organisationID: organisation.id, subject: Self.subject, subjectName: "张三",
                purpose: .loanApproval, consentID: nil, reasons: exception.reasons, justification: "客户在柜台等候", risks: [], clientIP: "10.0.0.1",
                requestedAt: Self.now, lapsesAt: Self.now.addingTimeInterval(3600)
            )
            let log = SQLAuditLogRepository(database: database)
            let entry = { (write: AuditedWrite) in
                PendingAuditEntry(event: AuditEvent(kind: .exceptionDecided, occurredAt: Self.now, actor: nil, clientIP: "10.0.0.2", outcome: .success), write: write)
            }
            let sizeBefore = try await log.size()
            #expect(try await log.append([entry(repository.creating(raced))]) == sizeBefore)
            #expect(try await repository.find(raced.id) == raced)
            var approved = raced
            var refused = raced
            _ = approved.decide(approve: true, by: approver.id, approverRoles: [.approver], approverUnitCovers: true, note: "", onSite: "",
                                at: Self.now.addingTimeInterval(60), validity: 1800)
            _ = refused.decide(approve: false, by: approver.id, approverRoles: [.approver], approverUnitCovers: true, note: "不同意", onSite: "",
                               at: Self.now.addingTimeInterval(60), validity: 1800)
            let indices = try await log.append([entry(repository.deciding(approved)), entry(repository.deciding(refused))]) { $0.map { _ in true } }
            #expect(indices == [sizeBefore + 1, nil])
            #expect(try await log.size() == sizeBefore + 2)
            #expect(try await repository.find(raced.id) == approved)
        }
    }
}

/// The reference version (migrations 8 and 10): every change to the tables a query decides with moves it, in the
/// transaction of the change and whoever makes it; other tables leave it where it is.
extension StoreSuite {
    @Test(arguments: TestBackend.all)
    func theReferenceVersionMovesWithEveryChangeToTheReferenceTablesOnly(_ backend: TestBackend) async throws {
        try await backend.withTwoInstances { (first: Database, second: Database) async throws -> Void in
            try await migrated(first)
            let versions = (first: SQLReferenceVersionRepository(database: first), second: SQLReferenceVersionRepository(database: second))
            var seen = try await versions.second.current()
            /// Runs one change through the first instance and returns whether the second sees the version move.
            func moves(_ change: (any SQLDatabase) async throws -> Void) async throws -> Bool {
                try await first.transaction { try await change($0) }
                let now = try await versions.second.current()
                defer { seen = now }
                return now > seen
            }
            let organisation = headOffice()
            try await SQLOrganisationRepository(database: first).create(organisation, now: Self.now)
            #expect(try await versions.second.current() > seen)
            seen = try await versions.first.current()
            let person = user("E1001", in: organisation)
            // Accounts are not reference data.
            try await SQLUserRepository(database: first).create(person, passwordHash: "h", mustChangePassword: false, now: Self.now)
            #expect(try await versions.second.current() == seen)
            let unit = organisation.id.rawValue
            #expect(try await moves { try await $0.raw("UPDATE organisations SET region_code = '310101' WHERE id = \(bind: unit)").run() })
            #expect(try await moves { try await $0.raw("INSERT INTO organisation_networks (organisation_id, position, cidr) VALUES (\(bind: unit), 9, '10.99.0.0/16')").run() })
            #expect(try await moves { try await $0.raw("DELETE FROM organisation_networks WHERE organisation_id = \(bind: unit) AND position = 9").run() })
            #expect(try await moves {
                try await $0.raw("INSERT INTO policy_settings (organisation_id, settings, updated_at) VALUES (\(bind: unit), '{}', 0)").run()
            })
            #expect(try await moves { try await $0.raw("UPDATE policy_settings SET settings = '{\"userDailyCap\":5}' WHERE organisation_id = \(bind: unit)").run() })
            #expect(try await moves {
                try await $0.raw("INSERT INTO holiday_calendars (year, content, sha256, imported_at) VALUES (2031, '{}', 'x', 0)").run()
            })
            #expect(try await moves {
                try await $0.raw("""
                    INSERT INTO client_apps (id, name, status, credential_hash, registered_by, registered_at)
                    VALUES ('app1', 'Loans', 'pending', 'h1', \(bind: person.id.rawValue), 0)
                    """).run()
            })
            #expect(try await moves { try await $0.raw("INSERT INTO client_app_organisations (app_id, organisation_id) VALUES ('app1', \(bind: unit))").run() })
            #expect(try await moves { try await $0.raw("UPDATE client_apps SET status = 'revoked' WHERE id = 'app1'").run() })
            #expect(try await moves { try await $0.raw("INSERT INTO user_networks (user_id, cidr) VALUES (\(bind: person.id.rawValue), '10.1.2.3/32')").run() })
            #expect(try await moves {
                try await $0.raw("""
                    INSERT INTO related_parties (id, user_id, relation, subject_type, subject_hash, masked_identifier, declared_by, declared_at)
                    VALUES ('rp1', \(bind: person.id.rawValue), 'self', '10', 'h1', '110***********1239', \(bind: person.id.rawValue), 0)
                    """).run()
            })
            #expect(try await SQLRelatedPartyRepository(database: second).subjectHashes() == ["h1"])
            #expect(try await moves { try await $0.raw("DELETE FROM related_parties WHERE id = 'rp1'").run() })
            // A change rolled back moves nothing.
            await #expect(throws: (any Error).self) {
                try await first.transaction { connection in
                    try await connection.raw("UPDATE client_apps SET status = 'approved' WHERE id = 'app1'").run()
                    throw StoreError.corruptRow("rolled back on purpose")
                }
            }
            #expect(try await versions.second.current() == seen)
        }
    }
}
