import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird

/// The JSON shapes of people and access, as described in `openapi.yaml`.
struct ChangePasswordRequest: Decodable {
    let currentPassword: String
    let newPassword: String
}

struct StageResponse: ResponseEncodable {
    let stage: String
}

struct EnrolmentResponse: ResponseEncodable {
    let secret: String
    let uri: String
    let qrSvg: String
}

struct CodeRequest: Decodable {
    let code: String
}

struct CreateOrganisationRequest: Decodable {
    let code: String
    let name: String
    let kind: String
    let parentId: String?
    let regionCode: String
    let networks: [String]?
}

struct UpdateOrganisationRequest: Decodable {
    let name: String?
    let regionCode: String?
    let networks: [String]?
}

struct CreateUserRequest: Decodable {
    let employeeId: String
    let displayName: String
    let organisationId: String
    let roles: [String]
}

struct OpenedAccountResponse: ResponseEncodable {
    let user: UserDTO
    /// Shown once; the person must change it at first sign-in.
    let initialPassword: String
}

struct RolesRequest: Decodable {
    let roles: [String]
}

struct TransferRequest: Decodable {
    let organisationId: String
}

struct TemporaryPasswordResponse: ResponseEncodable {
    let temporaryPassword: String
}

struct EmploymentRequest: Decodable {
    let status: String
}

struct ImportResponse: ResponseEncodable {
    struct Problem: Encodable {
        let line: Int
        let reason: String
    }

    let applied: Int
    let problems: [Problem]
}

struct QuestionBankResponse: ResponseEncodable {
    let id: String
    let sha256: String
    let questions: Int
}

struct ExamPaperResponse: ResponseEncodable {
    struct Question: Encodable {
        let id: String
        let topic: String
        let reference: BilingualText
        let prompt: BilingualText
        let options: [BilingualText]
    }

    let attemptId: String
    let startedAt: Date
    let deadline: Date
    let passMark: Int
    let strict: Bool
    let questions: [Question]

    init(_ paper: AccessService.Paper) {
        attemptId = paper.attempt.id
        startedAt = paper.attempt.startedAt
        deadline = paper.attempt.deadlineAt
        passMark = paper.attempt.passMark
        strict = paper.attempt.strict
        questions = paper.questions.map { Question(id: $0.id, topic: $0.topic, reference: $0.reference, prompt: $0.prompt, options: $0.options) }
    }
}

struct SubmitExamRequest: Decodable {
    /// Question ID → the position (0-based) of the chosen option as shown.
    let answers: [String: Int]
}

struct ExamResultResponse: ResponseEncodable {
    let attemptId: String
    let score: Int
    let passMark: Int
    let passed: Bool
    let late: Bool
    let accessRequestId: String?
}

struct ExamAttemptDTO: Encodable {
    let attemptId: String
    let startedAt: Date
    let deadline: Date
    let strict: Bool
    let passMark: Int
    let submittedAt: Date?
    let score: Int?
    let passed: Bool?

    init(_ attempt: ExamAttempt) {
        attemptId = attempt.id
        startedAt = attempt.startedAt
        deadline = attempt.deadlineAt
        strict = attempt.strict
        passMark = attempt.passMark
        submittedAt = attempt.submittedAt
        score = attempt.score
        passed = attempt.passed
    }
}

struct ExamAttemptList: ResponseEncodable {
    let attempts: [ExamAttemptDTO]
}

struct AccessRequestDTO: ResponseEncodable {
    struct Decision: Encodable {
        let step: Int
        let approverId: String
        let approved: Bool
        let comment: String
        let decidedAt: Date
    }

    let id: String
    let applicantId: String
    let status: String
    let chain: [String]
    let currentStep: Int?
    let createdAt: Date
    let decisions: [Decision]

    init(_ request: AccessRequest) {
        id = request.id.rawValue
        applicantId = request.applicantID.rawValue
        status = request.status.rawValue
        chain = request.chain.map(\.rawValue)
        currentStep = request.currentStep
        createdAt = request.createdAt
        decisions = request.decisions.map {
            Decision(step: $0.step, approverId: $0.approverID.rawValue, approved: $0.approved, comment: $0.comment, decidedAt: $0.decidedAt)
        }
    }
}

struct AccessRequestList: ResponseEncodable {
    let requests: [AccessRequestDTO]
}

struct DecisionRequest: Decodable {
    let approve: Bool
    let comment: String?
}

struct SuspensionRunDTO: ResponseEncodable {
    struct Item: Encodable {
        let userId: String
        let reason: String
    }

    let id: String
    let trigger: String
    let startedAt: Date
    let finishedAt: Date?
    let examined: Int
    let outcome: String
    let suspended: [Item]

    init(_ run: SuspensionRun) {
        id = run.id
        trigger = run.trigger
        startedAt = run.startedAt
        finishedAt = run.finishedAt
        examined = run.examined
        outcome = run.outcome
        suspended = run.items.map { Item(userId: $0.userID.rawValue, reason: $0.reason.rawValue) }
    }
}

struct SuspensionRunList: ResponseEncodable {
    let runs: [SuspensionRunDTO]
}

struct ResponsibilityDTO: ResponseEncodable {
    let organisationId: String
    let responsibility: String
    let personName: String
    let userId: String?
    let assignedAt: Date

    init(_ assignment: ResponsibilityAssignment) {
        organisationId = assignment.organisationID.rawValue
        responsibility = assignment.responsibility.rawValue
        personName = assignment.personName
        userId = assignment.userID?.rawValue
        assignedAt = assignment.assignedAt
    }
}

struct ResponsibilityList: ResponseEncodable {
    let responsibilities: [ResponsibilityDTO]
}

struct AssignResponsibilityRequest: Decodable {
    let organisationId: String
    let responsibility: String
    let personName: String
    let userId: String?
}

struct TrainingCourseDTO: ResponseEncodable {
    struct Attendance: Codable {
        let userId: String
        let score: Int?
        let passed: Bool
    }

    let id: String
    let title: String
    let heldOn: String
    let organisationId: String
    let attendance: [Attendance]

    init(_ course: TrainingCourse) {
        id = course.id.rawValue
        title = course.title
        heldOn = course.heldOn
        organisationId = course.organisationID.rawValue
        attendance = course.attendance.map { Attendance(userId: $0.userID.rawValue, score: $0.score, passed: $0.passed) }
    }
}

struct TrainingCourseList: ResponseEncodable {
    let courses: [TrainingCourseDTO]
}

struct RecordCourseRequest: Decodable {
    let title: String
    let heldOn: String
    let organisationId: String
    let attendance: [TrainingCourseDTO.Attendance]
}

struct TrainingCoverageResponse: ResponseEncodable {
    let year: Int
    let untrained: [UserDTO]
}

/// A person's bound addresses (绑定IP), as IPv4 or IPv6 CIDR.
struct NetworkList: ResponseEncodable, Decodable {
    let networks: [String]
}
