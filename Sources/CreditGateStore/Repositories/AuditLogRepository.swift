import CreditGateCore
import Foundation
import SQLKit

/// An entry about to be appended: its canonical bytes and the columns it is searched by, with what it records when
/// that is written in the same transaction.
public struct PendingAuditEntry: Sendable {
    public let leaf: [UInt8]
    public let kind: String
    public let occurredAt: Int64
    public let actorUserID: String?
    public let write: AuditedWrite?

    public init(event: AuditEvent, write: AuditedWrite? = nil) {
        self.leaf = event.leaf
        self.kind = event.kind.rawValue
        self.occurredAt = event.occurredAt
        self.actorUserID = event.actor?.userID
        self.write = write
    }
}

/// Rows written in the transaction that appends an audit entry, just before it: the entry and what it records are
/// durable together or not at all, and share the commit of every entry in the batch.
///
/// The writes of one kind in a batch are performed together, in their entries' order, in as few statements as the
/// kind allows: a batch of thirty answers is one update and one insert, not sixty statements. For each write the
/// kind says whether it was written; one that declines (a counter at its cap, a query no longer pending) has changed
/// nothing, and its entry is not appended. A kind throws only when the database fails.
public struct AuditedWrite: Sendable {
    /// Writes with the same kind are performed together by `together`.
    let kind: String
    let payload: any Sendable
    let together: @Sendable ([any Sendable], any SQLDatabase) async throws -> [Bool]

    /// A write of a kind whose payloads `together` writes at once; the kind is the payload's type.
    init<Payload: Sendable>(_ payload: Payload, together: @escaping @Sendable ([Payload], any SQLDatabase) async throws -> [Bool]) {
        self.kind = String(reflecting: Payload.self)
        self.payload = payload
        self.together = { payloads, connection in
            // Grouped by kind, which is the payload's type: every payload here is a `Payload`.
            try await together(payloads.compactMap { $0 as? Payload }, connection)
        }
    }

    /// A write of a kind whose payloads are written one after another, each deciding alone whether it is written:
    /// for a conditional write that a payload earlier in the same batch may have made moot (two decisions on one
    /// request, the same identifier registered twice). The kind is the payload's type.
    static func oneAtATime<Payload: Sendable>(_ payload: Payload,
                                              _ write: @escaping @Sendable (Payload, any SQLDatabase) async throws -> Bool) -> AuditedWrite {
        AuditedWrite(payload) { payloads, connection in
            var written: [Bool] = []
            for payload in payloads { written.append(try await write(payload, connection)) }
            return written
        }
    }

    /// Performs one write in the caller's transaction.
    func perform(_ connection: any SQLDatabase) async throws -> Bool {
        try await together([payload], connection).first ?? false
    }

    /// Performs one write in a transaction of its own, without an audit entry: for loading and for tests of the
    /// write itself.
    func performAlone(on database: Database) async throws -> Bool {
        try await database.transaction { try await perform($0) }
    }
}

/// The rows an entry records could not be written, so nothing of its batch was committed: the writer may try the
/// batch's entries again one by one.
struct AuditedWriteFailed: Error {
    let underlying: any Error
}

/// An entry as stored. `leaf` is `nil` once erased.
public struct StoredAuditEntry: Sendable, Equatable {
    public let index: UInt64
    public let leaf: [UInt8]?
    /// `true` when the payload was destroyed deliberately (retention); a missing payload without it is tampering.
    public let erased: Bool
    public let leafHash: TreeHash
    public let kind: String
    public let occurredAt: Int64
    public let actorUserID: String?
}

/// A signed checkpoint as stored.
public struct StoredCheckpoint: Sendable, Equatable {
    public let size: UInt64
    public let root: TreeHash
    public let note: String
    public let signedAt: Int64

    public init(size: UInt64, root: TreeHash, note: String, signedAt: Int64) {
        self.size = size
        self.root = root
        self.note = note
        self.signedAt = signedAt
    }
}

