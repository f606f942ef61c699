import Foundation
import ALVHSigning
import ALVHApproval

/// An inclusion proof: entry `index` is leaf `index` of the tree of `size` with `root`.
public struct InclusionProof: Sendable, Equatable, Codable {
    public var index: UInt64
    public var size: UInt64
    /// Hex: the entry's hash, its leaf hash, the tree's root, and the path (bottom up).
    public var entryHash: String
    public var leafHash: String
    public var root: String
    public var path: [String]

    /// Whether the path leads from the leaf to the root (RFC 9162 §2.1.3.2).
    public var verifies: Bool {
        guard let leaf = Hex.decode(leafHash), MerkleTree.leafHash(entryHash: entryHash) == leaf, let root = Hex.decode(root) else { return false }
        let hashes = path.compactMap(Hex.decode)
        return hashes.count == path.count && MerkleTree.verifyInclusion(index: index, size: size, leafHash: leaf, proof: hashes, root: root)
    }
}

/// A consistency proof: the tree of `oldSize` (root `oldRoot`) is a prefix of the tree of
/// `newSize` (root `newRoot`).
public struct ConsistencyProof: Sendable, Equatable, Codable {
    public var oldSize: UInt64
    public var newSize: UInt64
    public var oldRoot: String
    public var newRoot: String
    public var path: [String]

    /// Whether it proves the old tree a prefix of the new (RFC 9162 §2.1.4.2).
    public var verifies: Bool {
        guard let old = Hex.decode(oldRoot), let new = Hex.decode(newRoot) else { return false }
        let hashes = path.compactMap(Hex.decode)
        return hashes.count == path.count
            && MerkleTree.verifyConsistency(oldSize: oldSize, newSize: newSize, oldRoot: old, newRoot: new, proof: hashes)
    }
}

extension Ledger {
    /// The leaf hashes of the first `size` entries, read in order and checked as they are read:
    /// each entry hashes to its stored hash and links to the one before, and the last one is the
    /// entry this object verified at that sequence when it has verified that far — so the tree is
    /// the verified history, not whatever the database says now.
    func leafHashes(size: UInt64, verified: LedgerVerifier.Checkpoint) async throws -> [[UInt8]] {
        guard size >= 1 else { throw LedgerError(.invalidInput, "a tree has at least the genesis entry: size 1 or more", path: "--size") }
        guard size <= verified.sequence + 1 else {
            throw LedgerError(.invalidInput, "the ledger has \(verified.sequence + 1) entries; there is no tree of size \(size)", path: "--size")
        }
        // The leaves read before (under a verified head whose entry is still there: `verified()`
        // checked it, and the hash chain binds everything before it), then the rest.
        var (leaves, previous) = treeLeaves.withLock { $0 }
        if leaves.count > Int(size) {
            leaves.removeSubrange(Int(size)...)
            let entry = try await self.entry(size - 1)
            guard entry.computeHash() == entry.hash, MerkleTree.leafHash(entryHash: entry.hash) == leaves.last else {
                throw LedgerError(.verificationFailed, "entry \(size - 1) changed since it was read: the ledger's history was rewritten")
            }
            previous = entry.hash
        }
        var next = UInt64(leaves.count)
        while next < size {
            let batch = try await entries(from: next, limit: Int(min(256, size - next)))
            guard !batch.isEmpty else { throw LedgerError(.verificationFailed, "entry \(next) is missing: entries were removed since the ledger was verified") }
            for entry in batch where entry.sequence < size {
                guard entry.sequence == next, entry.previousHash == previous, entry.computeHash() == entry.hash,
                      let leaf = MerkleTree.leafHash(entryHash: entry.hash) else {
                    throw LedgerError(.verificationFailed, "entry \(next) does not hash or link as verified: the ledger's history was rewritten since")
                }
                leaves.append(leaf)
                previous = entry.hash
                next += 1
            }
        }
        if size == verified.sequence + 1, previous != verified.hash {
            throw LedgerError(.verificationFailed, "entry \(verified.sequence) now reads \(previous.prefix(16))…, verified as \(verified.hash.prefix(16))…: the ledger's history was rewritten")
        }
        if size == verified.sequence + 1 {
            let kept = leaves, last = previous
            treeLeaves.withLock { if $0.leaves.count < kept.count { $0 = (kept, last) } }
        }
        return leaves
    }

    /// The checkpoint (unsigned) of the verified ledger at `size` entries (nil: all of them).
    public func treeCheckpoint(size: UInt64? = nil) async throws -> TreeCheckpoint {
        let verified = try await self.verified(jobs: 1)
        let size = size ?? verified.sequence + 1
        let leaves = try await leafHashes(size: size, verified: verified)
        return TreeCheckpoint(origin: verified.ledgerID, size: size, root: MerkleTree.root(leaves))
    }

