import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird

/// A unit's policy as the API shows it: its own settings (absent fields inherit) and what is in force.
struct UnitPolicyDTO: ResponseEncodable {
    struct Effective: Encodable {
        let userDailyCap: Int
        let organisationDailyCap: Int
        let workdayStart: String
        let workdayEnd: String
        let regionGranularity: String
        let regionExemptPurposes: [String]
        let exceptable: [String]

        init(_ policy: EffectivePolicy) {
            self.userDailyCap = policy.userDailyCap
            self.organisationDailyCap = policy.organisationDailyCap
            self.workdayStart = policy.workdayStart.description
            self.workdayEnd = policy.workdayEnd.description
            self.regionGranularity = policy.regionGranularity.rawValue
            self.regionExemptPurposes = policy.regionExemptPurposes.map(\.code).sorted()
            self.exceptable = policy.exceptable.map(\.rawValue).sorted()
        }
    }

    let organisationId: String
    let organisationCode: String
    let own: PolicySettings
    let effective: Effective

    init(_ unit: PolicyService.UnitPolicy) {
        self.organisationId = unit.organisation.id.rawValue
        self.organisationCode = unit.organisation.code
        self.own = unit.own ?? PolicySettings()
        self.effective = Effective(unit.effective)
    }
}

struct UnitPolicyList: ResponseEncodable {
    let units: [UnitPolicyDTO]
}

struct CalendarYearDTO: Encodable {
    struct Holiday: Encodable {
        let name: BilingualText
        let from: String
        let to: String
    }

    let year: Int
    let holidays: [Holiday]
    let workdays: [String]
    let source: String
    let sourceDocument: String
    let published: String
    let sha256: String
    let importedAt: Date

    init(_ stored: StoredHolidayCalendar) {
        self.year = stored.calendar.year
        self.holidays = stored.calendar.holidays.map { Holiday(name: $0.name, from: $0.from.description, to: $0.to.description) }
        self.workdays = stored.calendar.workdays.map(\.description)
        self.source = stored.calendar.source.title
        self.sourceDocument = stored.calendar.source.document
        self.published = stored.calendar.source.published
        self.sha256 = stored.sha256
        self.importedAt = stored.importedAt
    }
}

struct CalendarDTO: ResponseEncodable {
    let years: [CalendarYearDTO]
    /// Years to import now: the current one if missing, and from 1 December the next one.
    let missingYears: [Int]
}

struct SimulationRequest: Decodable {
    struct Subject: Decodable {
        let type: String
        let id: String
    }

    let employeeId: String
    let subject: Subject
    let purpose: String
    let at: String
    let ip: String
    let appId: String?
}

struct SimulationResponse: ResponseEncodable {
    struct Reason: Encodable {
        let code: String
        let message: BilingualText
        let exceptable: Bool
        let facts: [String: String]
    }

    let decision: String
    let reasons: [Reason]

    init(_ decision: PolicyDecision) {
        self.decision = decision.code
        self.reasons = decision.reasons.map {
            Reason(code: $0.code, message: BilingualText(zh: $0.reason.message(in: .zhCN), en: $0.reason.message(in: .en)),
                   exceptable: $0.exceptable, facts: $0.reason.facts)
        }
    }
}

/// The JSON API of the policy settings, the holiday calendar and the what-if simulator.
struct ReplayRequest: Decodable {
    let organisationId: String
    /// `yyyy-MM-dd`, today or before (China Standard Time).
    let day: String
    /// The unit's own settings as proposed; absent fields inherit, as in `PUT /policy/organisations/{id}`.
    let proposed: PolicySettings
}

/// How many queries of the replayed day each decision took, as it happened and under the proposal.
struct ReplaySummary: Encodable {
    let queries: Int
    let changed: Int
    let happened: [String: Int]
    let proposed: [String: Int]

    init(_ outcomes: [PolicyReplay.Outcome]) {
        queries = outcomes.count
        changed = outcomes.filter(\.changed).count
        happened = Dictionary(grouping: outcomes, by: \.query.happened).mapValues(\.count)
        proposed = Dictionary(grouping: outcomes, by: \.decision.code).mapValues(\.count)
    }

    /// The figures the summary sentence names.
    var facts: [String: String] {
        ["queries": String(queries), "changed": String(changed), "allow": String(proposed["allow"] ?? 0),
         "approval": String(proposed["approval_required"] ?? 0), "block": String(proposed["block"] ?? 0)]
    }
}

struct ReplayResponse: ResponseEncodable {
    struct Changed: Encodable {
        let queryId: String
        let requestedAt: Date
        let userId: String
        let subject: SubjectDTO
        let purpose: String
        let happened: String
        let proposed: String
        let reasons: [ReasonDTO]
    }

