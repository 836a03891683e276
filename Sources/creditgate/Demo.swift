import ArgumentParser
import CreditGateCore
import CreditGateServer
import Foundation
import Hummingbird

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demo bank on the embedded database with the sandbox bureau.",
        discussion: """
            Creates ./creditgate-data/creditgate.sqlite if missing, migrates it, seeds a demo bank (a head office \
            and two branches, one account per role) and serves http://127.0.0.1:8080/console. The accounts' \
            passwords are printed once, when they are created; run it again and the data is kept. Delete \
            ./creditgate-data to start over.
            """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on.") var port: Int = 8080

    func run() async throws {
        try await readable {
            var (configuration, logger) = try await options.load()
            configuration.host = host
            configuration.port = port
            configuration.allowSandboxBureau = true
            configuration.migrateOnStart = true
            let secrets = try Secrets.load(from: try await options.reader(), mode: .demo, dataDirectory: configuration.dataDirectory)
            let arguments = LiveArguments(configuration: configuration, secrets: secrets, mode: .demo, logger: logger)
            let services = try AppServices.make(arguments)
            let app: any ApplicationProtocol
            do {
                try await services.migrate(logger: logger)
                let seeded = try await DemoBank(
                    organisations: services.organisations, settings: services.settings,
                    accounts: services.accounts, users: services.users, networks: services.userNetworks, audit: services.auditTrail, clock: services.clock
                ).seedIfNeeded()
                printAccounts(seeded, url: "http://\(host):\(port)/console")
                app = try await buildApplication(arguments, services: services)
            } catch {
                try? await services.database.shutdown()
                throw error
            }
            try await app.runService()
        }
    }

    func printAccounts(_ accounts: [DemoBank.SeededAccount], url: String) {
        var lines = ["", "CreditGate demo — 演示环境", "Console 管理台: \(url)", ""]
        if accounts.isEmpty {
            lines.append("The demo bank was seeded before; its accounts and passwords are unchanged.")
            lines.append("演示银行此前已创建，账户和密码不变。删除 ./creditgate-data 可重新开始。")
        } else {
            let english = Localizer(.en), chinese = Localizer(.zhCN)
            lines.append("Demo accounts (passwords are shown this once) 演示账户（密码仅显示这一次）:")
            for account in accounts {
                let role = "\(chinese(account.role.nameKey)) / \(english(account.role.nameKey))"
                lines.append("  \(account.employeeID)  \(account.password)  \(account.displayName)  \(role)  [\(account.organisationCode)]")
            }
            lines.append("")
            lines.append("At first sign-in each account enrols a second factor: scan the QR code with an authenticator app (TOTP).")
            lines.append("首次登录时须绑定动态口令：用身份验证器应用扫描页面上的二维码。")
            lines.append("")
            lines.append("The query operator starts with query rights: upload a consent under Consents, then query under Credit queries.")
            lines.append("查询员已开通查询权限：先在“授权书”上传客户授权书，再在“征信查询”发起查询。")
        }
        lines.append("")
        FileHandle.standardError.write(Data(lines.joined(separator: "\n").utf8 + [10]))
    }
}