    /// The verified ledger's checkpoint at its head, signed by `committer` (a committer of the
    /// policy in force). Witnesses add their cosignatures to it (``SignedCheckpoint/add(_:)``).
    public func signedCheckpoint(committer: PrivateKey) async throws -> SignedCheckpoint {
        let verified = try await self.verified(jobs: 1)
        guard let party = verified.policy.committer(for: committer.keyID) else {
            throw LedgerError(.notApproved, "key \(committer.keyID.fingerprint) is not a committer of policy '\(verified.policy.name)' v\(verified.policy.version); a checkpoint it signed would not verify",
                              path: "--committer-key")
        }
        let leaves = try await leafHashes(size: verified.sequence + 1, verified: verified)
        let checkpoint = TreeCheckpoint(origin: verified.ledgerID, size: verified.sequence + 1, root: MerkleTree.root(leaves))
        let signer = try NoteSigner(name: CheckpointKeys.noteName(id: party.id, key: party.key), key: committer, kind: .note)
        do { return try SignedCheckpoint(checkpoint, signatures: [try signer.sign(checkpoint.text)]) }
        catch let error as SigningError { throw LedgerError(.invalidInput, error.reason, path: error.path) }
    }

    /// The inclusion proof of entry `sequence` in the verified tree of `size` entries (nil: all).
    public func inclusionProof(sequence: UInt64, size: UInt64? = nil) async throws -> InclusionProof {
        let verified = try await self.verified(jobs: 1)
        let size = size ?? verified.sequence + 1
        guard sequence < size else {
            throw LedgerError(.invalidInput, "entry \(sequence) is not in a tree of \(size) entries (entries 0…\(size - 1)); give a larger --size", path: "SEQ")
        }
        let leaves = try await leafHashes(size: size, verified: verified)
        let entry = try await self.entry(sequence)
        guard MerkleTree.leafHash(entryHash: entry.hash) == leaves[Int(sequence)] else {
            throw LedgerError(.verificationFailed, "entry \(sequence) changed while it was read: the ledger's history was rewritten")
        }
        let path = MerkleTree.inclusionProof(index: Int(sequence), leaves: leaves[...])
        return InclusionProof(index: sequence, size: size, entryHash: entry.hash, leafHash: Hex.encode(leaves[Int(sequence)]),
                              root: Hex.encode(MerkleTree.root(leaves)), path: path.map { Hex.encode($0) })
    }

    /// The consistency proof from the verified tree of `oldSize` entries to that of `newSize` (nil: all).
    public func consistencyProof(from oldSize: UInt64, to newSize: UInt64? = nil) async throws -> ConsistencyProof {
        let verified = try await self.verified(jobs: 1)
        let newSize = newSize ?? verified.sequence + 1
        guard oldSize >= 1, oldSize <= newSize else {
            throw LedgerError(.invalidInput, "--from \(oldSize) must be between 1 and the newer tree's size \(newSize)", path: "--from")
        }
        let leaves = try await leafHashes(size: newSize, verified: verified)
        let path = MerkleTree.consistencyProof(oldSize: Int(oldSize), leaves: leaves[...])
        return ConsistencyProof(oldSize: oldSize, newSize: newSize, oldRoot: Hex.encode(MerkleTree.root(leaves[..<Int(oldSize)])),
                                newRoot: Hex.encode(MerkleTree.root(leaves)), path: path.map { Hex.encode($0) })
    }
}

extension Ledger {
    /// ``CheckpointAudit`` against this ledger: the consistency proof from `trusted` comes from the
    /// verified ledger, and `new`'s root must be the root of the verified ledger's first
    /// `new.size` entries. Keys: `policy`, or the verified ledger's policy in force.
    public func auditCheckpoint(_ new: SignedCheckpoint, trusted: SignedCheckpoint?, witnesses: Int, policy: Policy? = nil,
                                at now: Date) async throws -> CheckpointAudit {
        let verified = try await self.verified(jobs: 1)
        let keys = try CheckpointKeys(policy: policy ?? verified.policy)
        let size = new.checkpoint.size
        var proof: ConsistencyProof?
        if let trusted, trusted.checkpoint.size >= 1, trusted.checkpoint.size < size, size <= verified.sequence + 1 {
            proof = try await consistencyProof(from: trusted.checkpoint.size, to: size)
        }
        var audit = CheckpointAudit.check(new, trusted: trusted, proof: proof, keys: keys, witnesses: witnesses,
                                          origin: verified.ledgerID, now: now)
        if size < 1 || size > verified.sequence + 1 {
            audit.consistency.append(.notThisLedger(size: size))
        } else if try await treeCheckpoint(size: size).root != new.checkpoint.root {
            audit.consistency.append(.notThisLedger(size: size))
        }
        // Commit times bounded by the witnesses: at least `witnesses` of them saw the trusted tree
        // at the N-th latest of their times, so the entry after it was committed no earlier (less
        // the policy's clock skew).
        if let trusted, witnesses >= 1, trusted.checkpoint.size < size, trusted.checkpoint.size <= verified.sequence {
            let times = trusted.verify(keys: keys, witnesses: 0).witnesses.map(\.timestamp).sorted(by: >)
            if times.count >= witnesses {
                let seen = times[witnesses - 1]
                let entry = try await self.entry(trusted.checkpoint.size)
                let committed = RFC3339.parse(entry.committedAt)?.timeIntervalSince1970 ?? 0
                let skew = Double((policy ?? verified.policy).maxClockSkewSeconds)
                if committed < Double(seen) - skew {
                    audit.consistency.append(.backdated(sequence: entry.sequence, committedAt: entry.committedAt, witnessedAt: seen))
                }
            }
        }
        return audit
    }
}
