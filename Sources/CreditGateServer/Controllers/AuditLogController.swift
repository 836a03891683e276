import CreditGateCore
import CreditGateStore
import Foundation
import Hummingbird

/// The auditors' read API of the audit log, shaped like RFC 6962 §4: checkpoints, public key, proofs, entries.
/// Any signed-in user may fetch the checkpoint and the key; everything else needs `audit.log.read`.
struct AuditLogController {
    let repository: any AuditLogRepository
    let verifier: NoteVerifier

    /// The most entries one `entries` call returns.
    static let maximumEntries: UInt64 = 1000

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.group().add(middleware: RequirePermission(.consoleUse))
            .get("checkpoint", use: checkpoint)
            .get("public-key", use: publicKey)
        group.group().add(middleware: RequirePermission(.auditLogRead))
            .get("checkpoints", use: checkpoints)
            .get("proof/inclusion", use: inclusion)
            .get("proof/consistency", use: consistency)
            .get("entries", use: entries)
    }

    @Sendable func checkpoint(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let latest = try await repository.latestCheckpoint() else {
            throw CreditGateError(.serviceUnavailable, detailKey: "detail_log_no_checkpoint", cause: "no checkpoint yet")
        }
        return Self.text(latest.note)
    }

    @Sendable func publicKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        Self.text(verifier.verifierKey + "\n")
    }

    @Sendable func checkpoints(_ request: Request, context: AppRequestContext) async throws -> CheckpointList {
        let from = try Self.number(request, "from", default: 0)
        let to = try Self.number(request, "to", default: UInt64(Int64.max))
        guard from <= to else { throw CreditGateError(.invalidParameter, detailKey: "detail_log_range", cause: "from > to") }
        let list = try await repository.checkpoints(sizes: from...to, limit: Int(Self.maximumEntries))
        return CheckpointList(checkpoints: list.map { CheckpointDTO(size: $0.size, rootHash: $0.root.base64, note: $0.note, signedAt: $0.signedAt) })
    }

    @Sendable func inclusion(_ request: Request, context: AppRequestContext) async throws -> InclusionProofDTO {
        let index = try Self.number(request, "index", default: nil)
        let size = try Self.number(request, "size", default: nil)
        do {
            let proof = try await AuditLogProofs(repository: repository).inclusionProof(index: index, size: size)
            let leaf = try await repository.entries(in: index..<(index + 1)).first
            return InclusionProofDTO(index: index, size: size, leafHash: leaf?.leafHash.base64 ?? "", hashes: proof.map(\.base64))
        } catch AuditLogProofs.Failure.outOfRange {
            throw CreditGateError(.invalidParameter, detailKey: "detail_log_range", cause: "inclusion out of range")
        }
    }

    @Sendable func consistency(_ request: Request, context: AppRequestContext) async throws -> ConsistencyProofDTO {
        let from = try Self.number(request, "from", default: nil)
        let to = try Self.number(request, "to", default: nil)
        do {
            let proof = try await AuditLogProofs(repository: repository).consistencyProof(from: from, to: to)
            return ConsistencyProofDTO(from: from, to: to, hashes: proof.map(\.base64))
        } catch AuditLogProofs.Failure.outOfRange {
            throw CreditGateError(.invalidParameter, detailKey: "detail_log_range", cause: "consistency out of range")
        }
    }

    @Sendable func entries(_ request: Request, context: AppRequestContext) async throws -> EntryList {
        let start = try Self.number(request, "start", default: nil)
        let end = try Self.number(request, "end", default: nil)
        let size = try await repository.size()
        guard start < end, end <= size, end - start <= Self.maximumEntries else {
            throw CreditGateError(.invalidParameter, detailKey: "detail_log_range", cause: "entries out of range")
        }
        let stored = try await repository.entries(in: start..<end)
        return EntryList(entries: stored.map { entry in
            EntryDTO(
                index: entry.index, leafHash: entry.leafHash.base64,
                leaf: entry.leaf.map { Data($0).base64EncodedString() },
                event: entry.leaf.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0)) }
            )
        })
    }

    /// A required or defaulted non-negative integer query parameter; anything else is a 400 problem.
    static func number(_ request: Request, _ name: String, default fallback: UInt64?) throws -> UInt64 {
        guard let text = request.uri.queryParameters[Substring(name)].map(String.init) else {
            if let fallback { return fallback }
            throw CreditGateError(.invalidParameter, detailKey: "detail_log_range", cause: "missing \(name)")
        }
        guard text.count <= 19, text.allSatisfy(\.isNumber), let value = UInt64(text), value <= UInt64(Int64.max) else {
            throw CreditGateError(.invalidParameter, detailKey: "detail_log_range", cause: "malformed \(name)")
        }
        return value
    }

    static func text(_ body: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

struct CheckpointDTO: ResponseEncodable {
    let size: UInt64
    let rootHash: String
    let note: String
    let signedAt: Int64
}

struct CheckpointList: ResponseEncodable {
    let checkpoints: [CheckpointDTO]
}

struct InclusionProofDTO: ResponseEncodable {
    let index: UInt64
    let size: UInt64
    let leafHash: String
    let hashes: [String]
}

struct ConsistencyProofDTO: ResponseEncodable {
    let from: UInt64
    let to: UInt64
    let hashes: [String]
}

struct EntryDTO: ResponseEncodable {
    let index: UInt64
    let leafHash: String
    /// The canonical bytes in base64; `null` once erased at the end of retention.
    let leaf: String?
    /// The same event decoded, for reading; identifiers in it are keyed hashes.
    let event: JSONValue?
}

struct EntryList: ResponseEncodable {
    let entries: [EntryDTO]
}

/// Any JSON value, to pass a decoded event through unchanged.
indirect enum JSONValue: Codable, Sendable {
    case string(String), number(Int64), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Int64.self) { self = .number(value) }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}
