import CreditGateCore
import CreditGateStore
import Foundation

/// The bank's loan register: loans added one by one or imported from a CSV file of the core banking system,
/// seen in scope, and asked whether a subject has an active loan.
public struct LoanRegisterService: Sendable {
    let loans: any LoanRepository
    let organisations: any OrganisationRepository
    let audit: AuditTrail
    let clock: @Sendable () -> Date

    public init(loans: any LoanRepository, organisations: any OrganisationRepository, audit: AuditTrail, clock: @escaping @Sendable () -> Date) {
        self.loans = loans
        self.organisations = organisations
        self.audit = audit
        self.clock = clock
    }

    /// One loan as text, from the API or a line of an import file.
    public struct Entry: Sendable {
        public var contractNumber: String
        public var certificateType: String
        public var certificateNumber: String
        public var organisationCode: String?
        public var amountYuan: Int
        public var startsOn: String
        public var maturesOn: String
        public var settledOn: String?

        public init(contractNumber: String, certificateType: String, certificateNumber: String, organisationCode: String?, amountYuan: Int,
                    startsOn: String, maturesOn: String, settledOn: String?) {
            self.contractNumber = contractNumber
            self.certificateType = certificateType
            self.certificateNumber = certificateNumber
            self.organisationCode = organisationCode
            self.amountYuan = amountYuan
            self.startsOn = startsOn
            self.maturesOn = maturesOn
            self.settledOn = settledOn
        }
    }

    /// Adds or updates a loan booked in the actor's scope (in the actor's own unit unless another is named).
    public func record(_ entry: Entry, by actor: AuthenticatedUser, clientIP: String) async throws -> Loan {
        let now = clock()
        let borrower = try SubjectInput.identifier(type: entry.certificateType, number: entry.certificateNumber, today: now)
        let tree = OrganisationTree(try await organisations.all())
        // Writes stay in the writer's own subtree, whatever else their roles let them read.
        let writable = tree.unitIDs(under: actor.user.organisationID)
        var unit = actor.user.organisationID
        if let code = entry.organisationCode?.trimmingCharacters(in: .whitespaces), !code.isEmpty {
            guard let named = tree.units.values.first(where: { $0.code.caseInsensitiveCompare(code) == .orderedSame }), writable.contains(named.id)
            else { throw CreditGateError(.validationFailed, detailKey: "loan_organisation_unknown", cause: "loan unit unknown or outside scope") }
            unit = named.id
        }
        let settled = entry.settledOn.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        guard let startsOn = CalendarDate(entry.startsOn), let maturesOn = CalendarDate(entry.maturesOn),
              settled.map({ CalendarDate($0) != nil }) ?? true
        else { throw CreditGateError(.validationFailed, detailKey: "consent_date_format", cause: "loan dates not yyyy-MM-dd") }
        let settledOn = settled.flatMap(CalendarDate.init)
        let contract = entry.contractNumber.trimmingCharacters(in: .whitespaces)
        if let problem = Loan.problems(contractNumber: contract, amountYuan: entry.amountYuan, startsOn: startsOn, maturesOn: maturesOn,
                                       settledOn: settledOn).first {
            throw CreditGateError(.validationFailed, detailKey: problem, cause: "loan refused: \(problem)")
        }
        let loan = Loan(id: .random(), contractNumber: contract, borrower: borrower, organisationID: unit, amountYuan: entry.amountYuan,
                        startsOn: startsOn, maturesOn: maturesOn, settledOn: settledOn)
        try await audit.record(AuditEvent(
            kind: .loanRecorded, occurredAt: now, actor: .init(actor.user), clientIP: clientIP,
            subjectHash: audit.subjects.hash(identifierType: borrower.type.rawValue, identifier: borrower.number), outcome: .success,
            details: ["contract": contract, "settled": settledOn?.description ?? ""]
        ))
        do {
            return try await loans.upsert(loan, within: writable, by: actor.user.id, now: now)
        } catch StoreError.duplicate {
            throw CreditGateError(.conflict, detailKey: "loan_contract_taken", cause: "contract number of another unit, or written concurrently")
        }
    }

