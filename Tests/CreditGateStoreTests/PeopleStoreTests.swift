import CreditGateCore
import Foundation
import Testing

@testable import CreditGateStore

/// The people-and-access repositories, on every configured backend: the lifecycle fields round-trip, a TOTP step and
/// an approval step are taken once even when asked for at the same time, sessions end together.
extension StoreSuite {
    @Test(arguments: TestBackend.all)
    func theLifecycleAndSecurityStateRoundTrip(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let repository = SQLUserRepository(database: database)
            var person = user("E1001", in: organisation)
            try await repository.create(person, passwordHash: "h1", mustChangePassword: true, now: Self.now)
            #expect(try await repository.credentials(of: person.id)?.mustChangePassword == true)
            person.status = .suspended
            person.suspendedAt = Self.now
            person.suspensionReason = .dormant
            person.employment = .left
            person.strictExamRequired = true
            person.organisationConfirmationDueAt = Self.now.addingTimeInterval(86_400)
            person.roles = [.approver]
            try await repository.update(person, now: Self.now)
            #expect(try await repository.find(person.id) == person)
            try await repository.recordFailedSignIn(person.id, failures: 5, lockedUntil: Self.now.addingTimeInterval(900))
            #expect(try await repository.credentials(of: person.id)?.lockedUntil == Self.now.addingTimeInterval(900))
            try await repository.setPassword(person.id, hash: "h2", mustChange: false, now: Self.now.addingTimeInterval(1))
            let credentials = try #require(try await repository.credentials(of: person.id))
            #expect(credentials.failedSignIns == 0 && credentials.lockedUntil == nil && !credentials.mustChangePassword)
            #expect(try await repository.passwordHistory(person.id, limit: 5) == ["h2", "h1"])
        }
    }

    @Test(arguments: TestBackend.all)
    func aTOTPStepIsTakenOnceEvenConcurrently(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let repository = SQLUserRepository(database: database)
            let person = user("E1001", in: organisation)
            try await repository.create(person, passwordHash: "h", mustChangePassword: false, now: Self.now)
            try await repository.confirmTOTP(person.id, sealed: "sealed", step: 100)
            #expect(try await repository.useTOTPStep(person.id, step: 100) == false)
            let taken = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { try await repository.useTOTPStep(person.id, step: 101) } }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(taken == 1)
            try await repository.resetTOTP(person.id)
            #expect(try await repository.credentials(of: person.id)?.sealedTOTPSecret == nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func anApprovalStepIsRecordedOnce(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let users = SQLUserRepository(database: database)
            let applicant = user("E1001", in: organisation), first = user("E2001", in: organisation), second = user("E2002", in: organisation)
            for person in [applicant, first, second] { try await users.create(person, passwordHash: "h", mustChangePassword: false, now: Self.now) }
            let exams = SQLExamRepository(database: database)
            let bank = QuestionBank(format: QuestionBank.formatName, title: .init(zh: "题库", en: "Bank"), questions: [
                .init(id: "Q1", topic: "t", reference: .init(zh: "r", en: "r"), prompt: .init(zh: "p", en: "p"),
                      options: [.init(zh: "a", en: "a"), .init(zh: "b", en: "b")], answer: 0),
            ])
            let stored = try await exams.importBank(bank, content: try JSONEncoder().encode(bank), sha256: "00", importedBy: nil, now: Self.now)
            #expect(try await exams.currentBank()?.bank == bank)
            let attempt = ExamAttempt(id: "a1", userID: applicant.id, bankID: stored.id,
                                      paper: ExamPaper(items: [.init(questionID: "Q1", optionOrder: [1, 0])]), strict: false, passMark: 90,
                                      startedAt: Self.now, deadlineAt: Self.now.addingTimeInterval(1800))
            try await exams.start(attempt)
            var marked = attempt
            marked.submittedAt = Self.now
            marked.answers = ["Q1": 1]
            marked.score = 100
            marked.passed = true
            marked.late = false
            #expect(try await exams.submit(marked))
            #expect(try await exams.submit(marked) == false)
            #expect(try await exams.attempt("a1") == marked)

            let requests = SQLAccessRequestRepository(database: database)
            let request = AccessRequest(id: .init("r1"), applicantID: applicant.id, examAttemptID: "a1", chain: [organisation.id, organisation.id], createdAt: Self.now)
            try await requests.create(request)
            let decisions = [first, second].map { AccessRequest.Decision(step: 0, approverID: $0.id, approved: true, comment: "", decidedAt: Self.now) }
            let recorded = try await withThrowingTaskGroup(of: Bool.self) { group in
                for decision in decisions { group.addTask { try await requests.record(decision, request: request.id, status: .pending) } }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(recorded == 1)
            let loaded = try #require(try await requests.find(request.id))
            #expect(loaded.decisions.count == 1)
            #expect(loaded.chain == [organisation.id, organisation.id])
        }
    }

    @Test(arguments: TestBackend.all)
    func everySessionOfAPersonEndsTogether(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { (database: Database) async throws -> Void in
            let organisation = try await migratedWithHeadOffice(database)
            let person = user("E1001", in: organisation)
            try await SQLUserRepository(database: database).create(person, passwordHash: "h", mustChangePassword: false, now: Self.now)
            let sessions = SQLSessionRepository(database: database)
            for token in ["a", "b", "c"] {
                try await sessions.create(StoredSession(tokenHash: token, userID: person.id, csrfToken: "x", createdAt: Self.now,
                                                        lastSeenAt: Self.now, clientIP: "10.0.0.1", stage: .secondFactorEnrolment))
            }
            #expect(try await sessions.endAll(of: person.id, except: "c", at: Self.now, reason: .superseded) == 2)
            #expect(try await sessions.find(tokenHash: "a")?.endReason == .superseded)
            try await sessions.setStage(.full, tokenHash: "c")
            #expect(try await sessions.findActive(tokenHash: "c")?.stage == .full)
            #expect(try await sessions.endAll(of: person.id, except: nil, at: Self.now, reason: .accountInactive) == 1)
            #expect(try await sessions.open(of: person.id).isEmpty)
        }
    }
}
