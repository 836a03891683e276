import CreditGateCore
import Foundation
import Logging
import Testing

@testable import CreditGateServer

/// The machinery of `creditgate bench gateway` at the smallest scale: the figures it prints rest on queries that
/// were really answered. No timing is asserted.
@Suite struct GatewayBenchmarkTests {
    @Test func oneClientGetsItsQueriesAnsweredThroughHTTPOnSQLite() async throws {
        // given
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cg-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var benchmark = GatewayBenchmark(databaseURL: "sqlite://" + directory.appendingPathComponent("bench.sqlite").path, dataDirectory: directory.path)
        benchmark.subjects = 4
        benchmark.operators = 2
        benchmark.bcryptCost = 4
        var logger = Logger(label: "bench-tests")
        logger.logLevel = .critical
        // when
        let rows = try await benchmark.run(clients: [1], duration: .milliseconds(300), warmUp: .zero, logger: logger)
        // then
        let row = try #require(rows.first)
        #expect(rows.count == 1 && row.clients == 1)
        #expect(row.gateway.answered > 0)
        #expect(row.gateway.errors == 0, "\(row.gateway.unexpectedStatuses) \(row.gateway.firstUnexpectedBody ?? "")")
        #expect(row.bare.answered > 0 && row.bare.errors == 0)
        #expect(row.gateway.latencyMilliseconds(percentile: 0.99) >= row.gateway.latencyMilliseconds(percentile: 0.5))
    }

    @Test func benchSubjectsAreValidResidentIDsOfTheHeadOfficesDistrict() {
        let numbers = (0..<128).map(BenchBank.residentID)
        #expect(Set(numbers).count == numbers.count)
        for number in numbers {
            let subject = try? SubjectIdentifier.validate(number, as: .residentID, today: GatewayBenchmark.standingTime).get()
            #expect(subject?.regionCode == RegionCode(BenchBank.headOfficeRegion), "\(number)")
        }
    }
}

/// The machinery of `creditgate bench reports` at the smallest scale: the reports it times really are 50 KB, come
/// back whole, and every item is re-wrapped. No timing is asserted.
@Suite struct ReportsBenchmarkTests {
    @Test func reportsAreSealedOpenedAndEveryItemReWrappedOnSQLite() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cg-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var logger = Logger(label: "bench-tests")
        logger.logLevel = .critical
        let result = try await ReportsBenchmark(databaseURL: "sqlite://" + directory.appendingPathComponent("bench.sqlite").path,
                                                dataDirectory: directory.path).run(reports: 3, rotationItems: 25, logger: logger)
        #expect((50 * 1024 ..< 56 * 1024).contains(result.reportBytes))
        #expect(result.sealAndStore.count == 3 && result.openAndDecrypt.count == 3)
        // Three reports, twenty-five loaded items and the bench bank's one consent scan.
        #expect(result.rotated == 29)
    }
}
