import Foundation
import Testing

@testable import CreditGateCore

/// RFC 6238 Appendix B: the SHA-1 test vectors (secret "12345678901234567890", 8 digits). Reproduce with any RFC 6238
/// implementation, e.g. `pyotp.TOTP(base64.b32encode(b"12345678901234567890"), digits=8).at(59)`.
@Suite struct TOTPTests {
    let rfc = TOTP(secret: Array("12345678901234567890".utf8), digits: 8)

    @Test(arguments: [
        (59.0, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ])
    func rfc6238Vectors(time: Double, code: String) {
        #expect(rfc.code(at: Date(timeIntervalSince1970: time)) == code)
    }

    @Test func aCodeIsAcceptedOneStepEitherSideAndNeverTwice() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let step = totp.step(at: now)
        #expect(totp.verify(totp.code(forStep: step - 1), at: now, lastUsedStep: nil) == step - 1)
        #expect(totp.verify(totp.code(forStep: step + 1), at: now, lastUsedStep: nil) == step + 1)
        #expect(totp.verify(totp.code(forStep: step - 2), at: now, lastUsedStep: nil) == nil)
        #expect(totp.verify(totp.code(at: now), at: now, lastUsedStep: step) == nil)
        #expect(totp.verify(totp.code(at: now), at: now, lastUsedStep: step - 1) == step)
        #expect(totp.verify("12345a", at: now, lastUsedStep: nil) == nil)
        #expect(totp.verify("", at: now, lastUsedStep: nil) == nil)
    }

    @Test func base32FollowsRFC4648() {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("mzxw6ytboi======") == Array("foobar".utf8))
        #expect(Base32.decode("MZ1W") == nil)
        let secret = TOTP.generateSecret()
        #expect(secret.count == 20)
        #expect(Base32.decode(Base32.encode(secret)) == secret)
    }

    @Test func theProvisioningURIIsWhatAuthenticatorsRead() {
        let uri = TOTP(secret: Array("12345678901234567890".utf8)).provisioningURI(issuer: "CreditGate", account: "E1001")
        #expect(uri == "otpauth://totp/CreditGate:E1001?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=CreditGate&algorithm=SHA1&digits=6&period=30")
    }
}

@Suite struct PasswordRulesTests {
    let policy = PasswordPolicy(commonPasswords: ["password", "qwerty123456", "iloveyou"])
    let employee = EmployeeID("E1001")!

    @Test func commonPasswordsAreRefusedEvenDecorated() {
        #expect(policy.violations(of: "Password2024!", employeeID: employee).contains(.common))
        #expect(policy.violations(of: "!!P@ssw0rd2024", employeeID: employee).contains(.common))
        #expect(policy.violations(of: "Qwerty123456!", employeeID: employee).contains(.common))
        #expect(policy.violations(of: "Tulip-Harbour-48", employeeID: employee).isEmpty)
    }

    @Test func namesAndEmployeeIDsAreRefused() {
        #expect(policy.violations(of: "zhangwei-Ab12345", employeeID: employee, name: "Zhang Wei").contains(.containsName))
        #expect(policy.violations(of: "张伟Ab-1234567", employeeID: employee, name: "张伟").contains(.containsName))
        #expect(policy.violations(of: "xe1001-Abcdefgh", employeeID: employee).contains(.containsEmployeeID))
        #expect(policy.violations(of: String(repeating: "Ab1-", count: 40), employeeID: employee).contains(.tooLong))
    }

    @Test func passwordsExpireAfterNinetyDays() {
        let changed = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(!policy.isExpired(changedAt: changed, now: changed.addingTimeInterval(89 * 86_400)))
        #expect(policy.isExpired(changedAt: changed, now: changed.addingTimeInterval(90 * 86_400)))
    }

    @Test func theFifthFailureLocksForFifteenMinutes() {
        let limits = SignInLimits()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(limits.lockedUntil(afterAttempts: 4, now: now) == nil)
        let locked = limits.lockedUntil(afterAttempts: 5, now: now)
        #expect(locked == now.addingTimeInterval(900))
        #expect(limits.isLocked(lockedUntil: locked, now: now.addingTimeInterval(899)))
        #expect(!limits.isLocked(lockedUntil: locked, now: now.addingTimeInterval(900)))
        #expect(limits.mayCheck(attempt: 5))
        #expect(!limits.mayCheck(attempt: 6))
        #expect(limits.isAddressThrottled(recentFailures: 20))
    }

