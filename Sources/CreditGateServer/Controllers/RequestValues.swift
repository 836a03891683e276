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
}
