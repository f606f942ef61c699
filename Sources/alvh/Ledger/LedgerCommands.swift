import ArgumentParser
import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHSigning
import Foundation

struct BookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "book",
        abstract: "Print the current book (iron condor and hedge layers) as the ledger has it."
    )

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let (book, head) = try await workspace.withLedger(readOnly: true) { ledger in (try await ledger.bookToShow(), try await ledger.head()) }
            if output.json { try Console.json(book); return }
            Console.out("book at entry \(head.sequence) (\(head.hash.prefix(16))…)")
            BookPrinter.print(book)
        }
    }
}

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Read, export, re-verify, copy and set up the hash-chained ledger.",
        subcommands: [LedgerLog.self, LedgerShow.self, LedgerExport.self, LedgerVerify.self, LedgerCheckpoint.self, LedgerCosign.self,
                      LedgerProve.self, LedgerCopy.self, LedgerSetup.self,
                      StressCommitCommand.self]
    )
}

/// The summary of an entry, as `ledger log` prints it.
struct EntrySummary: Encodable {
    let sequence: UInt64
    let kind: String
    let hash: String
    let previousHash: String
    let policyHash: String
    let committedAt: String
    let proposalID: String?
    let change: String?
    let signatures: Int
    /// The `--expect-head` value an auditor can keep: SEQ:HASH.
    let head: String

    init(_ entry: LedgerEntry) {
        sequence = entry.sequence
        kind = entry.kind.rawValue
        hash = entry.hash
        previousHash = entry.previousHash
        policyHash = entry.policyHash
        committedAt = entry.committedAt
        head = "\(entry.sequence):\(entry.hash)"
        if entry.kind != .genesis, let envelope = try? Envelope.decode(entry.envelope) {
            proposalID = envelope.id
            signatures = envelope.signatures.count
            if let doc = try? ProposalDocument.decode(envelope.payload) {
                change = doc.change.layer.map { "\(doc.kind.rawValue) \($0.layer)" } ?? "\(doc.kind.rawValue) v\(doc.change.policy?.version ?? 0)"
            } else { change = nil }
        } else {
            proposalID = nil
            signatures = 0
            change = entry.kind == .genesis ? "genesis" : nil
        }
    }
}

struct LedgerLog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List the entries: sequence, time, change, signatures, and SEQ:HASH for `ledger verify --expect-head`."
    )

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let all = try await workspace.withLedger(readOnly: true) { ledger -> [EntrySummary] in
                var source = StorageEntrySource(ledger: ledger)
                var all: [EntrySummary] = []
                while true {
                    let batch = try await source.next(max: 1000)
                    if batch.isEmpty { break }
                    for entry in batch {
                        let summary = EntrySummary(entry)
                        if output.json { all.append(summary) } else {
                            Console.out("\(summary.sequence)".padding(5) + " " + summary.committedAt + "  " + (summary.change ?? summary.kind).padding(28)
                                        + " sigs \(summary.signatures)".padding(8) + "  " + summary.head)
                        }
                    }
                }
                return all
            }
            if output.json { try Console.json(all) }
        }
    }
}

struct LedgerShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one entry in full: its proposal and every signature.")

    @Argument(help: "The entry's sequence number.")
    var sequence: UInt64

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    struct Detail: Encodable {
        let entry: EntrySummary
        let proposal: ProposalDocument?
        let genesis: GenesisDocument?
        let report: ApprovalReport?
    }

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let (entry, policy, ledgerID) = try await workspace.withLedger(readOnly: true) { ledger in
                let entry = try await ledger.entry(sequence)
                return (entry, try? await ledger.policy(atEntry: sequence), try await ledger.ledgerID())
            }
            var proposal: ProposalDocument?
            var genesis: GenesisDocument?
            var report: ApprovalReport?
            if entry.kind == .genesis {
                genesis = try? GenesisDocument.decode(entry.envelope)
            } else if let envelope = try? Envelope.decode(entry.envelope),
                      let policy, let at = RFC3339.parse(entry.committedAt) {
                // The payload is shown only once a policy key verified it. The figures are recomputed by
                // `ledger verify` (which replays the book); this view counts signatures only.
                let rejections = (try? EntryAttachments.decode(entry.attachments).rejectionEnvelopes()) ?? []
                let evaluated = ThresholdEvaluator(policy: policy).evaluateDocument(envelope, at: at, ledger: LedgerContext(
                    ledgerID: ledgerID, head: entry.previousHash, nextSequence: entry.sequence), rejections: rejections,
                    mode: .init(policyHashInForce: entry.policyHash))
                proposal = evaluated.document
                report = evaluated.report
            }
            let detail = Detail(entry: EntrySummary(entry), proposal: proposal, genesis: genesis, report: report)
            if output.json { try Console.json(detail); return }
            Console.out("entry \(entry.sequence) (\(entry.kind.rawValue)) committed \(entry.committedAt)")
            Console.out("  hash      \(entry.hash)")
            Console.out("  previous  \(entry.previousHash)")
            Console.out("  policy    \(entry.policyHash)")
            if let genesis {
                Console.out("  genesis   created \(genesis.created), policy \(genesis.policyHash.prefix(16))…")
                if let book = try? genesis.book.book() { BookPrinter.print(book) }
            }
            if let proposal, let envelope = try? Envelope.decode(entry.envelope) {
                ProposalSummary.lines(proposal, envelope: envelope).forEach { Console.out("  " + $0) }
            }
            if let report { Console.out(""); ReportPrinter.print(report) }
        }
    }
}

