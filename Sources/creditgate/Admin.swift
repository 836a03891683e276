import ArgumentParser
import CreditGateCore
import CreditGateServer
import CreditGateStore
import Foundation

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage administrator accounts.",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the bootstrap system administrator (or the first compliance auditor).",
            discussion: """
                Needs the same secrets as `serve`. Opens a system-administrator account tied to an employee ID in an existing organisation unit, or \
                in a new head office when the database has none (give --organisation-name and --region-code). \
                The password is read from standard input with --password-stdin, or generated and printed once.
                """
        )

        @OptionGroup var options: ConfigOptions
        @Option(help: "The person's employee ID (员工统一认证号).") var employeeId: String
        @Option(help: "The person's full name.") var name: String
        @Option(help: "Code of the organisation unit the account belongs to.") var organisationCode: String
        @Option(help: "Name of the head office to create when none exists.") var organisationName: String?
        @Option(help: "Six-digit region code of that head office.") var regionCode: String?
        @Flag(help: "Read the password from standard input instead of generating one.") var passwordStdin = false
        @Option(help: "The role to grant: system_administrator (default) or compliance_auditor, the two a new installation needs before anyone can be managed from the console.")
        var role: String = Role.systemAdministrator.rawValue

        func run() async throws {
            try await readable {
                guard let granted = Role(rawValue: role), [.systemAdministrator, .complianceAuditor].contains(granted) else {
                    throw OperatorError(description: "--role must be system_administrator or compliance_auditor")
                }
                do {
                    try await options.withServices { services in
                        try await createHeadOfficeIfNeeded(services)
                        let password = passwordStdin ? (readLine(strippingNewline: true) ?? "") : AccountService.generatePassword()
                        let user = try await services.accounts.open(
                            employeeID: employeeId, displayName: name, organisationCode: organisationCode,
                            roles: [granted], password: password
                        )
                        let chinese = Localizer(.zhCN), english = Localizer(.en)
                        print("\(chinese("account_created")) / \(english("account_created")): \(user.employeeID.value) (\(user.displayName)), \(chinese(granted.nameKey)) / \(english(granted.nameKey))")
                        if !passwordStdin {
                            print("\(chinese("password_shown_once")) / \(english("password_shown_once")): \(password)")
                        }
                    }
                } catch let failure as AccountService.Failure {
                    throw OperatorError(description: failure.description)
                }
            }
        }

        func createHeadOfficeIfNeeded(_ services: AppServices) async throws {
            guard try await services.organisations.find(code: organisationCode) == nil else { return }
            guard try await services.organisations.all().isEmpty else {
                throw OperatorError(description: "No organisation has the code \(organisationCode).")
            }
            guard let organisationName, let regionText = regionCode else {
                throw OperatorError(description: "The database has no organisations yet: give --organisation-name and --region-code to create the head office.")
            }
            guard let region = RegionCode(regionText) else {
                throw OperatorError(description: "\(regionText) is not a six-digit region code with a GB/T 2260 province prefix.")
            }
            try await services.organisations.create(
                Organisation(id: .random(), code: organisationCode, name: organisationName, kind: .headOffice,
                             parentID: nil, regionCode: region, networks: []),
                now: Date()
            )
        }
    }
}
