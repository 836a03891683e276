import CreditGateCore
import Foundation
import SQLKit

/// Failed sign-ins by client address, shared by every instance, for throttling.
public protocol SignInFailureRepository: Sendable {
    func record(clientIP: String, at time: Date) async throws
    /// Failures from the address since `since`.
    func count(clientIP: String, since: Date) async throws -> Int
    /// Forgets failures older than `before`.
    func prune(before: Date) async throws
}

public struct SQLSignInFailureRepository: SignInFailureRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func record(clientIP: String, at time: Date) async throws {
        try await database.transaction { connection in
            try await connection.insert(into: "sign_in_failures")
                .columns("id", "client_ip", "failed_at")
                .values(SQLBind(UUID().uuidString.lowercased()), SQLBind(clientIP), SQLBind(time.storedMilliseconds))
                .run()
        }
    }

    public func count(clientIP: String, since: Date) async throws -> Int {
        try await database.withConnection { connection in
            let row = try await connection.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "total")
                .from("sign_in_failures")
                .where("client_ip", .equal, SQLBind(clientIP))
                .where("failed_at", .greaterThanOrEqual, SQLBind(since.storedMilliseconds))
                .first()
            return Int(try row?.decode(column: "total", as: Int64.self) ?? 0)
        }
    }

    public func prune(before: Date) async throws {
        try await database.transaction { connection in
            try await connection.delete(from: "sign_in_failures").where("failed_at", .lessThan, SQLBind(before.storedMilliseconds)).run()
        }
    }
}

/// A stored question bank: the checked file as imported.
public struct StoredQuestionBank: Sendable {
    public let id: String
    public let bank: QuestionBank
    public let sha256: String
    public let importedAt: Date
}

/// One exam attempt as stored (R-04: every attempt recorded).
public struct ExamAttempt: Sendable, Equatable, Identifiable {
    public let id: String
    public let userID: User.ID
    public let bankID: String
    public let paper: ExamPaper
    public let strict: Bool
    public let passMark: Int
    public let startedAt: Date
    public let deadlineAt: Date
    public var submittedAt: Date?
    public var answers: [String: Int]?
    public var score: Int?
    public var passed: Bool?
    public var late: Bool?

    public init(id: String, userID: User.ID, bankID: String, paper: ExamPaper, strict: Bool, passMark: Int, startedAt: Date, deadlineAt: Date,
                submittedAt: Date? = nil, answers: [String: Int]? = nil, score: Int? = nil, passed: Bool? = nil, late: Bool? = nil) {
        self.id = id
        self.userID = userID
        self.bankID = bankID
        self.paper = paper
        self.strict = strict
        self.passMark = passMark
        self.startedAt = startedAt
        self.deadlineAt = deadlineAt
        self.submittedAt = submittedAt
        self.answers = answers
        self.score = score
        self.passed = passed
        self.late = late
    }
}

/// The access exam's bank, attempts and the permits a stricter re-application needs.
public protocol ExamRepository: Sendable {
    /// Stores a checked bank with the SHA-256 of the file it came from.
    func importBank(_ bank: QuestionBank, content: Data, sha256: String, importedBy: User.ID?, now: Date) async throws -> StoredQuestionBank
    /// The most recently imported bank.
    func currentBank() async throws -> StoredQuestionBank?
    func bank(_ id: String) async throws -> StoredQuestionBank?
    func start(_ attempt: ExamAttempt) async throws
    func attempt(_ id: String) async throws -> ExamAttempt?
    /// Stores the marking once; `false` when the attempt was already submitted (a double click, a replay).
    func submit(_ attempt: ExamAttempt) async throws -> Bool
    func attempts(of userID: User.ID) async throws -> [ExamAttempt]
    func grantPermit(id: String, to userID: User.ID, by grantor: User.ID, now: Date) async throws
    /// Uses an unused permit of the user for an attempt; `false` when there is none.
    func usePermit(of userID: User.ID, attemptID: String) async throws -> Bool
    func hasUnusedPermit(_ userID: User.ID) async throws -> Bool
}

