import Foundation
import ALVHSigning
import ALVHApproval

/// An auditor's check of a new checkpoint against the last one they trust: the new one signed by
/// a committer and cosigned by enough witnesses, of the same ledger, no smaller, and proved
/// (RFC 9162 consistency) to extend the trusted tree — O(log n) hashes and a few signatures.
public struct CheckpointAudit: Sendable, Equatable {
    public var checkpoint: TreeCheckpoint
    public var signatures: CheckpointVerification
    /// The trusted checkpoint's size, when one was given.
    public var trustedSize: UInt64?
    public var problems: [CheckpointProblem] { signatures.problems + consistency }
    public var consistency: [CheckpointProblem] = []
    public var ok: Bool { problems.isEmpty }

    /// Checks `new` (and `trusted`, when given, with the `proof` from its size to `new`'s).
    public static func check(_ new: SignedCheckpoint, trusted: SignedCheckpoint?, proof: ConsistencyProof?,
                             keys: CheckpointKeys, witnesses: Int, origin: String? = nil, now: Date? = nil) -> CheckpointAudit {
        var audit = CheckpointAudit(checkpoint: new.checkpoint,
                                    signatures: new.verify(keys: keys, witnesses: witnesses, origin: origin ?? trusted?.checkpoint.origin, now: now))
        guard let trusted else { return audit }
        audit.trustedSize = trusted.checkpoint.size
        // The trusted one was checked when it was trusted; its signatures must still verify.
        let old = trusted.verify(keys: keys, witnesses: 0, origin: nil, now: nil)
        if old.problems.contains(where: { if case .badSignature = $0 { true } else { false } }) {
            audit.consistency.append(.trustedAltered)
        }
        let (a, b) = (trusted.checkpoint, new.checkpoint)
        if b.size < a.size {
            audit.consistency.append(.smallerThanTrusted(size: b.size, trusted: a.size))
        } else if b.size == a.size {
            if b.root != a.root { audit.consistency.append(.inconsistent(oldSize: a.size, newSize: b.size)) }
        } else if let proof {
            if proof.oldSize != a.size || proof.newSize != b.size || proof.newRoot != b.rootHex {
                audit.consistency.append(.proofNotForThese(oldSize: proof.oldSize, newSize: proof.newSize))
            } else if proof.oldRoot != a.rootHex || !proof.verifies {
                // The history under the new tree has another root at the trusted size: two histories.
                audit.consistency.append(.inconsistent(oldSize: a.size, newSize: b.size))
            }
        } else {
            audit.consistency.append(.proofMissing(oldSize: a.size, newSize: b.size))
        }
        return audit
    }
}
