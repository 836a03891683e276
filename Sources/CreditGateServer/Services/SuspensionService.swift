import CreditGateCore
import CreditGateStore
import Foundation
import Logging
import ServiceLifecycle

/// 自动停用: the scheduled suspension of accounts whose person left, whose transfer was not confirmed in time, or
/// who stopped signing in. Every run is recorded with what it examined and whom it suspended, and is an audit
/// event. Running twice changes nothing the second time, so several instances may run it.
public struct SuspensionService: Sendable {
    let users: any UserRepository
    let runs: any SuspensionRunRepository
    let administration: AccountAdministration
    let lifecycle: LifecyclePolicy
    let audit: AuditTrail
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(users: any UserRepository, runs: any SuspensionRunRepository, administration: AccountAdministration, lifecycle: LifecyclePolicy,
                audit: AuditTrail, clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.users = users
        self.runs = runs
        self.administration = administration
        self.lifecycle = lifecycle
        self.audit = audit
        self.clock = clock
        self.logger = logger
    }

    /// Examines every account and suspends those the rules name. `trigger` says who started the run.
    public func run(trigger: String, by actor: AuthenticatedUser? = nil, clientIP: String = "scheduler") async throws -> SuspensionRun {
        let now = clock()
        var run = SuspensionRun(id: UUID().uuidString.lowercased(), trigger: trigger, startedAt: now, outcome: "running")
        try await runs.save(run)
        do {
            let accounts = try await users.all()
            run.examined = accounts.count
            for user in accounts {
                guard let reason = AutomaticSuspension.reason(for: user.lifecycleFacts, now: now, policy: lifecycle) else { continue }
                try await administration.suspend(user.id, reason: reason, by: actor, clientIP: clientIP)
                run.items.append(.init(userID: user.id, reason: reason))
            }
            run.outcome = "completed"
        } catch {
            run.outcome = "failed"
            run.finishedAt = clock()
            try? await runs.save(run)
            throw error
        }
        run.finishedAt = clock()
        try await audit.record(AuditEvent(
            kind: .suspensionRun, occurredAt: clock(), actor: actor.map { .init($0.user) }, clientIP: clientIP, outcome: .success,
            reasonCodes: Array(Set(run.items.map(\.reason.rawValue))).sorted(),
            details: ["run": run.id, "trigger": trigger, "examined": String(run.examined), "suspended": String(run.items.count)]
        ))
        try await runs.save(run)
        return run
    }

    public func recent(limit: Int = 50) async throws -> [SuspensionRun] {
        try await runs.recent(limit: limit)
    }
}

/// Runs a job on a fixed interval for as long as the server runs: the automatic suspension, the retention job. A
/// failed run is logged and retried at the next interval; it never stops the server. The wait ends at graceful
/// shutdown, so stopping the server does not wait out the interval.
struct PeriodicJob: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let job: @Sendable () async throws -> Void

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                try await job()
            } catch {
                logger.error("\(name) failed", metadata: ["error": .string(String(reflecting: type(of: error)))])
            }
        }
    }
}

/// The responsibility matrix and training records, within the actor's scope.
public struct ResponsibilityService: Sendable {
    let repository: any ResponsibilityRepository
    let administration: AccountAdministration
    let audit: AuditTrail
    let clock: @Sendable () -> Date

    public init(repository: any ResponsibilityRepository, administration: AccountAdministration, audit: AuditTrail, clock: @escaping @Sendable () -> Date) {
        self.repository = repository
        self.administration = administration
        self.audit = audit
        self.clock = clock
    }

    public func assignments(for actor: AuthenticatedUser) async throws -> [ResponsibilityAssignment] {
        let visible = Set(try await administration.visibleOrganisations(for: actor).map(\.id))
        return try await repository.assignments().filter { visible.contains($0.organisationID) }
    }

    /// Names the person holding a responsibility in a unit in scope. A linked account must be in scope too.
    public func assign(by actor: AuthenticatedUser, organisationID: Organisation.ID, responsibility: Responsibility, personName: String,
                       userID: User.ID?, clientIP: String) async throws -> ResponsibilityAssignment {
        let unit = try await administration.organisation(organisationID, for: actor)
        let name = personName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else { throw CreditGateError(.validationFailed, detailKey: "failure_empty_name") }
        if let userID { _ = try await administration.user(userID, for: actor) }
        let assignment = ResponsibilityAssignment(organisationID: unit.id, responsibility: responsibility, personName: name, userID: userID, assignedAt: clock())
        try await audit.record(AuditEvent(kind: .responsibilityChanged, occurredAt: clock(), actor: .init(actor.user), clientIP: clientIP, outcome: .success,
                                          details: ["organisation": unit.code, "responsibility": responsibility.rawValue, "person": name,
                                                    "user": userID?.rawValue ?? ""]))
        try await repository.assign(assignment, by: actor.user.id)
        return assignment
    }

    public func courses(for actor: AuthenticatedUser) async throws -> [TrainingCourse] {
        let visible = Set(try await administration.visibleOrganisations(for: actor).map(\.id))
        return try await repository.courses().filter { visible.contains($0.organisationID) }
    }

    /// Records a course held in a unit in scope, with its attendees (each in scope) and results.
    public func recordCourse(by actor: AuthenticatedUser, title: String, heldOn: String, organisationID: Organisation.ID,
                             attendance: [TrainingCourse.Attendance], clientIP: String) async throws -> TrainingCourse {
        let unit = try await administration.organisation(organisationID, for: actor)
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.count <= 200 else { throw CreditGateError(.validationFailed, detailKey: "training_title_invalid") }
        guard TrainingCourse.isValidDay(heldOn) else { throw CreditGateError(.validationFailed, detailKey: "training_date_invalid") }
        guard Set(attendance.map(\.userID)).count == attendance.count,
              attendance.allSatisfy({ $0.score.map { (0...100).contains($0) } ?? true })
        else { throw CreditGateError(.validationFailed, detailKey: "training_attendance_invalid") }
        // Every attendee in scope, checked against one reading of the accounts rather than one query each.
        let visible = Set(try await administration.visibleUsers(for: actor).map(\.id))
        guard attendance.allSatisfy({ visible.contains($0.userID) }) else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "attendee unknown or outside scope")
        }
        let course = TrainingCourse(id: .random(), title: title, heldOn: heldOn, organisationID: unit.id, attendance: attendance)
        try await audit.record(AuditEvent(kind: .trainingRecorded, occurredAt: clock(), actor: .init(actor.user), clientIP: clientIP, outcome: .success,
                                          details: ["course": course.id.rawValue, "organisation": unit.code, "held_on": heldOn,
                                                    "attendees": String(attendance.count)]))
        try await repository.recordCourse(course, by: actor.user.id, now: clock())
        return course
    }

    /// The accounts in scope still without this year's training.
    public func untrained(for actor: AuthenticatedUser, year: Int) async throws -> [User] {
        TrainingCoverage.untrained(users: try await administration.visibleUsers(for: actor), courses: try await repository.courses(), year: year)
    }
}
