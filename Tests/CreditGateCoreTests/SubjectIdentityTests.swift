import Foundation
import Testing

@testable import CreditGateCore

/// identity validation. Known answers: `11010519491231002X` is the worked example of GB 11643; the check
/// character of `91350100M000100Y43` follows GB 32100 (recompute with the weights 1, 3, 9, 27, … modulo 31).
@Suite struct SubjectIdentityTests {
    let today = Date(timeIntervalSince1970: 1_800_000_000)

    func problem(_ text: String, _ type: CertificateType) -> SubjectIdentifier.Problem? {
        if case .failure(let problem) = SubjectIdentifier.validate(text, as: type, today: today) { return problem }
        return nil
    }

    @Test func residentIDsFollowGB11643() {
        #expect(problem("11010519491231002X", .residentID) == nil)
        #expect(problem("11010519491231002x", .residentID) == nil)
        #expect(problem("110105194912310021", .residentID) == .idCheckDigit)
        #expect(problem("110105491231002", .residentID) == .fifteenDigitID)
        #expect(problem("99010519491231002X", .residentID) == .idRegion)
        #expect(problem("11010519490231002X", .residentID) == .idBirthDate)
        #expect(problem("11010530000101002X", .residentID) == .idBirthDate)
        #expect(problem("1101051949123100AX", .residentID) == .idFormat)
        #expect(problem("  ", .residentID) == .empty)
        // a Hong Kong resident's residence permit uses the same form with prefix 81
        let permit = "81000019900101001"
        let check = SubjectIdentifier.idCheckCharacter(Array(permit))!
        #expect(problem(permit + String(check), .residentID) == nil)
    }

    @Test func unifiedSocialCreditCodesFollowGB32100() {
        #expect(problem("91350100M000100Y43", .unifiedSocialCreditCode) == nil)
        #expect(problem("91350100M000100Y44", .unifiedSocialCreditCode) == .usccCheckCharacter)
        #expect(problem("91350100M000100I43", .unifiedSocialCreditCode) == .usccFormat)
        #expect(problem("913501", .unifiedSocialCreditCode) == .usccFormat)
        #expect(CertificateType.unifiedSocialCreditCode.isCorporate)
    }

    @Test func permitsAndPassports() {
        #expect(problem("H12345678", .hongKongMacaoPermit) == nil)
        #expect(problem("M1234567890", .hongKongMacaoPermit) == nil)
        #expect(problem("X12345678", .hongKongMacaoPermit) == .hongKongMacaoPermitFormat)
        #expect(problem("12345678", .taiwanPermit) == nil)
        #expect(problem("1234567", .taiwanPermit) == .taiwanPermitFormat)
        #expect(problem("E12345678", .passport) == nil)
        #expect(problem("E1234-678", .passport) == .passportFormat)
        #expect(problem("USA123456789012", .foreignPermanentResidence) == nil)
        let newCard = "93000019800101001"
        #expect(problem(newCard + String(SubjectIdentifier.idCheckCharacter(Array(newCard))!), .foreignPermanentResidence) == nil)
        #expect(problem("830000198001010010", .foreignPermanentResidence) == .permanentResidenceFormat)
    }

    @Test func everyProblemAndTypeHasBothLanguages() {
        for key in SubjectIdentifier.Problem.allCases.map(\.rawValue) + CertificateType.allCases.map(\.nameKey) {
            #expect(Catalogue.zhCN[key] != nil && Catalogue.en[key] != nil, "\(key)")
        }
    }
}