    @Test func aSessionFinishesItsSetUpInOrder() {
        #expect(SessionStage.next(mustChangePassword: true, hasSecondFactor: false, secondFactorRequired: true) == .passwordChange)
        #expect(SessionStage.next(mustChangePassword: false, hasSecondFactor: false, secondFactorRequired: true) == .secondFactorEnrolment)
        #expect(SessionStage.next(mustChangePassword: false, hasSecondFactor: true, secondFactorRequired: true) == .full)
    }
}

@Suite struct OrganisationScopeTests {
    static let head = Organisation(id: .init("ho"), code: "HO", name: "总行", kind: .headOffice, parentID: nil, regionCode: RegionCode("110102")!, networks: [])
    static let branchA = Organisation(id: .init("a"), code: "A", name: "A", kind: .branch, parentID: .init("ho"), regionCode: RegionCode("310101")!, networks: [])
    static let branchB = Organisation(id: .init("b"), code: "B", name: "B", kind: .branch, parentID: .init("ho"), regionCode: RegionCode("440106")!, networks: [])
    static let subA = Organisation(id: .init("a1"), code: "A1", name: "A1", kind: .subBranch, parentID: .init("a"), regionCode: RegionCode("310115")!, networks: [])
    let tree = OrganisationTree([head, branchA, branchB, subA])

    @Test func aCreditAdministratorSeesTheirSubtreeOnly() {
        let scope = AdministrativeScope.of(roles: [.creditAdministrator], organisation: .init("a"))
        #expect(scope.contains(.init("a1"), in: tree))
        #expect(scope.contains(.init("a"), in: tree))
        #expect(!scope.contains(.init("b"), in: tree))
        #expect(!scope.contains(.init("ho"), in: tree))
        #expect(AdministrativeScope.of(roles: [.complianceAuditor], organisation: .init("a")).contains(.init("b"), in: tree))
    }

    @Test func onlyASystemAdministratorGrantsAdministrativeRoles() {
        #expect(Role.grantable(by: [.creditAdministrator]) == [.queryOperator, .approver, .dataOfficer])
        #expect(Role.grantable(by: [.systemAdministrator]) == Set(Role.allCases))
        #expect(Role.grantable(by: [.complianceAuditor, .approver]).isEmpty)
    }

    @Test func theChainClimbsTheTreeAndRepeatsTheTopWhenShort() {
        #expect(AccessRequest.chain(for: .init("a1"), levels: 2, tree: tree) == [.init("a1"), .init("a")])
        #expect(AccessRequest.chain(for: .init("a1"), levels: 3, tree: tree) == [.init("a1"), .init("a"), .init("ho")])
        #expect(AccessRequest.chain(for: .init("ho"), levels: 2, tree: tree) == [.init("ho"), .init("ho")])
    }
}

@Suite struct AccessRequestTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let applicant = User.ID("applicant")

    func request() -> AccessRequest {
        AccessRequest(id: .init("r"), applicantID: applicant, examAttemptID: "x", chain: [.init("sub"), .init("branch")], createdAt: now)
    }

    func admin(_ id: String, _ unit: String, roles: Set<Role> = [.creditAdministrator]) -> AccessRequest.Approver {
        .init(userID: .init(id), roles: roles, organisationID: .init(unit))
    }

    @Test func twoLevelsByTwoPeopleGrantQueryRights() {
        var request = request()
        guard case .recordStep = request.handle(.decide(by: admin("s", "sub"), approve: true, comment: "", at: now)) else {
            Issue.record("first step not recorded"); return
        }
        #expect(request.currentStep == 1)
        #expect(request.awaitingUnit == .init("branch"))
        guard case .grantQueryRights(let decision) = request.handle(.decide(by: admin("b", "branch"), approve: true, comment: "", at: now)) else {
            Issue.record("rights not granted"); return
        }
        #expect(decision.step == 1)
        #expect(request.status == .approved)
        #expect(request.handle(.decide(by: admin("b2", "branch"), approve: true, comment: "", at: now)) == .reject(.notPending))
    }

    @Test func theRulesOfSeparation() {
        var request = request()
        #expect(request.handle(.decide(by: admin("applicant", "sub"), approve: true, comment: "", at: now)) == .reject(.ownRequest))
        #expect(request.handle(.decide(by: admin("b", "branch"), approve: true, comment: "", at: now)) == .reject(.notThisLevel))
        #expect(request.handle(.decide(by: admin("x", "sub", roles: [.approver]), approve: true, comment: "", at: now)) == .reject(.notThisLevel))
        #expect(request.handle(.decide(by: admin("s", "sub"), approve: false, comment: "  ", at: now)) == .reject(.reasonRequired))
        #expect(request.decisions.isEmpty)
        _ = request.handle(.decide(by: admin("s", "sub"), approve: true, comment: "", at: now))
        // the same person, even as an administrator of the next unit too, decides one step only
        #expect(request.handle(.decide(by: admin("s", "branch"), approve: true, comment: "", at: now)) == .reject(.alreadyDecided))
    }

    @Test func aRefusalEndsTheRequest() {
        var request = request()
        guard case .close = request.handle(.decide(by: admin("s", "sub"), approve: false, comment: "材料不全", at: now)) else {
            Issue.record("not closed"); return
        }
        #expect(request.status == .refused)
        #expect(request.currentStep == nil)
    }
}

