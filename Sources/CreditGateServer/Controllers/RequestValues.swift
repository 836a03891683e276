import Foundation
import CreditGateCore

/// Values read from a request the same way by the API and the console.
enum RequestValues {
    /// Role names; an unknown one is a 422, not silently dropped.
    static func roles(_ names: [String]) throws -> Set<Role> {
        try Set(names.map { name in
            guard let role = Role(rawValue: name) else { throw CreditGateError(.validationFailed, detailKey: "role_unknown") }
            return role
        })
    }

    /// An ID a console form carries in a field; a missing or over-long one is a 422.
    static func formID<Tag>(_ text: String?) throws -> TypedID<Tag> {
        let trimmed = (text ?? "").trimmingCharacters(in: .whitespaces)
        guard (1...64).contains(trimmed.count) else {
            throw CreditGateError(.validationFailed, detailKey: "detail_bad_request_form", cause: "form ID missing or over-long")
        }
        return TypedID(trimmed.lowercased())
    }
}
