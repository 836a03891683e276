/// Checks a whole stored log against itself and its signed checkpoints: every leaf hash recomputed from its
/// canonical bytes, every stored interior node recomputed from the leaves, the recorded right edge, and every
/// checkpoint's signature and root.
///
/// It streams: only the right edge of the tree read so far is kept, each completed subtree is compared with the
/// stored one as it completes, and the root is taken at each checkpoint size as the reading passes it. Feed entries
/// in index order with ``consume(index:leaf:storedLeafHash:)``, then call ``finish(...)``. Editing, deleting,
/// inserting or reordering any entry, stored hash or node shows up as a problem naming the first bad index.
public struct LogAuditor: Sendable {
    public struct Verdict: Sendable, Equatable {
        public init(size: UInt64, checkpointsChecked: Int, firstBadIndex: UInt64?, problems: [String]) {
            self.size = size
            self.checkpointsChecked = checkpointsChecked
            self.firstBadIndex = firstBadIndex
            self.problems = problems
        }

        public let size: UInt64
        public let checkpointsChecked: Int
        /// The first leaf index at which the log is not what its hashes and checkpoints say; `nil` when intact.
        public let firstBadIndex: UInt64?
        public let problems: [String]
        public var isIntact: Bool { problems.isEmpty }
    }

    private let storedNodes: [NodeID: TreeHash]?
    private let checkpointSizes: Set<UInt64>
    private var roots: [UInt64: TreeHash] = [:]
    /// The perfect subtrees covering the leaves read so far, left to right.
    private var edge: [(node: NodeID, hash: TreeHash)] = []
    private var size: UInt64 = 0
    private var problems: [(index: UInt64, text: String)] = []
    private var nextIndex: UInt64 = 0

    /// - Parameters:
    ///   - storedNodes: the stored interior nodes (level ≥ 1), or `nil` when the reader cannot see them (the API
    ///     does not serve them; proofs and roots cover them instead).
    ///   - checkpointSizes: the sizes whose roots will be compared with signed checkpoints.
    public init(storedNodes: [NodeID: TreeHash]?, checkpointSizes: some Sequence<UInt64>) {
        self.storedNodes = storedNodes
        self.checkpointSizes = Set(checkpointSizes)
    }

    /// Records a problem found outside the entries (e.g. a checkpoint that does not extend the one before).
    public mutating func report(_ problem: String, at index: UInt64) {
        problems.append((index, problem))
    }

    /// Adds the entry at `index`. Requires indices to arrive in increasing order. `erased` says the payload was
    /// destroyed deliberately at the end of its retention; a payload missing without it is tampering.
    public mutating func consume(index: UInt64, leaf: [UInt8]?, erased: Bool = true, storedLeafHash: TreeHash) {
        if index != nextIndex {
            problems.append((min(index, nextIndex), "entry \(nextIndex) is missing (next stored is \(index))"))
        }
        if leaf == nil && !erased {
            problems.append((index, "entry \(index): its content is missing but was never erased"))
        }
        // The tree is built from the stored hashes: an edited content is then reported at its own index, and an
        // edited hash shows up in the nodes and signed roots above it.
        if let leaf, MerkleHasher.leafHash(leaf) != storedLeafHash {
            problems.append((index, "entry \(index): its content does not match its stored hash"))
        }
        append(storedLeafHash)
        nextIndex = max(nextIndex, index) + 1
    }

    private mutating func append(_ leafHash: TreeHash) {
        edge.append((NodeID(level: 0, index: size), leafHash))
        while edge.count >= 2, edge[edge.count - 1].node.level == edge[edge.count - 2].node.level {
            let right = edge.removeLast(), left = edge.removeLast()
            let node = NodeID(level: left.node.level + 1, index: left.node.index / 2)
            let hash = MerkleHasher.nodeHash(left.hash, right.hash)
            if let storedNodes {
                switch storedNodes[node] {
                case nil: problems.append((node.range.lowerBound, "stored node \(node) is missing"))
                case let stored? where stored != hash:
                    problems.append((node.range.lowerBound, "stored node \(node) does not match its leaves \(node.range.lowerBound)..<\(node.range.upperBound)"))
                default: break
                }
            }
            edge.append((node, hash))
        }
        size += 1
        if checkpointSizes.contains(size) { roots[size] = currentRoot }
    }

    private var currentRoot: TreeHash {
        var result: TreeHash?
        for item in edge.reversed() {
            result = result.map { MerkleHasher.nodeHash(item.hash, $0) } ?? item.hash
        }
        return result ?? MerkleHasher.emptyRoot
    }

    /// Compares what the store records and the signed checkpoints with the recomputed tree, and returns the verdict.
    public mutating func finish(recordedSize: UInt64, recordedEdge: [TreeHash]? = nil,
                                checkpoints: [(size: UInt64, note: String, storedRoot: TreeHash?)], verifier: NoteVerifier, origin: String?) -> Verdict {
        if recordedSize != size {
            problems.append((min(recordedSize, size), "the log records \(recordedSize) entries but \(size) are stored"))
        } else if let recordedEdge {
            for (item, hash) in zip(edge, recordedEdge) where item.hash != hash {
                problems.append((item.node.range.lowerBound, "the recorded right edge differs at node \(item.node)"))
            }
            if edge.count != recordedEdge.count {
                problems.append((size, "the recorded right edge has \(recordedEdge.count) hashes, not \(edge.count)"))
            }
        }
        for node in (storedNodes ?? [:]).keys where node.range.upperBound > size {
            problems.append((min(node.range.lowerBound, size), "node \(node) lies beyond the log's end"))
        }
        roots[0] = MerkleHasher.emptyRoot
        if size > 0 && checkpoints.isEmpty {
            problems.append((0, "the log has \(size) entries and no signed checkpoint"))
        }
        var checked = 0
        for (size, note, storedRoot) in checkpoints.sorted(by: { $0.size < $1.size }) {
            do {
                let checkpoint = try Checkpoint(body: verifier.verify(note))
                if let storedRoot, storedRoot != checkpoint.root {
                    problems.append((min(size, self.size), "checkpoint \(size): the stored root differs from the signed one"))
                }
                if let origin, checkpoint.origin != origin {
                    problems.append((min(size, self.size), "checkpoint \(size) names another log (\(checkpoint.origin))"))
                } else if checkpoint.size != size || checkpoint.size > self.size {
                    problems.append((min(size, self.size), "checkpoint \(size) covers \(checkpoint.size) entries; \(self.size) are stored"))
                } else if roots[checkpoint.size] != checkpoint.root {
                    problems.append((firstProblem(before: checkpoint.size), "the entries do not produce the root signed at size \(checkpoint.size)"))
                }
                checked += 1
            } catch {
                problems.append((min(size, self.size), "checkpoint \(size) is not validly signed"))
            }
        }
        let ordered = problems.sorted { $0.index < $1.index }
        return Verdict(size: size, checkpointsChecked: checked, firstBadIndex: ordered.first?.index, problems: ordered.map(\.text))
    }

    /// Without the original leaves the exact index cannot be known from a root alone; the earliest problem already
    /// found before `size` is the best answer, else the start of the log.
    private func firstProblem(before size: UInt64) -> UInt64 {
        problems.map(\.index).filter { $0 < size }.min() ?? 0
    }
}