/// Search criteria for the auditor's log page.
public struct AuditEntryQuery: Sendable {
    public var from: Int64?
    public var until: Int64?
    public var actorUserID: String?
    public var kind: String?
    public var limit: Int

    public init(from: Int64? = nil, until: Int64? = nil, actorUserID: String? = nil, kind: String? = nil, limit: Int = 100) {
        self.from = from
        self.until = until
        self.actorUserID = actorUserID
        self.kind = kind
        self.limit = limit
    }
}

/// The audit log's storage. Entries are only ever appended; the tree's perfect subtrees are stored as they
/// complete, so a root or proof at any size costs O(log n) reads, never a pass over all leaves.
public protocol AuditLogRepository: Sendable {
    /// Appends the entries in one transaction, in order. Durable when it returns. Once the log's lock is held,
    /// `keeping` decides which entries are still wanted (their callers may have given up while waiting for the
    /// lock); the others are not written. A kept entry's write (see ``AuditedWrite``) goes first; when it declines,
    /// the entry is not written either. Returns each entry's index, or `nil` for one not written.
    func append(_ entries: [PendingAuditEntry], keeping: @Sendable ([PendingAuditEntry]) -> [Bool]) async throws -> [UInt64?]
    func size() async throws -> UInt64
    /// The stored hashes of the given perfect subtrees (level 0 = leaf hashes). Missing nodes are absent.
    func nodes(_ ids: Set<NodeID>) async throws -> [NodeID: TreeHash]
    func entries(in range: Range<UInt64>) async throws -> [StoredAuditEntry]
    /// Up to `limit` stored entries with index ≥ `start`, in index order, wherever they are (also beyond the size).
    func entries(startingAt start: UInt64, limit: Int) async throws -> [StoredAuditEntry]
    /// Runs `body` against one consistent read-only view of the log while appends go on.
    func inSnapshot<T: Sendable>(_ body: @Sendable (any AuditLogRepository) async throws -> T) async throws -> T
    func search(_ query: AuditEntryQuery) async throws -> [StoredAuditEntry]
    /// The right edge kept with the size (the perfect subtrees covering the tree), for verification.
    func recordedEdge() async throws -> [TreeHash]
    /// Every stored interior node (level ≥ 1), for a full verification.
    func allInteriorNodes() async throws -> [NodeID: TreeHash]
    /// Destroys an entry's payload and keeps its hash (retention, R-32/R-42).
    func erasePayload(at index: UInt64, now: Date) async throws
    /// Stores a checkpoint unless one of that size exists.
    func saveCheckpoint(_ checkpoint: StoredCheckpoint) async throws
    func latestCheckpoint() async throws -> StoredCheckpoint?
    /// Stored checkpoints with sizes in `range`, smallest first, at most `limit`.
    func checkpoints(sizes range: ClosedRange<UInt64>, limit: Int) async throws -> [StoredCheckpoint]
    /// Runs `body` if this caller holds the checkpoint-signing lock for the length of one transaction; returns
    /// `nil` when another instance holds it. On SQLite there is one writer anyway, so it always runs.
    func whileSigningLeader<T: Sendable>(_ body: @Sendable (any AuditLogRepository) async throws -> T) async throws -> T?
}

extension AuditLogRepository {
    /// Appends every entry and returns the index of the first.
    public func append(_ entries: [PendingAuditEntry]) async throws -> UInt64 {
        let indices = try await append(entries) { $0.map { _ in true } }
        return indices.first!!
    }
}

public struct SQLAuditLogRepository: AuditLogRepository {
    let database: Database
    /// Within `whileSigningLeader`, the connection of the leader's transaction.
    let connection: (any SQLDatabase)?

    public init(database: Database) {
        self.database = database
        self.connection = nil
    }

    init(database: Database, connection: any SQLDatabase) {
        self.database = database
        self.connection = connection
    }

