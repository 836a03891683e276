import CreditGateCore
import CreditGateStore
import Crypto
import Foundation

/// The access exam and the approval that follows it: import a bank, draw a paper, mark it, open a request on
/// a pass, and decide the request level by level until query rights are granted.
public struct AccessService: Sendable {
    let users: any UserRepository
    let organisations: any OrganisationRepository
    let exams: any ExamRepository
    let requests: any AccessRequestRepository
    let administration: AccountAdministration
    let examPolicy: ExamPolicy
    let lifecycle: LifecyclePolicy
    let audit: AuditTrail
    let clock: @Sendable () -> Date

    public init(users: any UserRepository, organisations: any OrganisationRepository, exams: any ExamRepository,
                requests: any AccessRequestRepository, administration: AccountAdministration, examPolicy: ExamPolicy, lifecycle: LifecyclePolicy, audit: AuditTrail,
                clock: @escaping @Sendable () -> Date) {
        self.users = users
        self.organisations = organisations
        self.exams = exams
        self.requests = requests
        self.administration = administration
        self.examPolicy = examPolicy
        self.lifecycle = lifecycle
        self.audit = audit
        self.clock = clock
    }

    // MARK: The question bank

    /// Checks and stores a bank file; it serves every paper drawn from now on.
    public func importBank(_ content: Data, by actor: AuthenticatedUser?, clientIP: String) async throws -> StoredQuestionBank {
        let bank: QuestionBank
        do {
            bank = try QuestionBank.parse(content, minimumQuestions: examPolicy.questionsPerPaper)
        } catch {
            try await audit.record(AuditEvent(kind: .examBankImported, occurredAt: clock(), actor: actor.map { .init($0.user) },
                                              clientIP: clientIP, outcome: .denied, reasonCodes: [error.rawValue]))
            throw CreditGateError(.validationFailed, detailKey: error.rawValue, cause: "question bank refused")
        }
        let sha256 = Hex.encode(SHA256.hash(data: content))
        try await audit.record(AuditEvent(kind: .examBankImported, occurredAt: clock(), actor: actor.map { .init($0.user) }, clientIP: clientIP,
                                          outcome: .success, details: ["sha256": sha256, "questions": String(bank.questions.count)]))
        return try await exams.importBank(bank, content: content, sha256: sha256, importedBy: actor?.user.id, now: clock())
    }

    /// Imports the bank shipped with CreditGate when none has been imported yet.
    public func importBundledBankIfNone() async throws {
        guard try await exams.currentBank() == nil else { return }
        _ = try await importBank(try BundledResources.data("exam/question-bank.json"), by: nil, clientIP: "local-command")
    }

    // MARK: Taking the exam

    /// A paper in progress as the candidate sees it: never the answers.
    public struct Paper: Sendable {
        public let attempt: ExamAttempt
        public let questions: [QuestionBank.Question]
    }

    /// Starts an attempt, or returns the one still running. Refused when the person already has query rights or a
    /// request awaiting approval, and — after a reinstatement — without an administrator's permit for this attempt.
    public func start(for identity: AuthenticatedUser, clientIP: String) async throws -> Paper {
        let user = identity.user
        let now = clock()
        if let running = try await exams.attempts(of: user.id).first(where: { $0.submittedAt == nil && now < $0.deadlineAt.addingTimeInterval(examPolicy.submissionGrace) }) {
            return try await paper(for: running)
        }
        guard !user.hasQueryRights else { throw CreditGateError(.conflict, detailKey: "exam_already_has_rights") }
        if try await requests.of(applicant: user.id).contains(where: { $0.status == .pending }) {
            throw CreditGateError(.conflict, detailKey: "exam_request_pending")
        }
        guard let stored = try await exams.currentBank() else { throw CreditGateError(.conflict, detailKey: "exam_no_bank") }
        let attemptID = UUID().uuidString.lowercased()
        if user.strictExamRequired {
            guard try await exams.usePermit(of: user.id, attemptID: attemptID) else {
                try await audit.record(AuditEvent(kind: .examStarted, occurredAt: now, actor: .init(user), clientIP: clientIP,
                                                  outcome: .denied, reasonCodes: ["exam_permit_required"]))
                throw CreditGateError(.forbidden, detailKey: "exam_permit_required", cause: "strict exam without permit")
            }
        }
        var generator = SystemRandomNumberGenerator()
        let paper = ExamPaper.draw(from: stored.bank, count: examPolicy.questionsPerPaper, using: &generator)
        let attempt = ExamAttempt(id: attemptID, userID: user.id, bankID: stored.id, paper: paper, strict: user.strictExamRequired,
                                  passMark: user.strictExamRequired ? examPolicy.strictPassMark : examPolicy.passMark,
                                  startedAt: now, deadlineAt: now.addingTimeInterval(examPolicy.timeLimit))
        try await audit.record(AuditEvent(kind: .examStarted, occurredAt: now, actor: .init(user), clientIP: clientIP, outcome: .success, details: [
            "attempt": attempt.id, "bank_sha256": stored.sha256, "questions": String(paper.items.count),
            "pass_mark": String(attempt.passMark), "strict": attempt.strict ? "yes" : "no",
        ]))
        try await exams.start(attempt)
        return Paper(attempt: attempt, questions: try questions(of: attempt, in: stored.bank))
    }

