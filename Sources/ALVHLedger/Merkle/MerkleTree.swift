import ALVHSigning

/// The RFC 9162 (Certificate Transparency 2.0, §2.1) Merkle tree over the ledger's entries.
///
/// Leaf `i` is entry `i` (genesis is leaf 0); its leaf data is the entry's 32-byte hash
/// (``LedgerEntry/hash``, which commits to every field the committer signs), so a tree of size `n`
/// is the history up to entry `n − 1`:
///
/// ```text
/// leaf hash  = SHA-256(0x00 ‖ entry hash)
/// node hash  = SHA-256(0x01 ‖ left ‖ right)
/// MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two below n
/// ```
///
/// Proofs are the RFC's `PATH` (inclusion) and `PROOF` (consistency); the verifiers are the
/// RFC's §2.1.3.2 and §2.1.4.2 algorithms, O(log n) hashes each. Building a proof reads the leaf
/// hashes of the tree, O(n).
public enum MerkleTree {
    /// SHA-256 of the empty string: the root of the empty tree.
    public static let emptyRoot: [UInt8] = SHA256.hash([UInt8]())

    public static func leafHash(_ data: [UInt8]) -> [UInt8] { SHA256.hash([0x00] + data) }

    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var bytes = [UInt8](); bytes.reserveCapacity(65)
        bytes.append(0x01); bytes += left; bytes += right
        return SHA256.hash(bytes)
    }

    /// The leaf hash of a ledger entry (its 32-byte hash as the leaf data).
    public static func leafHash(entryHash hex: String) -> [UInt8]? {
        guard let raw = Hex.decode(hex), raw.count == 32 else { return nil }
        return leafHash(raw)
    }

    /// MTH over `leaves` (leaf hashes), without recursion: the stack of complete subtrees, merged
    /// right to left at the end (the same value as the RFC's recursive definition).
    public static func root<C: RandomAccessCollection>(_ leaves: C) -> [UInt8] where C.Element == [UInt8], C.Index == Int {
        guard !leaves.isEmpty else { return emptyRoot }
        var stack: [(hash: [UInt8], size: Int)] = []
        for leaf in leaves {
            var node = (hash: leaf, size: 1)
            while let top = stack.last, top.size == node.size {
                stack.removeLast()
                node = (nodeHash(top.hash, node.hash), top.size * 2)
            }
            stack.append(node)
        }
        var hash = stack.removeLast().hash
        while let left = stack.popLast() { hash = nodeHash(left.hash, hash) }
        return hash
    }

    /// The largest power of two strictly below `n` (n ≥ 2).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// `PATH(index, D[n])`: the inclusion proof of leaf `index` in the tree of `leaves`, bottom up.
    public static func inclusionProof(index: Int, leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        precondition(index >= 0 && index < leaves.count, "leaf index out of the tree")
        var range = leaves
        var m = index
        var tops: [[UInt8]] = []
        while range.count > 1 {
            let k = split(range.count)
            let start = range.startIndex
            if m < k {
                tops.append(root(range[(start + k)...]))
                range = range[start ..< start + k]
            } else {
                tops.append(root(range[start ..< start + k]))
                range = range[(start + k)...]
                m -= k
            }
        }
        // Collected top down; the proof lists them bottom up.
        return tops.reversed()
    }

    /// `PROOF(m, D[n])`: the consistency proof from the tree of the first `oldSize` leaves to the
    /// tree of all `leaves` (empty when the sizes are equal), 0 < oldSize ≤ n.
    public static func consistencyProof(oldSize: Int, leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        precondition(oldSize >= 1 && oldSize <= leaves.count, "old size out of the tree")
        var tops: [[UInt8]] = []
        var range = leaves
        var m = oldSize
        var complete = true // the RFC's `b`: the old tree is still a whole subtree here
        while true {
            if m == range.count {
                if !complete { tops.append(root(range)) }
                break
            }
            let k = split(range.count)
            let start = range.startIndex
            if m <= k {
                tops.append(root(range[(start + k)...]))
                range = range[start ..< start + k]
            } else {
                tops.append(root(range[start ..< start + k]))
                range = range[(start + k)...]
                m -= k
                complete = false
            }
        }
        return tops.reversed()
    }

    /// RFC 9162 §2.1.3.2: does `proof` show leaf `leafHash` at `index` in the tree of `size` with
    /// `root`?
    public static func verifyInclusion(index: UInt64, size: UInt64, leafHash: [UInt8], proof: [[UInt8]], root: [UInt8]) -> Bool {
        guard index < size else { return false }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1; sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// RFC 9162 §2.1.4.2: does `proof` show the tree of `oldSize` with `oldRoot` to be a prefix of
    /// the tree of `newSize` with `newRoot`?
    public static func verifyConsistency(oldSize: UInt64, newSize: UInt64, oldRoot: [UInt8], newRoot: [UInt8], proof: [[UInt8]]) -> Bool {
        guard oldSize >= 1, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        guard !proof.isEmpty else { return false }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) } // an exact power of two
        var fn = oldSize - 1, sn = newSize - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1; sn >>= 1
        }
        return fr == oldRoot && sr == newRoot && sn == 0
    }
}
