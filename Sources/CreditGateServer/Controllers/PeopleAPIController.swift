import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird

/// The JSON API of people and access: finishing one's own set-up, organisation units, accounts, HR status, the
/// access exam, access requests, the automatic suspension, responsibility and training. Each route group names
/// the one permission it needs; the services apply the actor's scope.
struct PeopleAPIController {
    let authentication: AuthenticationService
    let administration: AccountAdministration
    let access: AccessService
    let suspension: SuspensionService
    let responsibility: ResponsibilityService
    let clock: @Sendable () -> Date

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.group("me").add(middleware: RequireSession())
            .post("password", use: changePassword)
            .post("second-factor", use: beginEnrolment)
            .post("second-factor/confirmation", use: confirmEnrolment)
        group.group().add(middleware: RequirePermission(.organisationsRead)).get("organisations", use: organisations)
        group.group().add(middleware: RequirePermission(.organisationsManage))
            .post("organisations", use: createOrganisation)
            .patch("organisations/{id}", use: updateOrganisation)
        group.group().add(middleware: RequirePermission(.usersRead))
            .get("users", use: users)
            .get("users/{id}", use: user)
            .get("users/{id}/bound-networks", use: boundNetworks)
        group.group().add(middleware: RequirePermission(.usersManage))
            .post("users", use: openAccount)
            .put("users/{id}/roles", use: setRoles)
            .post("users/{id}/transfer", use: transfer)
            .post("users/{id}/organisation-confirmation", use: confirmOrganisation)
            .post("users/{id}/password-reset", use: resetPassword)
            .post("users/{id}/second-factor-reset", use: resetSecondFactor)
            .post("users/{id}/suspension", use: suspend)
            .post("users/{id}/reinstatement", use: reinstate)
            .post("users/{id}/exam-permits", use: grantExamPermit)
            .put("users/{id}/bound-networks", use: setBoundNetworks)
        group.group().add(middleware: RequirePermission(.hrUpdate))
            .put("hr/employment/{employeeId}", use: setEmployment)
            .post("hr/employment-imports", use: importEmployment)
        group.group().add(middleware: RequirePermission(.examManage)).post("exam/question-banks", use: importBank)
        group.group().add(middleware: RequirePermission(.examTake))
            .get("exam/attempts", use: attempts)
            .post("exam/attempts", use: startExam)
            .post("exam/attempts/{id}/submission", use: submitExam)
        group.group().add(middleware: RequirePermission(.consoleUse)).get("access-requests", use: accessRequests)
        group.group().add(middleware: RequirePermission(.accessApprove)).post("access-requests/{id}/decisions", use: decide)
        group.group().add(middleware: RequirePermission(.suspensionRead)).get("suspension-runs", use: suspensionRuns)
        group.group().add(middleware: RequirePermission(.suspensionRun)).post("suspension-runs", use: runSuspension)
        group.group().add(middleware: RequirePermission(.responsibilityRead))
            .get("responsibilities", use: responsibilities)
            .get("training/courses", use: courses)
            .get("training/coverage", use: coverage)
        group.group().add(middleware: RequirePermission(.responsibilityManage))
            .put("responsibilities", use: assignResponsibility)
            .post("training/courses", use: recordCourse)
    }

    // MARK: One's own set-up

    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> StageResponse {
        let body = try await JSONBody.decode(ChangePasswordRequest.self, from: request, context: context)
        let stage = try await authentication.changePassword(try context.requireIdentity(), current: body.currentPassword,
                                                            new: body.newPassword, clientIP: context.clientIP)
        return StageResponse(stage: stage.rawValue)
    }

    @Sendable func beginEnrolment(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<EnrolmentResponse> {
        let identity = try context.requireIdentity()
        let enrolment = try await authentication.beginEnrolment(identity, label: Localizer(context.language)("totp_qr_label"))
        return EditedResponse(status: .created, response: EnrolmentResponse(secret: enrolment.secret, uri: enrolment.uri, qrSvg: enrolment.qrSVG))
    }

    @Sendable func confirmEnrolment(_ request: Request, context: AppRequestContext) async throws -> StageResponse {
        let body = try await JSONBody.decode(CodeRequest.self, from: request, context: context)
        let stage = try await authentication.confirmEnrolment(try context.requireIdentity(), code: body.code, clientIP: context.clientIP)
        return StageResponse(stage: stage.rawValue)
    }

    // MARK: Organisation units

    @Sendable func organisations(_ request: Request, context: AppRequestContext) async throws -> OrganisationList {
        OrganisationList(organisations: try await administration.visibleOrganisations(for: try context.requireIdentity()).map(OrganisationDTO.init))
    }

    @Sendable func createOrganisation(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<OrganisationDTO> {
        let body = try await JSONBody.decode(CreateOrganisationRequest.self, from: request, context: context)
        guard let kind = Organisation.Kind(rawValue: body.kind) else { throw CreditGateError(.validationFailed, detailKey: "org_kind_parent_mismatch") }
        let unit = try await administration.createOrganisation(
            by: try context.requireIdentity(), code: body.code, name: body.name, kind: kind, parentID: body.parentId.map(Organisation.ID.init),
            regionCode: body.regionCode, networks: body.networks ?? [], clientIP: context.clientIP)
        return EditedResponse(status: .created, response: OrganisationDTO(unit))
    }

    @Sendable func updateOrganisation(_ request: Request, context: AppRequestContext) async throws -> OrganisationDTO {
        let body = try await JSONBody.decode(UpdateOrganisationRequest.self, from: request, context: context)
        return OrganisationDTO(try await administration.updateOrganisation(
            by: try context.requireIdentity(), id: .init(try context.parameters.require("id")), name: body.name,
            regionCode: body.regionCode, networks: body.networks, clientIP: context.clientIP))
    }

    // MARK: Accounts

    @Sendable func users(_ request: Request, context: AppRequestContext) async throws -> UserList {
        UserList(users: try await administration.visibleUsers(for: try context.requireIdentity()).map(UserDTO.init))
    }

    @Sendable func user(_ request: Request, context: AppRequestContext) async throws -> UserDTO {
        UserDTO(try await administration.user(try Self.userID(context), for: try context.requireIdentity()))
    }

    @Sendable func openAccount(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<OpenedAccountResponse> {
        let body = try await JSONBody.decode(CreateUserRequest.self, from: request, context: context)
        let opened = try await administration.openAccount(
            by: try context.requireIdentity(), employeeID: body.employeeId, displayName: body.displayName,
            organisationID: .init(body.organisationId), roles: try RequestValues.roles(body.roles), clientIP: context.clientIP)
        return EditedResponse(status: .created, response: OpenedAccountResponse(user: UserDTO(opened.user), initialPassword: opened.initialPassword))
    }

    @Sendable func setRoles(_ request: Request, context: AppRequestContext) async throws -> UserDTO {
        let body = try await JSONBody.decode(RolesRequest.self, from: request, context: context)
        return UserDTO(try await administration.setRoles(by: try context.requireIdentity(), of: try Self.userID(context),
                                                         to: try RequestValues.roles(body.roles), clientIP: context.clientIP))
    }

    @Sendable func transfer(_ request: Request, context: AppRequestContext) async throws -> UserDTO {
        let body = try await JSONBody.decode(TransferRequest.self, from: request, context: context)
        return UserDTO(try await administration.transfer(by: try context.requireIdentity(), try Self.userID(context),
                                                         to: .init(body.organisationId), clientIP: context.clientIP))
    }

    @Sendable func confirmOrganisation(_ request: Request, context: AppRequestContext) async throws -> UserDTO {
        UserDTO(try await administration.confirmOrganisation(by: try context.requireIdentity(), try Self.userID(context), clientIP: context.clientIP))
    }

    @Sendable func resetPassword(_ request: Request, context: AppRequestContext) async throws -> TemporaryPasswordResponse {
        TemporaryPasswordResponse(temporaryPassword: try await administration.resetPassword(
            by: try context.requireIdentity(), try Self.userID(context), clientIP: context.clientIP))
    }

    @Sendable func resetSecondFactor(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        try await administration.resetSecondFactor(by: try context.requireIdentity(), try Self.userID(context), clientIP: context.clientIP)
        return .noContent
    }

    @Sendable func suspend(_ request: Request, context: AppRequestContext) async throws -> UserDTO {
        UserDTO(try await administration.suspend(by: try context.requireIdentity(), try Self.userID(context), clientIP: context.clientIP))
    }

    @Sendable func reinstate(_ request: Request, context: AppRequestContext) async throws -> UserDTO {
        UserDTO(try await administration.reinstate(by: try context.requireIdentity(), try Self.userID(context), clientIP: context.clientIP))
    }

    @Sendable func grantExamPermit(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        try await administration.grantExamPermit(by: try context.requireIdentity(), try Self.userID(context), clientIP: context.clientIP)
        return .noContent
    }

    // MARK: HR status

    @Sendable func setEmployment(_ request: Request, context: AppRequestContext) async throws -> UserDTO {
        let body = try await JSONBody.decode(EmploymentRequest.self, from: request, context: context)
        guard let employment = Employment(rawValue: body.status) else { throw CreditGateError(.validationFailed, detailKey: "hr_status_unknown") }
        return UserDTO(try await administration.setEmployment(by: try context.requireIdentity(), employeeID: try context.parameters.require("employeeId"),
                                                              to: employment, clientIP: context.clientIP))
    }

    @Sendable func importEmployment(_ request: Request, context: AppRequestContext) async throws -> ImportResponse {
        let text = try await Self.textBody(request, context: context, types: ["text/csv", "text/plain"])
        let result = try await administration.importEmployment(by: try context.requireIdentity(), text: text, clientIP: context.clientIP)
        let local = Localizer(context.language)
        return ImportResponse(applied: result.applied, problems: result.problems.map { .init(line: $0.line, reason: local($0.reasonKey)) })
    }

    @Sendable func boundNetworks(_ request: Request, context: AppRequestContext) async throws -> NetworkList {
        let networks = try await administration.boundNetworks(of: .init(try context.parameters.require("id")), for: try context.requireIdentity())
        return NetworkList(networks: networks.map(\.description))
    }

    @Sendable func setBoundNetworks(_ request: Request, context: AppRequestContext) async throws -> NetworkList {
        let body = try await JSONBody.decode(NetworkList.self, from: request, context: context)
        let networks = try await administration.setBoundNetworks(by: try context.requireIdentity(), of: .init(try context.parameters.require("id")),
                                                                 to: body.networks, clientIP: context.clientIP)
        return NetworkList(networks: networks.map(\.description))
    }

    // MARK: The access exam

    @Sendable func importBank(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<QuestionBankResponse> {
        let text = try await Self.textBody(request, context: context, types: ["application/json"])
        let stored = try await access.importBank(Data(text.utf8), by: try context.requireIdentity(), clientIP: context.clientIP)
        return EditedResponse(status: .created, response: QuestionBankResponse(id: stored.id, sha256: stored.sha256, questions: stored.bank.questions.count))
    }

    @Sendable func attempts(_ request: Request, context: AppRequestContext) async throws -> ExamAttemptList {
        ExamAttemptList(attempts: try await access.attempts(for: try context.requireIdentity()).map(ExamAttemptDTO.init))
    }

    @Sendable func startExam(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ExamPaperResponse> {
        let paper = try await access.start(for: try context.requireIdentity(), clientIP: context.clientIP)
        return EditedResponse(status: .created, response: ExamPaperResponse(paper))
    }

    @Sendable func submitExam(_ request: Request, context: AppRequestContext) async throws -> ExamResultResponse {
        let body = try await JSONBody.decode(SubmitExamRequest.self, from: request, context: context)
        let submission = try await access.submit(attemptID: try context.parameters.require("id"), answers: body.answers,
                                                 for: try context.requireIdentity(), clientIP: context.clientIP)
        return ExamResultResponse(attemptId: submission.attempt.id, score: submission.outcome.score, passMark: submission.outcome.passMark,
                                  passed: submission.outcome.passed, late: submission.outcome.late, accessRequestId: submission.request?.id.rawValue)
    }

    // MARK: Access requests

    @Sendable func accessRequests(_ request: Request, context: AppRequestContext) async throws -> AccessRequestList {
        AccessRequestList(requests: try await access.visibleRequests(for: try context.requireIdentity()).map(AccessRequestDTO.init))
    }

    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> AccessRequestDTO {
        let body = try await JSONBody.decode(DecisionRequest.self, from: request, context: context)
        return AccessRequestDTO(try await access.decide(.init(try context.parameters.require("id")), approve: body.approve, comment: body.comment ?? "",
                                                        by: try context.requireIdentity(), clientIP: context.clientIP))
    }

    // MARK: Automatic suspension

    @Sendable func suspensionRuns(_ request: Request, context: AppRequestContext) async throws -> SuspensionRunList {
        SuspensionRunList(runs: try await suspension.recent().map(SuspensionRunDTO.init))
    }

    @Sendable func runSuspension(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<SuspensionRunDTO> {
        let run = try await suspension.run(trigger: "manual", by: try context.requireIdentity(), clientIP: context.clientIP)
        return EditedResponse(status: .created, response: SuspensionRunDTO(run))
    }

    // MARK: Responsibility and training

    @Sendable func responsibilities(_ request: Request, context: AppRequestContext) async throws -> ResponsibilityList {
        ResponsibilityList(responsibilities: try await responsibility.assignments(for: try context.requireIdentity()).map(ResponsibilityDTO.init))
    }

    @Sendable func assignResponsibility(_ request: Request, context: AppRequestContext) async throws -> ResponsibilityDTO {
        let body = try await JSONBody.decode(AssignResponsibilityRequest.self, from: request, context: context)
        guard let kind = Responsibility(rawValue: body.responsibility) else {
            throw CreditGateError(.validationFailed, detailKey: "responsibility_unknown")
        }
        return ResponsibilityDTO(try await responsibility.assign(
            by: try context.requireIdentity(), organisationID: .init(body.organisationId), responsibility: kind,
            personName: body.personName, userID: body.userId.map(User.ID.init), clientIP: context.clientIP))
    }

    @Sendable func courses(_ request: Request, context: AppRequestContext) async throws -> TrainingCourseList {
        TrainingCourseList(courses: try await responsibility.courses(for: try context.requireIdentity()).map(TrainingCourseDTO.init))
    }

    @Sendable func recordCourse(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TrainingCourseDTO> {
        let body = try await JSONBody.decode(RecordCourseRequest.self, from: request, context: context)
        let course = try await responsibility.recordCourse(
            by: try context.requireIdentity(), title: body.title, heldOn: body.heldOn, organisationID: .init(body.organisationId),
            attendance: body.attendance.map { .init(userID: .init($0.userId), score: $0.score, passed: $0.passed) }, clientIP: context.clientIP)
        return EditedResponse(status: .created, response: TrainingCourseDTO(course))
    }

    @Sendable func coverage(_ request: Request, context: AppRequestContext) async throws -> TrainingCoverageResponse {
        let year: Int
        if let text = request.uri.queryParameters["year"] {
            guard let parsed = Int(String(text)), (2000...2100).contains(parsed) else {
                throw CreditGateError(.invalidParameter, detailKey: "training_year_invalid")
            }
            year = parsed
        } else {
            year = ChinaStandardTime.year(of: clock())
        }
        return TrainingCoverageResponse(year: year, untrained: try await responsibility.untrained(for: try context.requireIdentity(), year: year).map(UserDTO.init))
    }

    // MARK: Helpers

    static func userID(_ context: AppRequestContext) throws -> User.ID {
        User.ID(try context.parameters.require("id"))
    }

    /// A UTF-8 text body of one of the given media types, within the size limit.
    static func textBody(_ request: Request, context: AppRequestContext, types: [String]) async throws -> String {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard types.contains(where: { contentType.hasPrefix($0) }) else {
            throw CreditGateError(.unsupportedMediaType, detailKey: "detail_unsupported_media_type", cause: "content type \(contentType)")
        }
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard let text = String(validating: Data(buffer: buffer), as: UTF8.self) else {
            throw CreditGateError(.badRequest, detailKey: "detail_not_utf8")
        }
        return text
    }
}
