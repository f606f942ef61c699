import ArgumentParser
import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHSigning
import Foundation

struct ProposeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propose",
        abstract: "Run the ALVH rules on the book and queue the most urgent proposal (or queue an envelope FILE).",
        discussion: """
        With --market: prices the book (the ledger's, or --book), runs the rules (--strategy, default \
        Examples/strategy.yaml's values), builds the proposal document — change, signals, risk before/after, \
        cost, market snapshot hash — signs it with --key (the proposer) and queues it on the ledger, storing the \
        snapshot it cites in the ledger with it. Without a ledger, writes the envelopes to --out. \
        With FILE: queues an existing envelope (as `alvh import`).
        """
    )

    @Argument(help: "An envelope file to queue instead of running the engine.", completion: .file())
    var file: String?

    @Option(name: .long, help: "The market snapshot JSON.", completion: .file())
    var market: String?

    @Option(name: .long, help: "The proposer's private key (signs the proposal).", completion: .file())
    var key: String?

    @Option(name: .long, help: "The strategy YAML (default: built-in values).", completion: .file())
    var strategy: String?

    @Option(name: .long, help: "VIX daily history CSV (CBOE's DATE,OPEN,HIGH,LOW,CLOSE): VIX percentile, MACD roll signal.", completion: .file())
    var history: String?

    @Option(name: .long, help: "SPX daily history CSV (DATE,CLOSE or OHLC): MACD roll signal on SPX.", completion: .file())
    var spxHistory: String?

    @Option(name: .long, help: "Proposal lifetime in hours.")
    var expiresInHours: Double = 4

    @Flag(name: .long, help: "Queue (or write) every proposal that fires, not just the first.")
    var all = false

    @Option(name: .long, help: "Directory for envelope files when there is no ledger.", completion: .directory)
    var out = "proposals"

    @OptionGroup var bookSource: BookSource
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if file == nil && market == nil { throw ValidationError("give an envelope FILE, or --market SNAPSHOT to run the engine") }
        if file != nil && market != nil { throw ValidationError("give either FILE or --market, not both") }
        if market != nil && key == nil { throw ValidationError("--key (the proposer's private key) is needed to sign the proposal") }
        if !(expiresInHours > 0 && expiresInHours <= 24 * 30) { throw ValidationError("--expires-in-hours must be in (0, 720]") }
    }

    struct Outcome: Encodable {
        let id: String
        let rule: String
        let summary: String
        let costDollars: Double
        let queued: Bool
        let file: String?
    }

    func run() async throws {
        try await reportingErrors(json: output.json) {
            if let file {
                try QueueFile.print(try await QueueFile.enqueue(file, snapshot: nil, workspace: workspace), json: output.json)
                return
            }
            let now = Date()
            let snapshotBytes: [UInt8]
            do { snapshotBytes = try SecureFile.read(market!, limit: MarketSnapshot.maxBytes) }
            catch let error as SigningError { throw EngineError(.fileUnreadable, error.reason, path: error.path ?? market!) }
            let snapshot = try MarketSnapshot.decode(Data(snapshotBytes), path: market!)
            let rules = try strategy.map(Strategy.load(path:)) ?? .standard
            let vix = try history.map(DailyHistory.load(path:))
            let spx = try spxHistory.map(DailyHistory.load(path:))
            let proposer = try PrivateKey.load(from: key!, passphrase: passphrase.provider)
            let location = try workspace.ledgerLocation()
            let ledger: Ledger? = location != nil || SecureFile.exists(Ledger.path(workspace: workspace.path))
                ? try await Ledger.open(workspace: workspace.path, at: location) : nil
            let outcomes: [Outcome]
            let proposals: [EngineProposal]
            do {
            var book = try bookSource.book.map(Book.load(path:))
            if book == nil { book = try await ledger?.verified().book }
            guard let book else {
                throw CLIError("no-book", "no ledger in the workspace; give --book BOOK.json", path: "--book")
            }
            let run = try Engine.run(book: book, market: snapshot, strategy: rules, spxHistory: spx, vixHistory: vix)
            proposals = run.proposals
            if !output.json { for held in run.held { Console.err(held.description) } }
            var queued: [Outcome] = []
            for proposal in all ? proposals : Array(proposals.prefix(1)) {
                if let ledger {
                    let result = try await ledger.queue(proposal, market: snapshot, snapshotBytes: snapshotBytes, proposer: proposer,
                                                  lifetime: expiresInHours * 3600, at: now)
                    queued.append(Outcome(id: result.pending.id, rule: proposal.rule, summary: proposal.summary, costDollars: proposal.costDollars, queued: true, file: nil))
                } else {
                    // No ledger: an unbound draft (zero ledger id, base and policy) for review or `import` elsewhere.
                    let zero = String(repeating: "0", count: 64)
                    let binding = LedgerBinding(ledgerID: zero, base: zero, sequence: 1, policyHash: zero)
                    let envelope = try ProposalBuilder.signedEnvelope(for: proposal, binding: binding, proposer: proposer, market: snapshot,
                                                                      snapshotBytes: snapshotBytes, created: now, lifetime: expiresInHours * 3600)
                    try SnapshotStore.store(snapshotBytes, workspace: workspace.path) // `alvh import` finds it there
                    let path = "\(workspace.resolve(out))/\(envelope.id.prefix(16)).json"
                    try SecureFile.makeDirectory(workspace.resolve(out), mode: 0o755)
                    try envelope.write(to: path)
                    queued.append(Outcome(id: envelope.id, rule: proposal.rule, summary: proposal.summary, costDollars: proposal.costDollars, queued: false, file: path))
                }
            }
            outcomes = queued
            try await ledger?.close()
            } catch {
                try? await ledger?.close()
                throw error
            }
            guard !proposals.isEmpty else {
                if output.json { try Console.json([Outcome]()) } else { Console.out("no rule fires: the book meets the strategy in this market") }
                return
            }
            if output.json { try Console.json(outcomes); return }
            for outcome in outcomes {
                Console.out(outcome.id)
                Console.err("\(outcome.queued ? "queued" : "wrote \(outcome.file!)"): [\(outcome.rule)] \(outcome.summary); cost $\(String(format: "%.2f", outcome.costDollars))")
            }
            if !all && proposals.count > 1 {
                Console.err("also fired (queue them after this one commits, or use --all): " + proposals.dropFirst().map { "[\($0.rule)] \($0.summary)" }.joined(separator: "; "))
            }
        }
    }
}
