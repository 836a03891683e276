import Foundation

/// A reason a query is refused: a stable code, the facts that made it fire, and words for the loan officer from
/// the catalogue (`query_reason_<code>`, with `{fact}` placeholders filled from ``facts``).
public struct QueryRefusalReason: Sendable, Equatable {
    public let code: String
    public let facts: [String: String]

    public init(code: String, facts: [String: String] = [:]) {
        self.code = code
        self.facts = facts
    }

    public var messageKey: String { "query_reason_\(code)" }

    /// The reason in words, in `language`. A fact given per language (`name_zh`, `name_en`) fills `{name}` in that
    /// language, so that a holiday's name is never shown in the other one.
    public func message(in language: Language) -> String {
        let suffix = language == .zhCN ? "_zh" : "_en"
        var localFacts = facts
        for (name, value) in facts where name.hasSuffix(suffix) {
            localFacts[String(name.dropLast(suffix.count))] = value
        }
        return Catalogue.format(messageKey, in: language, facts: localFacts)
    }
}

/// The outcome of admitting a query before the bureau is called.
public enum QueryAdmissionDecision: Sendable, Equatable {
    case allowed
    case refused([QueryRefusalReason])

    public var isAllowed: Bool { self == .allowed }
    public var reasons: [QueryRefusalReason] {
        if case .refused(let reasons) = self { return reasons }
        return []
    }
}

/// Everything the admission decision looks at, read in one place before deciding.
public struct QueryAdmissionFacts: Sendable {
    public let user: User
    public let subject: SubjectIdentifier
    public let purpose: QueryPurpose
    /// Why the client application may not be used; `nil` for an admitted application or the console.
    public let appRefusal: ClientAppRefusal?
    /// The consent the query cites, if it exists and belongs to the bank; `nil` when none was found.
    public let consent: Consent?
    /// Whether the register holds an active loan of the subject (looked at only for 贷后管理).
    public let hasActiveLoan: Bool
    /// The special procedure the query is made under; `nil` for the ordinary one.
    public let procedure: SpecialQueryCase.Procedure?
    /// The approved case the query cites, if it exists; looked at only under a special procedure.
    public let specialCase: SpecialQueryCase?
    /// How the subject is related to the querier by the register of related parties, when it is.
    public let relatedParty: RelatedPartyMatch?
    public let at: Date

    public init(user: User, subject: SubjectIdentifier, purpose: QueryPurpose, appRefusal: ClientAppRefusal?, consent: Consent?,
                hasActiveLoan: Bool, procedure: SpecialQueryCase.Procedure? = nil, specialCase: SpecialQueryCase? = nil,
                relatedParty: RelatedPartyMatch? = nil, at: Date) {
        self.user = user
        self.subject = subject
        self.purpose = purpose
        self.appRefusal = appRefusal
        self.consent = consent
        self.hasActiveLoan = hasActiveLoan
        self.procedure = procedure
        self.specialCase = specialCase
        self.relatedParty = relatedParty
        self.at = at
    }
}

/// 未经授权严禁查询征信报告: the checks every query passes before the bureau is called.
///
/// Every check runs and every failing one is named, so that the loan officer and the inspector see the whole
/// picture at once, not one reason per attempt. The daily caps, hours, calendar, region and address rules are
/// the policy engine's and come on top of these; none of them can allow what this refuses.
public enum QueryAdmission {
    public static func decide(_ facts: QueryAdmissionFacts) -> QueryAdmissionDecision {
        var reasons: [QueryRefusalReason] = []
        let user = facts.user
        if user.status != .active {
            reasons.append(.init(code: "user_not_active", facts: ["status": user.status.rawValue]))
        } else if !user.hasQueryRights {
            reasons.append(.init(code: "user_no_query_rights"))
        }
        if let refusal = facts.appRefusal {
            reasons.append(.init(code: refusal.rawValue))
        }
        let kind = facts.subject.type.subjectKind
        if let procedure = facts.procedure {
            // the procedure's own approved case stands in for the ordinary route.
            if let specialCase = facts.specialCase, specialCase.procedure == procedure {
                if let problem = specialCase.problem(for: user.id, subject: facts.subject, purpose: facts.purpose, at: facts.at) {
                    reasons.append(.init(code: problem))
                }
            } else {
                reasons.append(.init(code: "special_case_missing"))
            }
        } else if facts.purpose.isStateOrganOnly {
            reasons.append(.init(code: "purpose_state_organ_only", facts: ["purpose": facts.purpose.code]))
        }
        // one's own report, a declared relative's or a colleague's is never an ordinary query, whatever the
        // consent: only the internal-staff procedure, with its approved case and the person's consent, may make it.
        // A state organ's request about one's own family is for someone else in the bank to handle.
        if let related = facts.relatedParty, facts.procedure != .internalStaff {
            reasons.append(.init(code: "related_party", facts: [
                "relation": related.code, "relation_zh": Catalogue.format(related.nameKey, in: .zhCN),
                "relation_en": Catalogue.format(related.nameKey, in: .en),
            ]))
        }
        if !facts.purpose.reportKinds.contains(kind) {
            reasons.append(.init(code: "purpose_not_for_kind", facts: ["purpose": facts.purpose.code]))
        }
        if facts.procedure?.needsConsent == false {
            // A state organ's query under law needs no consent of the subject (征信业管理条例 Art. 18).
        } else if let consent = facts.consent {
            for problem in consent.problems(covering: facts.subject, purpose: facts.purpose, at: facts.at) {
                reasons.append(.init(code: problem.rawValue, facts: [
                    "purpose": facts.purpose.code,
                    "valid_until": consent.validUntil.description,
                    "signed_on": consent.signedOn.description,
                    "query_date": CalendarDate(facts.at).description,
                ]))
            }
        } else {
            reasons.append(.init(code: "consent_missing"))
        }
        if facts.purpose.requiresActiveLoan, !facts.hasActiveLoan {
            reasons.append(.init(code: "loan_not_active"))
        }
        return reasons.isEmpty ? .allowed : .refused(reasons)
    }

    /// Every reason code the decision can give, for the catalogue test and the documentation.
    public static let reasonCodes: [String] = [
        "user_not_active", "user_no_query_rights", "purpose_state_organ_only", "purpose_not_for_kind", "consent_missing", "loan_not_active", "related_party",
        "special_case_missing", "special_case_not_approved", "special_case_used", "special_case_expired", "special_case_mismatch",
    ] + ClientAppRefusal.allCases.map(\.rawValue) + ConsentProblem.allCases.map(\.rawValue)
}