public struct SQLExamRepository: ExamRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func importBank(_ bank: QuestionBank, content: Data, sha256: String, importedBy: User.ID?, now: Date) async throws -> StoredQuestionBank {
        let stored = StoredQuestionBank(id: UUID().uuidString.lowercased(), bank: bank, sha256: sha256, importedAt: now)
        try await database.transaction { connection in
            try await connection.insert(into: "exam_question_banks")
                .columns("id", "content", "sha256", "question_count", "imported_at", "imported_by")
                .values(SQLBind(stored.id), SQLBind(String(decoding: content, as: UTF8.self)), SQLBind(stored.sha256),
                        SQLBind(Int64(bank.questions.count)), SQLBind(now.storedMilliseconds), SQLBind(importedBy?.rawValue))
                .run()
        }
        return stored
    }

    public func currentBank() async throws -> StoredQuestionBank? {
        try await loadBank { $0.orderBy("imported_at", .descending).orderBy("id", .descending).limit(1) }
    }

    public func bank(_ id: String) async throws -> StoredQuestionBank? {
        try await loadBank { $0.where("id", .equal, SQLBind(id)) }
    }

    private func loadBank(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> StoredQuestionBank? {
        try await database.withConnection { connection in
            guard let row = try await filter(connection.select().columns("id", "content", "sha256", "imported_at").from("exam_question_banks")).first()
            else { return nil }
            let content = Data(try row.decode(column: "content", as: String.self).utf8)
            guard let bank = try? QuestionBank.parse(content, minimumQuestions: 1) else { throw StoreError.corruptRow("exam_question_banks") }
            return StoredQuestionBank(id: try row.decode(column: "id", as: String.self), bank: bank,
                                      sha256: try row.decode(column: "sha256", as: String.self),
                                      importedAt: Date(storedMilliseconds: try row.decode(column: "imported_at", as: Int64.self)))
        }
    }

    public func start(_ attempt: ExamAttempt) async throws {
        let paper = String(decoding: try JSONEncoder().encode(attempt.paper), as: UTF8.self)
        try await database.transaction { connection in
            try await connection.insert(into: "exam_attempts")
                .columns("id", "user_id", "bank_id", "paper", "strict", "pass_mark", "started_at", "deadline_at")
                .values(SQLBind(attempt.id), SQLBind(attempt.userID.rawValue), SQLBind(attempt.bankID), SQLBind(paper),
                        SQLBind(Int64(attempt.strict ? 1 : 0)), SQLBind(Int64(attempt.passMark)),
                        SQLBind(attempt.startedAt.storedMilliseconds), SQLBind(attempt.deadlineAt.storedMilliseconds))
                .run()
        }
    }

    public func attempt(_ id: String) async throws -> ExamAttempt? {
        try await loadAttempts { $0.where("id", .equal, SQLBind(id)) }.first
    }

    public func attempts(of userID: User.ID) async throws -> [ExamAttempt] {
        try await loadAttempts { $0.where("user_id", .equal, SQLBind(userID.rawValue)).orderBy("started_at", .descending) }
    }

    public func submit(_ attempt: ExamAttempt) async throws -> Bool {
        let answers = String(decoding: try JSONEncoder().encode(attempt.answers ?? [:]), as: UTF8.self)
        return try await database.transaction { connection in
            try await connection.update("exam_attempts")
                .set("submitted_at", to: SQLBind(attempt.submittedAt?.storedMilliseconds))
                .set("answers", to: SQLBind(answers))
                .set("score", to: SQLBind(attempt.score.map(Int64.init)))
                .set("passed", to: SQLBind(attempt.passed.map { Int64($0 ? 1 : 0) }))
                .set("late", to: SQLBind(attempt.late.map { Int64($0 ? 1 : 0) }))
                .where("id", .equal, SQLBind(attempt.id))
                .where("submitted_at", .is, SQLLiteral.null)
                .returning("id")
                .all()
                .count == 1
        }
    }

    public func grantPermit(id: String, to userID: User.ID, by grantor: User.ID, now: Date) async throws {
        try await database.transaction { connection in
            try await connection.insert(into: "exam_permits")
                .columns("id", "user_id", "granted_by", "granted_at")
                .values(SQLBind(id), SQLBind(userID.rawValue), SQLBind(grantor.rawValue), SQLBind(now.storedMilliseconds))
                .run()
        }
    }

    public func usePermit(of userID: User.ID, attemptID: String) async throws -> Bool {
        try await database.transaction { connection in
            guard let row = try await connection.select().column("id").from("exam_permits")
                .where("user_id", .equal, SQLBind(userID.rawValue)).where("used_by_attempt", .is, SQLLiteral.null)
                .orderBy("granted_at").limit(1).first()
            else { return false }
            let id = try row.decode(column: "id", as: String.self)
            return try await connection.update("exam_permits").set("used_by_attempt", to: SQLBind(attemptID))
                .where("id", .equal, SQLBind(id)).where("used_by_attempt", .is, SQLLiteral.null)
                .returning("id").all().count == 1
        }
    }

    public func hasUnusedPermit(_ userID: User.ID) async throws -> Bool {
        try await database.withConnection { connection in
            try await connection.select().column("id").from("exam_permits")
                .where("user_id", .equal, SQLBind(userID.rawValue)).where("used_by_attempt", .is, SQLLiteral.null)
                .limit(1).first() != nil
        }
    }

    private func loadAttempts(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [ExamAttempt] {
        try await database.withConnection { connection in
            let query = connection.select()
                .columns("id", "user_id", "bank_id", "paper", "strict", "pass_mark", "started_at", "deadline_at",
                         "submitted_at", "answers", "score", "passed", "late")
                .from("exam_attempts")
            return try await filter(query).all().map { row in
                let decoder = JSONDecoder()
                guard let paper = try? decoder.decode(ExamPaper.self, from: Data(try row.decode(column: "paper", as: String.self).utf8)) else {
                    throw StoreError.corruptRow("exam_attempts.paper")
                }
                let answers = try row.decode(column: "answers", as: String?.self).flatMap {
                    try? decoder.decode([String: Int].self, from: Data($0.utf8))
                }
                return ExamAttempt(
                    id: try row.decode(column: "id", as: String.self),
                    userID: .init(try row.decode(column: "user_id", as: String.self)),
                    bankID: try row.decode(column: "bank_id", as: String.self),
                    paper: paper,
                    strict: try row.decode(column: "strict", as: Int64.self) != 0,
                    passMark: Int(try row.decode(column: "pass_mark", as: Int64.self)),
                    startedAt: Date(storedMilliseconds: try row.decode(column: "started_at", as: Int64.self)),
                    deadlineAt: Date(storedMilliseconds: try row.decode(column: "deadline_at", as: Int64.self)),
                    submittedAt: try row.decode(column: "submitted_at", as: Int64?.self).map(Date.init(storedMilliseconds:)),
                    answers: answers,
                    score: try row.decode(column: "score", as: Int64?.self).map(Int.init),
                    passed: try row.decode(column: "passed", as: Int64?.self).map { $0 != 0 },
                    late: try row.decode(column: "late", as: Int64?.self).map { $0 != 0 }
                )
            }
        }
    }
}

/// Access requests and their decisions (逐级审批).
public protocol AccessRequestRepository: Sendable {
    func create(_ request: AccessRequest) async throws
    func find(_ id: AccessRequest.ID) async throws -> AccessRequest?
    func all() async throws -> [AccessRequest]
    func of(applicant: User.ID) async throws -> [AccessRequest]
    /// Stores one new decision and the resulting status, only if the request is still at that step — so two
    /// administrators deciding at once cannot both succeed. `false` when someone else decided first.
    func record(_ decision: AccessRequest.Decision, request: AccessRequest.ID, status: AccessRequest.Status) async throws -> Bool
    /// Closes every pending request of an applicant as refused (their account was suspended); returns how many.
    @discardableResult
    func refusePending(of applicant: User.ID) async throws -> Int
}

public struct SQLAccessRequestRepository: AccessRequestRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func create(_ request: AccessRequest) async throws {
        do {
            try await database.transaction { connection in
                try await connection.insert(into: "access_requests")
                    .columns("id", "applicant_id", "exam_attempt_id", "chain", "status", "created_at")
                    .values(SQLBind(request.id.rawValue), SQLBind(request.applicantID.rawValue), SQLBind(request.examAttemptID),
                            SQLBind(request.chain.map(\.rawValue).joined(separator: ",")), SQLBind(request.status.rawValue),
                            SQLBind(request.createdAt.storedMilliseconds))
                    .run()
            }
        } catch where ConstraintViolation.isUnique(error) {
            throw StoreError.duplicate("access request for this exam attempt")
        }
    }

    public func find(_ id: AccessRequest.ID) async throws -> AccessRequest? {
        try await load { $0.where("id", .equal, SQLBind(id.rawValue)) }.first
    }

    public func all() async throws -> [AccessRequest] {
        try await load { $0.orderBy("created_at", .descending) }
    }

    public func of(applicant: User.ID) async throws -> [AccessRequest] {
        try await load { $0.where("applicant_id", .equal, SQLBind(applicant.rawValue)).orderBy("created_at", .descending) }
    }

    public func refusePending(of applicant: User.ID) async throws -> Int {
        try await database.transaction { connection in
            try await connection.update("access_requests")
                .set("status", to: SQLBind(AccessRequest.Status.refused.rawValue))
                .where("applicant_id", .equal, SQLBind(applicant.rawValue))
                .where("status", .equal, SQLBind(AccessRequest.Status.pending.rawValue))
                .returning("id")
                .all()
                .count
        }
    }

    public func record(_ decision: AccessRequest.Decision, request: AccessRequest.ID, status: AccessRequest.Status) async throws -> Bool {
        do {
            return try await database.transaction { connection in
                let updated = try await connection.update("access_requests")
                    .set("status", to: SQLBind(status.rawValue))
                    .where("id", .equal, SQLBind(request.rawValue))
                    .where("status", .equal, SQLBind(AccessRequest.Status.pending.rawValue))
                    .returning("id").all().count
                guard updated == 1 else { return false }
                // The primary key (request, step) refuses a second decision of the same step.
                try await connection.insert(into: "access_request_decisions")
                    .columns("request_id", "step", "approver_id", "approved", "comment", "decided_at")
                    .values(SQLBind(request.rawValue), SQLBind(Int64(decision.step)), SQLBind(decision.approverID.rawValue),
                            SQLBind(Int64(decision.approved ? 1 : 0)), SQLBind(decision.comment), SQLBind(decision.decidedAt.storedMilliseconds))
                    .run()
                return true
            }
        } catch where ConstraintViolation.isUnique(error) {
            return false
        }
    }

    private func load(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [AccessRequest] {
        try await database.withConnection { connection in
            let rows = try await filter(connection.select()
                .columns("id", "applicant_id", "exam_attempt_id", "chain", "status", "created_at").from("access_requests")).all()
            guard !rows.isEmpty else { return [] }
            let ids = try rows.map { try $0.decode(column: "id", as: String.self) }
            var decisions: [String: [AccessRequest.Decision]] = [:]
            // In chunks: both engines limit the number of bound parameters in one statement.
            var decisionRows: [any SQLRow] = []
            for start in stride(from: 0, to: ids.count, by: 500) {
                decisionRows += try await connection.select()
                    .columns("request_id", "step", "approver_id", "approved", "comment", "decided_at").from("access_request_decisions")
                    .where("request_id", .in, SQLBind.group(Array(ids[start..<min(ids.count, start + 500)]))).orderBy("step").all()
            }
            for row in decisionRows {
                decisions[try row.decode(column: "request_id", as: String.self), default: []].append(AccessRequest.Decision(
                    step: Int(try row.decode(column: "step", as: Int64.self)),
                    approverID: .init(try row.decode(column: "approver_id", as: String.self)),
                    approved: try row.decode(column: "approved", as: Int64.self) != 0,
                    comment: try row.decode(column: "comment", as: String.self),
                    decidedAt: Date(storedMilliseconds: try row.decode(column: "decided_at", as: Int64.self))
                ))
            }
            return try rows.map { row in
                let id = try row.decode(column: "id", as: String.self)
                guard let status = AccessRequest.Status(rawValue: try row.decode(column: "status", as: String.self)) else {
                    throw StoreError.corruptRow("access_requests.status")
                }
                return AccessRequest(
                    id: .init(id), applicantID: .init(try row.decode(column: "applicant_id", as: String.self)),
                    examAttemptID: try row.decode(column: "exam_attempt_id", as: String.self),
                    chain: try row.decode(column: "chain", as: String.self).split(separator: ",").map { Organisation.ID(String($0)) },
                    createdAt: Date(storedMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
                    decisions: decisions[id] ?? [], status: status
                )
            }
        }
    }
}

/// One run of the automatic suspension (R-06: its runs recorded).
public struct SuspensionRun: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public let userID: User.ID
        public let reason: SuspensionReason

        public init(userID: User.ID, reason: SuspensionReason) {
            self.userID = userID
            self.reason = reason
        }
    }

    public let id: String
    public let trigger: String
    public let startedAt: Date
    public var finishedAt: Date?
    public var examined: Int
    public var items: [Item]
    public var outcome: String

    public init(id: String, trigger: String, startedAt: Date, finishedAt: Date? = nil, examined: Int = 0, items: [Item] = [], outcome: String) {
        self.id = id
        self.trigger = trigger
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.examined = examined
        self.items = items
        self.outcome = outcome
    }
}