struct LedgerExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every entry with every signature as JSON Lines, for offline audit (`ledger verify --export`)."
    )

    @Option(name: [.customShort("o"), .long], help: "The JSONL file to write.", completion: .file())
    var output: String

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var format: OutputOptions

    func run() async throws {
        try await reportingErrors(json: format.json) {
            let count = try await workspace.withLedger(readOnly: true) { try await LedgerExporter.export($0, to: output) }
            if format.json {
                try Console.json(["file": output, "entries": "\(count)"])
            } else {
                Console.out("\(output): \(count) entries")
            }
        }
    }
}

struct LedgerVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-verify the ledger from genesis: hashes, links, signatures, thresholds, policy history, book replay.",
        discussion: "Exits non-zero and names the first bad entry when anything fails."
    )

    @Option(name: .long, help: "Verify an exported JSONL file instead of the ledger.", completion: .file())
    var export: String?

    @Option(name: .long, help: "A head seen earlier, SEQ:HASH (from `ledger log`), that must still be in the ledger.")
    var expectHead: String?

    @Option(name: .long, help: "The ledger id (from `alvh init`) the ledger must have: a chain forged from a new genesis fails.")
    var expectLedgerID: String?

    @Option(name: .long, help: "Threads verifying signatures (default: all cores).")
    var jobs: Int?

    @OptionGroup var checkpoints: CheckpointAuditOptions
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        try checkpoints.validate(exportGiven: export != nil)
        if let expectHead, Self.parseHead(expectHead) == nil {
            throw ValidationError("--expect-head must be SEQ:HASH, e.g. 12:9f2c… (64 hex digits), as `alvh ledger log` prints it")
        }
    }

    static func parseHead(_ text: String) -> LedgerVerifier.ExpectedHead? {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let seq = UInt64(parts[0]), parts[1].count == 64, Hex.decode(String(parts[1])) != nil else { return nil }
        return .init(sequence: seq, hash: parts[1].lowercased())
    }

    func run() async throws {
        if checkpoints.checkpoint != nil {
            var ok = false
            try await reportingErrors(json: output.json) { ok = try await checkpoints.run(workspace: workspace, json: output.json) }
            if !ok { throw ExitCode.failure }
            return
        }
        try await reportingErrors(json: output.json) {
            let verifier = LedgerVerifier(jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount)
            let head = expectHead.flatMap(Self.parseHead)
            // Progress on a terminal only, on stderr, never with --json: done / total, rate, time left.
            let showProgress = isatty(2) == 1 && !output.json
            var report: LedgerVerifier.Report
            if let export {
                var source = try ExportEntrySource(path: export)
                let meter = ProgressMeter("verifying", total: nil, enabled: showProgress)
                report = try await verifier.verify(&source, expectHead: head, progress: meter.update)
                meter.finish()
            } else {
                report = try await workspace.withLedger(readOnly: true) { ledger in
                    let total = try await ledger.head().sequence + 1
                    var source = StorageEntrySource(ledger: ledger)
                    let meter = ProgressMeter("verifying", total: Int(total), enabled: showProgress)
                    defer { meter.finish() }
                    return try await verifier.verify(&source, expectHead: head, materializedBook: try await ledger.materializedBook(), progress: meter.update)
                }
            }
            if report.ok, let expected = expectLedgerID?.lowercased(), report.ledgerID != expected {
                report.ok = false
                report.firstBad = LedgerVerifier.Report.BadEntry(sequence: 0, problem: "this is ledger \(report.ledgerID ?? "?"), not the expected \(expected) (another ledger, or one forged from a new genesis)")
            }
            if output.json {
                try Console.json(report)
            } else if report.ok {
                Console.out("OK: \(report.entries) entries, \(report.signatureChecks) signatures checked, head \(report.headSequence ?? 0):\(report.headHash ?? "")"
                            + (report.bookMatches == true ? ", book matches replay" : "") + String(format: " (%.2fs)", report.seconds))
            } else if let bad = report.firstBad {
                Console.out("FAILED at entry \(bad.sequence): \(bad.problem)")
            }
            if !report.ok { throw ExitCode.failure }
        }
    }
}

enum FileHandleStderr {
    static func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
