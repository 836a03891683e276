import CreditGateCore
import Foundation
import Hummingbird

/// The console pages of consent and the query path: the loan officer's consents and queries (each decision
/// explained in plain words), and the administrators' loan register and client-application registry.
struct QueryConsoleController {
    let consents: ConsentService
    let queries: QueryService
    let loans: LoanRegisterService
    let apps: ClientAppService
    let specialCases: SpecialQueryCaseService
    let exceptions: PolicyExceptionService
    /// Checks, without touching it, that a live stream's session is still usable.
    let authentication: AuthenticationService
    let liveStreams = LiveStreams()
    /// How long after the answer the report may be opened, to offer the viewer only while it will open.
    let reportViewingWindow: TimeInterval
    let administration: AccountAdministration
    let renderer: ConsoleRenderer
    let clock: @Sendable () -> Date

    func addRoutes(to console: RouterGroup<AppRequestContext>) {
        console.group().add(middleware: RequirePermission(.consentsRead)).get("consents", use: consentsPage)
        console.group().add(middleware: RequirePermission(.consentsUpload)).post("consents", use: fileConsent)
        console.group().add(middleware: RequirePermission(.consentsWithdraw)).post("consents/{id}/withdrawal", use: withdraw)
        console.group().add(middleware: RequirePermission(.consentsDocumentOpen)).get("consents/{id}/document", use: document)
        console.group().add(middleware: RequirePermission(.queriesMake))
            .get("queries", use: queriesPage)
            .post("queries", use: query)
            .get("queries/{id}", use: queryDetail)
            .post("special-cases", use: openCase)
            .post("exceptions", use: requestException)
            .post("exceptions/{id}/query", use: queryUnderException)
        console.group().add(middleware: RequirePermission(.exceptionsApprove))
            .get("exceptions", use: exceptionsPage)
            .post("exceptions/{id}", use: decideException)
        console.group().add(middleware: RequirePermission(.consoleUse)).get("exceptions/events", use: exceptionEvents)
        console.group().add(middleware: RequirePermission(.specialCasesApprove))
            .get("special-cases", use: casesPage)
            .post("special-cases/{id}", use: decideCase)
        console.group().add(middleware: RequirePermission(.loansRead)).get("loans", use: loansPage)
        console.group().add(middleware: RequirePermission(.loansManage))
            .post("loans", use: recordLoan)
            .post("loan-imports", use: importLoans)
        console.group().add(middleware: RequirePermission(.clientAppsRead)).get("client-apps", use: appsPage)
        console.group().add(middleware: RequirePermission(.clientAppsManage))
            .post("client-apps", use: registerApp)
            .post("client-apps/{id}/actions", use: appAction)
    }

    /// The purposes a consent can name.
    static func consentablePurposes(_ local: Localizer) -> [[String: Any]] {
        QueryPurpose.consentable.map { ["value": $0.code, "label": "\($0.code) \(local($0.nameKey))"] }
    }

    static func certificateOptions(_ local: Localizer) -> [[String: Any]] {
        CertificateType.allCases.map { ["value": $0.rawValue, "label": local($0.nameKey)] }
    }

    // MARK: Consents

