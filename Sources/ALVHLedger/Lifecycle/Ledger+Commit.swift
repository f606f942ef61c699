import Foundation
import GRDB
import ALVHSigning
import ALVHApproval
import ALVHEngine

extension Ledger {
    /// Commits a pending proposal, in one write transaction taken at once (BEGIN IMMEDIATE):
    /// re-verifies the envelope against the policy in force at the head; checks base == head and
    /// sequence == head + 1, expiry, vetoes and thresholds (for a policy change, under the current
    /// and the new policy, and that the version rises); appends the entry; applies the change to
    /// the book; removes the proposal from the queue. On any failure nothing is written.
    @discardableResult
    public func commit(id: String, at now: Date) throws -> LedgerEntry {
        try writeImmediate { db in
            let envelope = try Ledger.envelope(id: id, db)
            let rejections = try Ledger.rejections(id: id, db)
            let policy = try Ledger.policyInForce(db)
            let context = try Ledger.context(db)
            if let headTime = try String.fetchOne(db.cachedStatement(sql: LedgerSQL.commitTimeOfHash), arguments: [context.head]),
               let headDate = RFC3339.parse(headTime), now < headDate.addingTimeInterval(-0.999) {
                throw LedgerError(.invalidInput, "commit time \(RFC3339.format(now)) is before the head's \(headTime); commit times never go back (check the clock)")
            }
            let (report, parsed) = ThresholdEvaluator(policy: policy, concurrentSignatureChecks: true).evaluateDocument(envelope, at: now, ledger: context, rejections: rejections)
            guard let document = parsed else {
                throw LedgerError(.notApproved, "not committed: " + report.problems.joined(separator: "; "))
            }
            if document.ledger.base != context.head || document.ledger.sequence != context.nextSequence {
                throw LedgerError(.staleProposal, "stale proposal: head moved from \(document.ledger.base.prefix(16))… to \(context.head.prefix(16))…; re-propose")
            }
            guard report.commitReady else {
                throw LedgerError(.notApproved, "not committed (\(report.tally)): " + report.problems.joined(separator: "; "))
            }

            var attachments: [UInt8] = []
            let kind: LedgerEntry.Kind
            let storedBook = try Data.fetchOne(db.cachedStatement(sql: "SELECT json FROM book WHERE id = 1")) ?? Data()
            var book: Book
            if let cached = bookCache.withLock({ $0 }), cached.json == storedBook {
                book = cached.book
            } else {
                book = try Ledger.decodeBook(Array(storedBook))
            }
            switch document.kind {
            case .policyChange:
                kind = .policyChange
                guard let change = document.change.policy else {
                    throw LedgerError(.invalidInput, "a policy-change proposal without a policy")
                }
                let newPolicy = try Policy(bytes: try change.bytes(), workspace: workspace, path: "proposed policy v\(change.version)")
                try Ledger.checkRotation(from: policy, to: newPolicy, declaredVersion: change.version, envelope: envelope,
                                         at: now, context: context, rejections: rejections)
                attachments = try KeyAttachments(for: newPolicy, workspace: workspace).encoded()
            default:
                kind = .layerChange
                book = try BookChange.apply(document, to: book)
            }

            let entry = LedgerEntry(sequence: context.nextSequence, previousHash: context.head, kind: kind,
                                    envelope: try envelope.encoded(), attachments: attachments,
                                    policyHash: policy.hash, committedAt: RFC3339.format(now))
            try Ledger.insert(entry, db)
            let json = try Ledger.storeBook(book, seq: entry.sequence, db)
            bookCache.withLock { $0 = (json, book) }
            try db.cachedStatement(sql: LedgerSQL.deletePending).execute(arguments: [id])
            return entry
        }
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
                                                                 policyHashInForce: current.hash)
        guard underNew.commitReady else {
            throw LedgerError(.notApproved, "not committed: the new policy's own rule is not met (\(underNew.tally)): "
                                            + underNew.problems.joined(separator: "; "))
        }
    }
}
