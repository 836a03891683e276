import Foundation

/// 责任矩阵: the responsible persons of an organisation unit for credit-information security.
public enum Responsibility: String, Codable, Sendable, CaseIterable {
    /// 信息安全领导小组组长: the head of the leading group, the first responsible person.
    case leadingGroupHead = "leading_group_head"
    /// 领导责任人
    case leadership
    /// 管理责任人
    case management
    /// 直接责任人
    case direct
    /// 第一直接责任人
    case firstDirect = "first_direct"

    public var nameKey: String { "responsibility_\(rawValue)" }
}

/// One named responsible person of a unit. The person is named as written; `userID` links the account when they
/// have one (a bank president may not).
public struct ResponsibilityAssignment: Sendable, Equatable {
    public let organisationID: Organisation.ID
    public let responsibility: Responsibility
    public let personName: String
    public let userID: User.ID?
    public let assignedAt: Date

    public init(organisationID: Organisation.ID, responsibility: Responsibility, personName: String, userID: User.ID?, assignedAt: Date) {
        self.organisationID = organisationID
        self.responsibility = responsibility
        self.personName = personName
        self.userID = userID
        self.assignedAt = assignedAt
    }
}

/// A compliance training session and who attended with what result.
public struct TrainingCourse: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<TrainingCourse>

    public struct Attendance: Sendable, Equatable {
        public let userID: User.ID
        /// The result of the course's test, out of 100, when it had one.
        public let score: Int?
        public let passed: Bool

        public init(userID: User.ID, score: Int?, passed: Bool) {
            self.userID = userID
            self.score = score
            self.passed = passed
        }
    }

    public let id: ID
    public let title: String
    /// The day it was held, `YYYY-MM-DD` (China Standard Time, as the bank's calendar).
    public let heldOn: String
    public let organisationID: Organisation.ID
    public let attendance: [Attendance]

    public init(id: ID, title: String, heldOn: String, organisationID: Organisation.ID, attendance: [Attendance]) {
        self.id = id
        self.title = title
        self.heldOn = heldOn
        self.organisationID = organisationID
        self.attendance = attendance
    }

    /// Whether a date text is a real calendar day in `YYYY-MM-DD`.
    public static func isValidDay(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (2000...2100).contains(year), (1...12).contains(month), day >= 1
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }
}

/// 年度培训覆盖: who still needs this year's compliance training (R-08: at least yearly for administrators and query
/// users).
public enum TrainingCoverage {
    /// The roles that must be trained every year.
    public static let requiredRoles: Set<Role> = [.creditAdministrator, .queryOperator, .approver, .dataOfficer]

    /// Active accounts holding a required role with no passed attendance at a course held in `year`.
    public static func untrained(users: [User], courses: [TrainingCourse], year: Int) -> [User] {
        let prefix = String(format: "%04d-", year)
        let trained = Set(courses.filter { $0.heldOn.hasPrefix(prefix) }.flatMap { $0.attendance.filter(\.passed).map(\.userID) })
        return users.filter { $0.status == .active && !$0.roles.isDisjoint(with: requiredRoles) && !trained.contains($0.id) }
    }
}
