import ArgumentParser
import CreditGateCore
import CreditGateServer
import Foundation

struct CalendarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Manage the State Council holiday calendars the policy engine uses.",
        subcommands: [Import.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a year's holiday notice (creditgate-holiday-calendar/1 JSON); a year already there is replaced.",
            discussion: """
                Needs the same secrets as `serve`. The file names the notice it comes from; the import is an audit event. \
                The console's policy page does the same for a system administrator.
                """
        )

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The calendar file.") var file: String

        func run() async throws {
            try await readable {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw OperatorError(description: "Cannot read \(file).")
                }
                do {
                    let calendar = try await options.withServices { services in
                        try await services.policy.importCalendar(data, by: nil, clientIP: "local-command")
                    }
                    let chinese = Localizer(.zhCN), english = Localizer(.en)
                    print("\(chinese("calendar_imported_done")) \(calendar.year) / \(english("calendar_imported_done")) \(calendar.year) — \(calendar.source.title)")
                } catch let error as CreditGateError {
                    let key = error.detailKey ?? error.kind.titleKey
                    throw OperatorError(description: "\(Localizer(.zhCN)(key)) / \(Localizer(.en)(key))")
                }
            }
        }
    }
}
