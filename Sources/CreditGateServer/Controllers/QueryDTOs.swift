import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird

/// A subject as the API shows it: the identifier masked (JR/T 0171 C2), never in full.
struct SubjectDTO: Encodable {
    let certificateType: String
    let certificateNumberMasked: String
    let name: String
    let kind: String

    init(_ subject: SubjectIdentifier, name: String) {
        self.certificateType = subject.type.rawValue
        self.certificateNumberMasked = Masking.identifier(subject.number)
        self.name = name
        self.kind = subject.type.subjectKind.rawValue
    }
}

struct ConsentDTO: ResponseEncodable {
    struct Document: Encodable {
        let mediaType: String
        let byteCount: Int
        let sha256: String
        let fileName: String
    }

    struct Withdrawal: Encodable {
        let at: Date
        let recordedBy: String
        let reason: String
    }

    let id: String
    let subject: SubjectDTO
    let purposes: [String]
    let signedOn: String
    let validUntil: String
    let organisationId: String
    let uploadedBy: String
    let uploadedAt: Date
    let document: Document
    let withdrawal: Withdrawal?

    init(_ consent: Consent) {
        self.id = consent.id.rawValue
        self.subject = SubjectDTO(consent.subject, name: consent.subjectName)
        self.purposes = consent.purposes.map(\.code).sorted()
        self.signedOn = consent.signedOn.description
        self.validUntil = consent.validUntil.description
        self.organisationId = consent.organisationID.rawValue
        self.uploadedBy = consent.uploadedBy.rawValue
        self.uploadedAt = consent.uploadedAt
        self.document = Document(mediaType: consent.document.mediaType.rawValue, byteCount: consent.document.byteCount,
                                 sha256: consent.document.sha256, fileName: consent.document.fileName)
        self.withdrawal = consent.withdrawal.map { Withdrawal(at: $0.at, recordedBy: $0.recordedBy.rawValue, reason: $0.reason) }
    }
}

struct ConsentList: ResponseEncodable {
    let consents: [ConsentDTO]
}

struct WithdrawalRequest: Decodable {
    let reason: String
}

struct QueryRequestBody: Decodable {
    let certificateType: String
    let certificateNumber: String
    let subjectName: String
    let purpose: String
    let consentId: String?
    let procedure: String?
    let specialCaseId: String?
    /// An approved exception (授权查询) the query is made under.
    let exceptionId: String?
}

/// A reason in both languages, as every decision carries it.
struct ReasonDTO: Encodable {
    let code: String
    let message: BilingualText
    let facts: [String: String]

    init(_ reason: QueryRefusalReason) {
        self.code = reason.code
        self.message = BilingualText(zh: reason.message(in: .zhCN), en: reason.message(in: .en))
        self.facts = reason.facts
    }
}

struct QueryDTO: ResponseEncodable {
    let queryId: String
    let decision: String
    let status: String
    let reasons: [ReasonDTO]
    let failure: String?
    let channel: String
    let clientAppId: String?
    let subject: SubjectDTO
    let purpose: String
    let consentId: String?
    let procedure: String
    let specialCaseId: String?
    let exceptionId: String?
    let requestedAt: Date
    let answeredAt: Date?
    /// Where the querier sees the query and, once it is answered, its report: the console, never this API.
    let view: String
    let decisionLogIndex: UInt64?

    init(_ query: CreditQuery, decisionLogIndex: UInt64? = nil) {
        self.queryId = query.id.rawValue
        self.decision = query.status == .refused ? "refused" : "allowed"
        self.status = query.status.rawValue
        self.reasons = query.reasons.map(ReasonDTO.init)
        self.failure = query.failure?.rawValue
        self.channel = query.channel.rawValue
        self.clientAppId = query.clientAppID?.rawValue
        self.subject = SubjectDTO(query.subject, name: query.subjectName)
        self.purpose = query.purpose.code
        self.consentId = query.consentID?.rawValue
        self.procedure = query.procedure?.rawValue ?? "standard"
        self.specialCaseId = query.specialCaseID?.rawValue
        self.exceptionId = query.exceptionID?.rawValue
        self.requestedAt = query.requestedAt
        self.answeredAt = query.answeredAt
        self.view = "/console/queries/\(query.id.rawValue)"
        self.decisionLogIndex = decisionLogIndex
    }
}