public protocol SuspensionRunRepository: Sendable {
    func save(_ run: SuspensionRun) async throws
    func recent(limit: Int) async throws -> [SuspensionRun]
}

public struct SQLSuspensionRunRepository: SuspensionRunRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func save(_ run: SuspensionRun) async throws {
        try await database.transaction { connection in
            try await connection.delete(from: "suspension_run_items").where("run_id", .equal, SQLBind(run.id)).run()
            try await connection.delete(from: "suspension_runs").where("id", .equal, SQLBind(run.id)).run()
            try await connection.insert(into: "suspension_runs")
                .columns("id", "triggered_by", "started_at", "finished_at", "examined", "suspended", "outcome")
                .values(SQLBind(run.id), SQLBind(run.trigger), SQLBind(run.startedAt.storedMilliseconds),
                        SQLBind(run.finishedAt?.storedMilliseconds), SQLBind(Int64(run.examined)), SQLBind(Int64(run.items.count)),
                        SQLBind(run.outcome))
                .run()
            for item in run.items {
                try await connection.insert(into: "suspension_run_items").columns("run_id", "user_id", "reason")
                    .values(SQLBind(run.id), SQLBind(item.userID.rawValue), SQLBind(item.reason.rawValue)).run()
            }
        }
    }

    public func recent(limit: Int) async throws -> [SuspensionRun] {
        try await database.withConnection { connection in
            let rows = try await connection.select()
                .columns("id", "triggered_by", "started_at", "finished_at", "examined", "outcome").from("suspension_runs")
                .orderBy("started_at", .descending).limit(limit).all()
            guard !rows.isEmpty else { return [] }
            let ids = try rows.map { try $0.decode(column: "id", as: String.self) }
            var items: [String: [SuspensionRun.Item]] = [:]
            for row in try await connection.select().columns("run_id", "user_id", "reason").from("suspension_run_items")
                .where("run_id", .in, SQLBind.group(ids)).orderBy("user_id").all() {
                guard let reason = SuspensionReason(rawValue: try row.decode(column: "reason", as: String.self)) else {
                    throw StoreError.corruptRow("suspension_run_items.reason")
                }
                items[try row.decode(column: "run_id", as: String.self), default: []]
                    .append(.init(userID: .init(try row.decode(column: "user_id", as: String.self)), reason: reason))
            }
            return try rows.map { row in
                let id = try row.decode(column: "id", as: String.self)
                return SuspensionRun(
                    id: id, trigger: try row.decode(column: "triggered_by", as: String.self),
                    startedAt: Date(storedMilliseconds: try row.decode(column: "started_at", as: Int64.self)),
                    finishedAt: try row.decode(column: "finished_at", as: Int64?.self).map(Date.init(storedMilliseconds:)),
                    examined: Int(try row.decode(column: "examined", as: Int64.self)),
                    items: items[id] ?? [], outcome: try row.decode(column: "outcome", as: String.self)
                )
            }
        }
    }
}

