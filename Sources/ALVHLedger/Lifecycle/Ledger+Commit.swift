import Foundation
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHStorage

extension Ledger {
    /// Commits a pending proposal, signed by `committer` (a committer key of the policy in force).
    ///
    /// Decided on the ledger as this object verified it (from its checkpoint; from genesis the first
    /// time) and written only if the stored head is still that verified head (checked by the storage
    /// in the append's own transaction; if it moved, the new entries are verified and it is decided again): the
    /// envelope is re-verified against the verified policy, its figures recomputed on the verified
    /// book and the snapshot it cites; base == head and sequence == head + 1, expiry (with the
    /// policy's clock skew), vetoes and thresholds are checked (for a policy change, under the current
    /// and the new policy, and the version must rise); the entry — with the adopted policy's key
    /// files and every signed rejection for the slot attached (the cited snapshot stays in the
    /// ledger's blobs) — is signed and appended; the book is updated; the proposal leaves the queue.
    /// No file is read. On any failure nothing is written.
    @discardableResult
    public func commit(id: String, committer: PrivateKey, at now: Date) async throws -> LedgerEntry {
        let (entry, advanced) = try await onVerifiedHead { verified -> WriteOutcome<(LedgerEntry, LedgerVerifier.Checkpoint)> in
            let policy = verified.policy
            guard policy.committer(for: committer.keyID) != nil else {
                throw LedgerError(.notApproved, "key \(committer.keyID.fingerprint) is not a committer of policy '\(policy.name)' v\(policy.version); entries it signed would not verify",
                                  path: "--committer-key")
            }
            guard now >= verified.committedAt.addingTimeInterval(-0.999) else {
                throw LedgerError(.invalidInput, "commit time \(RFC3339.format(now)) is before the head's \(RFC3339.format(verified.committedAt)); commit times never go back (check the clock)")
            }
            let context = verified.context
            let pending = try await storedPending(id: id)
            let envelope = try await self.envelope(of: pending)
            let rejections = try await self.rejections(id: id)
            let held = try await heldSnapshot(citedBy: envelope, given: nil)
            let assessor = LedgerAssessor(book: verified.book, snapshot: { held?.hash == $0 ? held?.bytes : nil })
            let (report, parsed) = ThresholdEvaluator(policy: policy, concurrentSignatureChecks: true)
                .evaluateDocument(envelope, at: now, ledger: context, rejections: rejections, assessor: assessor)
            guard let document = parsed else {
                throw LedgerError(.notApproved, "not committed: " + report.problems.joined(separator: "; "))
            }
            if document.ledger.base != context.head || document.ledger.sequence != context.nextSequence {
                throw LedgerError(.staleProposal, "stale proposal: head moved from \(document.ledger.base.prefix(16))… to \(context.head.prefix(16))…; re-propose")
            }
            guard report.commitReady else {
                throw LedgerError(.notApproved, "not committed (\(report.tally)): " + report.problems.joined(separator: "; "))
            }
            // Approved on its signed facts, but the queue says it is closed: the storage would refuse
            // the write on every retry. Say why instead of "the head kept moving".
            if pending.status != .pending {
                throw LedgerError(.notApproved, pending.status == .vetoed
                    ? "not committed: proposal \(id.prefix(16))… is marked vetoed in the queue, but no signed veto of it is stored — its rejection rows were deleted, or its status changed, by a database writer; investigate the database (the vetoer's signer re-posts its rejection and alarms if it is committed)"
                    : "not committed: proposal \(id.prefix(16))… is marked \(pending.status.rawValue) in the queue; re-propose")
            }

            // Every signed rejection for this entry's slot goes into the entry: verification then
            // proves the committed proposal carried no veto. (The storage writes only if the slot's
            // rejections and the proposal's status are still the ones decided on.)
            let slotRejectionBytes = try await io { try await storage.slotRejections(sequence: context.nextSequence) }
            let slotRejections = try slotRejectionBytes.map { try Envelope.decode($0, path: "rejection") }
            let kind: LedgerEntry.Kind
            let attachments: EntryAttachments
            var book = verified.book
            var adopted: Policy?
            var blobs: [[UInt8]] = []
            switch document.kind {
            case .policyChange:
                kind = .policyChange
                guard let change = document.change.policy else {
                    throw LedgerError(.invalidInput, "a policy-change proposal without a policy")
                }
                let keys = try Ledger.queuedKeys(pending.attachments) ?? KeyAttachments(keys: [:])
                let newPolicy = try Policy(bytes: try change.bytes(), keyLoader: keys.loader, path: "proposed policy v\(change.version)")
                try Ledger.checkRotation(from: policy, to: newPolicy, declaredVersion: change.version, envelope: envelope,
                                         at: now, context: context, rejections: rejections)
                attachments = try EntryAttachments(keys: keys, rejections: slotRejections)
                adopted = newPolicy
                // The adopted policy's text and key files, content-addressed beside the entry.
                blobs = [newPolicy.bytes] + keys.blobs
            default:
                kind = .layerChange
                book = try BookChange.apply(document, to: book)
                // (Commit-ready means the figures were recomputed: the cited snapshot is in the blobs.)
                attachments = try EntryAttachments(rejections: slotRejections)
            }

            var entry = LedgerEntry(sequence: context.nextSequence, previousHash: context.head, kind: kind,
                                    envelope: try envelope.encoded(), attachments: try attachments.encoded(),
                                    policyHash: policy.hash, committedAt: RFC3339.format(now))
            entry.committerSignature = try committer.signature(for: entry.signingMessage)
            let advanced = LedgerVerifier.Checkpoint(sequence: entry.sequence, hash: entry.hash, committedAt: RFC3339.parse(entry.committedAt) ?? now,
                                                     ledgerID: verified.ledgerID, policy: adopted ?? policy, book: book)
            let written = try await storage.append([entry.stored], book: try Ledger.encodeBook(book), blobs: blobs,
                                                   removing: PendingRemoval(id: id, slotRejections: slotRejectionBytes.count),
                                                   decidedOn: verified.ref)
            return written.map { _ in (entry, advanced) }
        }
        // Only once the write is durable: this object's verified head is the entry it wrote.
        verifiedHead.withLock { $0 = advanced }
        return entry
    }

    /// TUF's root-rotation rule: a policy change needs the current policy's threshold for it and
    /// the new policy's, and must raise the version.
    static func checkRotation(from current: Policy, to new: Policy, declaredVersion: Int, envelope: Envelope,
                              at now: Date, context: LedgerContext, rejections: [Envelope]) throws {
        guard new.version == declaredVersion else {
            throw LedgerError(.invalidInput, "the proposal declares policy version \(declaredVersion) but the policy says \(new.version)")
        }
        guard new.version > current.version else {
            throw LedgerError(.policyRollback, "policy rollback refused: new version \(new.version) is not above the current \(current.version)")
        }
        let underNew = ThresholdEvaluator(policy: new).evaluate(envelope, at: now, ledger: context, rejections: rejections,
                                                                 mode: .init(policyHashInForce: current.hash, incomingPolicy: true))
        guard underNew.commitReady else {
            throw LedgerError(.notApproved, "not committed: the new policy's own rule is not met (\(underNew.tally)): "
                                            + underNew.problems.joined(separator: "; "))
        }
    }
}
