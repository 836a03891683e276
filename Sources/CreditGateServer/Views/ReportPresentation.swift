import CreditGateBureau
import CreditGateCore
import Foundation

/// A stored report as the viewer shows it: the sections of the PBoC report in their order, each label in both
/// languages, repayment grids as grids. Only the viewer builds this; no other page or route ever sees it.
enum ReportPresentation {
    /// The label of a field in both languages, from the catalogue (`report_<name>`).
    static func label(_ key: String) -> [String: String] {
        ["zh": Localizer(.zhCN)("report_\(key)"), "en": Localizer(.en)("report_\(key)")]
    }

    static func fact(_ key: String, _ value: String) -> [String: Any] {
        ["label": label(key), "value": value]
    }

    static func section(_ key: String, facts: [[String: Any]] = [], columns: [String] = [], rows: [[[String: Any]]] = []) -> [String: Any] {
        var section: [String: Any] = ["title": label(key), "key": key]
        if !facts.isEmpty { section["facts"] = facts }
        if !columns.isEmpty {
            section["table"] = ["columns": columns.map(label), "rows": rows.map { ["cells": $0] }]
            if rows.isEmpty { section["empty"] = true }
        }
        return section
    }

    static func text(_ value: String) -> [String: Any] { ["text": value] }

    static func yuanText(_ value: Int) -> String { value.formatted(.number.grouping(.automatic)) + " 元" }

    static func yuan(_ value: Int) -> [String: Any] { text(yuanText(value)) }

    /// A value the catalogue names (`report_value_<value>`), in both languages; anything else as it came.
    static func named(_ value: String) -> String {
        let key = "report_value_\(value)"
        guard let zh = Catalogue.zhCN[key], let en = Catalogue.en[key] else { return value }
        return "\(zh) \(en)"
    }

    /// The 24-month repayment grid, one cell a month, oldest first.
    static func grid(_ history: String) -> [String: Any] {
        ["grid": history.map { month -> [String: String] in
            let code = String(month)
            let state = switch month {
            case "N": "paid"
            case "*": "none"
            case "C": "closed"
            default: "overdue"
            }
            return ["code": code, "state": state]
        }]
    }

    static func header(_ header: ReportHeader) -> [String: Any] {
        section("header", facts: [
            fact("report_number", header.reportNumber),
            fact("generated_at", ISO8601DateFormatter().string(from: header.generatedAt)),
            fact("querying_institution", header.queryingInstitution),
            fact("purpose", "\(header.purposeCode) \(Localizer(.zhCN)("purpose_\(header.purposeCode)")) \(Localizer(.en)("purpose_\(header.purposeCode)"))"),
        ])
    }

    static func accounts(_ key: String, _ accounts: [CreditAccount]) -> [String: Any] {
        section(key, columns: ["account_kind", "institution", "opened_on", "credit_limit", "balance", "account_status", "repayment_grid"],
                rows: accounts.map { account in
                    [text(named(account.kind.rawValue)), text(account.institution), text(account.openedOn), yuan(account.creditLimitYuan),
                     yuan(account.balanceYuan), text(named(account.status)), grid(account.repaymentHistory)]
                })
    }

    static func guarantees(_ guarantees: [Guarantee]) -> [String: Any] {
        section("guarantees", columns: ["debtor", "institution", "amount", "balance", "ends_on"], rows: guarantees.map {
            [text($0.debtor), text($0.institution), yuan($0.amountYuan), yuan($0.balanceYuan), text($0.endsOn)]
        })
    }

    static func publicRecords(_ records: [PublicRecord]) -> [String: Any] {
        section("public_records", columns: ["record_kind", "authority", "record_summary", "recorded_on", "amount"], rows: records.map {
            [text(named($0.kind)), text($0.authority), text($0.summary), text($0.recordedOn), yuan($0.amountYuan)]
        })
    }

    static func queryRecords(_ records: [BureauQueryRecord]) -> [String: Any] {
        section("query_records", columns: ["query_date", "querying_institution", "purpose"], rows: records.map {
            [text($0.date), text($0.institution), text("\($0.purposeCode) \(Localizer(.zhCN)("purpose_\($0.purposeCode)"))")]
        })
    }

    /// The sections of the report, in the order of the PBoC second-generation report.
    static func sections(of report: CreditReport) -> [[String: Any]] {
        switch report {
        case .personal(let report):
            let identity = report.identity
            let summary = report.summary
            return [
                header(report.header),
                section("identity", facts: [
                    fact("name", identity.name), fact("certificate_type", identity.certificateType),
                    fact("certificate_number", identity.certificateNumber), fact("gender", named(identity.gender)),
                    fact("date_of_birth", identity.dateOfBirth), fact("marital_status", identity.maritalStatus),
                    fact("mobile_phone", identity.mobilePhone), fact("education", identity.education),
                ]),
                section("residences", columns: ["address", "residence_status", "reported_on"], rows: report.residences.map {
                    [text($0.address), text($0.status), text($0.reportedOn)]
                }),
                section("employments", columns: ["employer", "occupation", "since", "reported_on"], rows: report.employments.map {
                    [text($0.employer), text($0.occupation), text($0.since), text($0.reportedOn)]
                }),
                section("summary", facts: [
                    fact("loan_accounts", String(summary.loanAccounts)), fact("credit_card_accounts", String(summary.creditCardAccounts)),
                    fact("accounts_ever_overdue", String(summary.accountsEverOverdue)),
                    fact("total_credit_limit", yuanText(summary.totalCreditLimitYuan)),
                    fact("total_balance", yuanText(summary.totalBalanceYuan)),
                    fact("guarantees_given", String(summary.guaranteesGiven)), fact("public_record_count", String(summary.publicRecords)),
                    fact("queries_two_years", String(summary.queriesLastTwoYears)),
                ]),
                accounts("accounts", report.accounts),
                guarantees(report.guarantees),
                publicRecords(report.publicRecords),
                queryRecords(report.queryRecords),
            ]
        case .corporate(let report):
            let basics = report.basics
            return [
                header(report.header),
                section("basics", facts: [
                    fact("company_name", basics.name), fact("uscc", basics.unifiedSocialCreditCode),
                    fact("legal_representative", basics.legalRepresentative),
                    fact("registered_capital", yuanText(basics.registeredCapitalYuan)),
                    fact("established_on", basics.establishedOn), fact("registered_address", basics.registeredAddress),
                    fact("industry", basics.industry),
                ]),
                accounts("facilities", report.facilities),
                guarantees(report.guarantees),
                publicRecords(report.publicRecords),
                queryRecords(report.queryRecords),
            ]
        }
    }
}
