import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird

/// The console pages of people and access: accounts and their administration, organisation units, the access
/// exam, and access requests with their level-by-level decisions.
struct PeopleConsoleController {
    let administration: AccountAdministration
    let access: AccessService
    let responsibility: ResponsibilityService
    let relatedParties: RelatedPartyService
    let renderer: ConsoleRenderer
    let clock: @Sendable () -> Date

    func addRoutes(to console: RouterGroup<AppRequestContext>) {
        console.group().add(middleware: RequirePermission(.usersRead))
            .get("users", use: users)
            .get("users/{id}", use: userDetail)
        console.group().add(middleware: RequirePermission(.usersManage))
            .post("users", use: openAccount)
            .post("users/{id}/actions", use: userAction)
        console.group().add(middleware: RequirePermission(.organisationsRead)).get("organisations", use: organisations)
        console.group().add(middleware: RequirePermission(.organisationsManage)).post("organisations", use: createOrganisation)
        console.group().add(middleware: RequirePermission(.examTake))
            .get("exam", use: exam)
            .post("exam", use: startExam)
            .post("exam/{id}", use: submitExam)
        console.group().add(middleware: RequirePermission(.responsibilityRead)).get("responsibility", use: responsibilityPage)
        console.group().add(middleware: RequirePermission(.responsibilityManage))
            .post("responsibility", use: assignResponsibility)
            .post("training", use: recordCourse)
        console.group().add(middleware: RequirePermission(.consoleUse)).get("access-requests", use: accessRequests)
        console.group().add(middleware: RequirePermission(.accessApprove)).post("access-requests/{id}", use: decide)
    }

    private func submitting(_ context: AppRequestContext, keepNotFound: Bool = false, _ action: () async throws -> Response,
                            showingRefusalOn page: ([String: Any], HTTPResponse.Status) async throws -> Response) async throws -> Response {
        try await ConsoleForms.submitting(context, keepNotFound: keepNotFound, action, showingRefusalOn: page)
    }

    // MARK: Accounts

    @Sendable func users(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await usersPage(context: context, extra: [:], status: .ok)
    }

    private func usersPage(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let identity = try context.requireIdentity()
        let local = Localizer(context.language)
        let units = try await administration.visibleOrganisations(for: identity)
        var page = ConsolePages.users(try await administration.visibleUsers(for: identity), organisations: units, local)
        if identity.permissions.contains(.usersManage) {
            page["canManage"] = true
            page["units"] = units.map { ["id": $0.id.rawValue, "name": "\($0.code) \($0.name)"] }
            page["grantable"] = Role.grantable(by: identity.user.roles).sorted().map { ["value": $0.rawValue, "label": local($0.nameKey)] }
        }
        page.merge(extra) { _, new in new }
        return renderer.page("users", titleKey: "users_title", context: context, page: page, status: status)
    }

    @Sendable func openAccount(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await submitting(context, {
            let roles = try RequestValues.roles(form.all["roles"] ?? [])
            let opened = try await administration.openAccount(
                by: try context.requireIdentity(), employeeID: form["employee_id"] ?? "", displayName: form["display_name"] ?? "",
                organisationID: .init(form["organisation_id"] ?? ""), roles: roles, clientIP: context.clientIP)
            return try await usersPage(context: context, extra: [
                "opened": ["employeeID": opened.user.employeeID.value, "password": opened.initialPassword],
            ], status: .created)
        }, showingRefusalOn: { try await usersPage(context: context, extra: $0, status: $1) })
    }

    @Sendable func userDetail(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await detailPage(id: .init(try context.parameters.require("id")), context: context, extra: [:], status: .ok)
    }

    private func detailPage(id: User.ID, context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let identity = try context.requireIdentity()
        let user = try await administration.user(id, for: identity)
        let units = try await administration.visibleOrganisations(for: identity)
        let local = Localizer(context.language)
        let canManage = identity.permissions.contains(.usersManage) && identity.user.id != user.id
        var page = ConsolePages.userDetail(user, organisations: units, canManage: canManage, local)
        let bound = try await administration.boundNetworks(of: user.id, for: identity)
        if !bound.isEmpty { page["boundNetworks"] = bound.map(\.description).joined(separator: "\n") }
        if canManage {
            page["canEdit"] = true
            let grantable = Role.grantable(by: identity.user.roles)
            page["roleChoices"] = Role.allCases.filter { grantable.contains($0) || user.roles.contains($0) }.map {
                ["value": $0.rawValue, "label": local($0.nameKey), "checked": user.roles.contains($0), "locked": !grantable.contains($0)]
            }
            page["units"] = units.filter { $0.id != user.organisationID }.map { ["id": $0.id.rawValue, "name": "\($0.code) \($0.name)"] }
        }
        if canManage, RelatedParty.mayBeKept(by: identity.user.roles) {
            page["keepsRelatedParties"] = true
            let registered = try await relatedParties.parties(of: user.id, for: identity)
            page["hasRelatedParties"] = !registered.isEmpty
            page["relatedParties"] = registered.map {
                ["id": $0.id.rawValue, "relation": local($0.relation.labelKey), "masked": $0.maskedIdentifier,
                 "type": local($0.subjectType.nameKey), "declaredAt": ConsolePages.time($0.declaredAt, local)]
            }
            page["relationChoices"] = RelatedParty.Relation.allCases.map { ["value": $0.rawValue, "label": local($0.labelKey)] }
            page["personalTypes"] = CertificateType.allCases.filter { !$0.isCorporate }.map { ["value": $0.rawValue, "label": local($0.nameKey)] }
        }
        page.merge(extra) { _, new in new }
        return renderer.page("user-detail", titleKey: "user_detail_title", context: context, page: page, status: status)
    }

