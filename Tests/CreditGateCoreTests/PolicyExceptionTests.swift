import Foundation
import Testing

@testable import CreditGateCore

/// 授权查询: who may decide, single use, expiry, and the binding to one person, subject, purpose and consent.
@Suite struct PolicyExceptionTests {
    static let requester = User.ID("requester")
    static let approver = User.ID("approver")
    static let subject = PolicyEngineTests.subject
    static let consent = Consent.ID("consent-1")
    static let requestedAt = PolicyEngineTests.at("2026-03-10", "17:40")

    static func request(risks: [PolicyException.Risk] = [], rules: [PolicyRule] = [.workingHours]) -> PolicyException {
        PolicyException(
            id: .random(), requestedBy: requester, organisationID: Organisation.ID("branch"), subject: subject, subjectName: "张三",
            purpose: .loanApproval, consentID: consent, reasons: rules.map { QueryRefusalReason(code: $0.rawValue) },
            justification: "客户在柜台等候", risks: risks, clientIP: "10.10.1.5", requestedAt: requestedAt,
            lapsesAt: PolicyEngineTests.at("2026-03-11", "00:00")
        )
    }

    static func approve(_ exception: inout PolicyException, by approver: User.ID = approver, roles: Set<Role> = [.approver], covers: Bool = true,
                        onSite: String = "", at time: Date = requestedAt.addingTimeInterval(60)) -> PolicyExceptionRefusal? {
        exception.decide(approve: true, by: approver, approverRoles: roles, approverUnitCovers: covers, note: "", onSite: onSite, at: time,
                         validity: 30 * 60)
    }

    @Test func onlyADecisionThatNeedsApprovalCanBeExcepted() {
        let hours = PolicyReason(reason: QueryRefusalReason(code: "outside_working_hours"), exceptable: true)
        let unbound = PolicyReason(reason: QueryRefusalReason(code: "unbound_address"), exceptable: false)
        #expect(PolicyException.problem(requesting: .allow, justification: "客户在柜台等候") == "exception_not_needed")
        #expect(PolicyException.problem(requesting: .block([hours, unbound]), justification: "客户在柜台等候") == "exception_not_exceptable")
        #expect(PolicyException.problem(requesting: .approvalRequired([hours]), justification: "  ") == "exception_justification_required")
        #expect(PolicyException.problem(requesting: .approvalRequired([hours]), justification: "客户在柜台等候") == nil)
    }

