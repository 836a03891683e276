/// Checks a whole stored log against itself and its signed checkpoints: every leaf hash recomputed from its
/// canonical bytes (or taken as stored where the payload was erased), every stored interior node recomputed from
/// the leaves, every checkpoint's signature verified and its root compared with the recomputed tree at its size.
///
/// Feed entries in index order with ``consume(index:leaf:storedLeafHash:)``, then call ``finish(...)``. Editing,
/// deleting, inserting or reordering any entry, stored hash or node shows up as a problem naming the first bad
/// index.
public struct LogAuditor: Sendable {
    public struct Verdict: Sendable, Equatable {
        public let size: UInt64
        public let checkpointsChecked: Int
        /// The first leaf index at which the log is not what its hashes and checkpoints say; `nil` when intact.
        public let firstBadIndex: UInt64?
        public let problems: [String]
        public var isIntact: Bool { problems.isEmpty }
    }

    private var tree = InMemoryMerkleTree()
    private var problems: [(index: UInt64, text: String)] = []
    private var nextIndex: UInt64 = 0

    public init() {}

    /// Adds the entry at `index`. Requires indices to arrive in increasing order.
    /// Records a problem found outside the entries (e.g. a checkpoint that does not extend the one before).
    public mutating func report(_ problem: String, at index: UInt64) {
        problems.append((index, problem))
    }

    public mutating func consume(index: UInt64, leaf: [UInt8]?, storedLeafHash: TreeHash) {
        if index != nextIndex {
            problems.append((min(index, nextIndex), "entry \(nextIndex) is missing (next stored is \(index))"))
        }
        // The tree is built from the stored hashes: an edited content is then reported at its own index, and an
        // edited hash shows up in the nodes and signed roots above it.
        if let leaf, MerkleHasher.leafHash(leaf) != storedLeafHash {
            problems.append((index, "entry \(index): its content does not match its stored hash"))
        }
        tree.append(leafHash: storedLeafHash)
        nextIndex = max(nextIndex, index) + 1
    }

    /// Compares the stored nodes and checkpoints with the recomputed tree and returns the verdict.
    /// - Parameters:
    ///   - recordedSize: the size the store says the log has.
    ///   - storedNodes: the stored interior nodes (level ≥ 1), or `nil` when the reader cannot see them (the API
    ///     does not serve them; proofs and roots cover them instead).
    ///   - checkpoints: the signed notes with the sizes they were stored under.
    public mutating func finish(recordedSize: UInt64, recordedEdge: [TreeHash]? = nil, storedNodes: [NodeID: TreeHash]?,
                                checkpoints: [(size: UInt64, note: String)], verifier: NoteVerifier, origin: String?) -> Verdict {
        if recordedSize != tree.size {
            problems.append((min(recordedSize, tree.size), "the log records \(recordedSize) entries but \(tree.size) are stored"))
        } else if let recordedEdge {
            let edge = MerkleRanges.perfectSubtrees(0..<tree.size)
            for (node, hash) in zip(edge, recordedEdge) where tree.nodes[node] != hash {
                problems.append((node.range.lowerBound, "the recorded right edge differs at node \(node)"))
            }
            if edge.count != recordedEdge.count {
                problems.append((tree.size, "the recorded right edge has \(recordedEdge.count) hashes, not \(edge.count)"))
            }
        }
        for (node, stored) in storedNodes ?? [:] {
            guard node.range.upperBound <= tree.size else {
                problems.append((min(node.range.lowerBound, tree.size), "node \(node) lies beyond the log's end"))
                continue
            }
            if tree.nodes[node] != stored {
                problems.append((node.range.lowerBound, "stored node \(node) does not match its leaves \(node.range.lowerBound)..<\(node.range.upperBound)"))
            }
        }
        for node in tree.nodes.keys where node.level > 0 && storedNodes != nil && storedNodes?[node] == nil {
            problems.append((node.range.lowerBound, "stored node \(node) is missing"))
        }
        var checked = 0
        for (size, note) in checkpoints.sorted(by: { $0.size < $1.size }) {
            do {
                let checkpoint = try Checkpoint(body: verifier.verify(note))
                if let origin, checkpoint.origin != origin {
                    problems.append((min(size, tree.size), "checkpoint \(size) names another log (\(checkpoint.origin))"))
                } else if checkpoint.size != size || checkpoint.size > tree.size {
                    problems.append((min(size, tree.size), "checkpoint \(size) covers \(checkpoint.size) entries; \(tree.size) are stored"))
                } else if tree.root(size: checkpoint.size) != checkpoint.root {
                    problems.append((firstDifference(before: checkpoint.size), "the entries do not produce the root signed at size \(checkpoint.size)"))
                }
                checked += 1
            } catch {
                problems.append((min(size, tree.size), "checkpoint \(size) is not validly signed"))
            }
        }
        let ordered = problems.sorted { $0.index < $1.index }
        return Verdict(size: tree.size, checkpointsChecked: checked, firstBadIndex: ordered.first?.index, problems: ordered.map(\.text))
    }

    /// Without the original leaves the exact index cannot be known from a root alone; the earliest problem already
    /// found before `size` is the best answer, else the checkpoint's range start.
    private func firstDifference(before size: UInt64) -> UInt64 {
        problems.map(\.index).filter { $0 < size }.min() ?? 0
    }
}
