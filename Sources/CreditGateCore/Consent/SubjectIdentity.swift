import Foundation

/// The kinds of identity document a personal credit subject is named by, with the codes of the credit system's
/// personal certificate-type list (个人证件类型), and the corporate identifier.
public enum CertificateType: String, CaseIterable, Codable, Sendable {
    /// 10 居民身份证: the 18-digit citizen identity number (GB 11643), also used by the residence permits of Hong
    /// Kong, Macao and Taiwan residents (prefixes 81, 82, 83).
    case residentID = "10"
    /// 2 护照
    case passport = "2"
    /// 5 港澳居民来往内地通行证 (回乡证)
    case hongKongMacaoPermit = "5"
    /// 6 台湾居民来往大陆通行证 (台胞证)
    case taiwanPermit = "6"
    /// 8 外国人永久居留身份证
    case foreignPermanentResidence = "8"
    /// 统一社会信用代码 (GB 32100), the identifier of a corporate subject.
    case unifiedSocialCreditCode = "uscc"

    public var nameKey: String { "certificate_type_\(rawValue)" }

    /// Whether the subject is a corporate (its report is a corporate report).
    public var isCorporate: Bool { self == .unifiedSocialCreditCode }
}

/// A validated subject identifier: the type and the number in its normal form (upper case, no spaces).
public struct SubjectIdentifier: Hashable, Sendable, Codable {
    public let type: CertificateType
    public let number: String

    /// An identifier read back from storage, where only validated ones are written. Anything typed by a person
    /// goes through ``validate(_:as:today:)`` instead.
    public init(type: CertificateType, number: String) {
        self.type = type
        self.number = number
    }

    /// Why an identifier is refused, in words a loan officer understands; each case is a catalogue key.
    public enum Problem: String, Error, Sendable, Equatable, CaseIterable {
        case empty = "identity_empty"
        case fifteenDigitID = "identity_id_15_digit"
        case idFormat = "identity_id_format"
        case idRegion = "identity_id_region"
        case idBirthDate = "identity_id_birth_date"
        case idCheckDigit = "identity_id_check_digit"
        case passportFormat = "identity_passport_format"
        case hongKongMacaoPermitFormat = "identity_hk_macao_permit_format"
        case taiwanPermitFormat = "identity_taiwan_permit_format"
        case permanentResidenceFormat = "identity_permanent_residence_format"
        case usccFormat = "identity_uscc_format"
        case usccCheckCharacter = "identity_uscc_check_character"
    }

    /// Checks `text` as an identifier of `type`; `today` bounds a date of birth (none in the future).
    public static func validate(_ text: String, as type: CertificateType, today: Date) -> Result<SubjectIdentifier, Problem> {
        let number = text.filter { !$0.isWhitespace }.uppercased()
        guard !number.isEmpty else { return .failure(.empty) }
        let problem: Problem? = switch type {
        case .residentID: residentIDProblem(number, today: today)
        case .passport: matches(number, count: 5...17, allowed: { $0.isASCII && ($0.isLetter || $0.isNumber) }) ? nil : .passportFormat
        case .hongKongMacaoPermit: hongKongMacaoPermitProblem(number)
        case .taiwanPermit: number.count == 8 && number.allSatisfy(\.isASCIIDigit) ? nil : .taiwanPermitFormat
        case .foreignPermanentResidence: permanentResidenceProblem(number, today: today)
        case .unifiedSocialCreditCode: usccProblem(number)
        }
        if let problem { return .failure(problem) }
        return .success(SubjectIdentifier(type: type, number: number))
    }

    // MARK: GB 11643 — citizen identity number

    static let idWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let idCheckCharacters = Array("10X98765432")

    /// The GB 11643 check character of the first 17 digits (ISO 7064 MOD 11-2); public so that fixtures and the
    /// benchmark can make valid numbers.
    public static func idCheckCharacter(_ digits: some Collection<Character>) -> Character? {
        guard digits.count == 17 else { return nil }
        var sum = 0
        for (character, weight) in zip(digits, idWeights) {
            guard let value = character.wholeNumberValue, character.isASCII else { return nil }
            sum += value * weight
        }
        return idCheckCharacters[sum % 11]
    }

