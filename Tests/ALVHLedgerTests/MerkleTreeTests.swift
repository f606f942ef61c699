import Foundation
import Testing
import ALVHSigning
@testable import ALVHLedger

/// The RFC 9162 tree against the published Certificate Transparency reference vectors (the leaves
/// and expected values of google/certificate-transparency's merkle tree tests, reused by Go's
/// transparency-dev/merkle), and every proof it builds against a verifier written here from the
/// RFC's recursive definitions (§2.1.3.1 PATH, §2.1.4.1 SUBPROOF), independently of the library's
/// bit-walking verifiers (§2.1.3.2, §2.1.4.2). Both verifiers must agree on every proof and on
/// every tampered one.
@Suite("RFC 9162 Merkle tree")
struct MerkleTreeTests {
    static let leafData: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                      "606162636465666768696a6b6c6d6e6f"].map { Hex.decode($0)! }
    static let roots = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
    /// (leaf index, tree size, path): the reference inclusion proofs.
    static let inclusion: [(Int, Int, [String])] = [
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
    /// (old size, new size, path): the reference consistency proofs.
    static let consistency: [(Int, Int, [String])] = [
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

    static var leaves: [[UInt8]] { leafData.map(MerkleTree.leafHash) }

    @Test("the published roots of the trees of 0…8 reference leaves")
    func referenceRoots() {
        for n in 0...8 { #expect(Hex.encode(MerkleTree.root(Self.leaves[..<n])) == Self.roots[n], "size \(n)") }
    }

    @Test("the published inclusion and consistency proofs, built and verified")
    func referenceProofs() {
        let leaves = Self.leaves
        for (index, size, path) in Self.inclusion {
            let proof = MerkleTree.inclusionProof(index: index, leaves: leaves[..<size])
            #expect(proof.map { Hex.encode($0) } == path, "inclusion \(index) in \(size)")
            let root = Hex.decode(Self.roots[size])!
            #expect(MerkleTree.verifyInclusion(index: UInt64(index), size: UInt64(size), leafHash: leaves[index], proof: proof, root: root))
            #expect(Independent.inclusionRoot(index, size, leaves[index], proof) == root)
        }
        for (old, new, path) in Self.consistency {
            let proof = MerkleTree.consistencyProof(oldSize: old, leaves: leaves[..<new])
            #expect(proof.map { Hex.encode($0) } == path, "consistency \(old) → \(new)")
            let (a, b) = (Hex.decode(Self.roots[old])!, Hex.decode(Self.roots[new])!)
            #expect(MerkleTree.verifyConsistency(oldSize: UInt64(old), newSize: UInt64(new), oldRoot: a, newRoot: b, proof: proof))
            #expect(Independent.consistent(old, new, a, b, proof))
        }
    }

    @Test("every proof of every tree up to 40 leaves: both verifiers accept it, and both refuse it tampered")
    func differential() {
        let all = (0..<40).map { i in MerkleTree.leafHash([UInt8(i), UInt8(truncatingIfNeeded: i * 7), 0xa5]) }
        let roots = (0...all.count).map { MerkleTree.root(all[..<$0]) }
        var checked = 0
        for n in 1...all.count {
            for m in 0..<n {
                let proof = MerkleTree.inclusionProof(index: m, leaves: all[..<n])
                #expect(Independent.inclusionRoot(m, n, all[m], proof) == roots[n], "inclusion \(m) in \(n)")
                #expect(MerkleTree.verifyInclusion(index: UInt64(m), size: UInt64(n), leafHash: all[m], proof: proof, root: roots[n]))
                // Another leaf, another index, a flipped byte, one hash less: refused by both.
                let other = all[(m + 1) % n]
                if n > 1 {
                    #expect(!MerkleTree.verifyInclusion(index: UInt64(m), size: UInt64(n), leafHash: other, proof: proof, root: roots[n]))
                    #expect(Independent.inclusionRoot(m, n, other, proof) != roots[n])
                    #expect(!MerkleTree.verifyInclusion(index: UInt64((m + 1) % n), size: UInt64(n), leafHash: all[m], proof: proof, root: roots[n]))
                    var flipped = proof
                    flipped[flipped.count / 2][0] ^= 1
                    #expect(!MerkleTree.verifyInclusion(index: UInt64(m), size: UInt64(n), leafHash: all[m], proof: flipped, root: roots[n]))
                    #expect(Independent.inclusionRoot(m, n, all[m], flipped) != roots[n])
                    #expect(!MerkleTree.verifyInclusion(index: UInt64(m), size: UInt64(n), leafHash: all[m], proof: Array(proof.dropLast()), root: roots[n]))
                }
                #expect(!MerkleTree.verifyInclusion(index: UInt64(n), size: UInt64(n), leafHash: all[m], proof: proof, root: roots[n]))
                checked += 1
            }
            for m in 1...n {
                let proof = MerkleTree.consistencyProof(oldSize: m, leaves: all[..<n])
                #expect(Independent.consistent(m, n, roots[m], roots[n], proof), "consistency \(m) → \(n)")
                #expect(MerkleTree.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(n), oldRoot: roots[m], newRoot: roots[n], proof: proof))
                // A rewritten old tree (another root at that size) and a flipped proof hash: refused by both.
                var otherOld = roots[m]; otherOld[0] ^= 1
                #expect(!MerkleTree.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(n), oldRoot: otherOld, newRoot: roots[n], proof: proof))
                #expect(!Independent.consistent(m, n, otherOld, roots[n], proof))
                if !proof.isEmpty {
                    var flipped = proof
                    flipped[flipped.count - 1][5] ^= 0x10
                    #expect(!MerkleTree.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(n), oldRoot: roots[m], newRoot: roots[n], proof: flipped))
                    #expect(!Independent.consistent(m, n, roots[m], roots[n], flipped))
                }
                checked += 1
            }
        }
        #expect(checked == 2 * (40 * 41 / 2))
    }
}

/// An RFC 9162 verifier written from the recursive definitions alone (no bit tricks): it rebuilds
/// the roots the proof implies, consuming the proof from its top (last) element down.
enum Independent {
    static func h(_ l: [UInt8], _ r: [UInt8]) -> [UInt8] { SHA256.hash([1] + l + r) }
    static func k(_ n: Int) -> Int { var k = 1; while k * 2 < n { k *= 2 }; return k }

    /// The root that PATH(m, D[n]) = `proof` implies for `leaf`; nil when the proof has the wrong length.
    static func inclusionRoot(_ m: Int, _ n: Int, _ leaf: [UInt8], _ proof: [[UInt8]]) -> [UInt8]? {
        guard m >= 0, m < n else { return nil }
        if n == 1 { return proof.isEmpty ? leaf : nil }
        guard let top = proof.last else { return nil }
        let rest = Array(proof.dropLast())
        let split = k(n)
        if m < split {
            return inclusionRoot(m, split, leaf, rest).map { h($0, top) }
        }
        return inclusionRoot(m - split, n - split, leaf, rest).map { h(top, $0) }
    }

    /// The (old, new) roots SUBPROOF(m, D[n], b) = `proof` implies; `whole` is the old tree's root
    /// (what the b = true base case stands for).
    static func subproof(_ m: Int, _ n: Int, _ b: Bool, _ proof: [[UInt8]], whole: [UInt8]) -> (old: [UInt8], new: [UInt8])? {
        if m == n {
            if b { return proof.isEmpty ? (whole, whole) : nil }
            return proof.count == 1 ? (proof[0], proof[0]) : nil
        }
        guard let top = proof.last else { return nil }
        let rest = Array(proof.dropLast())
        let split = k(n)
        if m <= split {
            // The old tree lies in the left subtree: only the new root gains the right part.
            return subproof(m, split, b, rest, whole: whole).map { ($0.old, h($0.new, top)) }
        }
        return subproof(m - split, n - split, false, rest, whole: whole).map { (h(top, $0.old), h(top, $0.new)) }
    }

    static func consistent(_ m: Int, _ n: Int, _ oldRoot: [UInt8], _ newRoot: [UInt8], _ proof: [[UInt8]]) -> Bool {
        guard m >= 1, m <= n, let roots = subproof(m, n, true, proof, whole: oldRoot) else { return false }
        return roots.old == oldRoot && roots.new == newRoot
    }
}
