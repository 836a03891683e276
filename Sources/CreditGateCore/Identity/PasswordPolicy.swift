import Foundation

/// The password rules (R-05, 动态口令管理).
///
/// At least `minimumLength` characters from at least three of the four classes (lower, upper, digit, other); not
/// containing the employee ID or the person's name; not a common password, even decorated with digits or symbols at
/// the end (`Password2024!`); changed every `maximumAge`; not one of the last `historyDepth`. Pure: it sees the
/// candidate and the person, never a stored hash — the history is checked by whoever holds the hashes, and reported
/// with ``Violation/reused``.
public struct PasswordPolicy: Sendable {
    public var minimumLength: Int
    public var minimumClasses: Int
    /// Longer input is refused so that a hash of a megabyte-long "password" cannot be used to tie up the server.
    public var maximumLength: Int
    public var maximumAge: TimeInterval
    public var historyDepth: Int
    /// Lower-case common passwords (the bundled list); empty means none are known.
    public var commonPasswords: Set<String>

    public init(minimumLength: Int = 12, minimumClasses: Int = 3, maximumLength: Int = 128,
                maximumAge: TimeInterval = 90 * 86_400, historyDepth: Int = 5, commonPasswords: Set<String> = []) {
        self.minimumLength = minimumLength
        self.minimumClasses = minimumClasses
        self.maximumLength = maximumLength
        self.maximumAge = maximumAge
        self.historyDepth = historyDepth
        self.commonPasswords = commonPasswords
    }

    /// Why a password is refused; each case is a catalogue key the console, the API and the CLI show.
    public enum Violation: String, Sendable, Equatable, CaseIterable {
        case tooShort = "password_too_short"
        case tooLong = "password_too_long"
        case tooFewClasses = "password_too_few_classes"
        case containsEmployeeID = "password_contains_employee_id"
        case containsName = "password_contains_name"
        case common = "password_common"
        case reused = "password_reused"
    }

    /// All the reasons the candidate is refused, in a stable order; empty when it is acceptable.
    public func violations(of candidate: String, employeeID: EmployeeID, name: String = "") -> [Violation] {
        var found: [Violation] = []
        if candidate.count < minimumLength { found.append(.tooShort) }
        if candidate.count > maximumLength { found.append(.tooLong) }
        var classes = 0
        if candidate.contains(where: { $0.isLowercase }) { classes += 1 }
        if candidate.contains(where: { $0.isUppercase }) { classes += 1 }
        if candidate.contains(where: { $0.isNumber }) { classes += 1 }
        if candidate.contains(where: { !$0.isLetter && !$0.isNumber }) { classes += 1 }
        if classes < minimumClasses { found.append(.tooFewClasses) }
        let folded = candidate.lowercased()
        if folded.contains(employeeID.value.lowercased()) { found.append(.containsEmployeeID) }
        if Self.nameParts(name).contains(where: { folded.contains($0) }) { found.append(.containsName) }
        if isCommon(folded) { found.append(.common) }
        return found
    }

    /// Whether a password changed at `changedAt` must be changed before the holder may do anything else.
    public func isExpired(changedAt: Date, now: Date) -> Bool {
        now.timeIntervalSince(changedAt) >= maximumAge
    }

    /// The parts of a name a password may not contain: the whole name without spaces, and each word of three or
    /// more letters. A Chinese name (张伟) is checked whole, since two characters are already a name.
    static func nameParts(_ name: String) -> [String] {
        let folded = name.lowercased()
        let whole = folded.filter { !$0.isWhitespace && $0 != "·" && $0 != "." }
        var parts = whole.count >= 2 ? [whole] : []
        parts += folded.split(whereSeparator: { !$0.isLetter }).map(String.init).filter { $0.count >= 3 }
        return parts
    }

    /// A common password as it is, with symbols stripped from both ends (`qwerty123456!` → `qwerty123456`), with
    /// digits and symbols stripped (`!Password2024` → `password`), or with the usual letter-for-symbol swaps undone
    /// (`P@ssw0rd` → `password`).
    func isCommon(_ folded: String) -> Bool {
        guard !commonPasswords.isEmpty else { return false }
        func trimmed(_ text: String, keep: (Character) -> Bool) -> String {
            String(text.drop(while: { !keep($0) }).reversed().drop(while: { !keep($0) }).reversed())
        }
        let withoutSymbols = trimmed(folded) { $0.isLetter || $0.isNumber }
        let withoutDigits = trimmed(withoutSymbols) { !$0.isNumber }
        let unswapped = String(withoutDigits.map { Self.swaps[$0] ?? $0 })
        let stripped = trimmed(folded) { $0.isLetter }
        return [folded, withoutSymbols, withoutDigits, unswapped, stripped].contains { $0.count >= 4 && commonPasswords.contains($0) }
    }

    static let swaps: [Character: Character] = ["@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"]
}

/// Lockout and throttling of sign-in (R-05): five wrong passwords lock an account for fifteen minutes, and an
/// address that keeps failing is slowed down whichever accounts it tries.
public struct SignInLimits: Sendable, Equatable {
    public var maximumFailures: Int
    public var lockoutDuration: TimeInterval
    /// Failures from one client address within `addressWindow` after which it must wait.
    public var maximumFailuresPerAddress: Int
    public var addressWindow: TimeInterval

    public init(maximumFailures: Int = 5, lockoutDuration: TimeInterval = 15 * 60,
                maximumFailuresPerAddress: Int = 20, addressWindow: TimeInterval = 15 * 60) {
        self.maximumFailures = maximumFailures
        self.lockoutDuration = lockoutDuration
        self.maximumFailuresPerAddress = maximumFailuresPerAddress
        self.addressWindow = addressWindow
    }

    /// The lock's end once `attempts` unsuccessful attempts in a row have been counted, or `nil` below the maximum.
    /// Attempts are counted before the password is checked, so that guesses sent in parallel cannot all be checked
    /// against one snapshot of the count.
    public func lockedUntil(afterAttempts attempts: Int, now: Date) -> Date? {
        attempts >= maximumFailures ? now.addingTimeInterval(lockoutDuration) : nil
    }

    /// Whether an attempt numbered `attempt` (1-based, counted atomically) may still have its password checked.
    public func mayCheck(attempt: Int) -> Bool {
        attempt <= maximumFailures
    }

    public func isLocked(lockedUntil: Date?, now: Date) -> Bool {
        guard let lockedUntil else { return false }
        return now < lockedUntil
    }

    public func isAddressThrottled(recentFailures: Int) -> Bool {
        recentFailures >= maximumFailuresPerAddress
    }
}
