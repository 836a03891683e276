import CreditGateCore
import CreditGateStore

/// Read access to the organisation tree and the accounts, for the console and the API.
public struct DirectoryService: Sendable {
    let organisations: any OrganisationRepository
    let users: any UserRepository

    public func organisations() async throws -> [Organisation] {
        try await organisations.all()
    }

    public func users() async throws -> [User] {
        try await users.all()
    }

    public func setLanguage(_ language: Language?, for user: User.ID, now: Date) async throws {
        try await users.setPreferredLanguage(language, for: user, now: now)
    }
}

import Foundation