    @Test func selfApprovalAndTheWrongApproverAreRefused() {
        var exception = Self.request()
        #expect(Self.approve(&exception, by: Self.requester) == .ownRequest)
        #expect(Self.approve(&exception, roles: [.queryOperator]) == .notThisApprover)
        #expect(Self.approve(&exception, covers: false) == .notThisApprover)
        #expect(exception.status == .pending)
        #expect(exception.decide(approve: false, by: Self.approver, approverRoles: [.approver], approverUnitCovers: true, note: " ", onSite: "",
                                 at: Self.requestedAt, validity: 1800) == .noteRequired)
        #expect(Self.approve(&exception) == nil)
        #expect(exception.status == .approved && exception.decidedBy == Self.approver)
        #expect(exception.expiresAt == Self.requestedAt.addingTimeInterval(60 + 30 * 60))
        #expect(Self.approve(&exception) == .notPending)
    }

    @Test func aHighRiskRequestNeedsOnSiteVerification() {
        let reasons = [PolicyReason(reason: QueryRefusalReason(code: "outside_working_hours"), exceptable: true)]
        #expect(PolicyException.risks(of: reasons, subjectIsColleague: false).isEmpty)
        #expect(PolicyException.risks(of: reasons, subjectIsColleague: true) == [.offHoursColleague])
        let combined = reasons + [PolicyReason(reason: QueryRefusalReason(code: "daily_cap_user"), exceptable: true)]
        #expect(PolicyException.risks(of: combined, subjectIsColleague: false) == [.offHoursCombined])
        // A colleague during working hours is not this pattern.
        let capOnly = [PolicyReason(reason: QueryRefusalReason(code: "daily_cap_user"), exceptable: true)]
        #expect(PolicyException.risks(of: capOnly, subjectIsColleague: true).isEmpty)
        var exception = Self.request(risks: [.offHoursColleague])
        #expect(Self.approve(&exception, onSite: "  ") == .onSiteRequired)
        #expect(Self.approve(&exception, onSite: "已到网点核实客户身份证原件") == nil)
        #expect(exception.onSiteVerification == "已到网点核实客户身份证原件")
    }

    @Test func anApprovalAllowsExactlyTheQueryItWasFor() {
        var exception = Self.request(rules: [.workingHours, .dailyCapUser])
        #expect(exception.problem(for: Self.requester, subject: Self.subject, subjectName: "张三", purpose: .loanApproval, consent: Self.consent, firing: [.workingHours],
                                  at: Self.requestedAt) == "exception_not_approved")
        _ = Self.approve(&exception)
        let later = Self.requestedAt.addingTimeInterval(120)
        #expect(exception.problem(for: Self.requester, subject: Self.subject, subjectName: "张三", purpose: .loanApproval, consent: Self.consent,
                                  firing: [.workingHours, .dailyCapUser], at: later) == nil)
        // A subset of the excepted rules is still covered; a new rule is not.
        #expect(exception.problem(for: Self.requester, subject: Self.subject, subjectName: "张三", purpose: .loanApproval, consent: Self.consent, firing: [.workingHours],
                                  at: later) == nil)
        #expect(exception.problem(for: Self.requester, subject: Self.subject, subjectName: "张三", purpose: .loanApproval, consent: Self.consent,
                                  firing: [.workingHours, .region], at: later) == "exception_rules_changed")
        let other = SubjectIdentifier(type: .residentID, number: "11010519491231002X")
        #expect(exception.problem(for: Self.requester, subject: other, subjectName: "张三", purpose: .loanApproval, consent: Self.consent, firing: [.workingHours],
                                  at: later) == "exception_mismatch")
        #expect(exception.problem(for: Self.requester, subject: Self.subject, subjectName: "李四", purpose: .loanApproval, consent: Self.consent,
                                  firing: [.workingHours], at: later) == "exception_mismatch")
        #expect(exception.problem(for: Self.requester, subject: Self.subject, subjectName: "张　三", purpose: .loanApproval, consent: Self.consent,
                                  firing: [.workingHours], at: later) == nil)
        #expect(exception.problem(for: Self.approver, subject: Self.subject, subjectName: "张三", purpose: .loanApproval, consent: Self.consent, firing: [.workingHours],
                                  at: later) == "exception_mismatch")
        #expect(exception.problem(for: Self.requester, subject: Self.subject, subjectName: "张三", purpose: .creditCardApproval, consent: Self.consent,
                                  firing: [.workingHours], at: later) == "exception_mismatch")
        #expect(exception.problem(for: Self.requester, subject: Self.subject, subjectName: "张三", purpose: .loanApproval, consent: Consent.ID("consent-2"),
                                  firing: [.workingHours], at: later) == "exception_mismatch")
    }

    @Test func anApprovalExpiresAndIsUsedOnce() {
        var exception = Self.request()
        _ = Self.approve(&exception)
        let expiry = try! #require(exception.expiresAt)
        #expect(exception.problem(for: Self.requester, subject: Self.subject, subjectName: "张三", purpose: .loanApproval, consent: Self.consent, firing: [.workingHours],
                                  at: expiry.addingTimeInterval(-1)) == nil)
        #expect(exception.problem(for: Self.requester, subject: Self.subject, subjectName: "张三", purpose: .loanApproval, consent: Self.consent, firing: [.workingHours],
                                  at: expiry) == "exception_expired")
        exception.status = .used
        #expect(exception.problem(for: Self.requester, subject: Self.subject, subjectName: "张三", purpose: .loanApproval, consent: Self.consent, firing: [.workingHours],
                                  at: Self.requestedAt) == "exception_used")
    }

    @Test func anUndecidedRequestLapsesAtTheEndOfItsDay() {
        var exception = Self.request()
        #expect(!exception.isStale(at: PolicyEngineTests.at("2026-03-10", "23:59:59")))
        #expect(exception.isStale(at: PolicyEngineTests.at("2026-03-11", "00:00")))
        #expect(Self.approve(&exception, at: PolicyEngineTests.at("2026-03-11", "00:00")) == .notPending)
    }
}