    @Sendable func consentsPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await consentsPage(context: context, extra: [:], status: .ok)
    }

    private func consentsPage(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let identity = try context.requireIdentity()
        let local = Localizer(context.language)
        let today = CalendarDate(clock())
        var page: [String: Any] = [
            "consents": try await consents.consents(for: identity).map { consent -> [String: Any] in
                [
                    "id": consent.id.rawValue, "name": consent.subjectName, "type": local(consent.subject.type.nameKey),
                    "number": Masking.identifier(consent.subject.number),
                    "purposes": consent.purposes.map(\.code).sorted().map { "\($0) \(local("purpose_\($0)"))" }.joined(separator: local("list_separator")),
                    "signedOn": consent.signedOn.description, "validUntil": consent.validUntil.description,
                    "state": local(consent.withdrawal != nil ? "consent_state_withdrawn" : consent.validUntil > today ? "consent_state_valid" : "consent_state_expired"),
                    "withdrawable": consent.withdrawal == nil, "sha256": consent.document.sha256,
                ]
            },
            "canUpload": identity.permissions.contains(.consentsUpload),
            "canWithdraw": identity.permissions.contains(.consentsWithdraw),
            "canOpen": identity.permissions.contains(.consentsDocumentOpen),
            "purposes": Self.consentablePurposes(local),
            "certificateTypes": Self.certificateOptions(local),
        ]
        page.merge(extra) { _, new in new }
        return renderer.page("consents", titleKey: "consents_title", context: context, page: page, status: status)
    }

    @Sendable func fileConsent(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, {
            let consent = try await consents.file(ConsentFiling.from(form), by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await consentsPage(context: context, extra: ["filed": ["id": consent.id.rawValue, "sha256": consent.document.sha256]],
                                          status: .created)
        }, showingRefusalOn: { try await consentsPage(context: context, extra: $0, status: $1) })
    }

    @Sendable func withdraw(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, keepNotFound: true, {
            _ = try await consents.withdraw(try QueryAPIController.id(context), reason: form["reason"] ?? "", by: try context.requireIdentity(),
                                            clientIP: context.clientIP)
            return try await consentsPage(context: context, extra: ["done": Localizer(context.language)("consent_withdrawn_done")], status: .ok)
        }, showingRefusalOn: { try await consentsPage(context: context, extra: $0, status: $1) })
    }

    @Sendable func document(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (document, bytes) = try await consents.openDocument(try QueryAPIController.id(context), by: try context.requireIdentity(),
                                                                clientIP: context.clientIP)
        return Response(status: .ok, headers: [
            .contentType: document.mediaType.rawValue, .cacheControl: "no-store", .contentDisposition: "inline",
        ], body: .init(byteBuffer: ByteBuffer(data: bytes)))
    }

    // MARK: Queries

    @Sendable func queriesPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await queriesPage(context: context, extra: [:], status: .ok)
    }

    func queriesPage(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let identity = try context.requireIdentity()
        let local = Localizer(context.language)
        let today = CalendarDate(clock())
        var page: [String: Any] = [
            "queries": try await queries.queries(of: identity).map { Self.queryRow($0, local) },
            "consents": try await consents.consents(for: identity).filter { $0.withdrawal == nil && $0.validUntil > today }.map {
                ["id": $0.id.rawValue, "label": "\($0.subjectName) · \(Masking.identifier($0.subject.number)) · \(local("consent_valid_until")) \($0.validUntil)"]
            },
            // Loan approval is the most common purpose, so it is the one preselected.
            "allPurposes": QueryPurpose.allCases.map {
                ["value": $0.code, "label": "\($0.code) \(local($0.nameKey))", "selected": $0 == .loanApproval]
            },
            "certificateTypes": Self.certificateOptions(local),
            "procedures": SpecialQueryCase.Procedure.allCases.map { ["value": $0.rawValue, "label": local($0.nameKey)] },
            "hasRights": identity.user.hasQueryRights,
        ]
        let ownCases = try await specialCases.cases(for: identity).own
        page["cases"] = ownCases.map { Self.caseRow($0, local) }
        let now = clock()
        page["exceptions"] = try await exceptions.exceptions(for: identity).own.map { Self.exceptionRow($0, at: now, local) }
        page["approvedCases"] = ownCases.filter { $0.status == .approved }.map {
            ["id": $0.id.rawValue, "label": "\(local($0.procedure.nameKey)) · \(Masking.identifier($0.subject.number)) · \($0.purpose.code)"]
        }
        page.merge(extra) { _, new in new }
        return renderer.page("queries", titleKey: "queries_title", context: context, page: page, status: status)
    }

    static func queryRow(_ query: CreditQuery, _ local: Localizer) -> [String: Any] {
        var row: [String: Any] = [
            "id": query.id.rawValue, "name": query.subjectName, "number": Masking.identifier(query.subject.number),
            "purpose": "\(query.purpose.code) \(local(query.purpose.nameKey))", "status": local(query.status.nameKey),
            "statusCode": query.status.rawValue, "requestedAt": ConsolePages.time(query.requestedAt, local),
            "reasons": query.reasons.map { $0.message(in: local.language) }, "hasReasons": !query.reasons.isEmpty,
            "channel": query.channel.rawValue, "procedure": local(query.procedure?.nameKey ?? "procedure_standard"),
        ]
        // Present only when there is one: to the template an empty string is still something to show.
        if let failure = query.failure { row["failure"] = local("query_failure_\(failure.rawValue)") }
        return row
    }

    /// Runs the query and shows its decision on the same page: allowed and answered, refused with every reason (and,
    /// when a supervisor may except them, the form to ask), or failed at the bureau with what to do next.
    @Sendable func query(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await runShowing(QueryService.Request(
            certificateType: form["certificateType"] ?? "", certificateNumber: form["certificateNumber"] ?? "",
            subjectName: form["subjectName"] ?? "", purpose: form["purpose"] ?? "", consentID: form["consentId"], channel: .console,
            procedure: form["procedure"], specialCaseID: form["specialCaseId"]
        ), context: context)
    }

    func runShowing(_ queryRequest: QueryService.Request, context: AppRequestContext) async throws -> Response {
        let local = Localizer(context.language)
        return try await ConsoleForms.submitting(context, {
            do {
                let outcome = try await queries.run(queryRequest, by: try context.requireIdentity(), clientIP: context.clientIP)
                let allowed = outcome.query.status != .refused
                var shown = Self.queryRow(outcome.query, local).merging([
                    "allowed": allowed, "logIndex": outcome.decisionLogIndex,
                    "headline": local(allowed ? "query_outcome_answered" : "query_outcome_refused"),
                ]) { _, new in new }
                if case .approvalRequired = outcome.decision, queryRequest.procedure.map({ $0.isEmpty || $0 == "standard" }) ?? true {
                    shown["approvalRequired"] = true
                    shown["headline"] = local("query_outcome_approval_required")
                }
                return try await queriesPage(context: context, extra: ["outcome": shown], status: allowed ? .created : .forbidden)
            } catch let error as CreditGateError where [502, 504].contains(error.kind.status) || error.kind == .subjectNotOnFile {
                return try await queriesPage(context: context, extra: [
                    "outcome": ["allowed": false, "headline": local(error.kind.titleKey), "failure": local(error.detailKey ?? error.kind.titleKey),
                                "id": error.extensions["queryId"] ?? ""],
                ], status: .init(code: error.kind.status))
            }
        }, showingRefusalOn: { try await queriesPage(context: context, extra: $0, status: $1) })
    }

    @Sendable func queryDetail(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = try await queries.query(try QueryAPIController.id(context), of: try context.requireIdentity())
        let local = Localizer(context.language)
        var row = Self.queryRow(query, local)
        row["type"] = local(query.subject.type.nameKey)
        row["consentId"] = query.consentID?.rawValue ?? local("empty_value")
        row["answeredAt"] = ConsolePages.time(query.answeredAt, local)
        row["answered"] = query.status == .answered
        if query.status == .answered, let answeredAt = query.answeredAt, clock() < answeredAt.addingTimeInterval(reportViewingWindow) {
            row["viewable"] = true
        }
        return renderer.page("query-detail", titleKey: "query_detail_title", context: context, page: row)
    }

    // MARK: State-organ and internal-staff cases (R-15)

    static func caseRow(_ specialCase: SpecialQueryCase, _ local: Localizer) -> [String: Any] {
        [
            "id": specialCase.id.rawValue, "procedure": local(specialCase.procedure.nameKey), "number": Masking.identifier(specialCase.subject.number),
            "purpose": "\(specialCase.purpose.code) \(local(specialCase.purpose.nameKey))", "authority": specialCase.authority,
            "document": specialCase.documentNumber, "grounds": specialCase.grounds, "status": local(specialCase.status.nameKey),
            "statusCode": specialCase.status.rawValue, "requestedAt": ConsolePages.time(specialCase.requestedAt, local),
            "note": specialCase.decisionNote ?? "", "pending": specialCase.status == .pending,
        ]
    }

    @Sendable func openCase(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, {
            _ = try await specialCases.open(SpecialQueryCaseService.Opening(
                procedure: form["procedure"] ?? "", certificateType: form["certificateType"] ?? "", certificateNumber: form["certificateNumber"] ?? "",
                purpose: form["purpose"] ?? "", authority: form["authority"] ?? "", documentNumber: form["documentNumber"] ?? "",
                grounds: form["grounds"] ?? ""
            ), by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await queriesPage(context: context, extra: ["caseOpened": Localizer(context.language)("special_case_opened_done")],
                                         status: .created)
        }, showingRefusalOn: { try await queriesPage(context: context, extra: $0, status: $1) })
    }

    @Sendable func casesPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await casesPage(context: context, extra: [:], status: .ok)
    }

    private func casesPage(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let local = Localizer(context.language)
        var page: [String: Any] = ["cases": try await specialCases.cases(for: try context.requireIdentity()).toReview.map { Self.caseRow($0, local) }]
        page.merge(extra) { _, new in new }
        return renderer.page("special-cases", titleKey: "special_cases_title", context: context, page: page, status: status)
    }

    @Sendable func decideCase(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, keepNotFound: true, {
            guard let decision = form["decision"], ["approve", "refuse"].contains(decision) else {
                throw CreditGateError(.validationFailed, detailKey: "detail_bad_request_form", cause: "unknown decision")
            }
            _ = try await specialCases.decide(try QueryAPIController.id(context), approve: decision == "approve", note: form["note"] ?? "",
                                              by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await casesPage(context: context, extra: ["done": Localizer(context.language)("special_case_decided_done")], status: .ok)
        }, showingRefusalOn: { try await casesPage(context: context, extra: $0, status: $1) })
    }

    // MARK: Loan register

    @Sendable func loansPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await loansPage(context: context, extra: [:], status: .ok)
    }

    private func loansPage(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let identity = try context.requireIdentity()
        let local = Localizer(context.language)
        let today = CalendarDate(clock())
        let units = Dictionary(try await administration.visibleOrganisations(for: identity).map { ($0.id, "\($0.code) \($0.name)") },
                               uniquingKeysWith: { first, _ in first })
        var page: [String: Any] = [
            "loans": try await loans.loans(for: identity).map { loan -> [String: Any] in
                [
                    "contract": loan.contractNumber, "type": local(loan.borrower.type.nameKey), "number": Masking.identifier(loan.borrower.number),
                    "unit": units[loan.organisationID] ?? "", "amount": loan.amountYuan, "startsOn": loan.startsOn.description,
                    "maturesOn": loan.maturesOn.description, "settledOn": loan.settledOn?.description ?? "",
                    "state": local(loan.isActive(on: today) ? "loan_state_active" : "loan_state_inactive"),
                ]
            },
            "canManage": identity.permissions.contains(.loansManage),
            "certificateTypes": Self.certificateOptions(local),
            "units": units.sorted { $0.value < $1.value }.map { ["code": String($0.value.split(separator: " ").first ?? ""), "name": $0.value] },
        ]
        page.merge(extra) { _, new in new }
        return renderer.page("loans", titleKey: "loans_title", context: context, page: page, status: status)
    }

    @Sendable func recordLoan(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, {
            guard let amount = Int(form["amountYuan"] ?? "") else {
                throw CreditGateError(.validationFailed, detailKey: "loan_amount_invalid", cause: "amount not a number")
            }
            _ = try await loans.record(LoanRegisterService.Entry(
                contractNumber: form["contractNumber"] ?? "", certificateType: form["certificateType"] ?? "",
                certificateNumber: form["certificateNumber"] ?? "", organisationCode: form["organisationCode"], amountYuan: amount,
                startsOn: form["startsOn"] ?? "", maturesOn: form["maturesOn"] ?? "", settledOn: form["settledOn"]
            ), by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await loansPage(context: context, extra: ["done": Localizer(context.language)("loan_recorded_done")], status: .created)
        }, showingRefusalOn: { try await loansPage(context: context, extra: $0, status: $1) })
    }

    @Sendable func importLoans(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        let local = Localizer(context.language)
        return try await ConsoleForms.submitting(context, {
            let result = try await loans.importCSV(form["csv"] ?? "", by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await loansPage(context: context, extra: [
                "imported": ["applied": result.applied, "problems": result.problems.map { ["line": $0.line, "reason": local($0.reasonKey)] }],
            ], status: .ok)
        }, showingRefusalOn: { try await loansPage(context: context, extra: $0, status: $1) })
    }

    // MARK: Client applications

    @Sendable func appsPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await appsPage(context: context, extra: [:], status: .ok)
    }

    private func appsPage(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let identity = try context.requireIdentity()
        let local = Localizer(context.language)
        let units = try await administration.visibleOrganisations(for: identity)
        let names = Dictionary(units.map { ($0.id, "\($0.code) \($0.name)") }, uniquingKeysWith: { first, _ in first })
        let canManage = identity.permissions.contains(.clientAppsManage)
        var page: [String: Any] = [
            "apps": try await apps.all().map { app -> [String: Any] in
                [
                    "id": app.id.rawValue, "name": app.name, "status": local(app.status.nameKey), "statusCode": app.status.rawValue,
                    "units": app.organisations.compactMap { names[$0] }.sorted().joined(separator: local("list_separator")),
                    "registeredAt": ConsolePages.time(app.registeredAt, local),
                    "canApprove": canManage && app.status == .pending && app.registeredBy != identity.user.id,
                    "canRevoke": canManage && app.status != .revoked,
                ]
            },
            "canManage": canManage,
            "units": units.map { ["id": $0.id.rawValue, "name": "\($0.code) \($0.name)"] },
        ]
        page.merge(extra) { _, new in new }
        return renderer.page("client-apps", titleKey: "client_apps_title", context: context, page: page, status: status)
    }

    @Sendable func registerApp(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, {
            let (app, secret) = try await apps.register(name: form["name"] ?? "", organisationIDs: (form.all["organisation_id"] ?? []).map(Organisation.ID.init),
                                                        by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await appsPage(context: context, extra: ["registered": ["id": app.id.rawValue, "secret": secret]], status: .created)
        }, showingRefusalOn: { try await appsPage(context: context, extra: $0, status: $1) })
    }

    @Sendable func appAction(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, keepNotFound: true, {
            let id: ClientApp.ID = try QueryAPIController.id(context)
            let identity = try context.requireIdentity()
            switch form["action"] {
            case "approve": _ = try await apps.approve(id, by: identity, clientIP: context.clientIP)
            case "revoke": _ = try await apps.revoke(id, by: identity, clientIP: context.clientIP)
            default: throw CreditGateError(.badRequest, detailKey: "detail_bad_request_form", cause: "unknown client app action")
            }
            return try await appsPage(context: context, extra: ["done": Localizer(context.language)("client_app_changed_done")], status: .ok)
        }, showingRefusalOn: { try await appsPage(context: context, extra: $0, status: $1) })
    }
}