    func paper(for attempt: ExamAttempt) async throws -> Paper {
        guard let stored = try await exams.bank(attempt.bankID) else { throw StoreError.corruptRow("exam_attempts.bank_id") }
        return Paper(attempt: attempt, questions: try questions(of: attempt, in: stored.bank))
    }

    /// The questions with their options in the order this paper shows them.
    func questions(of attempt: ExamAttempt, in bank: QuestionBank) throws -> [QuestionBank.Question] {
        let byID = Dictionary(bank.questions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return attempt.paper.items.compactMap { item in
            guard let question = byID[item.questionID] else { return nil }
            return QuestionBank.Question(id: question.id, topic: question.topic, reference: question.reference, prompt: question.prompt,
                                         options: item.optionOrder.map { question.options[$0] }, answer: -1)
        }
    }

    /// The outcome of a submitted attempt, and the access request it opened on a pass.
    public struct Submission: Sendable {
        public let attempt: ExamAttempt
        public let outcome: ExamOutcome
        public let request: AccessRequest?
    }

    /// Marks an attempt. Only its candidate may submit it, once. A pass opens an access request whose approval chain
    /// starts at the candidate's unit.
    public func submit(attemptID: String, answers: [String: Int], for identity: AuthenticatedUser, clientIP: String) async throws -> Submission {
        guard var attempt = try await exams.attempt(attemptID), attempt.userID == identity.user.id else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "attempt unknown or someone else's")
        }
        guard attempt.submittedAt == nil else { throw CreditGateError(.conflict, detailKey: "exam_already_submitted") }
        guard let stored = try await exams.bank(attempt.bankID) else { throw StoreError.corruptRow("exam_attempts.bank_id") }
        let now = clock()
        let marked = attempt.paper.score(answers: answers, bank: stored.bank)
        let outcome = ExamOutcome.judge(score: marked.score, passMark: attempt.passMark, startedAt: attempt.startedAt, submittedAt: now, policy: examPolicy)
        attempt.submittedAt = now
        attempt.answers = answers
        attempt.score = outcome.score
        attempt.passed = outcome.passed
        attempt.late = outcome.late
        try await audit.record(AuditEvent(kind: .examSubmitted, occurredAt: now, actor: .init(identity.user), clientIP: clientIP,
                                          outcome: outcome.passed ? .success : .failed,
                                          reasonCodes: outcome.late ? ["late"] : outcome.passed ? ["passed"] : ["below_pass_mark"],
                                          details: ["attempt": attempt.id, "score": String(outcome.score), "pass_mark": String(outcome.passMark),
                                                    "correct": "\(marked.correct)/\(marked.total)"]))
        guard try await exams.submit(attempt) else {
            try await audit.record(AuditEvent(kind: .examSubmitted, occurredAt: now, actor: .init(identity.user), clientIP: clientIP,
                                              outcome: .denied, reasonCodes: ["already_submitted"], details: ["attempt": attempt.id]))
            throw CreditGateError(.conflict, detailKey: "exam_already_submitted")
        }
        guard outcome.passed else { return Submission(attempt: attempt, outcome: outcome, request: nil) }
        let tree = OrganisationTree(try await organisations.all())
        let request = AccessRequest(id: .random(), applicantID: identity.user.id, examAttemptID: attempt.id,
                                    chain: AccessRequest.chain(for: identity.user.organisationID, levels: lifecycle.approvalLevels, tree: tree),
                                    createdAt: now)
        try await audit.record(AuditEvent(kind: .accessRequested, occurredAt: now, actor: .init(identity.user), clientIP: clientIP, outcome: .success,
                                          details: ["request": request.id.rawValue, "attempt": attempt.id,
                                                    "chain": request.chain.compactMap { tree.units[$0]?.code }.joined(separator: ",")]))
        try await requests.create(request)
        return Submission(attempt: attempt, outcome: outcome, request: request)
    }

    public func attempts(for identity: AuthenticatedUser) async throws -> [ExamAttempt] {
        try await exams.attempts(of: identity.user.id)
    }

    // MARK: Approval level by level

    /// The requests the reader may see: their own, and those of applicants in their scope when they may read access.
    public func visibleRequests(for identity: AuthenticatedUser) async throws -> [AccessRequest] {
        let all = try await requests.all()
        guard identity.permissions.contains(.accessRead) else { return all.filter { $0.applicantID == identity.user.id } }
        let applicantsInScope = Set(try await administration.visibleUsers(for: identity).map(\.id))
        return all.filter { $0.applicantID == identity.user.id || applicantsInScope.contains($0.applicantID) }
    }

    /// Decides the current step of a request. The rules (not one's own, one step per person, the step's unit) are
    /// the state machine's; a refusal of the rules is an audit event and a 403 or 409.
    public func decide(_ id: AccessRequest.ID, approve: Bool, comment: String, by identity: AuthenticatedUser, clientIP: String) async throws -> AccessRequest {
        let visible = try await visibleRequests(for: identity)
        guard var request = visible.first(where: { $0.id == id }) else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "access request unknown or out of scope")
        }
        let now = clock()
        let approver = AccessRequest.Approver(userID: identity.user.id, roles: identity.user.roles, organisationID: identity.user.organisationID)
        let action = request.handle(.decide(by: approver, approve: approve, comment: comment, at: now))
        let base = ["request": request.id.rawValue, "applicant": request.applicantID.rawValue]
        switch action {
        case .reject(let refusal):
            try await audit.record(AuditEvent(kind: approve ? .approvalGiven : .approvalRefused, occurredAt: now, actor: .init(identity.user),
                                              clientIP: clientIP, outcome: .denied, reasonCodes: [refusal.rawValue], details: base))
            let kind: ProblemKind = refusal == .notPending ? .conflict : refusal == .reasonRequired ? .validationFailed : .forbidden
            throw CreditGateError(kind, detailKey: refusal.rawValue, cause: "access decision refused")
        case .recordStep(let decision), .grantQueryRights(let decision), .close(let decision):
            var details = base
            details["step"] = "\(decision.step + 1)/\(request.chain.count)"
            details["comment"] = decision.comment
            try await audit.record(AuditEvent(kind: decision.approved ? .approvalGiven : .approvalRefused, occurredAt: now, actor: .init(identity.user),
                                              clientIP: clientIP, outcome: .success, details: details))
            if case .grantQueryRights = action {
                // A request opened before a suspension does not survive it: the person starts again after reinstatement.
                guard let applicant = try await users.find(request.applicantID), applicant.status == .active,
                      applicant.reinstatedAt.map({ $0 < request.createdAt }) ?? true
                else {
                    try await audit.record(AuditEvent(kind: .approvalGiven, occurredAt: now, actor: .init(identity.user), clientIP: clientIP,
                                                      outcome: .denied, reasonCodes: ["applicant_not_eligible"], details: base))
                    throw CreditGateError(.conflict, detailKey: "access_refusal_not_pending", cause: "applicant suspended or reinstated since")
                }
            }
            guard try await requests.record(decision, request: request.id, status: request.status) else {
                try await audit.record(AuditEvent(kind: decision.approved ? .approvalGiven : .approvalRefused, occurredAt: now,
                                                  actor: .init(identity.user), clientIP: clientIP, outcome: .denied,
                                                  reasonCodes: ["decided_concurrently"], details: base))
                throw CreditGateError(.conflict, detailKey: "access_refusal_not_pending", cause: "decided concurrently")
            }
            if case .grantQueryRights = action {
                try await audit.record(AuditEvent(kind: .queryRightsGranted, occurredAt: now, actor: .init(identity.user), clientIP: clientIP,
                                                  outcome: .success, details: base))
                guard try await users.grantQueryRights(request.applicantID, at: now) else {
                    try await audit.record(AuditEvent(kind: .queryRightsGranted, occurredAt: now, actor: .init(identity.user), clientIP: clientIP,
                                                      outcome: .failed, reasonCodes: ["applicant_suspended_meanwhile"], details: base))
                    throw CreditGateError(.conflict, detailKey: "access_refusal_not_pending", cause: "applicant suspended meanwhile")
                }
            }
            return request
        }
    }
}
