import Crypto
import Foundation
import Testing

@testable import CreditGateCore

@Suite struct ConsentCoreTests {
    static let subject = SubjectIdentifier(type: .residentID, number: "110105199003071239")
    static let other = SubjectIdentifier(type: .residentID, number: "11010519491231002X")

    /// An instant on a China Standard Time day at the given hour.
    static func at(_ day: String, hour: Int = 10) -> Date {
        CalendarDate(day)!.start.addingTimeInterval(Double(hour) * 3600)
    }

    static func consent(purposes: Set<QueryPurpose> = [.loanApproval], signedOn: String = "2026-01-10", validUntil: String = "2026-12-31",
                        withdrawnAt: Date? = nil) -> Consent {
        Consent(id: .random(), subject: subject, subjectName: "张三", purposes: purposes, signedOn: CalendarDate(signedOn)!,
                validUntil: CalendarDate(validUntil)!, organisationID: .init("ho"), uploadedBy: .init("q"), uploadedAt: at("2026-01-10"),
                document: ConsentDocument(mediaType: .pdf, byteCount: 10, sha256: "00", fileName: "a.pdf"),
                withdrawal: withdrawnAt.map { .init(at: $0, recordedBy: .init("q"), reason: "撤回") })
    }

    @Test func validityEndsTheDayBeforeTheExpiryDate() {
        let consent = Self.consent(validUntil: "2026-12-31")
        #expect(consent.problems(covering: Self.subject, purpose: .loanApproval, at: Self.at("2026-12-30", hour: 23)).isEmpty)
        // "The expiry date must be later than the query date": on the expiry date itself, no longer.
        #expect(consent.problems(covering: Self.subject, purpose: .loanApproval, at: Self.at("2026-12-31", hour: 0)) == [.expired])
        #expect(consent.problems(covering: Self.subject, purpose: .loanApproval, at: Self.at("2027-03-01")) == [.expired])
        // A query before the signing date is not covered either.
        #expect(consent.problems(covering: Self.subject, purpose: .loanApproval, at: Self.at("2026-01-09")) == [.notYetSigned])
    }

    @Test func withdrawalCountsFromItsMoment() {
        let withdrawnAt = Self.at("2026-06-01", hour: 14)
        let consent = Self.consent(withdrawnAt: withdrawnAt)
        #expect(consent.problems(covering: Self.subject, purpose: .loanApproval, at: withdrawnAt.addingTimeInterval(-1)).isEmpty)
        #expect(consent.problems(covering: Self.subject, purpose: .loanApproval, at: withdrawnAt) == [.withdrawn])
    }

    @Test func subjectAndPurposeMustMatch() {
        let consent = Self.consent(purposes: [.loanApproval, .guarantorReview])
        #expect(consent.problems(covering: Self.other, purpose: .loanApproval, at: Self.at("2026-05-05")) == [.subjectMismatch])
        #expect(consent.problems(covering: Self.subject, purpose: .creditCardApproval, at: Self.at("2026-05-05")) == [.purposeNotCovered])
        #expect(consent.problems(covering: Self.subject, purpose: .guarantorReview, at: Self.at("2026-05-05")).isEmpty)
        // The same number under another certificate type is another subject.
        let passport = SubjectIdentifier(type: .passport, number: Self.subject.number)
        #expect(consent.problems(covering: passport, purpose: .loanApproval, at: Self.at("2026-05-05")) == [.subjectMismatch])
    }

    static func user(rights: Bool = true, status: AccountStatus = .active) -> User {
        var user = User(id: .init("q"), employeeID: EmployeeID("Q0001")!, displayName: "Q", organisationID: .init("ho"), roles: [.queryOperator],
                        status: status, preferredLanguage: nil, createdAt: at("2025-01-01"))
        user.queryRightsGrantedAt = rights ? at("2025-02-01") : nil
        return user
    }

    static func facts(user: User = user(), purpose: QueryPurpose = .loanApproval, app: ClientAppRefusal? = nil, consent: Consent? = consent(),
                      loan: Bool = false, at day: String = "2026-05-05") -> QueryAdmissionFacts {
        QueryAdmissionFacts(user: user, subject: subject, purpose: purpose, appRefusal: app, consent: consent, hasActiveLoan: loan, at: at(day))
    }