/// The responsibility matrix and training records.
public protocol ResponsibilityRepository: Sendable {
    /// Names (or replaces) the person holding a responsibility in a unit.
    func assign(_ assignment: ResponsibilityAssignment, by assigner: User.ID?) async throws
    func assignments() async throws -> [ResponsibilityAssignment]
    func recordCourse(_ course: TrainingCourse, by recorder: User.ID?, now: Date) async throws
    func courses() async throws -> [TrainingCourse]
}

public struct SQLResponsibilityRepository: ResponsibilityRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func assign(_ assignment: ResponsibilityAssignment, by assigner: User.ID?) async throws {
        do {
            try await database.transaction { connection in
                try await connection.delete(from: "responsibility_assignments")
                    .where("organisation_id", .equal, SQLBind(assignment.organisationID.rawValue))
                    .where("responsibility", .equal, SQLBind(assignment.responsibility.rawValue)).run()
                try await connection.insert(into: "responsibility_assignments")
                    .columns("organisation_id", "responsibility", "person_name", "user_id", "assigned_by", "assigned_at")
                    .values(SQLBind(assignment.organisationID.rawValue), SQLBind(assignment.responsibility.rawValue),
                            SQLBind(assignment.personName), SQLBind(assignment.userID?.rawValue), SQLBind(assigner?.rawValue),
                            SQLBind(assignment.assignedAt.storedMilliseconds))
                    .run()
            }
        } catch where ConstraintViolation.isForeignKey(error) {
            throw StoreError.missingReference("organisation or user")
        }
    }

    public func assignments() async throws -> [ResponsibilityAssignment] {
        try await database.withConnection { connection in
            try await connection.select().columns("organisation_id", "responsibility", "person_name", "user_id", "assigned_at")
                .from("responsibility_assignments").orderBy("organisation_id").orderBy("responsibility").all().compactMap { row in
                    // A responsibility this build does not know is skipped rather than shown wrongly.
                    guard let responsibility = Responsibility(rawValue: try row.decode(column: "responsibility", as: String.self)) else { return nil }
                    return ResponsibilityAssignment(
                        organisationID: .init(try row.decode(column: "organisation_id", as: String.self)), responsibility: responsibility,
                        personName: try row.decode(column: "person_name", as: String.self),
                        userID: try row.decode(column: "user_id", as: String?.self).map(User.ID.init),
                        assignedAt: Date(storedMilliseconds: try row.decode(column: "assigned_at", as: Int64.self)))
                }
        }
    }

    public func recordCourse(_ course: TrainingCourse, by recorder: User.ID?, now: Date) async throws {
        do {
            try await database.transaction { connection in
                try await connection.insert(into: "training_courses")
                    .columns("id", "title", "held_on", "organisation_id", "recorded_by", "recorded_at")
                    .values(SQLBind(course.id.rawValue), SQLBind(course.title), SQLBind(course.heldOn), SQLBind(course.organisationID.rawValue),
                            SQLBind(recorder?.rawValue), SQLBind(now.storedMilliseconds))
                    .run()
                for attendance in course.attendance {
                    try await connection.insert(into: "training_attendance").columns("course_id", "user_id", "score", "passed")
                        .values(SQLBind(course.id.rawValue), SQLBind(attendance.userID.rawValue), SQLBind(attendance.score.map(Int64.init)),
                                SQLBind(Int64(attendance.passed ? 1 : 0)))
                        .run()
                }
            }
        } catch where ConstraintViolation.isForeignKey(error) {
            throw StoreError.missingReference("organisation or user")
        } catch where ConstraintViolation.isUnique(error) {
            throw StoreError.duplicate("attendee")
        }
    }

    public func courses() async throws -> [TrainingCourse] {
        try await database.withConnection { connection in
            var attendance: [String: [TrainingCourse.Attendance]] = [:]
            for row in try await connection.select().columns("course_id", "user_id", "score", "passed").from("training_attendance").all() {
                attendance[try row.decode(column: "course_id", as: String.self), default: []].append(.init(
                    userID: .init(try row.decode(column: "user_id", as: String.self)),
                    score: try row.decode(column: "score", as: Int64?.self).map(Int.init),
                    passed: try row.decode(column: "passed", as: Int64.self) != 0))
            }
            return try await connection.select().columns("id", "title", "held_on", "organisation_id").from("training_courses")
                .orderBy("held_on", .descending).all().map { row in
                    let id = try row.decode(column: "id", as: String.self)
                    return TrainingCourse(id: .init(id), title: try row.decode(column: "title", as: String.self),
                                          heldOn: try row.decode(column: "held_on", as: String.self),
                                          organisationID: .init(try row.decode(column: "organisation_id", as: String.self)),
                                          attendance: attendance[id] ?? [])
                }
        }
    }
}
