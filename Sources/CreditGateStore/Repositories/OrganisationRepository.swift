import CreditGateCore
import Foundation
import SQLKit

/// The organisation tree.
public protocol OrganisationRepository: Sendable {
    /// Stores a new unit. Throws ``StoreError/duplicate(_:)`` when the code is taken and
    /// ``StoreError/missingReference(_:)`` when the parent does not exist.
    func create(_ organisation: Organisation, now: Date) async throws
    func find(_ id: Organisation.ID) async throws -> Organisation?
    func find(code: String) async throws -> Organisation?
    /// Every unit, parents before children, siblings by code.
    func all() async throws -> [Organisation]
    /// Changes a unit's name, region code and networks (its place in the tree and its code stay).
    func update(_ organisation: Organisation, now: Date) async throws
}

public struct SQLOrganisationRepository: OrganisationRepository {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func create(_ organisation: Organisation, now: Date) async throws {
        do {
            try await database.transaction { connection in
                try await connection.insert(into: "organisations")
                    .columns("id", "code", "name", "kind", "parent_id", "region_code", "created_at")
                    .values(
                        SQLBind(organisation.id.rawValue), SQLBind(organisation.code), SQLBind(organisation.name),
                        SQLBind(organisation.kind.rawValue), SQLBind(organisation.parentID?.rawValue),
                        SQLBind(organisation.regionCode.value), SQLBind(now.storedMilliseconds)
                    )
                    .run()
                for (position, network) in organisation.networks.enumerated() {
                    try await connection.insert(into: "organisation_networks")
                        .columns("organisation_id", "position", "cidr")
                        .values(SQLBind(organisation.id.rawValue), SQLBind(position), SQLBind(network.description))
                        .run()
                }
            }
        } catch where ConstraintViolation.isUnique(error) {
            throw StoreError.duplicate("organisation code")
        } catch where ConstraintViolation.isForeignKey(error) {
            throw StoreError.missingReference("parent organisation")
        }
    }

    public func update(_ organisation: Organisation, now: Date) async throws {
        try await database.transaction { connection in
            try await connection.update("organisations")
                .set("name", to: SQLBind(organisation.name))
                .set("region_code", to: SQLBind(organisation.regionCode.value))
                .where("id", .equal, SQLBind(organisation.id.rawValue))
                .run()
            try await connection.delete(from: "organisation_networks").where("organisation_id", .equal, SQLBind(organisation.id.rawValue)).run()
            for (position, network) in organisation.networks.enumerated() {
                try await connection.insert(into: "organisation_networks")
                    .columns("organisation_id", "position", "cidr")
                    .values(SQLBind(organisation.id.rawValue), SQLBind(position), SQLBind(network.description))
                    .run()
            }
        }
    }

    public func find(_ id: Organisation.ID) async throws -> Organisation? {
        try await load(where: "id", equals: id.rawValue).first
    }

    public func find(code: String) async throws -> Organisation? {
        try await load(where: "code", equals: code).first
    }

    public func all() async throws -> [Organisation] {
        let units = try await load(where: nil, equals: nil)
        return Self.treeOrder(units)
    }

    private func load(where column: String?, equals value: String?) async throws -> [Organisation] {
        try await database.withConnection { connection in
            var query = connection.select()
                .columns("id", "code", "name", "kind", "parent_id", "region_code")
                .from("organisations")
                .orderBy("code")
            if let column, let value { query = query.where(SQLIdentifier(column), .equal, SQLBind(value)) }
            let rows = try await query.all()
            var networkQuery = connection.select().columns("organisation_id", "cidr").from("organisation_networks")
                .orderBy("organisation_id").orderBy("position")
            if let column, let value, column == "id" {
                networkQuery = networkQuery.where("organisation_id", .equal, SQLBind(value))
            }
            var networks: [String: [NetworkCIDR]] = [:]
            for row in try await networkQuery.all() {
                let owner = try row.decode(column: "organisation_id", as: String.self)
                let text = try row.decode(column: "cidr", as: String.self)
                guard let cidr = NetworkCIDR(text) else { throw StoreError.corruptRow("organisation_networks.cidr") }
                networks[owner, default: []].append(cidr)
            }
            return try rows.map { row in
                let id = try row.decode(column: "id", as: String.self)
                guard let kind = Organisation.Kind(rawValue: try row.decode(column: "kind", as: String.self)),
                      let region = RegionCode(try row.decode(column: "region_code", as: String.self))
                else { throw StoreError.corruptRow("organisations") }
                return Organisation(
                    id: .init(id),
                    code: try row.decode(column: "code", as: String.self),
                    name: try row.decode(column: "name", as: String.self),
                    kind: kind,
                    parentID: try row.decode(column: "parent_id", as: String?.self).map(Organisation.ID.init),
                    regionCode: region,
                    networks: networks[id] ?? []
                )
            }
        }
    }

    /// Depth-first order from the roots, so that a listing reads as the tree.
    static func treeOrder(_ units: [Organisation]) -> [Organisation] {
        let children = Dictionary(grouping: units, by: \.parentID)
        var ordered: [Organisation] = []
        func visit(_ parent: Organisation.ID?) {
            for unit in children[parent] ?? [] {
                ordered.append(unit)
                visit(unit.id)
            }
        }
        visit(nil)
        return ordered
    }
}
