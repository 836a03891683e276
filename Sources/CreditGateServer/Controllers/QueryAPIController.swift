import CreditGateCore
import Foundation
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    /// The client application's ID and secret on every API query.
    static let clientAppID = Self("CreditGate-App-Id")!
    static let clientAppSecret = Self("CreditGate-App-Secret")!
}

/// The JSON API of consent and the query path: purposes, consents with their scans, queries, the loan register and
/// the client-application registry. Each route group names the one permission it needs.
struct QueryAPIController {
    let consents: ConsentService
    let queries: QueryService
    let loans: LoanRegisterService
    let apps: ClientAppService
    let specialCases: SpecialQueryCaseService
    let exceptions: PolicyExceptionService
    let retention: RetentionService
    let clock: @Sendable () -> Date

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.group().add(middleware: RequirePermission(.consoleUse)).get("purposes", use: purposes)
        group.group().add(middleware: RequirePermission(.consentsUpload)).post("consents", use: fileConsent)
        group.group().add(middleware: RequirePermission(.consentsRead))
            .get("consents", use: consentList)
            .get("consents/{id}", use: consent)
        group.group().add(middleware: RequirePermission(.consentsDocumentOpen)).get("consents/{id}/document", use: document)
        group.group().add(middleware: RequirePermission(.consentsWithdraw)).post("consents/{id}/withdrawal", use: withdraw)
        group.group().add(middleware: RequirePermission(.queriesMake))
            .post("queries", use: query)
            .get("queries", use: queryList)
            .get("queries/{id}", use: queryDetail)
        group.group().add(middleware: RequirePermission(.queriesMake)).post("special-cases", use: openCase)
        group.group().add(middleware: RequirePermission(.consoleUse)).get("special-cases", use: caseList)
        group.group().add(middleware: RequirePermission(.specialCasesApprove)).post("special-cases/{id}/decisions", use: decideCase)
        group.group().add(middleware: RequirePermission(.queriesMake)).post("exceptions", use: requestException)
        group.group().add(middleware: RequirePermission(.consoleUse))
            .get("exceptions", use: exceptionList)
            .get("exceptions/{id}", use: exceptionDetail)
        group.group().add(middleware: RequirePermission(.exceptionsApprove)).post("exceptions/{id}/decisions", use: decideException)
        group.group().add(middleware: RequirePermission(.recordsRetention))
            .get("legal-holds", use: holdList)
            .put("queries/{id}/legal-hold", use: placeHold)
            .delete("queries/{id}/legal-hold", use: releaseHold)
            .get("report-destructions", use: destructionList)
        group.group().add(middleware: RequirePermission(.loansRead)).get("loans", use: loanList)
        group.group().add(middleware: RequirePermission(.loansManage))
            .post("loans", use: recordLoan)
            .post("loan-imports", use: importLoans)
        group.group().add(middleware: RequirePermission(.clientAppsRead)).get("client-apps", use: appList)
        group.group().add(middleware: RequirePermission(.clientAppsManage))
            .post("client-apps", use: registerApp)
            .post("client-apps/{id}/approval", use: approveApp)
            .post("client-apps/{id}/revocation", use: revokeApp)
    }

    @Sendable func purposes(_ request: Request, context: AppRequestContext) async throws -> PurposeList {
        PurposeList(purposes: QueryPurpose.allCases.map { purpose in
            PurposeDTO(code: purpose.code, name: BilingualText(zh: Localizer(.zhCN)(purpose.nameKey), en: Localizer(.en)(purpose.nameKey)),
                       subjectKinds: SubjectKind.allCases.filter(purpose.reportKinds.contains).map(\.rawValue),
                       requiresActiveLoan: purpose.requiresActiveLoan, stateOrganOnly: purpose.isStateOrganOnly)
        })
    }

    // MARK: Consents

    @Sendable func fileConsent(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ConsentDTO> {
        let contentType = request.headers[.contentType] ?? ""
        guard contentType.lowercased().hasPrefix("multipart/form-data") else {
            throw CreditGateError(.unsupportedMediaType, detailKey: "detail_unsupported_media_type", cause: "consent upload as \(contentType)")
        }
        var request = request
        let form = try MultipartForm.parse(Data(buffer: try await request.collectBody(upTo: context.maxUploadSize)), contentType: contentType)
        let consent = try await consents.file(ConsentFiling.from(form), by: try context.requireIdentity(), clientIP: context.clientIP)
        return EditedResponse(status: .created, response: ConsentDTO(consent))
    }

    /// The consents in scope. There is deliberately no filter by identity number: it would put the number in a URL,
    /// and so into every proxy's access log.
    @Sendable func consentList(_ request: Request, context: AppRequestContext) async throws -> ConsentList {
        ConsentList(consents: try await consents.consents(for: try context.requireIdentity()).map(ConsentDTO.init))
    }

    @Sendable func consent(_ request: Request, context: AppRequestContext) async throws -> ConsentDTO {
        ConsentDTO(try await consents.consent(try Self.id(context), for: try context.requireIdentity()))
    }

    /// The scan, for a checker: shown inline, never cached, never guessed at by the browser.
    @Sendable func document(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (document, bytes) = try await consents.openDocument(try Self.id(context), by: try context.requireIdentity(), clientIP: context.clientIP)
        return Response(status: .ok, headers: [
            .contentType: document.mediaType.rawValue, .cacheControl: "no-store", .contentDisposition: "inline",
            .init("X-Content-Type-Options")!: "nosniff",
        ], body: .init(byteBuffer: ByteBuffer(data: bytes)))
    }

    @Sendable func withdraw(_ request: Request, context: AppRequestContext) async throws -> ConsentDTO {
        let body = try await JSONBody.decode(WithdrawalRequest.self, from: request, context: context)
        return ConsentDTO(try await consents.withdraw(try Self.id(context), reason: body.reason, by: try context.requireIdentity(),
                                                      clientIP: context.clientIP))
    }

    // MARK: Queries

    /// 201 with the query when the bureau answered; 403 `query-refused` naming every reason when admission refused
    /// it; 502/504 when the bureau failed. Each carries the query's ID.
    @Sendable func query(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(QueryRequestBody.self, from: request, context: context)
        let outcome = try await queries.run(QueryService.Request(
            certificateType: body.certificateType, certificateNumber: body.certificateNumber, subjectName: body.subjectName,
            purpose: body.purpose, consentID: body.consentId, channel: .api,
            appID: request.headers[.clientAppID], appSecret: request.headers[.clientAppSecret],
            procedure: body.procedure, specialCaseID: body.specialCaseId, exceptionID: body.exceptionId
        ), by: try context.requireIdentity(), clientIP: context.clientIP)
        let dto = QueryDTO(outcome.query, decisionLogIndex: outcome.decisionLogIndex)
        guard outcome.query.status == .refused else {
            var response = try EditedResponse(status: .created, response: dto).response(from: request, context: context)
            response.headers[.location] = "/api/v1/queries/\(outcome.query.id.rawValue)"
            return response
        }
        return ProblemRenderer.problemResponse(
            kind: .queryRefused, detailKey: "query_refused_detail", language: context.language, requestID: context.requestID,
            extensions: ["queryId": dto.queryId, "decision": "refused", "policyDecision": outcome.decision.code,
                         "decisionLogIndex": outcome.decisionLogIndex,
                         "reasons": outcome.decision.reasons.map { reason in
                             ["code": reason.code, "message": ["zh": reason.reason.message(in: .zhCN), "en": reason.reason.message(in: .en)],
                              "facts": reason.reason.facts, "exceptable": reason.exceptable] as [String: any Sendable]
                         }]
        )
    }

    @Sendable func queryList(_ request: Request, context: AppRequestContext) async throws -> QueryList {
        QueryList(queries: try await queries.queries(of: try context.requireIdentity()).map { QueryDTO($0) })
    }

    @Sendable func queryDetail(_ request: Request, context: AppRequestContext) async throws -> QueryDTO {
        QueryDTO(try await queries.query(try Self.id(context), of: try context.requireIdentity()))
    }

    // MARK: State-organ and internal-staff cases

    @Sendable func openCase(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<SpecialCaseDTO> {
        let body = try await JSONBody.decode(SpecialCaseRequestBody.self, from: request, context: context)
        let opened = try await specialCases.open(SpecialQueryCaseService.Opening(
            procedure: body.procedure, certificateType: body.certificateType, certificateNumber: body.certificateNumber, purpose: body.purpose,
            authority: body.authority, documentNumber: body.documentNumber ?? "", grounds: body.grounds
        ), by: try context.requireIdentity(), clientIP: context.clientIP)
        return EditedResponse(status: .created, response: SpecialCaseDTO(opened))
    }

    @Sendable func caseList(_ request: Request, context: AppRequestContext) async throws -> SpecialCaseList {
        let (own, toReview) = try await specialCases.cases(for: try context.requireIdentity())
        return SpecialCaseList(own: own.map(SpecialCaseDTO.init), toReview: toReview.map(SpecialCaseDTO.init))
    }

    @Sendable func decideCase(_ request: Request, context: AppRequestContext) async throws -> SpecialCaseDTO {
        let body = try await JSONBody.decode(SpecialCaseDecisionBody.self, from: request, context: context)
        guard ["approve", "refuse"].contains(body.decision) else {
            throw CreditGateError(.validationFailed, detailKey: "detail_bad_request_form", cause: "unknown decision")
        }
        return SpecialCaseDTO(try await specialCases.decide(try Self.id(context), approve: body.decision == "approve", note: body.note ?? "",
                                                            by: try context.requireIdentity(), clientIP: context.clientIP))
    }

    // MARK: Exceptions (授权查询, R-22)

    @Sendable func requestException(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ExceptionDTO> {
        let body = try await JSONBody.decode(ExceptionRequestBody.self, from: request, context: context)
        let exception = try await exceptions.request(QueryService.Request(
            certificateType: body.certificateType, certificateNumber: body.certificateNumber, subjectName: body.subjectName, purpose: body.purpose,
            consentID: body.consentId, channel: .api, appID: request.headers[.clientAppID], appSecret: request.headers[.clientAppSecret]
        ), justification: body.justification, by: try context.requireIdentity(), clientIP: context.clientIP)
        return EditedResponse(status: .created, response: ExceptionDTO(exception, at: exception.requestedAt))
    }

    @Sendable func exceptionList(_ request: Request, context: AppRequestContext) async throws -> ExceptionList {
        let (own, toReview) = try await exceptions.exceptions(for: try context.requireIdentity())
        let now = clock()
        return ExceptionList(own: own.map { ExceptionDTO($0, at: now) }, toReview: toReview.map { ExceptionDTO($0, at: now) })
    }

    @Sendable func exceptionDetail(_ request: Request, context: AppRequestContext) async throws -> ExceptionDTO {
        ExceptionDTO(try await exceptions.exception(try Self.id(context), for: try context.requireIdentity()), at: clock())
    }

    @Sendable func decideException(_ request: Request, context: AppRequestContext) async throws -> ExceptionDTO {
        let body = try await JSONBody.decode(ExceptionDecisionBody.self, from: request, context: context)
        guard ["approve", "refuse"].contains(body.decision) else {
            throw CreditGateError(.validationFailed, detailKey: "detail_bad_request_form", cause: "unknown decision")
        }
        let decided = try await exceptions.decide(try Self.id(context), approve: body.decision == "approve", note: body.note ?? "",
                                                  onSite: body.onSiteVerification ?? "", by: try context.requireIdentity(), clientIP: context.clientIP)
        return ExceptionDTO(decided, at: clock())
    }

    // MARK: Retention

    @Sendable func holdList(_ request: Request, context: AppRequestContext) async throws -> LegalHoldList {
        LegalHoldList(holds: try await retention.holds().map(LegalHoldDTO.init))
    }

    @Sendable func placeHold(_ request: Request, context: AppRequestContext) async throws -> LegalHoldDTO {
        let body = try await JSONBody.decode(LegalHoldRequest.self, from: request, context: context)
        return LegalHoldDTO(try await retention.placeHold(on: try Self.id(context), reason: body.reason, by: try context.requireIdentity(),
                                                          clientIP: context.clientIP))
    }

    @Sendable func releaseHold(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await retention.releaseHold(on: try Self.id(context), by: try context.requireIdentity(), clientIP: context.clientIP)
        return Response(status: .noContent)
    }

    @Sendable func destructionList(_ request: Request, context: AppRequestContext) async throws -> DestructionList {
        DestructionList(destructions: try await retention.destructions().map(DestructionDTO.init))
    }

    // MARK: Loan register

    @Sendable func loanList(_ request: Request, context: AppRequestContext) async throws -> LoanList {
        LoanList(loans: try await loans.loans(for: try context.requireIdentity()).map(LoanDTO.init))
    }

    @Sendable func recordLoan(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<LoanDTO> {
        let body = try await JSONBody.decode(LoanRequestBody.self, from: request, context: context)
        let loan = try await loans.record(LoanRegisterService.Entry(
            contractNumber: body.contractNumber, certificateType: body.certificateType, certificateNumber: body.certificateNumber,
            organisationCode: body.organisationCode, amountYuan: body.amountYuan, startsOn: body.startsOn, maturesOn: body.maturesOn,
            settledOn: body.settledOn
        ), by: try context.requireIdentity(), clientIP: context.clientIP)
        return EditedResponse(status: .created, response: LoanDTO(loan))
    }

    @Sendable func importLoans(_ request: Request, context: AppRequestContext) async throws -> ImportResponse {
        let text = try await PeopleAPIController.textBody(request, context: context, types: ["text/csv", "text/plain"])
        let result = try await loans.importCSV(text, by: try context.requireIdentity(), clientIP: context.clientIP)
        let local = Localizer(context.language)
        return ImportResponse(applied: result.applied, problems: result.problems.map { .init(line: $0.line, reason: local($0.reasonKey)) })
    }

    // MARK: Client applications

    @Sendable func appList(_ request: Request, context: AppRequestContext) async throws -> ClientAppList {
        ClientAppList(apps: try await apps.all().map(ClientAppDTO.init))
    }

    @Sendable func registerApp(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<RegisteredClientApp> {
        let body = try await JSONBody.decode(ClientAppRequestBody.self, from: request, context: context)
        let (app, secret) = try await apps.register(name: body.name, organisationIDs: body.organisationIds.map(Organisation.ID.init),
                                                    by: try context.requireIdentity(), clientIP: context.clientIP)
        return EditedResponse(status: .created, response: RegisteredClientApp(app: ClientAppDTO(app), secret: secret))
    }

    @Sendable func approveApp(_ request: Request, context: AppRequestContext) async throws -> ClientAppDTO {
        ClientAppDTO(try await apps.approve(try Self.id(context), by: try context.requireIdentity(), clientIP: context.clientIP))
    }

    @Sendable func revokeApp(_ request: Request, context: AppRequestContext) async throws -> ClientAppDTO {
        ClientAppDTO(try await apps.revoke(try Self.id(context), by: try context.requireIdentity(), clientIP: context.clientIP))
    }

    /// The ID in the path parameter `parameter`; one longer than any ID is not found.
    static func id<Tag>(_ context: AppRequestContext, parameter: String = "id") throws -> TypedID<Tag> {
        let text = try context.parameters.require(parameter)
        guard (1...64).contains(text.count) else { throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "over-long ID") }
        return TypedID(text.lowercased())
    }
}

/// Reads the fields of a consent form, from the API or the console: the same names in both.
enum ConsentFiling {
    static func from(_ form: FormBody.Form) -> ConsentService.Filing {
        let file = form.files["document"]
        return ConsentService.Filing(
            certificateType: form["certificateType"] ?? "", certificateNumber: form["certificateNumber"] ?? "",
            subjectName: form["subjectName"] ?? "", purposes: form.all["purposes"] ?? [], signedOn: form["signedOn"] ?? "",
            validUntil: form["validUntil"] ?? "", fileName: file?.fileName ?? "", document: file?.bytes ?? Data()
        )
    }
}