    static func residentIDProblem(_ number: String, today: Date) -> Problem? {
        if number.count == 15, number.allSatisfy(\.isASCIIDigit) { return .fifteenDigitID }
        guard number.count == 18, number.prefix(17).allSatisfy(\.isASCIIDigit), let last = number.last, last.isASCIIDigit || last == "X" else {
            return .idFormat
        }
        guard RegionCode(String(number.prefix(6))) != nil || ["81", "82", "83"].contains(String(number.prefix(2))) else { return .idRegion }
        guard isRealBirthDate(String(number.dropFirst(6).prefix(8)), today: today) else { return .idBirthDate }
        return idCheckCharacter(number.prefix(17)) == last ? nil : .idCheckDigit
    }

    /// `YYYYMMDD`, a day that exists, from 1900 up to today (China Standard Time).
    static func isRealBirthDate(_ text: String, today: Date) -> Bool {
        guard text.count == 8, let year = Int(text.prefix(4)), let month = Int(text.dropFirst(4).prefix(2)), let day = Int(text.suffix(2)) else {
            return false
        }
        let calendar = ChinaStandardTime.calendar
        guard year >= 1900, let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
              calendar.component(.month, from: date) == month, calendar.component(.day, from: date) == day
        else { return false }
        return date <= today
    }

    // MARK: Permits

    /// 回乡证: `H` (Hong Kong) or `M` (Macao) and 8 digits; the older issue has 10 digits.
    static func hongKongMacaoPermitProblem(_ number: String) -> Problem? {
        guard let first = number.first, first == "H" || first == "M" else { return .hongKongMacaoPermitFormat }
        let digits = number.dropFirst()
        return (digits.count == 8 || digits.count == 10) && digits.allSatisfy(\.isASCIIDigit) ? nil : .hongKongMacaoPermitFormat
    }

    /// 外国人永久居留身份证: since 2023 18 digits beginning with 9, checked as a GB 11643 number; before that 15
    /// characters, three letters (the nationality) then 12 digits.
    static func permanentResidenceProblem(_ number: String, today: Date) -> Problem? {
        if number.count == 15 {
            return number.prefix(3).allSatisfy({ $0.isASCII && $0.isLetter }) && number.dropFirst(3).allSatisfy(\.isASCIIDigit)
                ? nil : .permanentResidenceFormat
        }
        guard number.count == 18, number.first == "9", number.prefix(17).allSatisfy(\.isASCIIDigit), let last = number.last,
              last.isASCIIDigit || last == "X"
        else { return .permanentResidenceFormat }
        guard isRealBirthDate(String(number.dropFirst(6).prefix(8)), today: today) else { return .idBirthDate }
        return idCheckCharacter(number.prefix(17)) == last ? nil : .idCheckDigit
    }

    // MARK: GB 32100 — unified social credit code

    /// The 31 characters of GB 32100, in value order (no I, O, Z, S, V).
    static let usccAlphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let usccWeights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    static func usccProblem(_ number: String) -> Problem? {
        let characters = Array(number)
        guard characters.count == 18, characters.allSatisfy(usccAlphabet.contains),
              characters[2..<8].allSatisfy(\.isASCIIDigit)
        else { return .usccFormat }
        var sum = 0
        for (character, weight) in zip(characters.prefix(17), usccWeights) {
            sum += usccAlphabet.firstIndex(of: character)! * weight
        }
        return usccAlphabet[(31 - sum % 31) % 31] == characters[17] ? nil : .usccCheckCharacter
    }

    static func matches(_ text: String, count: ClosedRange<Int>, allowed: (Character) -> Bool) -> Bool {
        count.contains(text.count) && text.allSatisfy(allowed)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
