import CreditGateBureau
import CreditGateCore
import CreditGateStore
import Foundation
import Logging

/// One query, end to end: validate → admit (consent, user, application) → record the decision
/// in the audit log → call the bureau → store the report encrypted → record the answer.
///
/// Every attempt that names a valid subject leaves a query record and audit events, allowed or refused, written
/// together; when the audit log cannot take them, nothing is recorded and nothing goes out. The answer never carries
/// the report: it says where the querier may see it.
public struct QueryService: Sendable {
    let queries: any QueryRepository
    let consents: any ConsentRepository
    let loans: LoanRegisterService
    let apps: ClientAppService
    let specialCases: SpecialQueryCaseService
    let exceptions: any PolicyExceptionRepository
    let relatedParties: RelatedPartyService
    let gate: PolicyGate
    let reference: ReferenceCache
    let bureau: any CreditBureau
    let sealer: EnvelopeSealer
    let audit: AuditTrail
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(queries: any QueryRepository, consents: any ConsentRepository, loans: LoanRegisterService,
                apps: ClientAppService, specialCases: SpecialQueryCaseService, exceptions: any PolicyExceptionRepository,
                relatedParties: RelatedPartyService, policy: PolicyService,
                networks: any UserNetworkRepository, bureau: any CreditBureau, sealer: EnvelopeSealer, audit: AuditTrail, clock: @escaping @Sendable () -> Date,
                logger: Logger) {
        self.queries = queries
        self.consents = consents
        self.loans = loans
        self.apps = apps
        self.specialCases = specialCases
        self.exceptions = exceptions
        self.relatedParties = relatedParties
        self.gate = PolicyGate(policy: policy, queries: queries, networks: networks)
        self.reference = policy.reference
        self.bureau = bureau
        self.sealer = sealer
        self.audit = audit
        self.clock = clock
        self.logger = logger
    }

    /// A query as the loan officer or the client application sends it, as text.
    public struct Request: Sendable {
        public var certificateType: String
        public var certificateNumber: String
        public var subjectName: String
        public var purpose: String
        public var consentID: String?
        public var channel: CreditQuery.Channel
        /// The application's ID and secret, for the API channel.
        public var appID: String?
        public var appSecret: String?
        /// `state_organ` or `internal_staff` for a query under the special procedure, with its approved case.
        public var procedure: String?
        public var specialCaseID: String?
        /// The approved exception (授权查询) the query is made under, when the policy needs one.
        public var exceptionID: String?

        public init(certificateType: String, certificateNumber: String, subjectName: String, purpose: String, consentID: String?,
                    channel: CreditQuery.Channel, appID: String? = nil, appSecret: String? = nil, procedure: String? = nil,
                    specialCaseID: String? = nil, exceptionID: String? = nil) {
            self.certificateType = certificateType
            self.certificateNumber = certificateNumber
            self.subjectName = subjectName
            self.purpose = purpose
            self.consentID = consentID
            self.channel = channel
            self.appID = appID
            self.appSecret = appSecret
            self.procedure = procedure
            self.specialCaseID = specialCaseID
            self.exceptionID = exceptionID
        }
    }

    /// The query as recorded, with the audit-log index of its decision and what the policy engine decided:
    /// `approval_required` means a supervisor may except the reasons (授权查询, R-22).
    public struct Outcome: Sendable {
        public let query: CreditQuery
        public let decisionLogIndex: UInt64
        public let decision: PolicyDecision
    }

    /// A query request read and decided, before anything is stored: what a real query, an exception request and
    /// their explanations rest on.
    struct Evaluation: Sendable {
        let subject: SubjectIdentifier
        /// The subject's keyed hash, as the audit log and the register of related parties know it.
        let subjectHash: String
        let subjectName: String
        let purpose: QueryPurpose
        let procedure: SpecialQueryCase.Procedure?
        let app: ClientApp?
        let consent: Consent?
        let specialCase: SpecialQueryCase?
        let unit: Organisation
        let facts: PolicyFacts
        let decision: PolicyDecision
    }