    @Sendable func userAction(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let id = User.ID(try context.parameters.require("id"))
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        let local = Localizer(context.language)
        return try await submitting(context, keepNotFound: true, {
            var extra: [String: Any] = ["done": local("user_action_done")]
            switch form["action"] ?? "" {
            case "password_reset":
                extra["temporaryPassword"] = try await administration.resetPassword(by: identity, id, clientIP: context.clientIP)
            case "second_factor_reset": try await administration.resetSecondFactor(by: identity, id, clientIP: context.clientIP)
            case "suspend": _ = try await administration.suspend(by: identity, id, clientIP: context.clientIP)
            case "reinstate": _ = try await administration.reinstate(by: identity, id, clientIP: context.clientIP)
            case "exam_permit": try await administration.grantExamPermit(by: identity, id, clientIP: context.clientIP)
            case "confirm_organisation": _ = try await administration.confirmOrganisation(by: identity, id, clientIP: context.clientIP)
            case "roles":
                let roles = try RequestValues.roles(form.all["roles"] ?? [])
                _ = try await administration.setRoles(by: identity, of: id, to: roles, clientIP: context.clientIP)
            case "bound_networks":
                let texts = (form["networks"] ?? "").split(whereSeparator: { $0.isNewline || $0 == "," }).map(String.init)
                _ = try await administration.setBoundNetworks(by: identity, of: id, to: texts, clientIP: context.clientIP)
            case "related_party_add":
                _ = try await relatedParties.declare(.init(relation: form["relation"] ?? "", certificateType: form["certificate_type"] ?? "",
                                                           certificateNumber: form["certificate_number"] ?? ""),
                                                     for: id, by: identity, clientIP: context.clientIP)
            case "related_party_remove":
                try await relatedParties.remove(try RequestValues.formID(form["entry_id"]), of: id, by: identity, clientIP: context.clientIP)
            case "transfer":
                _ = try await administration.transfer(by: identity, id, to: .init(form["organisation_id"] ?? ""), clientIP: context.clientIP)
            default: throw CreditGateError(.validationFailed, detailKey: "user_action_unknown")
            }
            return try await detailPage(id: id, context: context, extra: extra, status: .ok)
        }, showingRefusalOn: { try await detailPage(id: id, context: context, extra: $0, status: $1) })
    }

    // MARK: Organisation units

    @Sendable func organisations(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await organisationsPage(context: context, extra: [:], status: .ok)
    }

    private func organisationsPage(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let identity = try context.requireIdentity()
        let local = Localizer(context.language)
        let units = try await administration.visibleOrganisations(for: identity)
        var page = ConsolePages.organisations(units, local)
        if identity.permissions.contains(.organisationsManage) {
            page["canManage"] = true
            page["parents"] = units.filter { $0.kind != .subBranch }.map { ["id": $0.id.rawValue, "name": "\($0.code) \($0.name)"] }
            page["kinds"] = Organisation.Kind.allCases.map { ["value": $0.rawValue, "label": local($0.nameKey)] }
        }
        page.merge(extra) { _, new in new }
        return renderer.page("organisations", titleKey: "orgs_title", context: context, page: page, status: status)
    }

    @Sendable func createOrganisation(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await submitting(context, {
            guard let kind = Organisation.Kind(rawValue: form["kind"] ?? "") else {
                throw CreditGateError(.validationFailed, detailKey: "org_kind_parent_mismatch")
            }
            let parent = (form["parent_id"] ?? "").isEmpty ? nil : Organisation.ID(form["parent_id"] ?? "")
            let networks = (form["networks"] ?? "").split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" || $0 == "\r" }).map(String.init)
            let unit = try await administration.createOrganisation(
                by: try context.requireIdentity(), code: form["code"] ?? "", name: form["name"] ?? "", kind: kind, parentID: parent,
                regionCode: form["region_code"] ?? "", networks: networks, clientIP: context.clientIP)
            return try await organisationsPage(context: context, extra: ["created": "\(unit.code) \(unit.name)"], status: .created)
        }, showingRefusalOn: { try await organisationsPage(context: context, extra: $0, status: $1) })
    }

    // MARK: The access exam

    @Sendable func exam(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await examPage(context: context, paper: nil, extra: [:], status: .ok)
    }

    private func examPage(context: AppRequestContext, paper: AccessService.Paper?, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let identity = try context.requireIdentity()
        let attempts = try await access.attempts(for: identity)
        var page = ConsolePages.exam(user: identity.user, attempts: attempts, paper: paper, language: context.language, Localizer(context.language))
        page.merge(extra) { _, new in new }
        return renderer.page("exam", titleKey: "exam_title", context: context, page: page, status: status)
    }

