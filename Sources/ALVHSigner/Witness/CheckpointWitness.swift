import Foundation
import ALVHSigning
import ALVHApproval
import ALVHLedger

/// A signer as a witness of the ledger (c2sp.org/tlog-cosignature v1): it cosigns a checkpoint
/// only of a tree it verified itself, with its own key and its own clock.
///
/// Rules (the record is ``SignerState/witnessed``, written durably before a cosignature leaves):
/// - the checkpoint's root must be the root of the ledger this witness verified at that size,
///   and a given checkpoint must carry a committer's valid signature;
/// - never two roots for one size; never a tree smaller than the one cosigned last (a v1
///   cosignature says "the largest tree I have seen"); a larger one only when the ledger proves
///   it consistent (RFC 9162) with the root cosigned last — the persisted root, not the
///   database's word.
///
/// ```swift
/// let cosigned = try await CheckpointWitness(key: key, state: state).cosign(nil, on: ledger, at: Date())
/// ```
public struct CheckpointWitness: Sendable {
    public let key: PrivateKey
    public let state: SignerState

    public init(key: PrivateKey, state: SignerState) {
        self.key = key
        self.state = state
    }

    /// Refuses a given checkpoint that no committer of the verified ledger's policy signed, of
    /// another ledger, or of more entries than the ledger has (before any record is opened).
    public static func check(_ given: SignedCheckpoint, on ledger: Ledger) async throws {
        let verified = try await ledger.verified(jobs: 1)
        let check = given.verify(keys: try CheckpointKeys(policy: verified.policy), witnesses: 0, origin: verified.ledgerID)
        guard check.ok else {
            throw SignerError(.badCheckpoint, "not cosigned: " + check.problems.map(\.description).joined(separator: "; "), path: "CHECKPOINT")
        }
        guard given.checkpoint.size <= verified.sequence + 1 else {
            throw SignerError(.splitView, "the checkpoint is of \(given.checkpoint.size) entries; the ledger this witness reads has \(verified.sequence + 1) — it cosigns only what it verified (is it reading the same ledger?)",
                              path: "CHECKPOINT")
        }
    }

    /// Cosigns `checkpoint` (nil: this witness's own checkpoint of the verified head) and returns
    /// it with the cosignature added.
    public func cosign(_ given: SignedCheckpoint?, on ledger: Ledger, at now: Date) async throws -> SignedCheckpoint {
        let verified = try await ledger.verified(jobs: 1)
        let policy = verified.policy
        guard let me = policy.signer(for: key.keyID), !me.revoked else {
            throw SignerError(.notASigner, "key \(key.keyID.fingerprint) is not a signer of policy '\(policy.name)' v\(policy.version) (or is revoked); only the policy's signers witness its ledger",
                              path: "--key")
        }
        var checkpoint: SignedCheckpoint
        if let given {
            try await Self.check(given, on: ledger)
            checkpoint = given
        } else {
            checkpoint = try SignedCheckpoint(try await ledger.treeCheckpoint())
        }
        let size = checkpoint.checkpoint.size
        let own = try await ledger.treeCheckpoint(size: size)
        guard own.root == checkpoint.checkpoint.root else {
            throw SignerError(.splitView, "split view: the ledger this witness verified has root \(own.rootHex.prefix(16))… at \(size) entries; the checkpoint says \(checkpoint.checkpoint.rootHex.prefix(16))…",
                              path: "CHECKPOINT")
        }
        let clock = UInt64(max(0, now.timeIntervalSince1970.rounded(.down)))
        var timestamp = clock
        if let last = state.witnessed {
            guard last.ledgerID == verified.ledgerID else {
                throw SignerError(.splitView, "this witness cosigned ledger \(last.ledgerID.prefix(16))…, not \(verified.ledgerID.prefix(16))…; use another --state for another ledger",
                                  path: state.path)
            }
            if size == last.size {
                guard own.rootHex == last.root else {
                    throw SignerError(.splitView, "split view: this witness cosigned root \(last.root.prefix(16))… for \(size) entries and never cosigns another for that size (the ledger now has \(own.rootHex.prefix(16))…) — stop and investigate the ledger",
                                      path: state.path)
                }
            } else if size < last.size {
                throw SignerError(.splitView, "this witness cosigned a tree of \(last.size) entries already; a v1 cosignature names the largest tree it has seen, so it does not cosign one of \(size)",
                                  path: "CHECKPOINT")
            } else {
                let proof = try await ledger.consistencyProof(from: last.size, to: size)
                guard proof.oldRoot == last.root, proof.newRoot == own.rootHex, proof.verifies else {
                    throw SignerError(.splitView, "split view: the ledger's first \(last.size) entries now have root \(proof.oldRoot.prefix(16))…, and this witness cosigned \(last.root.prefix(16))… for them — the history was rewritten; stop and investigate",
                                      path: state.path)
                }
                // Time no key holder sets alone: this witness saw the tree without entry `last.size`
                // at `last.timestamp`, so that entry (and, as commit times never go back, every later
                // one) cannot have been committed before then, less the policy's clock skew.
                let first = try await ledger.entry(last.size)
                let committed = RFC3339.parse(first.committedAt)?.timeIntervalSince1970 ?? 0
                let bound = Double(last.timestamp) - Double(policy.maxClockSkewSeconds)
                guard committed >= bound else {
                    throw SignerError(.backdated, "entry \(first.sequence) says it was committed at \(first.committedAt), but this witness saw the ledger without it at \(RFC3339.format(Date(timeIntervalSince1970: TimeInterval(last.timestamp)))) (clock skew \(policy.maxClockSkewSeconds) s): the committer's clock was set back — an expired proposal may have been committed; stop and investigate",
                                      path: "entry \(first.sequence)")
                }
            }
            // A cosignature's time never goes back (a clock set back does not date one earlier).
            timestamp = max(clock, last.timestamp)
        }
        try state.recordWitnessed(.init(ledgerID: verified.ledgerID, size: size, root: own.rootHex, timestamp: timestamp))
        let signer = try NoteSigner(name: CheckpointKeys.noteName(id: me.id, key: me.key), key: key, kind: .cosignature)
        checkpoint.add(try signer.sign(checkpoint.note.text, timestamp: timestamp))
        return checkpoint
    }
}
