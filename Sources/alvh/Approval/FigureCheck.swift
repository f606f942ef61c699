import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHSigning
import Foundation

/// What a proposal file's figures are recomputed on, for `verify FILE` and `sign FILE`: the book
/// (`--book`, else the workspace ledger's verified book) and the snapshot it cites (`--snapshot`,
/// else the ledger's copy, else `WORKSPACE/snapshots/HASH.json`).
enum FigureCheck {
    /// Nil when the book or the snapshot is not at hand.
    static func assessor(cited hash: String, snapshot: String?, book: String?, workspace: WorkspaceOptions) throws -> LedgerAssessor? {
        let ledgerFile = Ledger.path(workspace: workspace.path)
        let ledger = SecureFile.exists(ledgerFile) ? try Ledger.open(workspace: workspace.path) : nil
        let bookValue = try book.map(Book.load(path:)) ?? ledger?.verified().book
        var bytes = try snapshot.map { try SnapshotStore.read(path: $0) }
        if bytes == nil { bytes = try ledger?.blob(hash) }
        if bytes == nil, SecureFile.exists(SnapshotStore.path(workspace: workspace.path, hash: hash)) {
            bytes = try SnapshotStore.load(hash: hash, workspace: workspace.path).bytes
        }
        guard let bookValue, let bytes else { return nil }
        return LedgerAssessor(book: bookValue, snapshot: { SHA256.hexDigest(bytes) == $0 ? bytes : nil })
    }

    /// The review of an envelope FILE before signing it: verified under `policy` with its
    /// proposer's signature (then parsed), its figures recomputed and compared — refused when they
    /// differ, or (a layer change) when they cannot be recomputed.
    static func reviewFile(_ envelope: Envelope, path: String, policy: Policy, snapshot: String?, book: String?,
                           workspace: WorkspaceOptions, at now: Date) throws -> (document: ProposalDocument, recomputed: Recomputation?, report: ApprovalReport) {
        let evaluator = ThresholdEvaluator(policy: policy)
        let (first, parsed) = evaluator.evaluateDocument(envelope, at: now)
        guard let document = parsed, first.proposerSigned else {
            throw ApprovalError(.signingRefused, "the proposal does not verify under policy '\(policy.name)' with its proposer's signature: "
                                + first.problems.joined(separator: "; ") + "; nothing was written", path: path)
        }
        guard document.kind != .policyChange else { return (document, nil, first) }
        guard let hash = document.market?.snapshotHash,
              let assessor = try assessor(cited: hash, snapshot: snapshot, book: book, workspace: workspace), let bytes = assessor.snapshot(hash) else {
            throw ApprovalError(.signingRefused,
                "its figures cannot be recomputed here: give --snapshot FILE (the snapshot it cites) and --book FILE (or run in the desk's workspace); nothing was written",
                path: path)
        }
        let report = evaluator.evaluate(envelope, at: now, assessor: assessor)
        let falseClaims = report.findings.filter(\.isFalseClaim)
        guard falseClaims.isEmpty else {
            throw ApprovalError(.signingRefused, "refused: " + falseClaims.map(\.description).joined(separator: "; ") + "; nothing was written", path: path)
        }
        return (document, try Recomputation(document, book: assessor.book, snapshotBytes: bytes), report)
    }
}