    /// Imports `contract_number,certificate_type,certificate_number,organisation_code,amount_yuan,starts_on,matures_on,settled_on`
    /// lines (a header line is skipped). Applies every good line; reports each bad one with its line number.
    public func importCSV(_ text: String, by actor: AuthenticatedUser, clientIP: String) async throws -> (applied: Int, problems: [AccountAdministration.ImportProblem]) {
        var applied = 0
        var problems: [AccountAdministration.ImportProblem] = []
        // Blank lines are kept in the split so that the reported line numbers are the file's.
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || (index == 0 && line.lowercased().hasPrefix("contract")) { continue }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 7 || cells.count == 8, let amount = Int(cells[4]) else {
                problems.append(AccountAdministration.ImportProblem(line: index + 1, reasonKey: "loan_import_line_format"))
                continue
            }
            let entry = Entry(contractNumber: cells[0], certificateType: cells[1], certificateNumber: cells[2], organisationCode: cells[3],
                              amountYuan: amount, startsOn: cells[5], maturesOn: cells[6], settledOn: cells.count == 8 ? cells[7] : nil)
            do {
                _ = try await record(entry, by: actor, clientIP: clientIP)
                applied += 1
            } catch let error as CreditGateError where error.kind.status < 500 {
                problems.append(AccountAdministration.ImportProblem(line: index + 1, reasonKey: error.detailKey ?? error.kind.titleKey))
            }
        }
        return (applied, problems)
    }

    public func loans(for actor: AuthenticatedUser, limit: Int = 500) async throws -> [Loan] {
        let scope = AdministrativeScope.of(roles: actor.user.roles, organisation: actor.user.organisationID)
        return try await loans.loans(in: scope.units(in: OrganisationTree(try await organisations.all())), limit: limit)
    }

    /// Whether the bank has an active loan of the subject on the day of `time` (China Standard Time), in any unit:
    /// post-loan management follows the borrower wherever the loan was booked.
    public func hasActiveLoan(_ subject: SubjectIdentifier, at time: Date) async throws -> Bool {
        let day = CalendarDate(time)
        return try await loans.loans(of: subject).contains { $0.isActive(on: day) }
    }
}

/// The registry of client applications: registration with a credential shown once, approval by a second
/// system administrator, revocation, and the check every API query passes.
public struct ClientAppService: Sendable {
    let apps: any ClientAppRepository
    let organisations: any OrganisationRepository
    let audit: AuditTrail
    let clock: @Sendable () -> Date

    public init(apps: any ClientAppRepository, organisations: any OrganisationRepository, audit: AuditTrail, clock: @escaping @Sendable () -> Date) {
        self.apps = apps
        self.organisations = organisations
        self.audit = audit
        self.clock = clock
    }

    /// Registers an application as pending and returns it with its credential, which is never shown again.
    public func register(name: String, organisationIDs: [Organisation.ID], by actor: AuthenticatedUser, clientIP: String) async throws -> (ClientApp, String) {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else {
            throw CreditGateError(.validationFailed, detailKey: "client_app_name_invalid", cause: "client app name length")
        }
        let tree = OrganisationTree(try await organisations.all())
        guard !organisationIDs.isEmpty, organisationIDs.allSatisfy({ tree.units[$0] != nil }) else {
            throw CreditGateError(.validationFailed, detailKey: "client_app_units_invalid", cause: "client app units empty or unknown")
        }
        let secret = Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
        let app = ClientApp(id: .random(), name: name, status: .pending, organisations: Set(organisationIDs),
                            credentialHash: ClientApp.hashCredential(secret), registeredBy: actor.user.id, registeredAt: clock())
        try await audit.record(AuditEvent(kind: .clientAppRegistered, occurredAt: app.registeredAt, actor: .init(actor.user), clientIP: clientIP,
                                          clientApp: app.id.rawValue, outcome: .success,
                                          details: ["name": name, "units": organisationIDs.map(\.rawValue).sorted().joined(separator: ",")]))
        try await apps.create(app)
        return (app, secret)
    }