    private func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        if let connection { return try await body(connection) }
        return try await database.withConnection(body)
    }

    public func append(_ entries: [PendingAuditEntry], keeping: @Sendable ([PendingAuditEntry]) -> [Bool]) async throws -> [UInt64?] {
        precondition(!entries.isEmpty)
        return try await database.transaction { connection -> [UInt64?] in
            // The lock that gives every instance one order: held until commit. On PostgreSQL a stuck holder must not
            // hold this writer forever either: the wait for the lock and each statement are bounded.
            if database.backend == .postgres {
                // Both in one statement (one round trip): set_config with `true` is SET LOCAL.
                try await connection.raw("SELECT set_config('lock_timeout', '2s', true), set_config('statement_timeout', '5s', true)").run()
            }
            let lockSuffix = database.backend == .postgres ? " FOR UPDATE" : ""
            guard let row = try await connection.raw("SELECT size, edge FROM audit_log_state WHERE id = 1\(unsafeRaw: lockSuffix)").first() else {
                throw StoreError.corruptRow("audit_log_state")
            }
            let start = UInt64(try row.decode(column: "size", as: Int64.self))
            // The right edge of the current tree is all that new nodes can need from before.
            let edgeNodes = MerkleRanges.perfectSubtrees(0..<start)
            let edgeHashes = try Self.decodeEdge(try row.decode(column: "edge", as: String.self))
            guard edgeHashes.count == edgeNodes.count else { throw StoreError.corruptRow("audit_log_state.edge") }
            var known = Dictionary(uniqueKeysWithValues: zip(edgeNodes, edgeHashes))
            var wanted = keeping(entries)
            // What the entries record goes first, each kind of write together, in the entries' order; an entry whose
            // write declines is not appended.
            var kinds: [String] = []
            var positions: [String: [Int]] = [:]
            for (position, entry) in entries.enumerated() where wanted[position] {
                guard let write = entry.write else { continue }
                if positions[write.kind] == nil { kinds.append(write.kind) }
                positions[write.kind, default: []].append(position)
            }
            // No write of a batch depends on another: the kinds' statements go out together, not one kind after another.
            let outcomes = try await withThrowingTaskGroup(of: (String, [Bool]).self) { group in
                for kind in kinds {
                    let writes = (positions[kind] ?? []).compactMap { entries[$0].write }
                    group.addTask {
                        do {
                            return (kind, try await writes[0].together(writes.map(\.payload), connection))
                        } catch {
                            throw AuditedWriteFailed(underlying: error)
                        }
                    }
                }
                return try await group.reduce(into: [String: [Bool]]()) { $0[$1.0] = $1.1 }
            }
            for kind in kinds {
                let group = positions[kind] ?? []
                guard let written = outcomes[kind], written.count == group.count else { throw StoreError.corruptRow("audited writes of \(kind)") }
                for (position, done) in zip(group, written) where !done {
                    wanted[position] = false
                }
            }
            var indices: [UInt64?] = []
            var next = start
            for keep in wanted {
                indices.append(keep ? next : nil)
                if keep { next += 1 }
            }
            let entries = zip(entries, wanted).filter(\.1).map(\.0)
            guard !entries.isEmpty else { return indices }
            var rows: [(index: Int64, leaf: String, leafHash: String, kind: String, occurredAt: Int64, actorUserID: String?)] = []
            var newNodes: [(level: Int, index: Int64, hash: String)] = []
            for (offset, entry) in entries.enumerated() {
                let index = start + UInt64(offset)
                let leafHash = MerkleHasher.leafHash(entry.leaf)
                known[NodeID(level: 0, index: index)] = leafHash
                rows.append((Int64(index), String(decoding: entry.leaf, as: UTF8.self), leafHash.hex, entry.kind, entry.occurredAt, entry.actorUserID))
                for node in MerkleRanges.completedNodes(byAppendingLeafAt: index) {
                    let left = NodeID(level: node.level - 1, index: node.index * 2)
                    let right = NodeID(level: node.level - 1, index: node.index * 2 + 1)
                    guard let l = known[left], let r = known[right] else { throw StoreError.corruptRow("audit_nodes") }
                    let hash = MerkleHasher.nodeHash(l, r)
                    known[node] = hash
                    newNodes.append((node.level, Int64(node.index), hash.hex))
                }
            }
            let end = start + UInt64(entries.count)
            let edge = try MerkleRanges.perfectSubtrees(0..<end).map { node in
                guard let hash = known[node] else { throw StoreError.corruptRow("audit_nodes (edge)") }
                return hash
            }
            // The entries (one multi-row insert however many a batch holds), the completed nodes and the new size are
            // independent of each other: the three statements go out together, and the commit waits for all three.
            let (entryRows, nodeRows, edgeText) = (rows, newNodes, Self.encodeEdge(edge))
            async let entriesWritten: Void = {
                var insert = connection.insert(into: "audit_entries").columns(Self.entryColumns)
                for row in entryRows {
                    insert = insert.values(SQLBind(row.index), SQLBind(row.leaf), SQLBind(row.leafHash), SQLBind(row.kind), SQLBind(row.occurredAt),
                                           SQLBind(row.actorUserID))
                }
                try await insert.run()
            }()
            async let nodesWritten: Void = {
                guard !nodeRows.isEmpty else { return }
                var insert = connection.insert(into: "audit_nodes").columns("level", "idx", "hash")
                for node in nodeRows {
                    insert = insert.values(SQLBind(node.level), SQLBind(node.index), SQLBind(node.hash))
                }
                try await insert.run()
            }()
            async let sizeWritten: Void = connection.update("audit_log_state")
                .set("size", to: SQLBind(Int64(end)))
                .set("edge", to: SQLBind(edgeText))
                .where("id", .equal, SQLBind(1))
                .run()
            _ = try await (entriesWritten, nodesWritten, sizeWritten)
            return indices
        }
    }

    static let entryColumns = ColumnList(["idx", "leaf", "leaf_hash", "kind", "occurred_at", "actor_user"])

    /// The right edge as stored: the hashes in hex, left to right, joined by commas.
    static func encodeEdge(_ hashes: [TreeHash]) -> String { hashes.map(\.hex).joined(separator: ",") }

    static func decodeEdge(_ text: String) throws -> [TreeHash] {
        guard !text.isEmpty else { return [] }
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            guard let hash = TreeHash(hex: String(part)) else { throw StoreError.corruptRow("audit_log_state.edge") }
            return hash
        }
    }

    public func recordedEdge() async throws -> [TreeHash] {
        try await read { connection in
            let row = try await connection.raw("SELECT edge FROM audit_log_state WHERE id = 1").first()
            return try Self.decodeEdge(try row?.decode(column: "edge", as: String.self) ?? "")
        }
    }

    public func size() async throws -> UInt64 {
        try await read { connection in
            let row = try await connection.raw("SELECT size FROM audit_log_state WHERE id = 1").first()
            return UInt64(try row?.decode(column: "size", as: Int64.self) ?? 0)
        }
    }

    public func nodes(_ ids: Set<NodeID>) async throws -> [NodeID: TreeHash] {
        try await read { connection in try await Self.nodes(ids, on: connection) }
    }

    static func nodes(_ ids: Set<NodeID>, on connection: any SQLDatabase) async throws -> [NodeID: TreeHash] {
        var result: [NodeID: TreeHash] = [:]
        let leaves = ids.filter { $0.level == 0 }.map { Int64($0.index) }
        for chunk in leaves.chunked(500) {
            let rows = try await connection.select().columns("idx", "leaf_hash").from("audit_entries")
                .where("idx", .in, SQLBind.group(chunk.map { $0 as any Encodable & Sendable })).all()
            for row in rows {
                guard let hash = TreeHash(hex: try row.decode(column: "leaf_hash", as: String.self)) else { throw StoreError.corruptRow("audit_entries.leaf_hash") }
                result[NodeID(level: 0, index: UInt64(try row.decode(column: "idx", as: Int64.self)))] = hash
            }
        }
        let interior = ids.filter { $0.level > 0 }
        for chunk in Array(interior).chunked(200) {
            // A row-value list, `(level, idx) IN ((…), …)`, which both engines answer from the primary key.
            var query: SQLQueryString = "SELECT level, idx, hash FROM audit_nodes WHERE (level, idx) IN ("
            for (position, node) in chunk.enumerated() {
                if position > 0 { query.appendLiteral(", ") }
                query.appendLiteral("(")
                query.appendInterpolation(bind: node.level)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: Int64(node.index))
                query.appendLiteral(")")
            }
            query.appendLiteral(")")
            for row in try await connection.raw(query).all() {
                let (node, hash) = try interiorNode(row)
                result[node] = hash
            }
        }
        return result
    }

    public func allInteriorNodes() async throws -> [NodeID: TreeHash] {
        try await read { connection in
            var result: [NodeID: TreeHash] = [:]
            for row in try await connection.select().columns("level", "idx", "hash").from("audit_nodes").all() {
                let (node, hash) = try Self.interiorNode(row)
                result[node] = hash
            }
            return result
        }
    }

    /// One row of `audit_nodes`.
    static func interiorNode(_ row: any SQLRow) throws -> (NodeID, TreeHash) {
        guard let hash = TreeHash(hex: try row.decode(column: "hash", as: String.self)) else { throw StoreError.corruptRow("audit_nodes.hash") }
        let level = try row.decode(column: "level", as: Int.self)
        let index = try row.decode(column: "idx", as: Int64.self)
        // A node must lie within a tree of at most 2^62 leaves; anything else was written behind the log's back.
        guard (1...62).contains(level), index >= 0, UInt64(index) < (UInt64(1) << UInt64(62 - level)) else {
            throw StoreError.corruptRow("audit_nodes (level \(level), index \(index))")
        }
        return (NodeID(level: level, index: UInt64(index)), hash)
    }

    public func entries(in range: Range<UInt64>) async throws -> [StoredAuditEntry] {
        try await read { connection in
            try await connection.select().columns("idx", "leaf", "leaf_hash", "kind", "occurred_at", "actor_user", "erased_at").from("audit_entries")
                .where("idx", .greaterThanOrEqual, SQLBind(Int64(min(range.lowerBound, UInt64(Int64.max)))))
                .where("idx", .lessThan, SQLBind(Int64(min(range.upperBound, UInt64(Int64.max)))))
                .orderBy("idx").all().map(Self.entry)
        }
    }

    public func entries(startingAt start: UInt64, limit: Int) async throws -> [StoredAuditEntry] {
        try await read { connection in
            try await connection.select().columns("idx", "leaf", "leaf_hash", "kind", "occurred_at", "actor_user", "erased_at").from("audit_entries")
                .where("idx", .greaterThanOrEqual, SQLBind(Int64(min(start, UInt64(Int64.max)))))
                .orderBy("idx").limit(limit).all().map(Self.entry)
        }
    }

    public func inSnapshot<T: Sendable>(_ body: @Sendable (any AuditLogRepository) async throws -> T) async throws -> T {
        try await database.snapshot { connection in
            try await body(SQLAuditLogRepository(database: database, connection: connection))
        }
    }

    public func search(_ query: AuditEntryQuery) async throws -> [StoredAuditEntry] {
        try await read { connection in
            var select = connection.select().columns("idx", "leaf", "leaf_hash", "kind", "occurred_at", "actor_user", "erased_at").from("audit_entries")
            if let from = query.from { select = select.where("occurred_at", .greaterThanOrEqual, SQLBind(from)) }
            if let until = query.until { select = select.where("occurred_at", .lessThan, SQLBind(until)) }
            if let actor = query.actorUserID { select = select.where("actor_user", .equal, SQLBind(actor)) }
            if let kind = query.kind { select = select.where("kind", .equal, SQLBind(kind)) }
            return try await select.orderBy("idx", .descending).limit(max(1, min(query.limit, 1000))).all().map(Self.entry)
        }
    }

    static func entry(_ row: any SQLRow) throws -> StoredAuditEntry {
        guard let hash = TreeHash(hex: try row.decode(column: "leaf_hash", as: String.self)) else { throw StoreError.corruptRow("audit_entries.leaf_hash") }
        return StoredAuditEntry(
            index: UInt64(try row.decode(column: "idx", as: Int64.self)),
            leaf: try row.decode(column: "leaf", as: String?.self).map { Array($0.utf8) },
            erased: try row.decode(column: "erased_at", as: Int64?.self) != nil,
            leafHash: hash,
            kind: try row.decode(column: "kind", as: String.self),
            occurredAt: try row.decode(column: "occurred_at", as: Int64.self),
            actorUserID: try row.decode(column: "actor_user", as: String?.self)
        )
    }

    public func erasePayload(at index: UInt64, now: Date) async throws {
        try await database.transaction { connection in
            try await connection.update("audit_entries")
                .set("leaf", to: SQLLiteral.null)
                .set("erased_at", to: SQLBind(now.storedMilliseconds))
                .where("idx", .equal, SQLBind(Int64(index)))
                .run()
        }
    }

    public func saveCheckpoint(_ checkpoint: StoredCheckpoint) async throws {
        let write: @Sendable (any SQLDatabase) async throws -> Void = { connection in
            let existing = try await connection.select().column("size").from("audit_checkpoints")
                .where("size", .equal, SQLBind(Int64(checkpoint.size))).first()
            guard existing == nil else { return }
            try await connection.insert(into: "audit_checkpoints")
                .columns("size", "root", "note", "signed_at")
                .values(SQLBind(Int64(checkpoint.size)), SQLBind(checkpoint.root.hex), SQLBind(checkpoint.note), SQLBind(checkpoint.signedAt))
                .run()
        }
        if let connection {
            try await write(connection)
        } else {
            try await database.transaction(write)
        }
    }

    public func latestCheckpoint() async throws -> StoredCheckpoint? {
        try await read { connection in
            try await connection.select().columns("size", "root", "note", "signed_at").from("audit_checkpoints")
                .orderBy("size", .descending).limit(1).first().map(Self.checkpoint)
        }
    }

    public func checkpoints(sizes range: ClosedRange<UInt64>, limit: Int) async throws -> [StoredCheckpoint] {
        try await read { connection in
            try await connection.select().columns("size", "root", "note", "signed_at").from("audit_checkpoints")
                .where("size", .greaterThanOrEqual, SQLBind(Int64(min(range.lowerBound, UInt64(Int64.max)))))
                .where("size", .lessThanOrEqual, SQLBind(Int64(min(range.upperBound, UInt64(Int64.max)))))
                .orderBy("size").limit(limit).all().map(Self.checkpoint)
        }
    }

    static func checkpoint(_ row: any SQLRow) throws -> StoredCheckpoint {
        guard let root = TreeHash(hex: try row.decode(column: "root", as: String.self)) else { throw StoreError.corruptRow("audit_checkpoints.root") }
        return StoredCheckpoint(
            size: UInt64(try row.decode(column: "size", as: Int64.self)), root: root,
            note: try row.decode(column: "note", as: String.self), signedAt: try row.decode(column: "signed_at", as: Int64.self)
        )
    }

    public func whileSigningLeader<T: Sendable>(_ body: @Sendable (any AuditLogRepository) async throws -> T) async throws -> T? {
        try await database.transaction { connection -> T? in
            if database.backend == .postgres {
                let row = try await connection.raw("SELECT pg_try_advisory_xact_lock(\(bind: Int64(0x4347_4C4F_4753))) AS leader").first()
                guard try row?.decode(column: "leader", as: Bool.self) == true else { return nil }
            }
            return try await body(SQLAuditLogRepository(database: database, connection: connection))
        }
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
