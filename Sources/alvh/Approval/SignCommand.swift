import ArgumentParser
import ALVHApproval
import ALVHLedger
import ALVHSigning
import Foundation

struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Show a proposal's summary, ask to confirm, and add your signature (envelope file or pending id).",
        discussion: """
        Signs PAE(payloadType, payload) of the DSSE envelope. With a FILE, rewrites it atomically with the \
        signature appended; with the id of a pending proposal, adds the signature to the workspace's ledger queue. \
        Refuses an expired proposal and one you already signed. The figures shown are recomputed from the signed \
        legs, the verified book and the cited snapshot, and a proposal whose claims differ is refused (for a FILE: \
        under the workspace's policy, on --book/--snapshot or the workspace ledger's). Without --yes it asks on \
        the terminal; with no terminal it refuses.
        """
    )

    @Argument(help: "The proposal envelope file (DSSE JSON), or the id (prefix) of a pending proposal.", completion: .file())
    var file: String

    @Option(name: .long, help: "Your private key (PEM; mode 0600).", completion: .file())
    var key: String

    @Flag(name: .long, help: "Sign without asking for confirmation.")
    var yes = false

    @Option(name: .long, help: "For a FILE: the market snapshot it cites (default: the workspace ledger's copy).", completion: .file())
    var snapshot: String?

    @Option(name: .long, help: "For a FILE: the book it applies to (default: the workspace ledger's verified book).", completion: .file())
    var book: String?

    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let now = Date() // the real clock: a chosen time would let a signer sign what has expired
            let privateKey = try PrivateKey.load(from: key, passphrase: passphrase.provider)
            let pending = PendingTarget(file, workspace: workspace)
            let review = try await pending.signable(by: privateKey, snapshot: snapshot, book: book, at: now)
            var envelope = review.envelope
            ProposalSummary.lines(review.document, envelope: envelope).forEach(Console.err)
            if let recomputed = review.recomputed { ProposalSummary.recomputedLines(recomputed, report: review.report).forEach(Console.err) }
            let policyDiff = await PolicyChangeDiff.make(review.document, workspace: workspace)
            policyDiff?.lines.forEach(Console.err)
            if !yes {
                guard let confirmed = Confirmation.ask("Sign this proposal with key \(privateKey.keyID.fingerprint)?") else {
                    throw ApprovalError(.signingRefused, "no terminal to confirm on; read the summary above and pass --yes to sign", path: file)
                }
                guard confirmed else { throw ApprovalError(.signingRefused, "not confirmed; nothing was written", path: file) }
            }
            try envelope.addSignature(using: privateKey)
            try await pending.store(envelope, newSignature: envelope.signatures.last!, at: now)
            if output.json {
                try Console.json(WithPolicyDiff(report: SignedReport(file: file, proposalID: envelope.id, keyID: privateKey.keyID.hex,
                                                                     signatures: envelope.signatures.count), policyDiff: policyDiff))
            } else {
                let place = pending.isFile ? file : "the pending queue"
                Console.out("signed \(envelope.id) in \(place) with key \(privateKey.keyID.hex) (\(envelope.signatures.count) signature(s))")
            }
        }
    }
}

struct SignedReport: Encodable {
    let file: String
    let proposalID: String
    let keyID: String
    let signatures: Int
}

/// `--at TIME` or now.
enum EvaluationTime {
    static func parse(_ text: String?) throws -> Date {
        guard let text else { return Date() }
        guard let date = RFC3339.parse(text) else {
            throw CLIError("invalid-time", "'\(text)' is not an RFC 3339 time such as 2026-11-25T14:30:00Z", path: "--at")
        }
        return date
    }
}

/// A proposal named on the command line: an envelope file, or a pending proposal of the ledger.
struct PendingTarget {
    let argument: String
    let workspace: WorkspaceOptions

    init(_ argument: String, workspace: WorkspaceOptions) {
        self.argument = argument
        self.workspace = workspace
    }

    /// A file when one exists at that path; otherwise a pending id.
    var isFile: Bool { FileManager.default.fileExists(atPath: argument) }

    func envelope() async throws -> Envelope {
        if isFile { return try Envelope.load(path: argument) }
        return try await workspace.withLedger(readOnly: true) { ledger in
            try await ledger.envelope(id: try await ledger.resolvePendingID(argument))
        }
    }

    /// The envelope `key` may sign, its document and the recomputed figures: a file verified under
    /// the workspace's policy and recomputed on `book`/`snapshot` (or the workspace ledger's), or a
    /// pending proposal after the ledger's review (policy membership, verified envelope, every figure
    /// recomputed); then the usual signing checks.
    func signable(by key: PrivateKey, snapshot: String? = nil, book: String? = nil, at now: Date) async throws
        -> (envelope: Envelope, document: ProposalDocument, recomputed: Recomputation?, report: ApprovalReport?) {
        if isFile {
            let envelope = try Envelope.load(path: argument)
            let policy = try PolicyLocator.load(nil, workspace: workspace)
            let review = try await FigureCheck.reviewFile(envelope, path: argument, policy: policy, snapshot: snapshot, book: book,
                                                    workspace: workspace, at: now)
            if review.document.kind != .policyChange, policy.signer(for: key.keyID).map({ !$0.revoked }) != true {
                throw ApprovalError(.signingRefused, "key \(key.keyID.fingerprint) is not a signer of policy '\(policy.name)' v\(policy.version) (or is revoked); its signature would not count; nothing was written",
                                    path: argument)
            }
            _ = try ProposalSigning.check(envelope, signer: key.publicKey, at: now, path: argument)
            return (envelope, review.document, review.recomputed, review.report)
        }
        let review = try await workspace.withLedger(readOnly: true) { ledger in
            try await ledger.signable(id: try await ledger.resolvePendingID(argument), by: key, at: now)
        }
        return (review.envelope, review.document, review.recomputed, review.report)
    }

    /// Writes the signed envelope back: the file atomically, or the signature into the queue.
    func store(_ envelope: Envelope, newSignature: Envelope.Signature, at now: Date) async throws {
        if isFile { try envelope.write(to: argument); return }
        try await workspace.withLedger { ledger in
            try await ledger.addSignature(newSignature, to: try await ledger.resolvePendingID(argument), at: now)
        }
    }

    /// Records a rejection: beside the file, or in the queue. Returns where it went.
    func storeRejection(_ rejection: Envelope, keyID: KeyID, output: String?, at now: Date) async throws -> String {
        if isFile || output != nil {
            let target = output ?? RejectionFiles.defaultPath(for: argument, keyID: keyID)
            try rejection.write(to: target)
            return target
        }
        let id = try await workspace.withLedger { ledger in
            let id = try await ledger.resolvePendingID(argument)
            try await ledger.addRejection(rejection, to: id, at: now)
            return id
        }
        return "pending \(id.prefix(16))…"
    }
}