@Suite struct AccountLifecycleTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = LifecyclePolicy()

    func facts(roles: Set<Role> = [.queryOperator], employment: Employment = .inService, daysIdle: Double = 1, confirmDue: Date? = nil,
               status: AccountStatus = .active) -> AccountFacts {
        AccountFacts(status: status, roles: roles, employment: employment, lastActiveAt: now.addingTimeInterval(-daysIdle * 86_400),
                     organisationConfirmationDueAt: confirmDue)
    }

    @Test func theReasonsForAutomaticSuspension() {
        #expect(AutomaticSuspension.reason(for: facts(), now: now, policy: policy) == nil)
        #expect(AutomaticSuspension.reason(for: facts(employment: .left), now: now, policy: policy) == .left)
        #expect(AutomaticSuspension.reason(for: facts(daysIdle: 90), now: now, policy: policy) == .dormant)
        #expect(AutomaticSuspension.reason(for: facts(daysIdle: 89), now: now, policy: policy) == nil)
        #expect(AutomaticSuspension.reason(for: facts(roles: [.systemAdministrator], daysIdle: 400), now: now, policy: policy) == nil)
        #expect(AutomaticSuspension.reason(for: facts(confirmDue: now), now: now, policy: policy) == .organisationUnconfirmed)
        #expect(AutomaticSuspension.reason(for: facts(confirmDue: now.addingTimeInterval(1)), now: now, policy: policy) == nil)
        #expect(AutomaticSuspension.reason(for: facts(employment: .left, status: .suspended), now: now, policy: policy) == nil)
    }

    @Test func reapplicationWaitsNinetyDaysAndNeverForSomeoneWhoLeft() {
        let suspended = now.addingTimeInterval(-89 * 86_400)
        #expect(Reinstatement.refusal(status: .suspended, suspendedAt: suspended, employment: .inService, now: now, policy: policy) == .tooEarly)
        #expect(Reinstatement.refusal(status: .suspended, suspendedAt: now.addingTimeInterval(-90 * 86_400), employment: .inService, now: now, policy: policy) == nil)
        #expect(Reinstatement.refusal(status: .suspended, suspendedAt: now.addingTimeInterval(-900 * 86_400), employment: .left, now: now, policy: policy) == .personLeft)
        #expect(Reinstatement.refusal(status: .active, suspendedAt: nil, employment: .inService, now: now, policy: policy) == .notSuspended)
    }

    @Test func trainingCoverageListsTheUntrainedOfTheYear() {
        let trained = User(id: .init("t"), employeeID: EmployeeID("T0001")!, displayName: "T", organisationID: .init("ho"), roles: [.queryOperator],
                           status: .active, preferredLanguage: nil, createdAt: now)
        let untrained = User(id: .init("u"), employeeID: EmployeeID("U0001")!, displayName: "U", organisationID: .init("ho"), roles: [.approver],
                             status: .active, preferredLanguage: nil, createdAt: now)
        let auditor = User(id: .init("c"), employeeID: EmployeeID("C0001")!, displayName: "C", organisationID: .init("ho"), roles: [.complianceAuditor],
                           status: .active, preferredLanguage: nil, createdAt: now)
        let courses = [
            TrainingCourse(id: .init("1"), title: "征信合规", heldOn: "2026-03-02", organisationID: .init("ho"),
                           attendance: [.init(userID: .init("t"), score: 95, passed: true), .init(userID: .init("u"), score: 40, passed: false)]),
            TrainingCourse(id: .init("2"), title: "征信合规", heldOn: "2025-03-02", organisationID: .init("ho"),
                           attendance: [.init(userID: .init("u"), score: 90, passed: true)]),
        ]
        #expect(TrainingCoverage.untrained(users: [trained, untrained, auditor], courses: courses, year: 2026).map(\.id) == [.init("u")])
        #expect(TrainingCourse.isValidDay("2024-02-29"))
        #expect(!TrainingCourse.isValidDay("2026-02-29"))
        #expect(!TrainingCourse.isValidDay("2026-13-01"))
    }
}

