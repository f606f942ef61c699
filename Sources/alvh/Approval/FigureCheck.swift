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
                         workspace: WorkspaceOptions, at now: Date) async
        throws -> (report: ApprovalReport, document: ProposalDocument?, recomputed: Recomputation?) {
        let given = try snapshot.map { try SnapshotStore.read(path: $0) }
        let bookGiven = try book.map(Book.load(path:))
        // The ledger (--ledger, or the workspace's file when there is one), read before deciding:
        // its verified book and its blob of the cited snapshot.
        let location = try workspace.ledgerLocation()
        var ledgerBook: Book?
        var held: (hash: String, bytes: [UInt8])?
        if location != nil || SecureFile.exists(Ledger.path(workspace: workspace.path)) {
            (ledgerBook, held) = try await workspace.withLedger(readOnly: true) { ledger in
                (bookGiven == nil ? try await ledger.verified().book : nil, try await ledger.citedSnapshot(of: envelope))
            }
        }
        let evaluator = ThresholdEvaluator(policy: policy)
        guard let bookValue = bookGiven ?? ledgerBook else {
            let (report, document) = evaluator.evaluateDocument(envelope, at: now, rejections: rejections)
            return (report, document, nil)
        }
        // Which snapshot the payload names (only to find its bytes: the assessor hands them out for
        // the hash the verified document cites, and checks them against it).
        let cited = (try? ProposalDocument.decode(envelope.payload))?.market?.snapshotHash
        var bytes: [UInt8]?
        if let cited, let given, SHA256.hexDigest(given) == cited { bytes = given }
        else if let held, held.hash == cited { bytes = held.bytes }
        else if let cited, Hex.isLowercase(cited, count: 64), SecureFile.exists(SnapshotStore.path(workspace: workspace.path, hash: cited)) {
            bytes = try SnapshotStore.load(hash: cited, workspace: workspace.path).bytes
        }
        let found = bytes
        let kept = RecomputationBox()
        let assessor = LedgerAssessor(book: bookValue, snapshot: { hash in
            guard let found, SHA256.hexDigest(found) == hash else { return nil }
            return found
        }, recomputed: { kept.value = $0 })
        let (report, document) = evaluator.evaluateDocument(envelope, at: now, rejections: rejections, assessor: assessor)
        return (report, document, kept.value)
    }

    /// The review of an envelope FILE before signing it: verified under `policy` with its
    /// proposer's signature (then parsed), its figures recomputed and compared — refused when they
    /// differ, or (a layer change) when they cannot be recomputed.
    static func reviewFile(_ envelope: Envelope, path: String, policy: Policy, snapshot: String?, book: String?,
                           workspace: WorkspaceOptions, at now: Date) async throws -> (document: ProposalDocument, recomputed: Recomputation?, report: ApprovalReport) {
        let (report, parsed, recomputed) = try await evaluate(envelope, policy: policy, snapshot: snapshot, book: book, workspace: workspace, at: now)
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
