import ArgumentParser
import ALVHApproval
import ALVHLedger
import Foundation

struct PendingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pending",
        abstract: "List the pending queue: id, change, age, expiry, signatures counted vs needed, vetoes."
    )

    @Option(name: .long, help: "Evaluation time (RFC 3339) instead of now.")
    var at: String?

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    struct Row: Encodable {
        let pending: PendingProposal
        let report: ApprovalReport
    }

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let now = try EvaluationTime.parse(at)
            let rows = try await workspace.withLedger(readOnly: true) { ledger in
                var rows: [Row] = []
                for pending in try await ledger.pending() { rows.append(Row(pending: pending, report: try await ledger.evaluate(id: pending.id, at: now))) }
                return rows
            }
            if output.json { try Console.json(rows); return }
            if rows.isEmpty { Console.err("no pending proposals"); return }
            Console.out("ID                KIND           SEQ  AGE      EXPIRES               STATUS   COUNTED/NEEDED  ROLES              VETO  READY")
            for row in rows {
                let age = RFC3339.parse(row.pending.queuedAt).map { Duration.short(now.timeIntervalSince($0)) } ?? "?"
                let roles = row.report.roleCounts.map { "\($0.have)/\($0.needed) \($0.role)" }.joined(separator: ",")
                let vetoed = row.report.isVetoed
                let status = row.report.findings.contains { if case .expired = $0 { return true } else { return false } } ? "expired"
                    : row.report.findings.contains { if case .staleBase = $0 { return true } else { return false } } ? "stale" : row.pending.status.rawValue
                Console.out(String(row.pending.id.prefix(16)).padding(17) + " " + row.pending.kind.padding(14) + " "
                            + "\(row.pending.sequence)".padding(4) + " " + age.padding(8) + " " + row.pending.expires.padding(21) + " "
                            + status.padding(8) + " " + "\(row.report.counted)/\(row.report.threshold)".padding(15) + " "
                            + roles.padding(18) + " " + (vetoed ? "yes" : "no").padding(5) + " " + (row.report.commitReady ? "yes" : "no"))
            }
        }
    }
}

enum Duration {
    static func short(_ seconds: TimeInterval) -> String {
        let s = Int(max(0, seconds))
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }
}

struct CommitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Commit a pending proposal that meets the policy in force (written only on the head it was decided on).",
        discussion: """
        Re-verifies the envelope against the policy at the head, checks base == head and sequence == head + 1, \
        expiry, vetoes and thresholds, appends the entry, applies the change to the book and removes the \
        proposal from the queue — or writes nothing and says why.
        """
    )

    @Argument(help: "The pending proposal's id (or a unique prefix of at least 8 hex digits).")
    var id: String

    @OptionGroup var committer: CommitterOptions
    @OptionGroup var pin: PinOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            // Always the real clock: a chosen commit time would let an operator commit an expired proposal.
            let now = Date()
            let key = try committer.load(passphrase: passphrase.provider)
            let (full, entry) = try await workspace.withLedger(pins: pin.pins) { ledger in
                let full = try await ledger.resolvePendingID(id)
                // Verifies the chain (from genesis: this process has no checkpoint) before deciding.
                return (full, try await ledger.commit(id: full, committer: key, at: now))
            }
            if output.json {
                try Console.json(EntrySummary(entry))
            } else {
                Console.out("committed \(full.prefix(16))… as entry \(entry.sequence) \(entry.hash)")
            }
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a pending proposal as a DSSE envelope file (with every signature collected), for the air-gapped path."
    )

    @Argument(help: "The pending proposal's id (or a unique prefix).")
    var id: String

    @Option(name: [.customShort("o"), .long], help: "The envelope file to write.", completion: .file())
    var output: String

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var format: OutputOptions

    func run() async throws {
        try await reportingErrors(json: format.json) {
            let (full, envelope, rejections) = try await workspace.withLedger(readOnly: true) { ledger in
                let full = try await ledger.resolvePendingID(id)
                return (full, try await ledger.envelope(id: full), try await ledger.rejections(id: full))
            }
            try envelope.write(to: output)
            for (index, rejection) in rejections.enumerated() {
                try rejection.write(to: "\(output).rejection-\(index).json")
            }
            if format.json {
                try Console.json(CombinedReport(file: output, proposalID: full, signatures: envelope.signatures.count))
            } else {
                Console.out("\(output): proposal \(full.prefix(16))… with \(envelope.signatures.count) signature(s)")
            }
        }
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Queue a proposal envelope file, or merge its signatures (and rejections beside it) into the queued copy."
    )

    @Argument(help: "The envelope file.", completion: .file())
    var file: String

    @Option(name: .long, help: "The market snapshot the proposal cites (default: WORKSPACE/snapshots/HASH.json, if there).", completion: .file())
    var snapshot: String?

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let result = try await QueueFile.enqueue(file, snapshot: snapshot, workspace: workspace)
            try QueueFile.print(result, json: output.json)
        }
    }
}

/// `propose FILE` and `import FILE` share this.
enum QueueFile {
    static func enqueue(_ file: String, snapshot: String?, workspace: WorkspaceOptions) async throws -> Ledger.EnqueueResult {
        // Every file is read before the ledger is opened.
        let envelope = try Envelope.load(path: file)
        let snapshotBytes = try snapshot.map { try SnapshotStore.read(path: $0) } // else the workspace's snapshots/HASH.json
        let rejections = try RejectionFiles.discover(beside: file)
        return try await workspace.withLedger { ledger in
            let now = Date()
            let result = try await ledger.enqueue(envelope, snapshot: snapshotBytes, at: now)
            for (_, rejection) in rejections {
                try await ledger.addRejection(rejection, to: result.pending.id, at: now)
            }
            return result
        }
    }

    static func print(_ result: Ledger.EnqueueResult, json: Bool) throws {
        if json {
            try Console.json(result.pending)
        } else if result.isNew {
            if result.signaturesRefused > 0 {
                Console.err("\(result.signaturesRefused) signature(s) not stored: they verify under no key of the policy over this proposal")
            }
            Console.out(result.pending.id)
            Console.err("queued \(result.pending.kind) as entry \(result.pending.sequence) candidate, \(result.pending.signatureCount) signature(s); expires \(result.pending.expires)")
        } else {
            Console.out(result.pending.id)
            Console.err("already pending; \(result.signaturesAdded) new signature(s) merged, \(result.pending.signatureCount) in all")
        }
    }
}