/// A deterministic generator for drawing papers in tests (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct AccessExamTests {
    static func bank(_ count: Int) -> QuestionBank {
        let questions = (0..<count).map { index in
            QuestionBank.Question(id: "Q\(index)", topic: "regulation", reference: .init(zh: "条例", en: "Reg"), prompt: .init(zh: "题\(index)", en: "Q\(index)"),
                                  options: (0..<4).map { .init(zh: "选项\($0)", en: "Option \($0)") }, answer: index % 4)
        }
        return QuestionBank(format: QuestionBank.formatName, title: .init(zh: "题库", en: "Bank"), questions: questions)
    }

    @Test func aPaperIsDistinctQuestionsWithShuffledOptionsAndMarksOutOfAHundred() {
        let bank = Self.bank(30)
        var generator = SeededGenerator(state: 42)
        let paper = ExamPaper.draw(from: bank, count: 20, using: &generator)
        #expect(paper.items.count == 20)
        #expect(Set(paper.items.map(\.questionID)).count == 20)
        var right: [String: Int] = [:]
        for item in paper.items {
            let answer = bank.questions.first { $0.id == item.questionID }!.answer
            right[item.questionID] = item.optionOrder.firstIndex(of: answer)!
        }
        #expect(paper.score(answers: right, bank: bank).score == 100)
        var nineteen = right
        nineteen[paper.items[0].questionID] = (right[paper.items[0].questionID]! + 1) % 4
        #expect(paper.score(answers: nineteen, bank: bank).score == 95)
        #expect(paper.score(answers: [:], bank: bank).score == 0)
        #expect(paper.score(answers: [paper.items[0].questionID: 9], bank: bank).correct == 0)
    }

    @Test func lateSubmissionsFailAndThePassMarkIsInclusive() {
        let policy = ExamPolicy()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(ExamOutcome.judge(score: 90, passMark: 90, startedAt: start, submittedAt: start.addingTimeInterval(60), policy: policy).passed)
        #expect(!ExamOutcome.judge(score: 85, passMark: 90, startedAt: start, submittedAt: start.addingTimeInterval(60), policy: policy).passed)
        let late = ExamOutcome.judge(score: 100, passMark: 90, startedAt: start, submittedAt: start.addingTimeInterval(31 * 60 + 1), policy: policy)
        #expect(late.late && !late.passed)
    }

    @Test func badBanksAreRefusedWithAReason() throws {
        let encoder = JSONEncoder()
        #expect(throws: QuestionBank.Problem.unreadable) { try QuestionBank.parse(Data("{".utf8), minimumQuestions: 1) }
        let good = Self.bank(25)
        #expect(throws: QuestionBank.Problem.tooFewQuestions) { try QuestionBank.parse(try encoder.encode(good), minimumQuestions: 30) }
        let duplicated = QuestionBank(format: good.format, title: good.title, questions: good.questions + [good.questions[0]])
        #expect(throws: QuestionBank.Problem.duplicateID) { try QuestionBank.parse(try encoder.encode(duplicated), minimumQuestions: 1) }
        let wrongAnswer = QuestionBank(format: good.format, title: good.title, questions: [
            .init(id: "X", topic: "t", reference: .init(zh: "a", en: "a"), prompt: .init(zh: "p", en: "p"), options: [.init(zh: "a", en: "a"), .init(zh: "b", en: "b")], answer: 2),
        ])
        #expect(throws: QuestionBank.Problem.badQuestion) { try QuestionBank.parse(try encoder.encode(wrongAnswer), minimumQuestions: 1) }
        let otherFormat = QuestionBank(format: "other/1", title: good.title, questions: good.questions)
        #expect(throws: QuestionBank.Problem.wrongFormat) { try QuestionBank.parse(try encoder.encode(otherFormat), minimumQuestions: 1) }
        #expect(try QuestionBank.parse(try encoder.encode(good), minimumQuestions: 20).questions.count == 25)
    }
}