struct QueryList: ResponseEncodable {
    let queries: [QueryDTO]
}

struct PurposeDTO: Encodable {
    let code: String
    let name: BilingualText
    let subjectKinds: [String]
    let requiresActiveLoan: Bool
    let stateOrganOnly: Bool
}

struct PurposeList: ResponseEncodable {
    let purposes: [PurposeDTO]
}

struct LoanRequestBody: Decodable {
    let contractNumber: String
    let certificateType: String
    let certificateNumber: String
    let organisationCode: String?
    let amountYuan: Int
    let startsOn: String
    let maturesOn: String
    let settledOn: String?
}

struct LoanDTO: ResponseEncodable {
    let id: String
    let contractNumber: String
    let borrower: SubjectDTO
    let organisationId: String
    let amountYuan: Int
    let startsOn: String
    let maturesOn: String
    let settledOn: String?

    init(_ loan: Loan) {
        self.id = loan.id.rawValue
        self.contractNumber = loan.contractNumber
        self.borrower = SubjectDTO(loan.borrower, name: "")
        self.organisationId = loan.organisationID.rawValue
        self.amountYuan = loan.amountYuan
        self.startsOn = loan.startsOn.description
        self.maturesOn = loan.maturesOn.description
        self.settledOn = loan.settledOn?.description
    }
}

struct LoanList: ResponseEncodable {
    let loans: [LoanDTO]
}

struct ClientAppRequestBody: Decodable {
    let name: String
    let organisationIds: [String]
}

struct ClientAppDTO: ResponseEncodable {
    let id: String
    let name: String
    let status: String
    let organisationIds: [String]
    let registeredBy: String
    let registeredAt: Date
    let approvedBy: String?
    let approvedAt: Date?
    let revokedBy: String?
    let revokedAt: Date?

    init(_ app: ClientApp) {
        self.id = app.id.rawValue
        self.name = app.name
        self.status = app.status.rawValue
        self.organisationIds = app.organisations.map(\.rawValue).sorted()
        self.registeredBy = app.registeredBy.rawValue
        self.registeredAt = app.registeredAt
        self.approvedBy = app.approvedBy?.rawValue
        self.approvedAt = app.approvedAt
        self.revokedBy = app.revokedBy?.rawValue
        self.revokedAt = app.revokedAt
    }
}

struct RegisteredClientApp: ResponseEncodable {
    let app: ClientAppDTO
    /// Shown once: only its SHA-256 is kept.
    let secret: String
}

struct ClientAppList: ResponseEncodable {
    let apps: [ClientAppDTO]
}

struct SpecialCaseRequestBody: Decodable {
    let procedure: String
    let certificateType: String
    let certificateNumber: String
    let purpose: String
    let authority: String
    let documentNumber: String?
    let grounds: String
}

struct SpecialCaseDecisionBody: Decodable {
    let decision: String
    let note: String?
}

struct SpecialCaseDTO: ResponseEncodable {
    let id: String
    let procedure: String
    let subject: SubjectDTO
    let purpose: String
    let requestedBy: String
    let organisationId: String
    let authority: String
    let documentNumber: String
    let grounds: String
    let requestedAt: Date
    let status: String
    let decidedBy: String?
    let decidedAt: Date?
    let decisionNote: String?
    let expiresAt: Date?
    let usedByQuery: String?

    init(_ specialCase: SpecialQueryCase) {
        self.id = specialCase.id.rawValue
        self.procedure = specialCase.procedure.rawValue
        self.subject = SubjectDTO(specialCase.subject, name: "")
        self.purpose = specialCase.purpose.code
        self.requestedBy = specialCase.requestedBy.rawValue
        self.organisationId = specialCase.organisationID.rawValue
        self.authority = specialCase.authority
        self.documentNumber = specialCase.documentNumber
        self.grounds = specialCase.grounds
        self.requestedAt = specialCase.requestedAt
        self.status = specialCase.status.rawValue
        self.decidedBy = specialCase.decidedBy?.rawValue
        self.decidedAt = specialCase.decidedAt
        self.decisionNote = specialCase.decisionNote
        self.expiresAt = specialCase.expiresAt
        self.usedByQuery = specialCase.usedByQuery?.rawValue
    }
}

