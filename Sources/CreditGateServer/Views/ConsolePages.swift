import CreditGateCore
import Foundation

/// The data each console page shows, built from domain values in the reader's language. Handlers fetch and hand
/// over; the shaping for display happens here.
enum ConsolePages {
    /// A secret in groups of four, easier to type from the screen.
    static func grouped(_ text: String) -> String {
        stride(from: 0, to: text.count, by: 4).map { start in
            let from = text.index(text.startIndex, offsetBy: start)
            return String(text[from..<text.index(from, offsetBy: min(4, text.count - start))])
        }.joined(separator: " ")
    }

    static func roles(_ roles: Set<Role>, _ local: Localizer) -> String {
        roles.sorted().map { local($0.nameKey) }.joined(separator: local("list_separator"))
    }

    static func home(_ identity: AuthenticatedUser, policy: SessionPolicy, _ local: Localizer) -> [String: Any] {
        let note = local("home_session_note")
            .replacingOccurrences(of: "{idle}", with: String(Int(policy.idleTimeout / 60)))
            .replacingOccurrences(of: "{lifetime}", with: String(format: "%g", policy.absoluteLifetime / 3600))
        return [
            "name": identity.user.displayName,
            "employeeID": identity.user.employeeID.value,
            "organisation": identity.organisation?.name ?? local("empty_value"),
            "regionCode": identity.organisation?.regionCode.value ?? local("empty_value"),
            "roles": roles(identity.user.roles, local),
            "queryRights": local(identity.user.hasQueryRights ? "query_rights_active" : "query_rights_none"),
            "permissions": Permission.allCases.filter(identity.permissions.contains).map { local("permission_\($0.rawValue)") },
            "sessionNote": note,
        ]
    }

    static func organisations(_ units: [Organisation], _ local: Localizer) -> [String: Any] {
        let names = Dictionary(uniqueKeysWithValues: units.map { ($0.id, $0.name) })
        let rows: [[String: Any]] = units.map { unit in
            [
                "code": unit.code, "name": unit.name, "kind": local(unit.kind.nameKey),
                "depth": unit.kind == .headOffice ? 0 : unit.kind == .branch ? 1 : 2,
                "region": unit.regionCode.value, "networks": unit.networks.map(\.description),
                "parent": unit.parentID.flatMap { names[$0] } ?? local("empty_value"),
            ]
        }
        return ["units": rows]
    }

    static func users(_ users: [User], organisations: [Organisation], _ local: Localizer) -> [String: Any] {
        let names = Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) })
        let rows: [[String: Any]] = users.map { user in
            [
                "id": user.id.rawValue, "queryRights": local(user.hasQueryRights ? "query_rights_active" : "query_rights_none"),
                "employeeID": user.employeeID.value, "name": user.displayName,
                "organisation": names[user.organisationID] ?? local("empty_value"),
                "roles": roles(user.roles, local),
                "status": local(user.status.nameKey), "statusCode": user.status.rawValue,
            ]
        }
        return ["users": rows]
    }

    static func status(_ status: SystemStatus) -> [String: Any] {
        [
            "version": status.version, "backend": status.databaseBackend == .sqlite ? "SQLite" : "PostgreSQL",
            "reachable": status.databaseReachable, "location": status.databaseLocation,
            "applied": status.migrations?.appliedVersion ?? 0, "expected": status.migrations?.expectedVersion ?? 0,
            "current": status.migrations?.isCurrent ?? false, "sandbox": status.bureauIsSandbox, "bureau": status.bureauName,
            "startedAt": ISO8601DateFormatter().string(from: status.startedAt),
        ]
    }

    static func preferences(current: Language?, saved: Bool, _ local: Localizer) -> [String: Any] {
        let chosen = current?.rawValue ?? "browser"
        let options: [[String: Any]] = [
            ["value": "browser", "label": local("prefs_language_follow_browser"), "checked": chosen == "browser"],
            ["value": Language.zhCN.rawValue, "label": local("lang_zh"), "checked": chosen == Language.zhCN.rawValue],
            ["value": Language.en.rawValue, "label": local("lang_en"), "checked": chosen == Language.en.rawValue],
        ]
        return ["options": options, "saved": saved]
    }
}

extension ConsolePages {
    /// One format style for every row: building a formatter per row made long listings slow.
    static let utcStyle = Date.ISO8601FormatStyle(timeZone: .gmt)

