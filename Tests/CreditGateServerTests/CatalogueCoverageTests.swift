import CreditGateCore
import Foundation
import Testing

@testable import CreditGateServer

/// Every `{{t.key}}` a template names exists in both languages, and every template loads.
@Suite struct CatalogueCoverageTests {
    @Test func templatesNameOnlyKnownKeys() throws {
        let folder = BundledResources.directory.appendingPathComponent("templates")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".mustache") }
        #expect(Set(names.map { String($0.dropLast(".mustache".count)) }) == Set(ConsoleRenderer.templateNames))
        let pattern = try Regex(#"\{\{[#^/]?t\.([a-z0-9_.]+)\}\}"#)
        var used: Set<String> = []
        for name in names {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            for match in text.matches(of: pattern) {
                used.insert(String(text[match.output[1].range!]))
            }
        }
        #expect(!used.isEmpty)
        for key in used {
            #expect(Catalogue.zhCN[key] != nil, "template key \(key) missing in zh-CN")
            #expect(Catalogue.en[key] != nil, "template key \(key) missing in en")
        }
    }

    /// Every key the Swift sources look up — `local("…")`, `detailKey: "…"` and the like — exists in both languages.
    @Test func keysNamedInTheSourcesExist() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let patterns = [
            try Regex(#"(?:local|chinese|english)\("([a-z][a-z0-9_.]*)"\)"#),
            try Regex(#"(?:detailKey|titleKey|labelKey|errorKey|messageKey): "([a-z][a-z0-9_]*)""#),
        ]
        var used: Set<String> = []
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for pattern in patterns {
                for match in text.matches(of: pattern) { used.insert(String(text[match.output[1].range!])) }
            }
        }
        #expect(used.count > 20)
        for key in used {
            #expect(Catalogue.zhCN[key] != nil && Catalogue.en[key] != nil, "\(key) is looked up but not in both languages")
        }
    }

    @Test func accountFailuresHaveBothLanguages() {
        let failures: [AccountService.Failure] = [.invalidEmployeeID, .weakPassword([.tooShort, .tooFewClasses, .containsEmployeeID]),
                                                  .unknownOrganisation("X"), .employeeIDTaken, .emptyName, .noRoles]
        for failure in failures {
            for key in failure.messageKeys {
                #expect(Catalogue.zhCN[key] != nil && Catalogue.en[key] != nil, "\(key)")
            }
        }
    }

    @Test func navigationAndDetailKeysExist() {
        var keys = NavigationItem.all.map(\.labelKey)
        keys += ["detail_malformed_json", "detail_payload_too_large", "detail_unsupported_media_type", "detail_sign_in_required",
                 "detail_csrf", "detail_not_found", "detail_forbidden", "detail_internal_error", "detail_database_unavailable",
                 "signin_failed", "signin_inactive", "signin_signed_out", "signin_session_expired"]
        for key in keys {
            #expect(Catalogue.zhCN[key] != nil && Catalogue.en[key] != nil, "\(key)")
        }
    }
}

/// The shipped question bank: at least 40 real questions in both languages, and it parses (R-04).
@Suite struct BundledQuestionBankTests {
    @Test func theBundledBankHasAtLeastFortyBilingualQuestions() throws {
        let bank = try QuestionBank.parse(try BundledResources.data("exam/question-bank.json"), minimumQuestions: 40)
        #expect(bank.questions.count >= 40)
        #expect(Set(bank.questions.map(\.topic)).isSuperset(of: ["regulation", "notice102", "pipl"]))
    }

    @Test func everyNewCatalogueKeyOfTheDomainExists() {
        let keys = PasswordPolicy.Violation.allCases.map(\.rawValue) + SuspensionReason.allCases.map(\.nameKey)
            + Employment.allCases.map(\.nameKey) + AccessRequest.Status.allCases.map(\.nameKey) + Responsibility.allCases.map(\.nameKey)
            + [AccessRequest.Refusal.ownRequest, .alreadyDecided, .notThisLevel, .notPending, .reasonRequired].map(\.rawValue)
            + [Reinstatement.Refusal.notSuspended, .tooEarly, .personLeft].map(\.rawValue)
            + [QuestionBank.Problem.unreadable, .wrongFormat, .duplicateID, .badQuestion, .tooFewQuestions].map(\.rawValue)
            + AuditEvent.Kind.allCases.map(\.nameKey) + Permission.allCases.map { "permission_\($0.rawValue)" }
            + PolicyException.Status.allCases.map(\.nameKey) + PolicyException.Risk.allCases.map(\.nameKey)
            + PolicyExceptionRefusal.allCases.map(\.rawValue)
            + ["exception_not_approved", "exception_used", "exception_expired", "exception_mismatch", "exception_rules_changed"].map { "query_reason_\($0)" }
        for key in keys {
            #expect(Catalogue.zhCN[key] != nil && Catalogue.en[key] != nil, "\(key)")
        }
    }
}