    /// Validates the request and reads its facts in one place, then asks admission and the policy engine.
    ///
    /// Without `countingToday` the engine is first asked as if nothing were counted today, and the counters are read
    /// only when the answer is not `allow`: for a query that is then counted against its caps in the transaction
    /// that records it, which is where a cap holds.
    func evaluate(_ request: Request, by actor: AuthenticatedUser, clientIP: String, at now: Date, countingToday: Bool = true) async throws -> Evaluation {
        let subject = try SubjectInput.identifier(type: request.certificateType, number: request.certificateNumber, today: now)
        guard let purpose = QueryPurpose(rawValue: request.purpose.trimmingCharacters(in: .whitespaces)) else {
            throw CreditGateError(.validationFailed, detailKey: "query_purpose_unknown", cause: "unknown purpose code")
        }
        let subjectHash = audit.subjects.hash(identifierType: subject.type.rawValue, identifier: subject.number)
        let subjectName = request.subjectName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(subjectName.count) else {
            throw CreditGateError(.validationFailed, detailKey: "consent_name_invalid", cause: "subject name length")
        }
        var procedure: SpecialQueryCase.Procedure?
        if let text = request.procedure?.trimmingCharacters(in: .whitespaces), !text.isEmpty, text != "standard" {
            guard let named = SpecialQueryCase.Procedure(rawValue: text) else {
                throw CreditGateError(.validationFailed, detailKey: "special_case_procedure_unknown", cause: "unknown procedure")
            }
            procedure = named
        }
        // The reference data (tree, applications, policy, calendar) is taken once and serves every check below: as
        // read when the request was authenticated, if that was a moment ago, else read again.
        let reference = if let read = actor.freshReference() { read } else { try await self.reference.current() }
        let tree = reference.tree
        var app: ClientApp?
        var appRefusal: ClientAppRefusal?
        if request.channel == .api {
            (app, appRefusal) = apps.refusal(appID: request.appID, secret: request.appSecret, unit: actor.user.organisationID, reference: reference)
        }
        let consent = try await citedConsent(request.consentID, for: actor, tree: tree)
        let hasActiveLoan = purpose.requiresActiveLoan ? try await loans.hasActiveLoan(subject, at: now) : false
        let specialCase = procedure == nil ? nil : try await citedCase(request.specialCaseID, of: actor)
        let admission = QueryAdmission.decide(QueryAdmissionFacts(
            user: actor.user, subject: subject, purpose: purpose, appRefusal: appRefusal, consent: consent, hasActiveLoan: hasActiveLoan,
            procedure: procedure, specialCase: specialCase,
            relatedParty: try await relatedParties.match(subject, hashed: subjectHash, querier: actor.user, reference: reference), at: now
        ))
        guard let unit = tree.units[actor.user.organisationID] else {
            throw CreditGateError(.forbidden, detailKey: "detail_forbidden", cause: "querier's unit unknown")
        }
        var facts = try await gate.facts(admission: admission.reasons, user: actor.user, unit: unit, reference: reference, subject: subject,
                                         purpose: purpose, at: now, clientAddress: clientIP, countingToday: countingToday)
        var decision = PolicyEngine.decide(facts)
        // Any decision but `allow` is explained with every rule, the caps included.
        if !countingToday, decision != .allow {
            facts = try await gate.recounted(facts, user: actor.user.id, unit: unit.id)
            decision = PolicyEngine.decide(facts)
        }
        return Evaluation(subject: subject, subjectHash: subjectHash, subjectName: subjectName, purpose: purpose, procedure: procedure, app: app, consent: consent,
                          specialCase: specialCase, unit: unit, facts: facts, decision: decision)
    }