    /// `2026-11-24 14:59:11.460`, in UTC. The milliseconds come from the integer, not from a floating-point date,
    /// so that they are exactly the recorded ones.
    static func utc(_ milliseconds: Int64) -> String {
        let seconds = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let whole = Date(timeIntervalSince1970: Double(seconds.quotient)).formatted(utcStyle)
            .replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "")
        return whole + "." + String(String(1000 + seconds.remainder).dropFirst())
    }

    /// The decoded event of a stored entry, or `nil` once erased.
    static func event(_ entry: StoredAuditEntry) -> [String: Any]? {
        entry.leaf.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
    }

    static func entryRow(_ entry: StoredAuditEntry, _ local: Localizer) -> [String: Any] {
        let event = Self.event(entry)
        let kind = AuditEvent.Kind(rawValue: entry.kind)
        let outcome = (event?["outcome"] as? String) ?? ""
        return [
            "index": String(entry.index), "time": utc(entry.occurredAt),
            "kind": kind.map { local($0.nameKey) } ?? entry.kind,
            "actor": ((event?["actor"] as? [String: Any])?["employee"] as? String) ?? local("empty_value"),
            "outcome": outcome.isEmpty ? local("empty_value") : local("outcome_\(outcome)"), "outcomeCode": outcome,
            // Addresses are masked; a non-address (an event made by the server's own command line) is shown as it is.
            "client": (event?["ip"] as? String).map { IPAddress.parse($0) == nil ? $0 : Masking.ipAddress($0) } ?? local("empty_value"),
        ]
    }

    static func auditLog(checkpoint: StoredCheckpoint?, entries: [StoredAuditEntry], filters: (from: String, until: String, user: String, kind: AuditEvent.Kind?),
                         problem: String?, verdict: LogAuditor.Verdict?, _ local: Localizer) -> [String: Any] {
        var page: [String: Any] = [
            "entries": entries.map { entryRow($0, local) },
            "from": filters.from, "until": filters.until, "user": filters.user,
            "kinds": AuditEvent.Kind.allCases.map { ["value": $0.rawValue, "label": local($0.nameKey), "selected": $0 == filters.kind] },
            "problem": problem ?? false,
        ]
        if let checkpoint {
            page["checkpoint"] = ["size": String(checkpoint.size), "root": checkpoint.root.base64, "signedAt": utc(checkpoint.signedAt), "note": checkpoint.note]
        }
        if let verdict {
            page["verdict"] = [
                "intact": verdict.isIntact, "firstBad": verdict.firstBadIndex.map(String.init) ?? "",
                "checked": "\(verdict.size) / \(verdict.checkpointsChecked)", "problems": Array(verdict.problems.prefix(20)),
            ]
        }
        return page
    }

    static func auditEntry(_ entry: StoredAuditEntry, proof: [TreeHash], checkpointSize: UInt64, proofState: String, _ local: Localizer) -> [String: Any] {
        let event = Self.event(entry)
        let details = (event?["details"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] }
        return [
            "row": entryRow(entry, local),
            "erased": entry.leaf == nil,
            "leafHash": entry.leafHash.base64,
            "reasons": (event?["reasons"] as? [String] ?? []).joined(separator: local("list_separator")),
            "details": details,
            "hasDetails": !details.isEmpty,
            "proof": proof.enumerated().map { ["level": $0.offset, "hash": $0.element.base64] },
            "checkpointSize": String(checkpointSize),
            "proofMessage": local("audit_proof_\(proofState)"), "proofState": proofState,
        ]
    }
}

import CreditGateStore

extension ConsolePages {
    static func time(_ date: Date?, _ local: Localizer) -> String {
        date.map { utc($0.millisecondsSinceEpoch) } ?? local("empty_value")
    }

    static func userDetail(_ user: User, organisations: [Organisation], canManage: Bool, _ local: Localizer) -> [String: Any] {
        let names = Dictionary(organisations.map { ($0.id, "\($0.code) \($0.name)") }, uniquingKeysWith: { first, _ in first })
        var actions: [[String: Any]] = []
        if canManage {
            let available: [(String, Bool)] = [
                ("password_reset", user.status == .active), ("second_factor_reset", user.status == .active),
                ("suspend", user.status == .active), ("reinstate", user.status == .suspended),
                ("exam_permit", user.strictExamRequired && user.status == .active),
                ("confirm_organisation", user.organisationConfirmationDueAt != nil),
            ]
            actions = available.filter(\.1).map { ["value": $0.0, "label": local("user_action_\($0.0)")] }
        }
        return [
            "id": user.id.rawValue, "employeeID": user.employeeID.value, "name": user.displayName,
            "organisation": names[user.organisationID] ?? local("empty_value"),
            "roles": roles(user.roles, local), "status": local(user.status.nameKey), "statusCode": user.status.rawValue,
            "employment": local(user.employment.nameKey),
            "queryRights": local(user.hasQueryRights ? "query_rights_active" : "query_rights_none"),
            "suspension": user.suspensionReason.map { local($0.nameKey) } ?? local("empty_value"),
            "suspendedAt": time(user.suspendedAt, local), "lastSignIn": time(user.lastSignInAt, local),
            "confirmBy": time(user.organisationConfirmationDueAt, local),
            "strictExam": local(user.strictExamRequired ? "answer_yes" : "answer_no"),
            "actions": actions, "hasActions": !actions.isEmpty,
        ]
    }