    let organisationId: String
    let day: String
    let truncated: Bool
    let summary: ReplaySummary
    /// The queries whose decision would change, in the order they were made.
    let changed: [Changed]

    init(_ replay: PolicySimulator.Replay) {
        organisationId = replay.unit.id.rawValue
        day = replay.day.description
        truncated = replay.truncated
        summary = ReplaySummary(replay.outcomes)
        changed = replay.outcomes.filter(\.changed).map { outcome in
            Changed(queryId: outcome.query.id.rawValue, requestedAt: outcome.query.at, userId: outcome.query.userID.rawValue,
                    subject: SubjectDTO(outcome.query.subject, name: ""), purpose: outcome.query.purpose.code, happened: outcome.query.happened,
                    proposed: outcome.decision.code, reasons: outcome.decision.reasons.map { ReasonDTO($0.reason) })
        }
    }
}

struct PolicyAPIController {
    let policy: PolicyService
    let simulator: PolicySimulator

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.group().add(middleware: RequirePermission(.policyRead))
            .get("policy/organisations", use: units)
            .get("calendar", use: calendar)
        group.group().add(middleware: RequirePermission(.policyManage)).put("policy/organisations/{id}", use: update)
        group.group().add(middleware: RequirePermission(.calendarManage)).post("calendar", use: importCalendar)
        group.group().add(middleware: RequirePermission(.policySimulate))
            .post("policy/simulate", use: simulate)
            .post("policy/replay", use: replay)
    }

    /// What the current policy would decide; stores nothing but its own audit event.
    @Sendable func simulate(_ request: Request, context: AppRequestContext) async throws -> SimulationResponse {
        let body = try await JSONBody.decode(SimulationRequest.self, from: request, context: context)
        return SimulationResponse(try await simulator.simulate(PolicySimulator.Question(
            employeeID: body.employeeId, certificateType: body.subject.type, certificateNumber: body.subject.id, purpose: body.purpose,
            at: body.at, ip: body.ip, appID: body.appId
        ), by: try context.requireIdentity(), clientIP: context.clientIP))
    }

    /// A past day's queries decided again under a proposed policy; stores nothing but its own audit event.
    @Sendable func replay(_ request: Request, context: AppRequestContext) async throws -> ReplayResponse {
        let body = try await JSONBody.decode(ReplayRequest.self, from: request, context: context)
        return ReplayResponse(try await simulator.replay(unit: Organisation.ID(body.organisationId), day: body.day, proposed: body.proposed,
                                                         by: try context.requireIdentity(), clientIP: context.clientIP))
    }

    @Sendable func units(_ request: Request, context: AppRequestContext) async throws -> UnitPolicyList {
        UnitPolicyList(units: try await policy.units(for: try context.requireIdentity()).map(UnitPolicyDTO.init))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> UnitPolicyDTO {
        let settings = try await JSONBody.decode(PolicySettings.self, from: request, context: context)
        return UnitPolicyDTO(try await policy.update(try QueryAPIController.id(context), to: settings, by: try context.requireIdentity(),
                                                     clientIP: context.clientIP))
    }

    @Sendable func calendar(_ request: Request, context: AppRequestContext) async throws -> CalendarDTO {
        CalendarDTO(years: try await policy.storedCalendars().map(CalendarYearDTO.init), missingYears: try await policy.missingYears())
    }

    @Sendable func importCalendar(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<CalendarDTO> {
        let text = try await PeopleAPIController.textBody(request, context: context, types: ["application/json"])
        _ = try await policy.importCalendar(Data(text.utf8), by: try context.requireIdentity(), clientIP: context.clientIP)
        return EditedResponse(status: .created, response: try await calendar(request, context: context))
    }
}

/// The console page of the policy: each unit's settings in force, a form to change a unit's own, the history of
/// changes from the audit log, and the holiday calendar with its import.
struct PolicyConsoleController {
    let policy: PolicyService
    let simulator: PolicySimulator
    let users: any UserRepository
    let renderer: ConsoleRenderer

    func addRoutes(to console: RouterGroup<AppRequestContext>) {
        console.group().add(middleware: RequirePermission(.policyRead)).get("policy", use: page)
        console.group().add(middleware: RequirePermission(.policyManage)).post("policy", use: update)
        console.group().add(middleware: RequirePermission(.calendarManage)).post("calendar", use: importCalendar)
        console.group().add(middleware: RequirePermission(.policySimulate))
            .post("policy/simulation", use: simulate)
            .post("policy/replay", use: replay)
    }

    /// A past day against a proposed policy: how many decisions would change, and which.
    @Sendable func replay(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        let local = Localizer(context.language)
        return try await ConsoleForms.submitting(context, keepNotFound: true, {
            let identity = try context.requireIdentity()
            let unit = Organisation.ID(form["organisation_id"] ?? "")
            let current = try await policy.units(for: identity).first { $0.organisation.id == unit }?.own ?? PolicySettings()
            let replay = try await simulator.replay(unit: unit, day: form["day"] ?? "", proposed: try Self.settings(from: form, over: current),
                                                    by: identity, clientIP: context.clientIP)
            let people = Dictionary(try await users.all().map { ($0.id, "\($0.employeeID.value) \($0.displayName)") }, uniquingKeysWith: { first, _ in first })
            let counts = ReplaySummary(replay.outcomes)
            return try await page(context: context, extra: ["replay": [
                "unit": "\(replay.unit.code) \(replay.unit.name)", "day": replay.day.description, "truncated": replay.truncated,
                "summary": Catalogue.format("replay_summary", in: local.language, facts: counts.facts),
                "changed": replay.outcomes.filter(\.changed).map { outcome -> [String: Any] in
                    [
                        "at": ConsolePages.time(outcome.query.at, local), "person": people[outcome.query.userID] ?? outcome.query.userID.rawValue,
                        "number": Masking.identifier(outcome.query.subject.number),
                        "purpose": "\(outcome.query.purpose.code) \(local(outcome.query.purpose.nameKey))",
                        "happened": local("simulation_\(outcome.query.happened)"), "proposed": local("simulation_\(outcome.decision.code)"),
                        "code": outcome.decision.code, "reasons": outcome.decision.reasons.map { $0.reason.message(in: local.language) },
                    ]
                },
            ] as [String: Any]], status: .ok)
        }, showingRefusalOn: { try await page(context: context, extra: $0, status: $1) })
    }

    /// The what-if simulator on the policy page: the decision and every reason in the reader's language.
    @Sendable func simulate(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        let local = Localizer(context.language)
        return try await ConsoleForms.submitting(context, {
            let decision = try await simulator.simulate(PolicySimulator.Question(
                employeeID: form["employee_id"] ?? "", certificateType: form["certificate_type"] ?? "", certificateNumber: form["certificate_number"] ?? "",
                purpose: form["purpose"] ?? "", at: form["at"] ?? "", ip: form["ip"] ?? "", appID: form["app_id"]
            ), by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await page(context: context, extra: ["simulation": [
                "decision": local("simulation_\(decision.code)"), "code": decision.code,
                "reasons": decision.reasons.map { ["text": $0.reason.message(in: local.language), "exceptable": $0.exceptable] },
            ]], status: .ok)
        }, showingRefusalOn: { try await page(context: context, extra: $0, status: $1) })
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(context: context, extra: [:], status: .ok)
    }

    private func page(context: AppRequestContext, extra: [String: Any], status: HTTPResponse.Status) async throws -> Response {
        let identity = try context.requireIdentity()
        let local = Localizer(context.language)
        let units = try await policy.units(for: identity)
        let names = Dictionary(units.map { ($0.organisation.id.rawValue, "\($0.organisation.code) \($0.organisation.name)") }, uniquingKeysWith: { first, _ in first })
        let people = Dictionary(try await users.all().map { ($0.id.rawValue, "\($0.employeeID.value) \($0.displayName)") }, uniquingKeysWith: { first, _ in first })
        var page: [String: Any] = [
            "units": units.map { unit -> [String: Any] in
                let effective = unit.effective
                return [
                    "id": unit.organisation.id.rawValue, "name": names[unit.organisation.id.rawValue] ?? "",
                    "userCap": effective.userDailyCap, "unitCap": effective.organisationDailyCap,
                    "hours": "\(effective.workdayStart)–\(effective.workdayEnd)", "region": local(effective.regionGranularity.nameKey),
                    "exempt": effective.regionExemptPurposes.map(\.code).sorted().joined(separator: ", "),
                    "exceptable": PolicyRule.allCases.filter(effective.exceptable.contains).map { local($0.nameKey) }.joined(separator: local("list_separator")),
                    "hasOwn": unit.own != nil,
                ]
            },
            "history": try await policy.history(for: identity).map { change -> [String: Any] in
                ["at": ConsolePages.time(change.at, local), "unit": names[change.organisationID] ?? change.organisationID,
                 "actor": change.actorUserID.flatMap { people[$0] } ?? "", "before": change.before, "after": change.after, "index": change.index]
            },
            "canManage": identity.permissions.contains(.policyManage),
            "canSimulate": identity.permissions.contains(.policySimulate),
            "certificateTypes": CertificateType.allCases.map { ["value": $0.rawValue, "label": local($0.nameKey)] },
            "canImport": identity.permissions.contains(.calendarManage),
            "granularities": RegionGranularity.allCases.map { ["value": $0.rawValue, "label": local($0.nameKey)] },
            "rules": PolicyRule.allCases.filter(\.mayBeExcepted).map { ["value": $0.rawValue, "label": local($0.nameKey)] },
            "purposes": QueryPurpose.allCases.map { ["value": $0.code, "label": "\($0.code) \(local($0.nameKey))"] },
            "calendars": try await policy.storedCalendars().map { stored -> [String: Any] in
                [
                    "year": stored.calendar.year, "source": stored.calendar.source.title, "document": stored.calendar.source.document,
                    "published": stored.calendar.source.published, "sha256": stored.sha256,
                    "holidays": stored.calendar.holidays.map { ["name": local.language == .zhCN ? $0.name.zh : $0.name.en,
                                                                "from": $0.from.description, "to": $0.to.description] },
                    "workdays": stored.calendar.workdays.map(\.description).joined(separator: ", "),
                ]
            },
        ]
        // Only a non-empty list makes the alert appear (an empty string is still a value to the template).
        let missing = try await policy.missingYears()
        if !missing.isEmpty { page["missing"] = missing.map(String.init).joined(separator: ", ") }
        page.merge(extra) { _, new in new }
        return renderer.page("policy", titleKey: "policy_title", context: context, page: page, status: status)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, keepNotFound: true, {
            let identity = try context.requireIdentity()
            let unit = Organisation.ID(form["organisation_id"] ?? "")
            let current = try await policy.units(for: identity).first { $0.organisation.id == unit }?.own ?? PolicySettings()
            _ = try await policy.update(unit, to: try Self.settings(from: form, over: current), by: identity, clientIP: context.clientIP)
            return try await page(context: context, extra: ["done": Localizer(context.language)("policy_saved")], status: .ok)
        }, showingRefusalOn: { try await page(context: context, extra: $0, status: $1) })
    }

    /// A unit's own settings after the form: a filled field replaces its value, a field marked "inherit" goes back to
    /// the unit above, and anything else stays as it was — so changing the hours never clears the caps.
    static func settings(from form: FormBody.Form, over current: PolicySettings) throws -> PolicySettings {
        let inherit = Set(form.all["inherit"] ?? [])
        let change = Set(form.all["change"] ?? [])
        func text(_ name: String) -> String? {
            guard let value = form[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        func number(_ name: String, _ old: Int?) throws -> Int? {
            if inherit.contains(name) { return nil }
            guard let value = text(name) else { return old }
            guard let parsed = Int(value) else { throw CreditGateError(.validationFailed, detailKey: "policy_cap_range", cause: "cap not a number") }
            return parsed
        }
        func time(_ name: String, _ old: TimeOfDay?) throws -> TimeOfDay? {
            if inherit.contains(name) { return nil }
            guard let value = text(name) else { return old }
            guard let parsed = TimeOfDay(value) else { throw CreditGateError(.validationFailed, detailKey: "policy_time_format", cause: "time not HH:MM") }
            return parsed
        }
        var settings = current
        settings.userDailyCap = try number("user_cap", current.userDailyCap)
        settings.organisationDailyCap = try number("unit_cap", current.organisationDailyCap)
        settings.workdayStart = try time("start", current.workdayStart)
        settings.workdayEnd = try time("end", current.workdayEnd)
        if inherit.contains("region") { settings.regionGranularity = nil } else if let value = text("region_granularity") {
            settings.regionGranularity = RegionGranularity(rawValue: value)
        }
        if inherit.contains("exempt") { settings.regionExemptPurposes = nil } else if change.contains("exempt") {
            settings.regionExemptPurposes = Set((form.all["exempt"] ?? []).compactMap(QueryPurpose.init(rawValue:)))
        }
        if inherit.contains("exceptable") { settings.exceptable = nil } else if change.contains("exceptable") {
            settings.exceptable = Set((form.all["exceptable"] ?? []).compactMap(PolicyRule.init(rawValue:)))
        }
        return settings
    }

    @Sendable func importCalendar(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.parse(&request, context: context)
        return try await ConsoleForms.submitting(context, {
            let calendar = try await policy.importCalendar(Data((form["calendar"] ?? "").utf8), by: try context.requireIdentity(), clientIP: context.clientIP)
            return try await page(context: context, extra: ["done": Localizer(context.language)("calendar_imported_done") + " \(calendar.year)"],
                                  status: .created)
        }, showingRefusalOn: { try await page(context: context, extra: $0, status: $1) })
    }
}
