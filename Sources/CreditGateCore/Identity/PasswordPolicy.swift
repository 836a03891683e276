/// The minimum strength of a password (R-05, 动态口令管理).
///
/// At least `minimumLength` characters from at least three of the four classes (lower, upper, digit, other), and
/// not containing the employee ID. Pure: it sees the candidate and the person, never a stored hash.
public struct PasswordPolicy: Sendable {
    public var minimumLength: Int
    public var minimumClasses: Int

    public init(minimumLength: Int = 12, minimumClasses: Int = 3) {
        self.minimumLength = minimumLength
        self.minimumClasses = minimumClasses
    }

    /// Why a password is refused; each case has a catalogue key the console and CLI show.
    public enum Violation: String, Sendable, Equatable {
        case tooShort = "password_too_short"
        case tooFewClasses = "password_too_few_classes"
        case containsEmployeeID = "password_contains_employee_id"
    }

    /// All the reasons the candidate is refused; empty when it is acceptable.
    public func violations(of candidate: String, employeeID: EmployeeID) -> [Violation] {
        var found: [Violation] = []
        if candidate.count < minimumLength { found.append(.tooShort) }
        var classes = 0
        if candidate.contains(where: { $0.isLowercase }) { classes += 1 }
        if candidate.contains(where: { $0.isUppercase }) { classes += 1 }
        if candidate.contains(where: { $0.isNumber }) { classes += 1 }
        if candidate.contains(where: { !$0.isLetter && !$0.isNumber }) { classes += 1 }
        if classes < minimumClasses { found.append(.tooFewClasses) }
        if candidate.uppercased().contains(employeeID.value) { found.append(.containsEmployeeID) }
        return found
    }
}
