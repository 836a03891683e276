import Crypto
import Foundation
import Testing

@testable import CreditGateCore

/// Known answers from the Certificate Transparency reference tests (RFC 6962), as carried in
/// transparency-dev/merkle's test data: eight leaves and the roots of the trees of sizes 1–8. To reproduce: hash
/// each prefix of the leaves with RFC 6962 §2.1 (`python3 -c` with hashlib does it in a dozen lines).
enum RFC6962Vectors {
    static let leaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                    "606162636465666768696a6b6c6d6e6f"].map(hexBytes)
    static let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
    /// (leaf index, tree size, proof) from the same suite.
    static let inclusion: [(UInt64, UInt64, [String])] = [
        (0, 1, []),
        (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    ]
    /// (old size, new size, proof) from the same suite.
    static let consistency: [(UInt64, UInt64, [String])] = [
        (1, 1, []),
        (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    ]

    static func hexBytes(_ text: String) -> [UInt8] { text.isEmpty ? [] : TreeHashHex.bytes(text) }
}

enum TreeHashHex {
    static func bytes(_ text: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            result.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return result
    }
}

/// A direct transcription of RFC 6962 §2.1's recursive definitions, the reference the fast code is checked against.
enum ReferenceTree {
    static func mth(_ leaves: ArraySlice<[UInt8]>) -> TreeHash {
        if leaves.isEmpty { return MerkleHasher.emptyRoot }
        if leaves.count == 1 { return MerkleHasher.leafHash(leaves.first!) }
        var k = 1
        while k * 2 < leaves.count { k *= 2 }
        let start = leaves.startIndex
        return MerkleHasher.nodeHash(mth(leaves[start..<start + k]), mth(leaves[(start + k)...]))
    }

    static func path(_ m: Int, _ leaves: ArraySlice<[UInt8]>) -> [TreeHash] {
        if leaves.count <= 1 { return [] }
        var k = 1
        while k * 2 < leaves.count { k *= 2 }
        let start = leaves.startIndex
        if m < k { return path(m, leaves[start..<start + k]) + [mth(leaves[(start + k)...])] }
        return path(m - k, leaves[(start + k)...]) + [mth(leaves[start..<start + k])]
    }

    static func subproof(_ m: Int, _ leaves: ArraySlice<[UInt8]>, _ complete: Bool) -> [TreeHash] {
        if m == leaves.count { return complete ? [] : [mth(leaves)] }
        var k = 1
        while k * 2 < leaves.count { k *= 2 }
        let start = leaves.startIndex
        if m <= k { return subproof(m, leaves[start..<start + k], complete) + [mth(leaves[(start + k)...])] }
        return subproof(m - k, leaves[(start + k)...], false) + [mth(leaves[start..<start + k])]
    }
}

@Suite struct MerkleTreeTests {
    func tree(_ count: Int) -> (InMemoryMerkleTree, [[UInt8]]) {
        let leaves = (0..<count).map { Array("leaf \($0)".utf8) }
        var tree = InMemoryMerkleTree()
        for leaf in leaves { tree.append(leafHash: MerkleHasher.leafHash(leaf)) }
        return (tree, leaves)
    }

    @Test func emptyTreeRootIsTheHashOfNothing() {
        #expect(MerkleHasher.emptyRoot.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(InMemoryMerkleTree().root == MerkleHasher.emptyRoot)
    }

    @Test func rootsMatchTheRFC6962Vectors() {
        var tree = InMemoryMerkleTree()
        for (index, leaf) in RFC6962Vectors.leaves.enumerated() {
            tree.append(leafHash: MerkleHasher.leafHash(leaf))
            #expect(tree.root.hex == RFC6962Vectors.roots[index], "size \(index + 1)")
        }
        for size in 1...8 {
            #expect(tree.root(size: UInt64(size)).hex == RFC6962Vectors.roots[size - 1])
        }
    }

    @Test func inclusionProofsMatchTheVectorsAndVerify() throws {
        var tree = InMemoryMerkleTree()
        for leaf in RFC6962Vectors.leaves { tree.append(leafHash: MerkleHasher.leafHash(leaf)) }
        for (index, size, expected) in RFC6962Vectors.inclusion {
            let proof = tree.inclusionProof(index: index, size: size)
            #expect(proof.map(\.hex) == expected, "leaf \(index) of \(size)")
            try MerkleVerifier.verifyInclusion(
                leafHash: MerkleHasher.leafHash(RFC6962Vectors.leaves[Int(index)]), index: index, size: size,
                proof: expected.map { TreeHash(hex: $0)! }, root: TreeHash(hex: RFC6962Vectors.roots[Int(size) - 1])!
            )
        }
    }

    @Test func consistencyProofsMatchTheVectorsAndVerify() throws {
        var tree = InMemoryMerkleTree()
        for leaf in RFC6962Vectors.leaves { tree.append(leafHash: MerkleHasher.leafHash(leaf)) }
        for (old, new, expected) in RFC6962Vectors.consistency {
            let proof = tree.consistencyProof(from: old, to: new)
            #expect(proof.map(\.hex) == expected, "\(old) → \(new)")
            try MerkleVerifier.verifyConsistency(
                oldSize: old, newSize: new, oldRoot: TreeHash(hex: RFC6962Vectors.roots[Int(old) - 1])!,
                newRoot: TreeHash(hex: RFC6962Vectors.roots[Int(new) - 1])!, proof: expected.map { TreeHash(hex: $0)! }
            )
        }
    }

    /// Property: for every size up to 40 and every index or older size, the fast proofs equal the reference
    /// transcription of the RFC and verify.
    @Test func proofsAgreeWithTheReferenceForAllSmallTrees() throws {
        let (tree, leaves) = tree(40)
        for size in 1...40 {
            let prefix = leaves[0..<size]
            #expect(tree.root(size: UInt64(size)) == ReferenceTree.mth(prefix))
            for index in 0..<size {
                let proof = tree.inclusionProof(index: UInt64(index), size: UInt64(size))
                #expect(proof == ReferenceTree.path(index, prefix))
                try MerkleVerifier.verifyInclusion(leafHash: MerkleHasher.leafHash(leaves[index]), index: UInt64(index),
                                                   size: UInt64(size), proof: proof, root: tree.root(size: UInt64(size)))
            }
            for old in 1...size {
                let proof = tree.consistencyProof(from: UInt64(old), to: UInt64(size))
                #expect(proof == ReferenceTree.subproof(old, prefix, true))
                try MerkleVerifier.verifyConsistency(oldSize: UInt64(old), newSize: UInt64(size), oldRoot: tree.root(size: UInt64(old)),
                                                     newRoot: tree.root(size: UInt64(size)), proof: proof)
            }
        }
    }

    @Test func anyAlteredProofIsRejected() {
        let (tree, leaves) = tree(21)
        var rejected = 0, attempts = 0
        for index in stride(from: 0, to: 21, by: 3) {
            let proof = tree.inclusionProof(index: UInt64(index), size: 21)
            for position in proof.indices {
                var bad = proof
                var bytes = bad[position].bytes
                bytes[position % 32] ^= 0x01
                bad[position] = TreeHash(bytes: bytes)!
                attempts += 1
                if (try? MerkleVerifier.verifyInclusion(leafHash: MerkleHasher.leafHash(leaves[index]), index: UInt64(index),
                                                         size: 21, proof: bad, root: tree.root)) == nil { rejected += 1 }
            }
            // A shortened, lengthened or misplaced proof fails too.
            #expect(throws: MerkleProofError.self) {
                try MerkleVerifier.verifyInclusion(leafHash: MerkleHasher.leafHash(leaves[index]), index: UInt64(index), size: 21,
                                                   proof: Array(proof.dropLast()), root: tree.root)
            }
            #expect(throws: MerkleProofError.self) {
                try MerkleVerifier.verifyInclusion(leafHash: MerkleHasher.leafHash(leaves[index]), index: UInt64(index), size: 21,
                                                   proof: proof + [tree.root], root: tree.root)
            }
            #expect(throws: MerkleProofError.self) {
                try MerkleVerifier.verifyInclusion(leafHash: MerkleHasher.leafHash(leaves[index]), index: UInt64(index + 1) % 21,
                                                   size: 21, proof: proof, root: tree.root)
            }
        }
        #expect(rejected == attempts)
        let consistency = tree.consistencyProof(from: 7, to: 21)
        for position in consistency.indices {
            var bad = consistency
            var bytes = bad[position].bytes
            bytes[0] ^= 0x80
            bad[position] = TreeHash(bytes: bytes)!
            #expect(throws: MerkleProofError.self) {
                try MerkleVerifier.verifyConsistency(oldSize: 7, newSize: 21, oldRoot: tree.root(size: 7), newRoot: tree.root, proof: bad)
            }
        }
    }

    @Test func outOfRangeRequestsAreErrorsNotCrashes() {
        #expect(throws: MerkleProofError.indexOutOfRange(index: 5, size: 5)) {
            try MerkleVerifier.rootFromInclusionProof(leafHash: MerkleHasher.emptyRoot, index: 5, size: 5, proof: [])
        }
        #expect(throws: MerkleProofError.invalidSizes(old: 9, new: 8)) {
            try MerkleVerifier.verifyConsistency(oldSize: 9, newSize: 8, oldRoot: MerkleHasher.emptyRoot, newRoot: MerkleHasher.emptyRoot, proof: [])
        }
    }

    @Test func perfectSubtreesCoverRangesExactly() {
        #expect(MerkleRanges.perfectSubtrees(0..<13) == [NodeID(level: 3, index: 0), NodeID(level: 2, index: 2), NodeID(level: 0, index: 12)])
        #expect(MerkleRanges.perfectSubtrees(8..<16) == [NodeID(level: 3, index: 1)])
        #expect(MerkleRanges.completedNodes(byAppendingLeafAt: 7) == [NodeID(level: 1, index: 3), NodeID(level: 2, index: 1), NodeID(level: 3, index: 0)])
        #expect(MerkleRanges.completedNodes(byAppendingLeafAt: 4).isEmpty)
    }
}
