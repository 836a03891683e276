/// The organisation tree as a value: parents, children and subtrees, for scope checks and approval chains.
///
/// Built from the stored units once per decision; pure and cheap to query.
public struct OrganisationTree: Sendable {
    public let units: [Organisation.ID: Organisation]

    public init(_ units: [Organisation]) {
        self.units = Dictionary(units.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The unit and its ancestors, nearest first, up to the root. A cycle (which the store cannot produce, since a
    /// parent must exist before its child) ends the walk instead of looping.
    public func path(from id: Organisation.ID) -> [Organisation] {
        var result: [Organisation] = []
        var seen: Set<Organisation.ID> = []
        var current = units[id]
        while let unit = current, seen.insert(unit.id).inserted {
            result.append(unit)
            current = unit.parentID.flatMap { units[$0] }
        }
        return result
    }

    /// `true` when `unit` is `root` or lies beneath it.
    public func isWithin(_ unit: Organisation.ID, subtreeOf root: Organisation.ID) -> Bool {
        path(from: unit).contains { $0.id == root }
    }

    /// The units of the subtree under `root`, the root included, in tree order.
    /// The IDs of a unit and every unit below it.
    public func unitIDs(under root: Organisation.ID) -> Set<Organisation.ID> {
        Set(subtree(of: root).map(\.id))
    }

    public func subtree(of root: Organisation.ID) -> [Organisation] {
        units.values.filter { isWithin($0.id, subtreeOf: root) }.sorted { $0.code < $1.code }
    }
}

/// Which part of the organisation tree an administrator or reader may see and change (知所必需).
///
/// A system administrator and a compliance auditor see the whole tree; a credit administrator only the subtree of
/// their own unit; anyone else only their own unit. Outside the scope a record is treated as if it did not exist, so
/// that a branch cannot learn even who works at another.
public enum AdministrativeScope: Sendable, Equatable {
    case everything
    case subtree(Organisation.ID)

    /// The scope of a user from their roles and unit.
    public static func of(roles: Set<Role>, organisation: Organisation.ID) -> AdministrativeScope {
        if roles.contains(.systemAdministrator) || roles.contains(.complianceAuditor) { return .everything }
        return .subtree(organisation)
    }

    /// The units the scope covers, or `nil` for everything — the form a repository filter takes.
    public func units(in tree: OrganisationTree) -> Set<Organisation.ID>? {
        switch self {
        case .everything: nil
        case .subtree(let root): tree.unitIDs(under: root)
        }
    }

    public func contains(_ unit: Organisation.ID, in tree: OrganisationTree) -> Bool {
        switch self {
        case .everything: true
        case .subtree(let root): tree.isWithin(unit, subtreeOf: root)
        }
    }
}
