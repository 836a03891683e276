import Crypto
import Foundation

/// A SHA-256 hash in the audit log's Merkle tree.
public struct TreeHash: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Requires exactly 32 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    init(digest: SHA256.Digest) {
        self.bytes = Array(digest)
    }

    /// Lower-case hex only: the stored form has exactly one spelling, so an edit to it cannot pass unnoticed.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 {
            guard let high = value(digits[2 * index]), let low = value(digits[2 * index + 1]) else { return nil }
            bytes[index] = high << 4 | low
        }
        self.bytes = bytes
    }

    public init?(base64: String) {
        guard let data = Data(base64Encoded: base64) else { return nil }
        self.init(bytes: Array(data))
    }

    public var hex: String { Hex.encode(bytes) }
    public var base64: String { Data(bytes).base64EncodedString() }
    public var description: String { hex }
}

/// RFC 6962 §2.1 hashing: leaves and interior nodes are domain-separated by a one-byte prefix, so that no leaf can
/// be passed off as a node (second-preimage resistance).
public enum MerkleHasher {
    /// `SHA-256(0x00 ‖ leaf)`.
    public static func leafHash(_ leaf: some Sequence<UInt8>) -> TreeHash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: Array(leaf))
        return TreeHash(digest: hasher.finalize())
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`.
    public static func nodeHash(_ left: TreeHash, _ right: TreeHash) -> TreeHash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left.bytes)
        hasher.update(data: right.bytes)
        return TreeHash(digest: hasher.finalize())
    }

    /// The root of the empty tree: `SHA-256()` of nothing.
    public static let emptyRoot = TreeHash(digest: SHA256.hash(data: Data()))
}

/// A perfect subtree of the log: at `level` ℓ and position `index` i it covers the leaves [i·2^ℓ, (i+1)·2^ℓ).
/// Level 0 nodes are leaf hashes. Once complete, a perfect subtree never changes, which is why these are what the
/// store keeps: any root or proof is a fold of O(log n) of them.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let level: Int
    public let index: UInt64

    public init(level: Int, index: UInt64) {
        self.level = level
        self.index = index
    }

    public var range: Range<UInt64> { (index << UInt64(level))..<((index + 1) << UInt64(level)) }
    public var description: String { "\(level)/\(index)" }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        (lhs.level, lhs.index) < (rhs.level, rhs.index)
    }
}

/// Which nodes a root or a proof needs, chosen apart from hashing and from storage (the shape of
/// transparency-dev/merkle): the caller fetches the listed perfect subtrees in one read and folds them.
public enum MerkleRanges {
    /// The largest power of two strictly below `n`. Requires `n > 1`.
    static func splitPoint(_ n: UInt64) -> UInt64 {
        precondition(n > 1)
        return UInt64(1) << UInt64(63 - (n - 1).leadingZeroBitCount)
    }

    /// The maximal perfect subtrees covering `range`, left to right. For the ranges that occur in RFC 6962 trees
    /// (a subtree's leaves) these have strictly decreasing sizes, and the range's hash folds them from the right.
    public static func perfectSubtrees(_ range: Range<UInt64>) -> [NodeID] {
        var nodes: [NodeID] = []
        var start = range.lowerBound
        while start < range.upperBound {
            // The largest aligned block that starts at `start` and fits.
            var level = start == 0 ? 63 : start.trailingZeroBitCount
            while level > 0 && (start + (UInt64(1) << UInt64(level)) > range.upperBound || level >= 63) { level -= 1 }
            nodes.append(NodeID(level: level, index: start >> UInt64(level)))
            start += UInt64(1) << UInt64(level)
        }
        return nodes
    }

    /// The hash of `range` (a subtree of an RFC 6962 tree) from the hashes of its perfect subtrees, or `nil` when
    /// one is missing from `nodes`.
    public static func hash(of range: Range<UInt64>, nodes: [NodeID: TreeHash]) -> TreeHash? {
        guard !range.isEmpty else { return MerkleHasher.emptyRoot }
        var result: TreeHash?
        for node in perfectSubtrees(range).reversed() {
            guard let hash = nodes[node] else { return nil }
            result = result.map { MerkleHasher.nodeHash(hash, $0) } ?? hash
        }
        return result
    }

    /// The subtrees whose hashes form the inclusion proof of leaf `index` in a tree of `size` leaves, from the leaf
    /// upwards (RFC 9162 §2.1.3.1, PATH). Requires `0 ≤ index < size`.
    public static func inclusion(index: UInt64, size: UInt64) -> [Range<UInt64>] {
        precondition(index < size, "Requires 0 ≤ index < size")
        var path: [Range<UInt64>] = []
        var lower: UInt64 = 0, upper = size
        var siblings: [Range<UInt64>] = []
        while upper - lower > 1 {
            let k = splitPoint(upper - lower)
            if index < lower + k {
                siblings.append((lower + k)..<upper)
                upper = lower + k
            } else {
                siblings.append(lower..<(lower + k))
                lower = lower + k
            }
        }
        path = siblings.reversed()
        return path
    }

    /// The subtrees whose hashes form the consistency proof from `oldSize` to `newSize`, in RFC 9162 §2.1.4.1
    /// order (SUBPROOF). Requires `0 < oldSize ≤ newSize`; equal sizes need no nodes.
    public static func consistency(from oldSize: UInt64, to newSize: UInt64) -> [Range<UInt64>] {
        precondition(oldSize > 0 && oldSize <= newSize, "Requires 0 < oldSize ≤ newSize")
        var proof: [Range<UInt64>] = []
        var m = oldSize, lower: UInt64 = 0, upper = newSize
        var complete = true
        while m != upper - lower {
            let k = splitPoint(upper - lower)
            if m <= k {
                proof.append((lower + k)..<upper)
                upper = lower + k
            } else {
                proof.append(lower..<(lower + k))
                m -= k
                lower += k
                complete = false
            }
        }
        if !complete { proof.append(lower..<upper) }
        return proof.reversed()
    }

    /// The perfect subtrees (level ≥ 1) that become complete when the leaf at `index` is appended, lowest first.
    public static func completedNodes(byAppendingLeafAt index: UInt64) -> [NodeID] {
        var nodes: [NodeID] = []
        var level = 1
        let count = index + 1
        while level < 64 && count % (UInt64(1) << UInt64(level)) == 0 {
            nodes.append(NodeID(level: level, index: count >> UInt64(level) - 1))
            level += 1
        }
        return nodes
    }
}

/// Why a proof did not verify.
public enum MerkleProofError: Error, Equatable, Sendable {
    case indexOutOfRange(index: UInt64, size: UInt64)
    case invalidSizes(old: UInt64, new: UInt64)
    case wrongProofLength(expected: Int, got: Int)
    case rootMismatch(calculated: TreeHash, expected: TreeHash)
}

/// Proof verification by the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms, written from the RFC and independent of
/// ``MerkleRanges`` (which builds proofs), so that each checks the other.
public enum MerkleVerifier {
    /// The root implied by an inclusion proof. Requires `index < size`.
    public static func rootFromInclusionProof(leafHash: TreeHash, index: UInt64, size: UInt64, proof: [TreeHash]) throws -> TreeHash {
        guard index < size else { throw MerkleProofError.indexOutOfRange(index: index, size: size) }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { throw MerkleProofError.wrongProofLength(expected: proofLength(index: index, size: size), got: proof.count) }
            if fn & 1 == 1 || fn == sn {
                r = MerkleHasher.nodeHash(p, r)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                r = MerkleHasher.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw MerkleProofError.wrongProofLength(expected: proofLength(index: index, size: size), got: proof.count) }
        return r
    }

    public static func verifyInclusion(leafHash: TreeHash, index: UInt64, size: UInt64, proof: [TreeHash], root: TreeHash) throws {
        let calculated = try rootFromInclusionProof(leafHash: leafHash, index: index, size: size, proof: proof)
        guard calculated == root else { throw MerkleProofError.rootMismatch(calculated: calculated, expected: root) }
    }

    static func proofLength(index: UInt64, size: UInt64) -> Int {
        index < size ? MerkleRanges.inclusion(index: index, size: size).count : 0
    }

    /// Checks that the tree of `newSize` with `newRoot` extends the tree of `oldSize` with `oldRoot`.
    public static func verifyConsistency(oldSize: UInt64, newSize: UInt64, oldRoot: TreeHash, newRoot: TreeHash, proof: [TreeHash]) throws {
        guard oldSize <= newSize else { throw MerkleProofError.invalidSizes(old: oldSize, new: newSize) }
        if oldSize == newSize {
            guard proof.isEmpty else { throw MerkleProofError.wrongProofLength(expected: 0, got: proof.count) }
            guard oldRoot == newRoot else { throw MerkleProofError.rootMismatch(calculated: newRoot, expected: oldRoot) }
            return
        }
        guard oldSize > 0 else {
            // Every tree extends the empty tree; a proof for it carries nothing.
            guard proof.isEmpty else { throw MerkleProofError.wrongProofLength(expected: 0, got: proof.count) }
            return
        }
        let expectedLength = MerkleRanges.consistency(from: oldSize, to: newSize).count
        guard !proof.isEmpty else { throw MerkleProofError.wrongProofLength(expected: expectedLength, got: 0) }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = oldSize - 1, sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { throw MerkleProofError.wrongProofLength(expected: expectedLength, got: proof.count) }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleHasher.nodeHash(c, fr)
                sr = MerkleHasher.nodeHash(c, sr)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                sr = MerkleHasher.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw MerkleProofError.wrongProofLength(expected: expectedLength, got: proof.count) }
        guard fr == oldRoot else { throw MerkleProofError.rootMismatch(calculated: fr, expected: oldRoot) }
        guard sr == newRoot else { throw MerkleProofError.rootMismatch(calculated: sr, expected: newRoot) }
    }
}

/// An in-memory tree for tests, the verifier and the benchmark: the leaf hashes and, for every complete perfect
/// subtree, its hash — exactly what the store keeps.
public struct InMemoryMerkleTree: Sendable {
    public private(set) var nodes: [NodeID: TreeHash] = [:]
    public private(set) var size: UInt64 = 0

    public init() {}

    public mutating func append(leafHash: TreeHash) {
        nodes[NodeID(level: 0, index: size)] = leafHash
        for node in MerkleRanges.completedNodes(byAppendingLeafAt: size) {
            let left = NodeID(level: node.level - 1, index: node.index * 2)
            let right = NodeID(level: node.level - 1, index: node.index * 2 + 1)
            nodes[node] = MerkleHasher.nodeHash(nodes[left]!, nodes[right]!)
        }
        size += 1
    }

    /// The root at any earlier or current size.
    public func root(size treeSize: UInt64) -> TreeHash {
        precondition(treeSize <= size)
        return MerkleRanges.hash(of: 0..<treeSize, nodes: nodes)!
    }

    public var root: TreeHash { root(size: size) }

    public func inclusionProof(index: UInt64, size treeSize: UInt64) -> [TreeHash] {
        MerkleRanges.inclusion(index: index, size: treeSize).map { MerkleRanges.hash(of: $0, nodes: nodes)! }
    }

    public func consistencyProof(from oldSize: UInt64, to newSize: UInt64) -> [TreeHash] {
        MerkleRanges.consistency(from: oldSize, to: newSize).map { MerkleRanges.hash(of: $0, nodes: nodes)! }
    }
}
