import ArgumentParser
import Foundation
import Logging
import ALVHSigning
import ALVHSigner

extension ALVH {
    /// Long-running processes: one signer per key, the coordinator, and the API service.
    static let processCommands: [any ParsableCommand.Type] = [SignerCommand.self, CoordinatorCommand.self, ServeCommand.self, TLSCommand.self]
}

extension SignerError: ReportableError {
    var reportCode: String { code.rawValue }
    var reportReason: String { reason }
    var reportPath: String? { path }
    var reportDetail: String? { nil }
}

/// `--poll`, `--once`, `--log-level` for the long-running processes.
struct ProcessOptions: ParsableArguments {
    @Option(name: .long, help: "Milliseconds between passes over the pending queue.")
    var poll = 250

    @Flag(name: .long, help: "Make one pass over the queue and exit.")
    var once = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func validate() throws {
        guard (10...600_000).contains(poll) else { throw ValidationError("--poll must be 10…600000 milliseconds") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error") }
    }

    /// A logger writing to stderr (stdout stays free for results).
    func logger(label: String) -> Logger {
        ProcessOptions.makeLogger(label: label, level: logLevel)
    }

    static func makeLogger(label: String, level: String) -> Logger {
        var logger = Logger(label: label) { EscapingLogHandler(StreamLogHandler.standardError(label: $0)) }
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        return logger
    }
}

struct SignerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signer",
        abstract: "An independent signer process (one per key).",
        subcommands: [SignerRun.self]
    )
}

struct SignerRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Watch the pending queue; verify, recompute, check limits, then sign or post a signed rejection.",
        discussion: """
        For each pending proposal it has not decided yet, the signer: verifies the ledger from genesis and the \
        envelope under the policy in force (it trusts no other process); recomputes every figure (Greeks per layer and total, \
        stresses, cost, market headline) from the signed legs and the snapshot the ledger holds for it, and refuses \
        figures that differ; compares that snapshot with its own --market data; checks its --limits; records the decision in its local \
        record (--state, default KEY.state.json: double-sign protection, never two live payloads for one ledger \
        slot) and only then posts the signature or a signed rejection. Decisions are logged on stderr. SIGTERM / \
        SIGINT finish the decision in progress, then exit 0. With --json, prints how many decisions it posted on \
        stdout when it exits.
        """
    )

    @Option(name: .long, help: "This signer's private key (PKCS#8 PEM, mode 0600).", completion: .file())
    var key: String

    @Option(name: .long, help: "This signer's limits YAML (default: no limits beyond a correct recomputation).", completion: .file())
    var limits: String?

    @Option(name: .long, help: "The local decision record (default: KEY.state.json).", completion: .file())
    var state: String?

    @Option(name: .long, help: "This signer's own market data: a snapshot file or a folder of them; the cited snapshot must agree with the closest one within the limits' market-tolerance.",
            completion: .file())
    var market: String?

    @OptionGroup var process: ProcessOptions
    @OptionGroup var pin: PinOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let privateKey = try PrivateKey.load(from: key, passphrase: passphrase.provider)
            let signerLimits = try limits.map(SignerLimits.load(path:)) ?? .none
            _ = try SignerProcess.feed(at: market) // before the record is opened: a bad --market writes nothing
            let record = try SignerState.open(path: state ?? SignerState.defaultPath(forKey: key), keyID: privateKey.keyID)
            let stop = StopSignal.install()
            let signer = try await SignerProcess(workspace: workspace.path, ledger: try workspace.ledgerLocation(), key: privateKey,
                                                 limits: signerLimits, state: record, market: market, expectLedgerID: pin.pins.ledgerID,
                                                 logger: process.logger(label: "alvh.signer"))
            let posted = try await signer.run(pollMilliseconds: process.poll, once: process.once, stop: stop)
            if output.json { try Console.json(SignerSummary(keyID: privateKey.keyID.hex, posted: posted)) }
        }
    }
}

/// `signer run --json`: the key and how many signatures and rejections it posted.
struct SignerSummary: Encodable {
    let keyID: String
    let posted: Int
}

struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "The coordinator: commits proposals as soon as they are approved.",
        subcommands: [CoordinatorRun.self]
    )
}

struct CoordinatorRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Commit each pending proposal once commit-ready; mark expired, stale and vetoed ones.",
        discussion: """
        Proposes nothing and signs nothing. Safe to run two at once (on one host or several, on a shared --ledger): \
        each commit re-verifies everything and is written only on the head it was decided on, so each proposal is \
        committed exactly once. Logs on stderr; with --json, \
        prints what it committed and marked (entry numbers, proposal ids) on stdout when it exits.
        """
    )

    @OptionGroup var process: ProcessOptions
    @OptionGroup var committer: CommitterOptions
    @OptionGroup var pin: PinOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let key = try committer.load(passphrase: passphrase.provider)
            let stop = StopSignal.install()
            let coordinator = try await Coordinator(workspace: workspace.path, ledger: try workspace.ledgerLocation(), committer: key,
                                                    pins: pin.pins, logger: process.logger(label: "alvh.coordinator"))
            let done = try await coordinator.run(pollMilliseconds: process.poll, once: process.once, stop: stop)
            if output.json { try Console.json(done) }
        }
    }
}
