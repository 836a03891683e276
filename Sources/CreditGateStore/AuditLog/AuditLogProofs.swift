import CreditGateCore


/// Roots and proofs at any tree size from the stored perfect subtrees: the nodes a request needs are chosen first
/// (``MerkleRanges``), read in one go, then folded — O(log n) reads, never a pass over the leaves.
public struct AuditLogProofs: Sendable {
    let repository: any AuditLogRepository

    public init(repository: any AuditLogRepository) {
        self.repository = repository
    }

    public enum Failure: Error, Equatable {
        /// The request names a size or index beyond the tree.
        case outOfRange
        /// A node the tree must have is missing from the store: the log has been tampered with.
        case missingNode
    }

    public func root(size: UInt64) async throws -> TreeHash {
        guard size > 0 else { return MerkleHasher.emptyRoot }
        return try await hashes(of: [0..<size])[0]
    }

    /// Requires `index < size ≤` the current tree size. A size beyond the tree needs a subtree that does not exist
    /// yet, so it is found out by the one read of nodes, without a separate read of the size.
    public func inclusionProof(index: UInt64, size: UInt64) async throws -> [TreeHash] {
        guard index < size else { throw Failure.outOfRange }
        return try await hashesWithin(size: size, MerkleRanges.inclusion(index: index, size: size))
    }

    /// Requires `0 < oldSize ≤ newSize ≤` the current tree size.
    public func consistencyProof(from oldSize: UInt64, to newSize: UInt64) async throws -> [TreeHash] {
        guard oldSize > 0, oldSize <= newSize else { throw Failure.outOfRange }
        return try await hashesWithin(size: newSize, MerkleRanges.consistency(from: oldSize, to: newSize))
    }

    /// The hashes of `ranges` inside a tree of `size` leaves. A missing subtree means the size lies beyond the log
    /// (a 400 for the asker) unless the log is that large, in which case the store is damaged; only then is the size
    /// read, so a good request costs one read.
    private func hashesWithin(size: UInt64, _ ranges: [Range<UInt64>]) async throws -> [TreeHash] {
        do {
            return try await hashes(of: ranges + [0..<size]).dropLast().map { $0 }
        } catch Failure.missingNode {
            throw size > (try await repository.size()) ? Failure.outOfRange : Failure.missingNode
        }
    }

    /// The hashes of `ranges`, each a fold of stored perfect subtrees fetched in one read. A subtree that is not
    /// stored raises `missing`.
    private func hashes(of ranges: [Range<UInt64>]) async throws -> [TreeHash] {
        let needed = Set(ranges.flatMap(MerkleRanges.perfectSubtrees))
        let nodes = try await repository.nodes(needed)
        return try ranges.map { range in
            guard let hash = MerkleRanges.hash(of: range, nodes: nodes) else { throw Failure.missingNode }
            return hash
        }
    }
}