    /// Runs the query. A refusal is an outcome, not an error; bureau failures throw 502/504 problems after the
    /// query is recorded as failed.
    public func run(_ request: Request, by actor: AuthenticatedUser, clientIP: String) async throws -> Outcome {
        let now = clock()
        // A query under an approval needs the counters first: whether the approval covers the caps depends on them.
        let citesException = !(request.exceptionID ?? "").trimmingCharacters(in: .whitespaces).isEmpty
        let evaluation = try await evaluate(request, by: actor, clientIP: clientIP, at: now, countingToday: citesException)
        let (subject, purpose, app, consent, specialCase) = (evaluation.subject, evaluation.purpose, evaluation.app, evaluation.consent, evaluation.specialCase)
        let queryID = CreditQuery.ID.random()
        var decision = evaluation.decision
        // A decision that needs approval goes ahead under an approved exception that covers every reason.
        var exception: PolicyException?
        var excepted: Set<PolicyRule> = []
        if case .approvalRequired(let reasons) = decision, let cited = try await citedException(request.exceptionID, of: actor) {
            let firing = Set(reasons.compactMap { PolicyRule(rawValue: $0.code) })
            if let problem = cited.problem(for: actor.user.id, subject: subject, subjectName: evaluation.subjectName, purpose: purpose,
                                           consent: consent?.id, firing: firing, at: now) {
                // Still a query an approval could let through: a (new) request is the way forward.
                decision = .approvalRequired(reasons + [PolicyReason(reason: QueryRefusalReason(code: problem), exceptable: true)])
            } else {
                exception = cited
                excepted = firing
                decision = .allow
            }
        }
        // An approved case or exception allows one query: the first of two at once takes it, the other is refused.
        // Whatever one query took is given back if it does not go ahead.
        var consumedCase: SpecialQueryCase.ID?
        var consumedException: PolicyException.ID?
        if decision == .allow, let exception {
            if try await exceptions.use(exception.id, by: queryID, at: now) {
                consumedException = exception.id
            } else {
                decision = .approvalRequired(evaluation.decision.reasons + [PolicyReason(reason: QueryRefusalReason(code: "exception_used"), exceptable: true)])
            }
        }
        if decision == .allow, let specialCase {
            if try await specialCases.use(specialCase.id, by: queryID) {
                consumedCase = specialCase.id
            } else {
                decision = .block([PolicyReason(reason: QueryRefusalReason(code: "special_case_used"), exceptable: false)])
                if let taken = consumedException {
                    try? await exceptions.release(taken, from: queryID, at: now)
                    consumedException = nil
                }
            }
        }
        func giveBack() async {
            if let consumedCase { try? await specialCases.release(consumedCase, from: queryID) }
            if let consumedException { try? await exceptions.release(consumedException, from: queryID, at: now) }
        }
        /// The query as recorded under a decision: a query made under an approval is recorded as one that needed it.
        func recorded(_ decision: PolicyDecision, exception: PolicyException.ID?) -> CreditQuery {
            CreditQuery(
                id: queryID, userID: actor.user.id, organisationID: actor.user.organisationID, channel: request.channel, clientAppID: app?.id,
                subject: subject, subjectName: evaluation.subjectName, purpose: purpose, consentID: consent?.id, procedure: evaluation.procedure,
                specialCaseID: specialCase?.id, exceptionID: exception, clientIP: clientIP, requestedAt: now,
                status: decision == .allow ? .pending : .refused, reasons: decision.reasons.map(\.reason),
                policyDecision: exception == nil ? decision.code : PolicyDecision.approvalRequired([]).code
            )
        }
        var query = recorded(decision, exception: consumedException)
        let subjectHash = evaluation.subjectHash
        func decided(_ query: CreditQuery, _ decision: PolicyDecision, exception: PolicyException.ID?) -> AuditEvent {
            AuditEvent(
                kind: .queryDecided, occurredAt: now, actor: .init(actor.user), clientIP: clientIP,
                clientApp: app?.id.rawValue ?? (request.channel == .api ? "unknown" : "console"), subjectHash: subjectHash,
                consentID: consent?.id.rawValue ?? request.consentID.map { String($0.prefix(64)) }, purposeCode: purpose.code,
                outcome: decision == .allow ? .success : .denied, reasonCodes: decision.reasons.map(\.code),
                details: ["query": query.id.rawValue, "channel": request.channel.rawValue, "subject_kind": subject.type.subjectKind.rawValue,
                          "procedure": evaluation.procedure?.rawValue ?? "standard", "special_case": specialCase?.id.rawValue ?? "",
                          "decision": decision.code, "exception": exception?.rawValue ?? ""]
            )
        }
        // The decision is durable in the log before the bureau is asked, in the transaction that records the query:
        // both are written or neither. An admitted query also takes its places in today's counters there (R-21: caps
        // exact under concurrency); when a concurrent query took the last place, nothing is written and this one is
        // refused. If the log cannot take the decision, nothing goes out, and a case or approval taken for the query
        // stays taken (fail closed): a commit that failed may still have happened, and what it recorded must not be
        // usable a second time.
        var decisionIndex: UInt64?
        if decision == .allow {
            let caps = PolicyGate.caps(user: actor.user.id, unit: evaluation.unit.id, policy: evaluation.facts.policy, at: now, excepted: excepted)
            decisionIndex = try await audit.record(decided(query, decision, exception: consumedException),
                                                   with: try queries.recordingCounted(query, against: caps))
            if decisionIndex == nil {
                await giveBack()
                consumedCase = nil
                consumedException = nil
                // Lost the last place to a concurrent query: the engine decides again on the counters as they are
                // now. Whatever an approval excepted was given back with it, so every rule counts. Counters only
                // grow within a day; should they show room after all, the query is still not made (deny on doubt).
                let recounted = try await gate.recounted(evaluation.facts, user: actor.user.id, unit: evaluation.unit.id)
                decision = PolicyEngine.decide(recounted)
                if decision == .allow {
                    decision = .block([PolicyReason(reason: QueryRefusalReason(code: PolicyRule.dailyCapUser.rawValue, facts: [
                        "used": String(recounted.queriesTodayByUser), "cap": String(recounted.policy.userDailyCap),
                    ]), exceptable: false)])
                }
                query = recorded(decision, exception: nil)
            }
        }
        if decision != .allow {
            decisionIndex = try await audit.record(decided(query, decision, exception: nil), with: queries.recording(query))
        }
        guard let decisionIndex else {
            // Recording a refusal never declines; should it, nothing was written and nothing goes out.
            throw CreditGateError(.serviceUnavailable, detailKey: "detail_audit_log_unavailable", cause: "decision of query \(query.id) not recorded")
        }
        guard decision == .allow else {
            return Outcome(query: query, decisionLogIndex: decisionIndex, decision: decision)
        }

        let bureauRequest = BureauRequest(
            subject: BureauSubject(kind: subject.type.subjectKind, certificateType: subject.type.rawValue, certificateNumber: subject.number,
                                   name: evaluation.subjectName),
            purposeCode: purpose.code, operatorEmployeeID: actor.user.employeeID, organisationCode: evaluation.unit.code,
            queryReference: query.id.rawValue
        )
        // One call, never repeated by the gateway: every request that reaches the bureau becomes a query record on
        // the subject's report, seen by every later lender, and a timeout does not say whether the bureau recorded
        // it. Whether to ask again is a person's decision, made after checking — never an automatic retry.
        let answer: BureauAnswer
        do {
            answer = try await bureau.fetchAnswer(bureauRequest)
        } catch {
            let failure = Self.failure(of: error)
            try await recordFailure(failure, of: query, by: actor, app: app, subjectHash: subjectHash, clientIP: clientIP)
            throw Self.problem(for: failure, queryID: query.id)
        }
        // From here on the bureau has answered: whatever goes wrong, the query ends failed, never pending.
        let stored: StoredReport
        do {
            let reportID = StoredReport.ID.random()
            stored = StoredReport(
                id: reportID, queryID: query.id, kind: subject.type.subjectKind, reportNumber: answer.report.reportNumber,
                envelope: try sealer.seal(answer.document, binding: StoredReport.binding(reportID)), storedAt: clock()
            )
            // The answer's entry and the stored report are written together; the query was pending since its
            // decision and nothing else answers it, so the write cannot decline unless something is badly wrong.
            let answered = try await audit.record(AuditEvent(
                kind: .queryAnswered, occurredAt: stored.storedAt, actor: .init(actor.user), clientIP: clientIP, clientApp: app?.id.rawValue,
                subjectHash: subjectHash, consentID: consent?.id.rawValue, purposeCode: purpose.code, outcome: .success,
                details: ["query": query.id.rawValue, "report": reportID.rawValue, "report_number": answer.report.reportNumber, "bureau": bureau.name]
            ), with: queries.answering(query.id, report: stored))
            guard answered != nil else { throw StoreError.missingReference("queries") }
        } catch {
            logger.error("answer not stored", metadata: ["query": .string(query.id.rawValue), "error": .string(String(reflecting: type(of: error)))])
            try await recordFailure(.storage, of: query, by: actor, app: app, subjectHash: subjectHash, clientIP: clientIP)
            throw CreditGateError(.serviceUnavailable, detailKey: "query_failure_storage", cause: "report of query \(query.id) not stored",
                                  extensions: ["queryId": query.id.rawValue])
        }
        query.status = .answered
        query.answeredAt = stored.storedAt
        query.reportID = stored.id
        return Outcome(query: query, decisionLogIndex: decisionIndex, decision: decision)
    }

