import ArgumentParser
import CreditGateCore
import CreditGateServer
import Foundation

/// `creditgate bench policy`: how long one policy decision takes, for a realistic rule set — the shipped holiday
/// calendars, caps, hours, region at district granularity with exempt purposes, and a dozen bound networks of
/// both address families — over a spread of times, subjects, addresses and counts.
struct PolicyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Benchmark the policy engine: decision latency p50/p99/p99.9 in microseconds (target p99 ≤ 20 µs)."
    )

    @Option(help: "Decisions to time.") var decisions: Int = 200_000

    func run() async throws {
        let latency = try DecisionLatency.measure(decisions: decisions)
        print("policy decisions: \(decisions) timed over \(latency.factSets) distinct fact sets (outcomes: \(latency.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))")
        print(String(format: "decision latency: p50 %.2f µs, p99 %.2f µs, p99.9 %.2f µs, max %.2f µs (target p99 ≤ 20 µs)",
                     latency.microseconds(percentile: 0.5), latency.microseconds(percentile: 0.99), latency.microseconds(percentile: 0.999),
                     latency.samples.last ?? 0))
    }
}

/// Policy decisions timed one by one over a realistic rule set; `bench policy` prints them and `bench gateway` puts
/// them beside its HTTP figures.
struct DecisionLatency {
    /// Every decision's time in microseconds, sorted.
    let samples: [Double]
    let factSets: Int
    /// How many of the fact sets each decision code came out of.
    let outcomes: [String: Int]

    func microseconds(percentile p: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        return samples[min(samples.count - 1, Int(Double(samples.count) * p))]
    }

    static func measure(decisions: Int) throws -> DecisionLatency {
        let calendar = WorkingCalendar(try PolicyService.bundledCalendars())
        var policy = EffectivePolicy.defaults
        policy.regionGranularity = .district
        policy.regionExemptPurposes = [.postLoanManagement, .guarantorReview]
        let networks = (0..<8).compactMap { NetworkCIDR("10.\($0).0.0/16") } + (0..<4).compactMap { NetworkCIDR("fd00:\($0)::/48") }
        let subjects = ["110105199003071239", "310101198512120015", "440106197708081236", "11010519491231002X"].map {
            SubjectIdentifier(type: .residentID, number: $0)
        } + [SubjectIdentifier(type: .unifiedSocialCreditCode, number: "91350100M000100Y43")]
        let addresses = ["10.3.4.5", "10.9.1.1", "fd00:2::17", "fd00:9::1", "192.168.1.20"]
        let start = CalendarDate("2026-01-01")!.start
        // The facts are built beforehand: only the decision is timed.
        let inputs: [PolicyFacts] = (0..<1024).map { index in
            PolicyFacts(
                admission: index % 17 == 0 ? [QueryRefusalReason(code: "consent_missing")] : [], subject: subjects[index % subjects.count],
                purpose: QueryPurpose.consentable[index % QueryPurpose.consentable.count],
                at: start.addingTimeInterval(Double(index) * 30_841), clientAddress: addresses[index % addresses.count], policy: policy,
                calendar: calendar, queriesTodayByUser: index % 60, queriesTodayByOrganisation: index % 600, organisationRegion: RegionCode("110102")!,
                allowedNetworks: networks
            )
        }
        var outcomes: [String: Int] = [:]
        for facts in inputs { outcomes[PolicyEngine.decide(facts).code, default: 0] += 1 }
        let clock = ContinuousClock()
        var samples: [Double] = []
        samples.reserveCapacity(decisions)
        var sink = 0
        for index in 0..<decisions {
            let facts = inputs[index & 1023]
            let began = clock.now
            let decision = PolicyEngine.decide(facts)
            let elapsed = clock.now - began
            sink &+= decision.reasons.count
            samples.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
        }
        // Keeps the decisions from being optimised away.
        if sink < 0 { print(sink) }
        return DecisionLatency(samples: samples.sorted(), factSets: inputs.count, outcomes: outcomes)
    }
}