struct SpecialCaseList: ResponseEncodable {
    let own: [SpecialCaseDTO]
    let toReview: [SpecialCaseDTO]
}

struct ExceptionRequestBody: Decodable {
    let certificateType: String
    let certificateNumber: String
    let subjectName: String
    let purpose: String
    let consentId: String?
    let justification: String
}

struct ExceptionDecisionBody: Decodable {
    let decision: String
    let note: String?
    /// What the approver verified on site (现场核实), required to approve a high-risk request.
    let onSiteVerification: String?
}

/// A high-risk pattern that calls for on-site verification, in both languages.
struct RiskDTO: Encodable {
    let code: String
    let message: BilingualText
}

struct ExceptionDTO: ResponseEncodable {
    let id: String
    let requestedBy: String
    let organisationId: String
    let subject: SubjectDTO
    let purpose: String
    let consentId: String?
    let reasons: [ReasonDTO]
    let justification: String
    let risks: [RiskDTO]
    let onSiteVerificationRequired: Bool
    let requestedAt: Date
    let lapsesAt: Date
    /// `pending`, `approved`, `refused`, `used`, or `lapsed` when a pending request's day or an approval's time
    /// has run out.
    let status: String
    let decidedBy: String?
    let decidedAt: Date?
    let decisionNote: String?
    let onSiteVerification: String?
    let expiresAt: Date?
    let usedByQuery: String?

    init(_ exception: PolicyException, at time: Date) {
        self.id = exception.id.rawValue
        self.requestedBy = exception.requestedBy.rawValue
        self.organisationId = exception.organisationID.rawValue
        self.subject = SubjectDTO(exception.subject, name: exception.subjectName)
        self.purpose = exception.purpose.code
        self.consentId = exception.consentID?.rawValue
        self.reasons = exception.reasons.map(ReasonDTO.init)
        self.justification = exception.justification
        self.risks = exception.risks.map {
            RiskDTO(code: $0.rawValue, message: BilingualText(zh: Localizer(.zhCN)($0.nameKey), en: Localizer(.en)($0.nameKey)))
        }
        self.onSiteVerificationRequired = exception.requiresOnSiteVerification
        self.requestedAt = exception.requestedAt
        self.lapsesAt = exception.lapsesAt
        self.status = exception.state(at: time)
        self.decidedBy = exception.decidedBy?.rawValue
        self.decidedAt = exception.decidedAt
        self.decisionNote = exception.decisionNote
        self.onSiteVerification = exception.onSiteVerification
        self.expiresAt = exception.expiresAt
        self.usedByQuery = exception.usedByQuery?.rawValue
    }
}

struct ExceptionList: ResponseEncodable {
    let own: [ExceptionDTO]
    let toReview: [ExceptionDTO]
}

struct LegalHoldRequest: Decodable {
    let reason: String
}

struct LegalHoldDTO: ResponseEncodable {
    let queryId: String
    let reason: String
    let placedBy: String
    let placedAt: Date
    let releasedBy: String?
    let releasedAt: Date?

    init(_ hold: LegalHold) {
        queryId = hold.queryID.rawValue
        reason = hold.reason
        placedBy = hold.placedBy.rawValue
        placedAt = hold.placedAt
        releasedBy = hold.releasedBy?.rawValue
        releasedAt = hold.releasedAt
    }
}

struct LegalHoldList: ResponseEncodable {
    let holds: [LegalHoldDTO]
}

struct DestructionDTO: ResponseEncodable {
    let reportId: String
    let queryId: String
    let destroyedAt: Date
    let reason: String
    let logIndex: UInt64

    init(_ destruction: ReportDestruction) {
        reportId = destruction.reportID.rawValue
        queryId = destruction.queryID.rawValue
        destroyedAt = destruction.destroyedAt
        reason = destruction.reason
        logIndex = destruction.logIndex
    }
}

struct DestructionList: ResponseEncodable {
    let destructions: [DestructionDTO]
}