    /// Marks the query failed first (so that it never stays pending), then records why; when the log cannot take
    /// the entry the caller gets 503 and the query is still failed.
    private func recordFailure(_ failure: CreditQuery.Failure, of query: CreditQuery, by actor: AuthenticatedUser, app: ClientApp?,
                               subjectHash: String, clientIP: String) async throws {
        try await queries.fail(query.id, failure: failure, at: clock())
        logger.warning("query failed", metadata: ["query": .string(query.id.rawValue), "failure": .string(failure.rawValue)])
        try await audit.record(AuditEvent(
            kind: .queryFailed, occurredAt: clock(), actor: .init(actor.user), clientIP: clientIP, clientApp: app?.id.rawValue,
            subjectHash: subjectHash, consentID: query.consentID?.rawValue, purposeCode: query.purpose.code, outcome: .failed,
            reasonCodes: [failure.rawValue], details: ["query": query.id.rawValue, "bureau": bureau.name]
        ))
    }
    /// The consent a query cites, when it exists and was filed within the querier's unit or below; otherwise
    /// `nil`, which admission reports as no consent on file.
    func citedConsent(_ text: String?, for actor: AuthenticatedUser, tree: OrganisationTree) async throws -> Consent? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty, text.count <= 64,
              let consent = try await consents.consent(Consent.ID(text.lowercased()))
        else { return nil }
        return tree.isWithin(consent.organisationID, subtreeOf: actor.user.organisationID) ? consent : nil
    }

    /// The case a special-procedure query cites, if it exists; admission checks it is the querier's, approved,
    /// unused, unexpired and for this subject and purpose.
    /// Someone else's case is treated as no case at all, so that citing it tells nothing about its state.
    func citedCase(_ text: String?, of actor: AuthenticatedUser) async throws -> SpecialQueryCase? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty, text.count <= 64,
              let specialCase = try await specialCases.find(SpecialQueryCase.ID(text.lowercased())), specialCase.requestedBy == actor.user.id
        else { return nil }
        return specialCase
    }

    /// The exception a query cites, if it is the querier's own; anyone else's is treated as none.
    func citedException(_ text: String?, of actor: AuthenticatedUser) async throws -> PolicyException? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty, text.count <= 64,
              let exception = try await exceptions.find(PolicyException.ID(text.lowercased())), exception.requestedBy == actor.user.id
        else { return nil }
        return exception
    }

    public func queries(of actor: AuthenticatedUser, limit: Int = 100) async throws -> [CreditQuery] {
        try await queries.queries(of: actor.user.id, limit: limit)
    }

    /// One of the actor's own queries; anyone else's is not found.
    public func query(_ id: CreditQuery.ID, of actor: AuthenticatedUser) async throws -> CreditQuery {
        guard let query = try await queries.query(id), query.userID == actor.user.id else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "query of another user or unknown")
        }
        return query
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func failure(of error: any Error) -> CreditQuery.Failure {
        switch error as? BureauError {
        case .timedOut: .timeout
        case .malformedAnswer: .malformedAnswer
        case .subjectNotFound: .subjectNotFound
        case .rejected, nil: .bureauError
        }
    }

    static func problem(for failure: CreditQuery.Failure, queryID: CreditQuery.ID) -> CreditGateError {
        switch failure {
        case .timeout: CreditGateError(.gatewayTimeout, detailKey: "query_failure_timeout", cause: "bureau timeout for query \(queryID)", extensions: ["queryId": queryID.rawValue])
        case .bureauError: CreditGateError(.badGateway, detailKey: "query_failure_bureau_error", cause: "bureau error for query \(queryID)", extensions: ["queryId": queryID.rawValue])
        case .malformedAnswer: CreditGateError(.badGateway, detailKey: "query_failure_malformed_answer", cause: "bureau answer malformed for query \(queryID)", extensions: ["queryId": queryID.rawValue])
        case .subjectNotFound: CreditGateError(.subjectNotOnFile, detailKey: "query_failure_subject_not_found", cause: "no bureau record for query \(queryID)", extensions: ["queryId": queryID.rawValue])
        case .storage: CreditGateError(.serviceUnavailable, detailKey: "query_failure_storage", cause: "report of query \(queryID) not stored", extensions: ["queryId": queryID.rawValue])
        }
    }
}

/// The gateway's register of answered queries, as the sandbox bureau's query-records section lists them.
struct GatewayQueryHistory: BureauQueryHistory {
    let queries: any QueryRepository

    func answeredQueries(about subject: BureauSubject, limit: Int) async throws -> [BureauQueryRecord] {
        guard let type = CertificateType(rawValue: subject.certificateType) else { return [] }
        return try await queries.answeredQueries(about: SubjectIdentifier(type: type, number: subject.certificateNumber), limit: limit).map {
            BureauQueryRecord(date: CalendarDate($0.answeredAt).description, institution: $0.organisationName, purposeCode: $0.purpose.code)
        }
    }
}
