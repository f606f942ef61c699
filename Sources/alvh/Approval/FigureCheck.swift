import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHSigning
import Foundation

/// What a proposal file's figures are recomputed on, for `verify FILE` and `sign FILE`: the book
/// (`--book`, else the workspace ledger's verified book) and the snapshot it cites (`--snapshot`,
/// else the ledger's copy, else `WORKSPACE/snapshots/HASH.json`).
enum FigureCheck {
    /// The envelope evaluated once under `policy`, its figures recomputed when a book is at hand
    /// (the snapshot is looked up for the hash the verified document cites). `recomputed` is nil
    /// when there was no book or no snapshot.
    static func evaluate(_ envelope: Envelope, policy: Policy, rejections: [Envelope] = [], snapshot: String?, book: String?,
                         workspace: WorkspaceOptions, at now: Date)
        throws -> (report: ApprovalReport, document: ProposalDocument?, recomputed: Recomputation?) {
        let ledger = SecureFile.exists(Ledger.path(workspace: workspace.path)) ? try Ledger.open(workspace: workspace.path) : nil
        let evaluator = ThresholdEvaluator(policy: policy)
        guard let bookValue = try book.map(Book.load(path:)) ?? ledger?.verified().book else {
            let (report, document) = evaluator.evaluateDocument(envelope, at: now, rejections: rejections)
            return (report, document, nil)
        }
        let given = try snapshot.map { try SnapshotStore.read(path: $0) }
        var lookupError: (any Error)?
        var recomputed: Recomputation?
        let assessor = LedgerAssessor(book: bookValue, snapshot: { hash in
            if let given, SHA256.hexDigest(given) == hash { return given }
            do {
                if let bytes = try ledger?.blob(hash) { return bytes }
                guard SecureFile.exists(SnapshotStore.path(workspace: workspace.path, hash: hash)) else { return nil }
                return try SnapshotStore.load(hash: hash, workspace: workspace.path).bytes
            } catch {
                lookupError = error
                return nil
            }
        }, recomputed: { recomputed = $0 })
        let (report, document) = evaluator.evaluateDocument(envelope, at: now, rejections: rejections, assessor: assessor)
        if let lookupError { throw lookupError }
        return (report, document, recomputed)
    }

    /// The review of an envelope FILE before signing it: verified under `policy` with its
    /// proposer's signature (then parsed), its figures recomputed and compared — refused when they
    /// differ, or (a layer change) when they cannot be recomputed.
    static func reviewFile(_ envelope: Envelope, path: String, policy: Policy, snapshot: String?, book: String?,
                           workspace: WorkspaceOptions, at now: Date) throws -> (document: ProposalDocument, recomputed: Recomputation?, report: ApprovalReport) {
        let (report, parsed, recomputed) = try evaluate(envelope, policy: policy, snapshot: snapshot, book: book, workspace: workspace, at: now)
        guard let document = parsed, report.proposerSigned else {
            throw ApprovalError(.signingRefused, "the proposal does not verify under policy '\(policy.name)' with its proposer's signature: "
                                + report.problems.joined(separator: "; ") + "; nothing was written", path: path)
        }
        guard document.kind != .policyChange else { return (document, nil, report) }
        guard recomputed != nil else {
            throw ApprovalError(.signingRefused,
                "its figures cannot be recomputed here: give --snapshot FILE (the snapshot it cites) and --book FILE (or run in the desk's workspace); nothing was written",
                path: path)
        }
        let falseClaims = report.findings.filter(\.isFalseClaim)
        guard falseClaims.isEmpty else {
            throw ApprovalError(.signingRefused, "refused: " + falseClaims.map(\.description).joined(separator: "; ") + "; nothing was written", path: path)
        }
        return (document, recomputed, report)
    }
}
