import Foundation

/// 逐级审批: a request for query rights after a passed access exam, decided level by level up the organisation tree
/// . Each step belongs to one unit and is decided by a credit administrator of that unit; a refusal at any step
/// ends the request; approval at the last step grants query rights.
///
/// A state machine: ``handle(_:)`` checks an event against the rules and returns what the caller must do; it
/// performs nothing itself.
public struct AccessRequest: Sendable, Equatable, Identifiable {
    public typealias ID = TypedID<AccessRequest>

    public enum Status: String, Codable, Sendable, CaseIterable {
        case pending, approved, refused

        public var nameKey: String { "access_status_\(rawValue)" }
    }

    public struct Decision: Sendable, Equatable {
        public let step: Int
        public let approverID: User.ID
        public let approved: Bool
        public let comment: String
        public let decidedAt: Date

        public init(step: Int, approverID: User.ID, approved: Bool, comment: String, decidedAt: Date) {
            self.step = step
            self.approverID = approverID
            self.approved = approved
            self.comment = comment
            self.decidedAt = decidedAt
        }
    }

    public let id: ID
    public let applicantID: User.ID
    /// The exam attempt that opened the request.
    public let examAttemptID: String
    /// The unit whose credit administrator decides each step, lowest level first.
    public let chain: [Organisation.ID]
    public let createdAt: Date
    public private(set) var decisions: [Decision]
    public private(set) var status: Status

    public init(id: ID, applicantID: User.ID, examAttemptID: String, chain: [Organisation.ID], createdAt: Date,
                decisions: [Decision] = [], status: Status = .pending) {
        self.id = id
        self.applicantID = applicantID
        self.examAttemptID = examAttemptID
        self.chain = chain
        self.createdAt = createdAt
        self.decisions = decisions
        self.status = status
    }

    /// The step awaiting a decision, or `nil` once decided.
    public var currentStep: Int? { status == .pending ? decisions.count : nil }

    /// The unit whose administrator must decide now.
    public var awaitingUnit: Organisation.ID? { currentStep.map { chain[$0] } }

    /// The approval chain for an applicant: their own unit and the units above it, `levels` steps in all. Where the
    /// tree is shorter than that (an applicant at the head office), the top unit decides the remaining steps, by
    /// different people, so that every request still passes `levels` pairs of eyes.
    public static func chain(for applicantUnit: Organisation.ID, levels: Int, tree: OrganisationTree) -> [Organisation.ID] {
        let path = tree.path(from: applicantUnit).map(\.id)
        guard let top = path.last else { return [] }
        return (0..<max(1, levels)).map { $0 < path.count ? path[$0] : top }
    }

    /// Who is deciding.
    public struct Approver: Sendable, Equatable {
        public let userID: User.ID
        public let roles: Set<Role>
        public let organisationID: Organisation.ID

        public init(userID: User.ID, roles: Set<Role>, organisationID: Organisation.ID) {
            self.userID = userID
            self.roles = roles
            self.organisationID = organisationID
        }
    }

    public enum Event: Sendable {
        case decide(by: Approver, approve: Bool, comment: String, at: Date)
    }

    /// Why a decision is not accepted; each is a catalogue key.
    public enum Refusal: String, Sendable, Equatable {
        /// 不得审批本人申请: nobody decides their own request.
        case ownRequest = "access_refusal_own_request"
        /// One person decides at most one step: two levels mean two people.
        case alreadyDecided = "access_refusal_already_decided"
        /// The step belongs to another unit's credit administrator.
        case notThisLevel = "access_refusal_not_this_level"
        case notPending = "access_refusal_not_pending"
        /// A refusal must say why, so the applicant and the inspector can read it.
        case reasonRequired = "access_refusal_reason_required"
    }

    public enum Action: Sendable, Equatable {
        /// Store the decision; more steps follow.
        case recordStep(Decision)
        /// Store the decision and grant query rights: the last step approved.
        case grantQueryRights(Decision)
        /// Store the decision and close the request refused.
        case close(Decision)
        case reject(Refusal)
    }

    /// Applies a decision. On success the request's state already reflects it.
    public mutating func handle(_ event: Event) -> Action {
        switch event {
        case .decide(let approver, let approve, let comment, let time):
            guard let step = currentStep else { return .reject(.notPending) }
            guard approver.userID != applicantID else { return .reject(.ownRequest) }
            guard !decisions.contains(where: { $0.approverID == approver.userID }) else { return .reject(.alreadyDecided) }
            guard approver.roles.contains(.creditAdministrator), approver.organisationID == chain[step] else {
                return .reject(.notThisLevel)
            }
            let reason = comment.trimmingCharacters(in: .whitespacesAndNewlines)
            guard approve || !reason.isEmpty else { return .reject(.reasonRequired) }
            let decision = Decision(step: step, approverID: approver.userID, approved: approve, comment: reason, decidedAt: time)
            decisions.append(decision)
            if !approve {
                status = .refused
                return .close(decision)
            }
            if decisions.count == chain.count {
                status = .approved
                return .grantQueryRights(decision)
            }
            return .recordStep(decision)
        }
    }
}
