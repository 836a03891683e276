import CreditGateCore
import Foundation

/// The data each console page shows, built from domain values in the reader's language. Handlers fetch and hand
/// over; the shaping for display happens here.
enum ConsolePages {
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