    @Sendable func startExam(_ request: Request, context: AppRequestContext) async throws -> Response {
        return try await submitting(context, {
            let paper = try await access.start(for: try context.requireIdentity(), clientIP: context.clientIP)
            return try await examPage(context: context, paper: paper, extra: [:], status: .ok)
        }, showingRefusalOn: { try await examPage(context: context, paper: nil, extra: $0, status: $1) })
    }

    @Sendable func submitExam(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        var answers: [String: Int] = [:]
        for (name, value) in form.fields where name.hasPrefix("q_") {
            if let position = Int(value) { answers[String(name.dropFirst(2))] = position }
        }
        let local = Localizer(context.language)
        return try await submitting(context, keepNotFound: true, {
            let submission = try await access.submit(attemptID: try context.parameters.require("id"), answers: answers,
                                                     for: try context.requireIdentity(), clientIP: context.clientIP)
            let message = local(submission.outcome.passed ? "exam_passed" : submission.outcome.late ? "exam_late" : "exam_failed")
                .replacingOccurrences(of: "{score}", with: String(submission.outcome.score))
                .replacingOccurrences(of: "{mark}", with: String(submission.outcome.passMark))
            return try await examPage(context: context, paper: nil, extra: [submission.outcome.passed ? "passed" : "failed": message], status: .ok)
        }, showingRefusalOn: { try await examPage(context: context, paper: nil, extra: $0, status: $1) })
    }

    // MARK: Responsibility and training

    @Sendable func responsibilityPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await responsibilityPage(context: context, extra: [:], status: .ok)
    }

    private func responsibilityPage(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let identity = try context.requireIdentity()
        let year = ChinaStandardTime.year(of: clock())
        var page = ConsolePages.responsibility(
            units: try await administration.visibleOrganisations(for: identity), assignments: try await responsibility.assignments(for: identity),
            courses: try await responsibility.courses(for: identity), users: try await administration.visibleUsers(for: identity),
            untrained: try await responsibility.untrained(for: identity, year: year), year: year,
            canManage: identity.permissions.contains(.responsibilityManage), Localizer(context.language))
        page.merge(extra) { _, new in new }
        return renderer.page("responsibility", titleKey: "responsibility_title", context: context, page: page, status: status)
    }

    @Sendable func assignResponsibility(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        let local = Localizer(context.language)
        return try await submitting(context, {
            guard let kind = Responsibility(rawValue: form["responsibility"] ?? "") else {
                throw CreditGateError(.validationFailed, detailKey: "responsibility_unknown")
            }
            let linked = (form["user_id"] ?? "").isEmpty ? nil : User.ID(form["user_id"] ?? "")
            _ = try await responsibility.assign(by: try context.requireIdentity(), organisationID: .init(form["organisation_id"] ?? ""),
                                                responsibility: kind, personName: form["person_name"] ?? "", userID: linked, clientIP: context.clientIP)
            return try await responsibilityPage(context: context, extra: ["done": local("user_action_done")], status: .ok)
        }, showingRefusalOn: { try await responsibilityPage(context: context, extra: $0, status: $1) })
    }

    @Sendable func recordCourse(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        let local = Localizer(context.language)
        return try await submitting(context, {
            let attendance = (form.all["attendee"] ?? []).map { TrainingCourse.Attendance(userID: .init($0), score: nil, passed: true) }
            _ = try await responsibility.recordCourse(by: try context.requireIdentity(), title: form["title"] ?? "", heldOn: form["held_on"] ?? "",
                                                      organisationID: .init(form["organisation_id"] ?? ""), attendance: attendance,
                                                      clientIP: context.clientIP)
            return try await responsibilityPage(context: context, extra: ["done": local("user_action_done")], status: .created)
        }, showingRefusalOn: { try await responsibilityPage(context: context, extra: $0, status: $1) })
    }

    // MARK: Access requests

    @Sendable func accessRequests(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await requestsPage(context: context, extra: [:], status: .ok)
    }

    private func requestsPage(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let identity = try context.requireIdentity()
        let requests = try await access.visibleRequests(for: identity)
        let units = try await administration.visibleOrganisations(for: identity)
        let people = identity.permissions.contains(.usersRead) ? try await administration.visibleUsers(for: identity) : [identity.user]
        var page = ConsolePages.accessRequests(requests, viewer: identity, users: people, organisations: units, Localizer(context.language))
        page.merge(extra) { _, new in new }
        return renderer.page("access-requests", titleKey: "access_title", context: context, page: page, status: status)
    }

    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        let local = Localizer(context.language)
        return try await submitting(context, keepNotFound: true, {
            _ = try await access.decide(.init(try context.parameters.require("id")), approve: form["decision"] == "approve",
                                        comment: form["comment"] ?? "", by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await requestsPage(context: context, extra: ["done": local("access_decided")], status: .ok)
        }, showingRefusalOn: { try await requestsPage(context: context, extra: $0, status: $1) })
    }
}