    @Test func admissionAllowsOnlyWhenEveryCheckPasses() {
        #expect(QueryAdmission.decide(Self.facts()) == .allowed)
        #expect(QueryAdmission.decide(Self.facts(consent: nil)).reasons.map(\.code) == ["consent_missing"])
        #expect(QueryAdmission.decide(Self.facts(user: Self.user(rights: false))).reasons.map(\.code) == ["user_no_query_rights"])
        #expect(QueryAdmission.decide(Self.facts(user: Self.user(status: .suspended))).reasons.map(\.code) == ["user_not_active"])
        #expect(QueryAdmission.decide(Self.facts(app: .revoked)).reasons.map(\.code) == ["app_revoked"])
        #expect(QueryAdmission.decide(Self.facts(purpose: .judicialInvestigation)).reasons.map(\.code)
            == ["purpose_state_organ_only", "consent_purpose_not_covered"])
    }

    @Test func postLoanManagementNeedsAnActiveLoan() {
        let consent = Self.consent(purposes: [.postLoanManagement])
        #expect(QueryAdmission.decide(Self.facts(purpose: .postLoanManagement, consent: consent)).reasons.map(\.code) == ["loan_not_active"])
        #expect(QueryAdmission.decide(Self.facts(purpose: .postLoanManagement, consent: consent, loan: true)) == .allowed)
        let loan = Loan(id: .random(), contractNumber: "HT-1", borrower: Self.subject, organisationID: .init("ho"), amountYuan: 1000,
                        startsOn: CalendarDate("2025-01-01")!, maturesOn: CalendarDate("2026-01-01")!, settledOn: CalendarDate("2026-03-01")!)
        // Past maturity but not settled is still active; settled is not.
        #expect(loan.isActive(on: CalendarDate("2026-02-28")!))
        #expect(!loan.isActive(on: CalendarDate("2026-03-01")!))
        #expect(!loan.isActive(on: CalendarDate("2024-12-31")!))
    }

    @Test func reasonsReadInBothLanguagesWithTheirFacts() {
        let reasons = QueryAdmission.decide(Self.facts(at: "2027-01-02")).reasons
        #expect(reasons.map(\.code) == ["consent_expired"])
        #expect(reasons[0].message(in: .zhCN).contains("2026-12-31"))
        #expect(reasons[0].message(in: .en).contains("2027-01-02"))
        for code in QueryAdmission.reasonCodes {
            let reason = QueryRefusalReason(code: code)
            #expect(Catalogue.zhCN[reason.messageKey] != nil && Catalogue.en[reason.messageKey] != nil, "missing words for \(code)")
        }
    }

    @Test func documentTypesComeFromTheBytes() {
        #expect(ConsentDocumentType.detect(Array("%PDF-1.7\n".utf8)) == .pdf)
        #expect(ConsentDocumentType.detect([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(ConsentDocumentType.detect([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) == .png)
        #expect(ConsentDocumentType.detect(Array("GIF89a".utf8)) == nil)
        #expect(ConsentDocumentType.detect([0x89, 0x50, 0x4E, 0x47]) == nil)
        #expect(ConsentDocumentType.detect([UInt8]()) == nil)
    }

    @Test func draftsAreCheckedBeforeFiling() {
        let today = CalendarDate("2026-05-05")!
        func draft(_ purposes: Set<QueryPurpose>, _ signed: String, _ until: String, subject: SubjectIdentifier = ConsentCoreTests.subject) -> [String] {
            ConsentDraft(subject: subject, subjectName: "张三", purposes: purposes, signedOn: CalendarDate(signed)!, validUntil: CalendarDate(until)!)
                .problems(today: today)
        }
        #expect(draft([.loanApproval], "2026-05-01", "2026-12-31").isEmpty)
        #expect(draft([], "2026-05-01", "2026-12-31") == ["consent_purposes_empty"])
        #expect(draft([.judicialInvestigation], "2026-05-01", "2026-12-31") == ["consent_purpose_state_organ"])
        #expect(draft([.loanApproval], "2026-05-06", "2026-12-31") == ["consent_signed_in_future"])
        #expect(draft([.loanApproval], "2026-05-01", "2026-05-05") == ["consent_already_expired"])
        let corporate = SubjectIdentifier(type: .unifiedSocialCreditCode, number: "91350100M000100Y43")
        #expect(draft([.creditCardApproval], "2026-05-01", "2026-12-31", subject: corporate) == ["consent_purpose_kind"])
    }

    @Test func envelopesOpenOnlyForTheirOwnItemAndKey() throws {
        let sealer = EnvelopeSealer(current: MasterKey(SymmetricKey(size: .bits256)))
        let envelope = try sealer.seal(Data("report body".utf8), binding: "report:a")
        #expect(try sealer.open(envelope, binding: "report:a") == Data("report body".utf8))
        // Moved to another row: refused.
        #expect(throws: EnvelopeError.damaged) { try sealer.open(envelope, binding: "report:b") }
        // One flipped bit anywhere: refused.
        var tampered = envelope.ciphertext
        tampered[tampered.count - 1] ^= 0x01
        #expect(throws: EnvelopeError.damaged) {
            try sealer.open(SealedEnvelope(keyID: envelope.keyID, wrappedKey: envelope.wrappedKey, ciphertext: tampered), binding: "report:a")
        }
        // Another installation's key: the ID is unknown.
        let other = EnvelopeSealer(current: MasterKey(SymmetricKey(size: .bits256)))
        #expect(throws: EnvelopeError.unknownKey(envelope.keyID)) { try other.open(envelope, binding: "report:a") }
        // A retired key still opens what it sealed.
        let rotated = EnvelopeSealer(current: MasterKey(SymmetricKey(size: .bits256)), retired: [sealer.current])
        #expect(try rotated.open(envelope, binding: "report:a") == Data("report body".utf8))
    }

    @Test func anApplicationIsApprovedBySomeoneElseAndRefusedOnceRevoked() {
        let tree = OrganisationTree([
            Organisation(id: .init("ho"), code: "HO", name: "总行", kind: .headOffice, parentID: nil, regionCode: RegionCode("110102")!, networks: []),
            Organisation(id: .init("sh"), code: "SH", name: "上海", kind: .branch, parentID: .init("ho"), regionCode: RegionCode("310101")!, networks: []),
            Organisation(id: .init("gd"), code: "GD", name: "广东", kind: .branch, parentID: .init("ho"), regionCode: RegionCode("440103")!, networks: []),
        ])
        var app = ClientApp(id: .random(), name: "信贷系统", status: .pending, organisations: [.init("sh")],
                            credentialHash: ClientApp.hashCredential("s3cret"), registeredBy: .init("a1"), registeredAt: Self.at("2026-01-01"))
        #expect(app.refusal(secret: "s3cret", unit: .init("sh"), tree: tree) == .notApproved)
        #expect(app.approve(by: .init("a1"), at: Self.at("2026-01-02")) == .ownRegistration)
        #expect(app.approve(by: .init("a2"), at: Self.at("2026-01-02")) == nil)
        #expect(app.refusal(secret: "s3cret", unit: .init("sh"), tree: tree) == nil)
        #expect(app.refusal(secret: "wrong", unit: .init("sh"), tree: tree) == .unknown)
        #expect(app.refusal(secret: "s3cret", unit: .init("gd"), tree: tree) == .outOfScope)
        #expect(app.revoke(by: .init("a2"), at: Self.at("2026-02-01")) == nil)
        #expect(app.refusal(secret: "s3cret", unit: .init("sh"), tree: tree) == .revoked)
    }

    /// the register's entries for the subject say whose report it is to the querier — their own first, then a
    /// relative they declared, then a colleague's of their unit; a relative of a colleague, or someone of another
    /// unit, is nobody's business here.
    @Test func aRelatedPartyIsTheQueriersOwnTheirRelativeOrAColleagueOfTheirUnit() {
        let querier = Self.user()
        func holder(_ user: String, _ unit: String, _ relation: RelatedParty.Relation) -> RelatedPartyHolder {
            RelatedPartyHolder(userID: .init(user), organisationID: .init(unit), relation: relation)
        }
        #expect(RelatedPartyMatch.of([], querier: querier) == nil)
        #expect(RelatedPartyMatch.of([holder("q", "ho", .spouse), holder("q", "ho", .own)], querier: querier) == .own)
        #expect(RelatedPartyMatch.of([holder("c", "ho", .own), holder("q", "ho", .parent)], querier: querier) == .relative(.parent))
        #expect(RelatedPartyMatch.of([holder("c", "ho", .own)], querier: querier) == .colleague)
        #expect(RelatedPartyMatch.of([holder("c", "ho", .child), holder("d", "branch", .own)], querier: querier) == nil)

        func decide(_ match: RelatedPartyMatch?, procedure: SpecialQueryCase.Procedure? = nil) -> [QueryRefusalReason] {
            QueryAdmission.decide(QueryAdmissionFacts(user: querier, subject: Self.subject, purpose: .loanApproval, appRefusal: nil,
                                                      consent: Self.consent(), hasActiveLoan: false, procedure: procedure, relatedParty: match,
                                                      at: Self.at("2026-05-05"))).reasons
        }
        #expect(decide(nil).isEmpty)
        // Refused whatever the consent, and said in both languages with the relation.
        let own = decide(.own)
        #expect(own.map(\.code) == ["related_party"] && own.first?.facts["relation"] == "self")
        #expect(own.first?.message(in: .zhCN).contains("您本人") == true && own.first?.message(in: .en).contains("yourself") == true)
        #expect(decide(.relative(.sibling)).first?.message(in: .en).contains("a sibling you declared") == true)
        #expect(decide(.colleague).first?.message(in: .zhCN).contains("本机构的同事") == true)
        // Under the internal-staff procedure the rule gives way to the case, which admission checks instead; a state
        // organ's procedure does not lift it.
        #expect(decide(.own, procedure: .internalStaff).map(\.code) == ["special_case_missing"])
        #expect(decide(.relative(.spouse), procedure: .stateOrgan).map(\.code).contains("related_party"))
    }

    @Test func aStateOrganQueryNeedsItsOwnApprovedCaseButNoConsent() {
        var specialCase = SpecialQueryCase(
            id: .random(), procedure: .stateOrgan, subject: Self.subject, purpose: .judicialInvestigation, requestedBy: .init("q"),
            organisationID: .init("ho"), authority: "北京市东城区人民法院", documentNumber: "(2026)京0101执123号", grounds: "民事诉讼法第二百五十条",
            requestedAt: Self.at("2026-05-01")
        )
        func decide(_ facts: (SpecialQueryCase?, SpecialQueryCase.Procedure?), consent: Consent? = nil, at day: String = "2026-05-02") -> [String] {
            QueryAdmission.decide(QueryAdmissionFacts(user: Self.user(), subject: Self.subject, purpose: .judicialInvestigation, appRefusal: nil,
                                                      consent: consent, hasActiveLoan: false, procedure: facts.1, specialCase: facts.0,
                                                      at: Self.at(day))).reasons.map(\.code)
        }
        // The ordinary route never allows a judicial investigation.
        #expect(decide((nil, nil)) == ["purpose_state_organ_only", "consent_missing"])
        #expect(decide((nil, .stateOrgan)) == ["special_case_missing"])
        #expect(decide((specialCase, .stateOrgan)) == ["special_case_not_approved"])
        // Approval: never the requester, only an approver whose unit covers the case, a refusal needs a note.
        #expect(specialCase.decide(approve: true, by: .init("q"), approverRoles: [.approver, .queryOperator], approverUnitCovers: true, note: "",
                                   at: Self.at("2026-05-01"), validity: 7 * 86_400) == .ownCase)
        #expect(specialCase.decide(approve: true, by: .init("a"), approverRoles: [.approver], approverUnitCovers: false, note: "",
                                   at: Self.at("2026-05-01"), validity: 7 * 86_400) == .notThisApprover)
        #expect(specialCase.decide(approve: false, by: .init("a"), approverRoles: [.approver], approverUnitCovers: true, note: " ",
                                   at: Self.at("2026-05-01"), validity: 7 * 86_400) == .noteRequired)
        #expect(specialCase.decide(approve: true, by: .init("a"), approverRoles: [.approver], approverUnitCovers: true, note: "",
                                   at: Self.at("2026-05-01"), validity: 7 * 86_400) == nil)
        // Approved: allowed without a consent, for this subject and purpose only, until it expires; then used once.
        #expect(decide((specialCase, .stateOrgan)).isEmpty)
        // A case of the other procedure does not count, and the internal-staff procedure still needs a consent.
        #expect(decide((specialCase, .internalStaff)) == ["special_case_missing", "consent_missing"])
        #expect(decide((specialCase, .stateOrgan), at: "2026-05-09") == ["special_case_expired"])
        #expect(specialCase.problem(for: .init("q"), subject: Self.other, purpose: .judicialInvestigation, at: Self.at("2026-05-02")) == "special_case_mismatch")
        #expect(specialCase.problem(for: .init("other"), subject: Self.subject, purpose: .judicialInvestigation, at: Self.at("2026-05-02")) == "special_case_mismatch")
        specialCase.status = .used
        #expect(decide((specialCase, .stateOrgan)) == ["special_case_used"])
        // Opening rules.
        #expect(SpecialQueryCase.problems(procedure: .stateOrgan, subject: Self.subject, purpose: .loanApproval, authority: "法院", documentNumber: "",
                                          grounds: "依法") == ["special_case_state_organ_purpose", "special_case_document_required"])
        #expect(SpecialQueryCase.problems(procedure: .internalStaff, subject: Self.subject, purpose: .loanApproval, authority: "人力资源部",
                                          documentNumber: "", grounds: "员工贷款").isEmpty)
    }

    @Test func calendarDatesAreRealDays() {
        #expect(CalendarDate("2026-02-29") == nil)
        #expect(CalendarDate("2028-02-29")?.description == "2028-02-29")
        #expect(CalendarDate("2026-1-5") == nil)
        #expect(CalendarDate("abcd-ef-gh") == nil)
        // 2026-05-04T16:30Z is already 5 May 00:30 in China Standard Time.
        #expect(CalendarDate(Date(timeIntervalSince1970: 1_777_912_200)).description == "2026-05-05")
    }
}