    static func exam(user: User, attempts: [ExamAttempt], paper: AccessService.Paper?, language: Language, _ local: Localizer) -> [String: Any] {
        var page: [String: Any] = [
            "hasRights": user.hasQueryRights, "strict": user.strictExamRequired,
            "attempts": attempts.map { attempt -> [String: Any] in
                [
                    "started": utc(attempt.startedAt.millisecondsSinceEpoch),
                    "score": attempt.score.map(String.init) ?? local("empty_value"),
                    "passMark": String(attempt.passMark),
                    "result": attempt.passed.map { local($0 ? "exam_result_passed" : "exam_result_failed") } ?? local("exam_result_open"),
                    "strict": attempt.strict,
                ]
            },
        ]
        if let paper {
            page["paper"] = [
                "id": paper.attempt.id, "deadline": utc(paper.attempt.deadlineAt.millisecondsSinceEpoch), "passMark": String(paper.attempt.passMark),
                "questions": paper.questions.enumerated().map { index, question -> [String: Any] in
                    [
                        "number": index + 1, "id": question.id, "prompt": question.prompt.text(in: language),
                        "reference": question.reference.text(in: language),
                        "options": question.options.enumerated().map { position, option in
                            ["position": position, "text": option.text(in: language), "qid": question.id]
                        },
                    ]
                },
            ]
        }
        return page
    }

    static func accessRequests(_ requests: [AccessRequest], viewer: AuthenticatedUser, users: [User], organisations: [Organisation],
                               _ local: Localizer) -> [String: Any] {
        let people = Dictionary(users.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let units = Dictionary(organisations.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let rows: [[String: Any]] = requests.map { request in
            let applicant = people[request.applicantID]
            let awaiting = request.awaitingUnit
            let mayDecide = viewer.permissions.contains(.accessApprove) && awaiting == viewer.user.organisationID
                && request.applicantID != viewer.user.id && !request.decisions.contains { $0.approverID == viewer.user.id }
            return [
                "id": request.id.rawValue,
                "applicant": applicant.map { "\($0.employeeID.value) \($0.displayName)" } ?? local("empty_value"),
                "created": utc(request.createdAt.millisecondsSinceEpoch),
                "status": local(request.status.nameKey), "statusCode": request.status.rawValue,
                "steps": request.chain.enumerated().map { index, unit -> [String: Any] in
                    let decision = request.decisions.first { $0.step == index }
                    return [
                        "number": index + 1, "unit": units[unit].map { "\($0.code) \($0.name)" } ?? unit.rawValue,
                        "decision": decision.map { local($0.approved ? "access_step_approved" : "access_step_refused") }
                            ?? local(index == request.currentStep ? "access_step_awaiting" : "access_step_later"),
                        "by": decision.flatMap { people[$0.approverID].map { "\($0.employeeID.value) \($0.displayName)" } } ?? "",
                        "comment": decision?.comment ?? "",
                    ]
                },
                "mayDecide": mayDecide,
            ]
        }
        return ["requests": rows]
    }
}

extension ConsolePages {
    static func responsibility(units: [Organisation], assignments: [ResponsibilityAssignment], courses: [TrainingCourse], users: [User],
                               untrained: [User], year: Int, canManage: Bool, _ local: Localizer) -> [String: Any] {
        let people = Dictionary(users.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let unitNames = Dictionary(units.map { ($0.id, "\($0.code) \($0.name)") }, uniquingKeysWith: { first, _ in first })
        let matrix: [[String: Any]] = units.map { unit in
            [
                "unit": "\(unit.code) \(unit.name)",
                "cells": Responsibility.allCases.map { kind -> [String: Any] in
                    let held = assignments.first { $0.organisationID == unit.id && $0.responsibility == kind }
                    return ["person": held.map { assignment in
                        assignment.personName + (assignment.userID.flatMap { people[$0] }.map { " (\($0.employeeID.value))" } ?? "")
                    } ?? local("empty_value")]
                },
            ]
        }
        return [
            "headers": Responsibility.allCases.map { local($0.nameKey) },
            "matrix": matrix,
            "courses": courses.map { course -> [String: Any] in
                [
                    "title": course.title, "heldOn": course.heldOn, "unit": unitNames[course.organisationID] ?? local("empty_value"),
                    "attendees": course.attendance.map { attendance in
                        let name = people[attendance.userID].map { "\($0.employeeID.value) \($0.displayName)" } ?? attendance.userID.rawValue
                        return name + " · " + local(attendance.passed ? "exam_result_passed" : "exam_result_failed")
                    }.joined(separator: local("list_separator")),
                ]
            },
            "year": String(year),
            "untrained": untrained.map { ["employeeID": $0.employeeID.value, "name": $0.displayName, "roles": roles($0.roles, local)] },
            "canManage": canManage,
            "units": units.map { ["id": $0.id.rawValue, "name": "\($0.code) \($0.name)"] },
            "kinds": Responsibility.allCases.map { ["value": $0.rawValue, "label": local($0.nameKey)] },
            "people": users.map { ["id": $0.id.rawValue, "name": "\($0.employeeID.value) \($0.displayName)"] },
        ]
    }
}
