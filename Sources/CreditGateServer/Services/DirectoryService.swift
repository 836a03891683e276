import CreditGateCore
import CreditGateStore

/// Read access to the organisation tree and the accounts, for the console and the API.
public struct DirectoryService: Sendable {
    let organisations: any OrganisationRepository
    let users: any UserRepository
    let audit: AuditTrail

    public func organisations() async throws -> [Organisation] {
        try await organisations.all()
    }

    public func users() async throws -> [User] {
        try await users.all()
    }

    /// Changes a user's own language setting; the change (before and after) is an audit event.
    public func setLanguage(for identity: AuthenticatedUser, to language: Language?, clientIP: String, now: Date) async throws {
        try await audit.record(AuditEvent(
            kind: .settingChanged, occurredAt: now, actor: .init(identity.user), clientIP: clientIP, outcome: .success,
            details: ["setting": "preferred_language", "before": identity.user.preferredLanguage?.rawValue ?? "browser",
                      "after": language?.rawValue ?? "browser"]
        ))
        try await users.setPreferredLanguage(language, for: identity.user.id, now: now)
    }
}

import Foundation
