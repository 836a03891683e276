import Foundation
import Testing

@testable import CreditGateCore

/// A past day decided again under a proposed policy: counts follow the day as it happened.
@Suite struct PolicyReplayTests {
    static let unit = Organisation.ID("branch")
    static let user = User.ID("officer")

    static func query(_ time: String, status: CreditQuery.Status = .answered, reasons: [QueryRefusalReason] = [], address: String = "10.10.1.5")
        -> PolicyReplay.Query {
        PolicyReplay.Query(CreditQuery(
            id: .random(), userID: user, organisationID: unit, channel: .console, clientAppID: nil, subject: PolicyEngineTests.subject,
            subjectName: "张三", purpose: .loanApproval, consentID: nil, clientIP: address, requestedAt: PolicyEngineTests.at("2026-03-10", time),
            status: status, reasons: reasons
        ))
    }

    static func context(_ policy: EffectivePolicy) -> PolicyReplay.Context {
        PolicyReplay.Context(policies: [unit: policy], regions: [unit: PolicyEngineTests.beijing],
                             networks: [user: [NetworkCIDR("10.10.0.0/16")!]], calendar: PolicyEngineTests.calendar)
    }

    @Test func aLowerCapHoldsTheQueriesBeyondIt() {
        var proposed = EffectivePolicy.defaults
        proposed.userDailyCap = 2
        let day = [Self.query("09:00"), Self.query("10:00"), Self.query("11:00"), Self.query("12:00")]
        let outcomes = PolicyReplay.replay(day.reversed(), in: Self.context(proposed))
        #expect(outcomes.map(\.decision.code) == ["allow", "allow", "approval_required", "approval_required"])
        #expect(outcomes.filter(\.changed).count == 2)
        #expect(outcomes[2].decision.reasons.map(\.code) == ["daily_cap_user"])
        #expect(PolicyReplay.replay(day, in: Self.context(.defaults)).allSatisfy { !$0.changed })
    }

    @Test func refusedQueriesDoNotCountAndAdmissionRefusalsStand() {
        var proposed = EffectivePolicy.defaults
        proposed.userDailyCap = 1
        let noConsent = [QueryRefusalReason(code: "consent_missing")]
        let day = [Self.query("09:00", status: .refused, reasons: noConsent), Self.query("10:00"), Self.query("11:00")]
        let outcomes = PolicyReplay.replay(day, in: Self.context(proposed))
        #expect(outcomes.map(\.decision.code) == ["block", "allow", "approval_required"])
        #expect(outcomes[0].query.happened == "block" && !outcomes[0].changed)
    }

    @Test func narrowerHoursHoldAnEveningQuery() {
        var proposed = EffectivePolicy.defaults
        proposed.workdayEnd = TimeOfDay("17:00")!
        let outcomes = PolicyReplay.replay([Self.query("16:59:59"), Self.query("17:00")], in: Self.context(proposed))
        #expect(outcomes.map(\.decision.code) == ["allow", "approval_required"])
    }
}