    public func approve(_ id: ClientApp.ID, by actor: AuthenticatedUser, clientIP: String) async throws -> ClientApp {
        try await transition(id, kind: .clientAppApproved, by: actor, clientIP: clientIP) { app, now in app.approve(by: actor.user.id, at: now) }
    }

    public func revoke(_ id: ClientApp.ID, by actor: AuthenticatedUser, clientIP: String) async throws -> ClientApp {
        try await transition(id, kind: .clientAppRevoked, by: actor, clientIP: clientIP) { app, now in app.revoke(by: actor.user.id, at: now) }
    }

    private func transition(_ id: ClientApp.ID, kind: AuditEvent.Kind, by actor: AuthenticatedUser, clientIP: String,
                            _ change: (inout ClientApp, Date) -> ClientAppTransitionProblem?) async throws -> ClientApp {
        guard var app = try await apps.app(id) else {
            throw CreditGateError(.notFound, detailKey: "detail_not_found", cause: "unknown client app")
        }
        let before = app.status
        let now = clock()
        if let problem = change(&app, now) {
            try await audit.record(AuditEvent(kind: kind, occurredAt: now, actor: .init(actor.user), clientIP: clientIP, clientApp: id.rawValue,
                                              outcome: .denied, reasonCodes: [problem.rawValue]))
            throw CreditGateError(problem == .ownRegistration ? .forbidden : .conflict, detailKey: problem.rawValue, cause: "client app transition refused")
        }
        try await audit.record(AuditEvent(kind: kind, occurredAt: now, actor: .init(actor.user), clientIP: clientIP, clientApp: id.rawValue,
                                          outcome: .success, details: ["from": before.rawValue, "to": app.status.rawValue]))
        guard try await apps.updateStatus(app, expected: before) else {
            // Another administrator changed it a moment earlier: the log says this change did not take effect.
            try await audit.record(AuditEvent(kind: kind, occurredAt: now, actor: .init(actor.user), clientIP: clientIP, clientApp: id.rawValue,
                                              outcome: .denied, reasonCodes: ["client_app_changed_concurrently"]))
            throw CreditGateError(.conflict, detailKey: "client_app_not_pending", cause: "client app changed concurrently")
        }
        return app
    }

    public func all() async throws -> [ClientApp] {
        try await apps.all()
    }

    /// Why a user of `unit` could not query through the named application, leaving the secret aside: for the
    /// what-if simulator, which asks about an application, not with one.
    public func refusalIgnoringSecret(appID: String, unit: Organisation.ID) async throws -> ClientAppRefusal? {
        guard !appID.isEmpty, appID.count <= 64, let app = try await apps.app(ClientApp.ID(appID.lowercased())) else { return .unknown }
        let tree = OrganisationTree(try await organisations.all())
        switch app.status {
        case .pending: return .notApproved
        case .revoked: return .revoked
        case .approved: return app.organisations.contains(where: { tree.isWithin(unit, subtreeOf: $0) }) ? nil : .outOfScope
        }
    }

    /// Why a user of `unit` may not query through the application the request names; `nil` when they may. A
    /// missing or unknown ID, and a wrong secret, give the same refusal. Decided on the reference data the caller
    /// holds, which is as current as the query it decides.
    func refusal(appID: String?, secret: String?, unit: Organisation.ID, reference: ReferenceData) -> (ClientApp?, ClientAppRefusal?) {
        guard let appID, let secret, !appID.isEmpty, !secret.isEmpty, appID.count <= 64, let app = reference.apps[ClientApp.ID(appID)] else {
            return (nil, .unknown)
        }
        let refusal = app.refusal(secret: secret, unit: unit, tree: reference.tree)
        return (refusal == .unknown ? nil : app, refusal)
    }
}
