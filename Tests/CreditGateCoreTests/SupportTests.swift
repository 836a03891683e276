import Foundation
import Testing

@testable import CreditGateCore

@Suite struct CatalogueTests {
    @Test func bothLanguagesHaveTheSameKeys() {
        let onlyChinese = Set(Catalogue.zhCN.keys).subtracting(Catalogue.en.keys)
        let onlyEnglish = Set(Catalogue.en.keys).subtracting(Catalogue.zhCN.keys)
        #expect(onlyChinese.isEmpty, "missing in English: \(onlyChinese.sorted())")
        #expect(onlyEnglish.isEmpty, "missing in Chinese: \(onlyEnglish.sorted())")
    }

    @Test func noStringIsEmpty() {
        for language in Language.allCases {
            let empty = Catalogue.strings(for: language).filter { $0.value.trimmingCharacters(in: .whitespaces).isEmpty }
            #expect(empty.isEmpty, "\(language): \(empty.keys.sorted())")
        }
    }

    @Test func everyDomainNameHasAString() {
        var keys = Role.allCases.map(\.nameKey)
        keys += AccountStatus.allCases.map(\.nameKey)
        keys += Organisation.Kind.allCases.map(\.nameKey)
        keys += ProblemKind.all.map(\.titleKey)
        keys += Permission.allCases.map { "permission_\($0.rawValue)" }
        keys += AuditEvent.Kind.allCases.map(\.nameKey)
        keys += AuditEvent.Outcome.allCases.map { "outcome_\($0.rawValue)" }
        keys += ["audit_proof_verified", "audit_proof_failed", "audit_proof_pending"]
        keys += [PasswordPolicy.Violation.tooShort, .tooFewClasses, .containsEmployeeID].map(\.rawValue)
        for key in keys {
            #expect(Catalogue.zhCN[key] != nil && Catalogue.en[key] != nil, "no string for \(key)")
        }
    }

    @Test func problemCodesAreUnique() {
        #expect(Set(ProblemKind.all.map(\.code)).count == ProblemKind.all.count)
    }
}

@Suite struct LanguageTests {
    @Test(arguments: [
        ("en-US,en;q=0.9", Language.en),
        ("zh-CN,zh;q=0.9,en;q=0.8", .zhCN),
        ("fr-FR, en;q=0.5, zh;q=0.7", .zhCN),
        ("zh-TW;q=0.2, en-GB;q=0.3", .en),
        ("en;q=0, zh", .zhCN),
    ])
    func negotiatesByQuality(_ header: String, _ expected: Language) {
        #expect(Language.negotiate(acceptLanguage: header) == expected)
    }

    @Test func unsupportedOrAbsentGivesNothing() {
        #expect(Language.negotiate(acceptLanguage: "fr, de;q=0.5") == nil)
        #expect(Language.negotiate(acceptLanguage: nil) == nil)
        #expect(Language.negotiate(acceptLanguage: ";;;,,q=") == nil)
    }
}

@Suite struct MaskingTests {
    @Test func identifiersFollowJRT0171() {
        #expect(Masking.identifier("110101199003071234") == "110***********1234")
        #expect(Masking.identifier("11010119900307123X", keepStart: 1, keepEnd: 1) == "1****************X")
        #expect(Masking.cardNumber("6222021234561234") == "622202******1234")
        #expect(Masking.mobile("13812345678") == "138****5678")
        #expect(Masking.name("张三丰") == "张**")
    }

    @Test func shortValuesAreHiddenEntirely() {
        #expect(Masking.identifier("1234567") == "*******")
    }

    @Test func addressesKeepTheNetworkOnly() {
        #expect(Masking.ipAddress("10.12.3.4") == "10.12.3.*")
        #expect(Masking.ipAddress("fd00:12:0:1::5") == "fd00:12:0:1:*")
        #expect(Masking.ipAddress("fd00:31::5") == "fd00:31:0:0:*")
        #expect(Masking.ipAddress("::ffff:10.1.2.3") == "10.1.2.*")
        #expect(Masking.ipAddress("::1") == "0:0:0:0:*")
        #expect(Masking.ipAddress("unknown") == "*")
    }
}

@Suite struct ConstantTimeTests {
    @Test func equalityOfBytesAndStrings() {
        #expect(ConstantTime.equals("token-abc", "token-abc"))
        #expect(!ConstantTime.equals("token-abc", "token-abd"))
        #expect(!ConstantTime.equals("token", "token-abc"))
        #expect(!ConstantTime.equals("", "x"))
        #expect(ConstantTime.equals("", ""))
    }
}

@Suite struct Base64URLTests {
    @Test func roundTripsEveryLength() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) % 256) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
    }

    @Test func refusesForeignCharacters() {
        #expect(Base64URL.decode("ab$c") == nil)
    }
}
