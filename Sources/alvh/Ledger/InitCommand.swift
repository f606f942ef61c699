import ArgumentParser
import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHSigning
import Foundation

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the ledger (the workspace's alvh.sqlite, or --ledger URL): a genesis entry binding the policy bytes and the initial book.",
        discussion: "The ledger id (printed) is the genesis entry's hash; every proposal binds it. An existing ledger is never re-initialized."
    )

    @Option(name: .long, help: "The approval policy (YAML).", completion: .file())
    var policy: String

    @Option(name: .long, help: "The initial book (JSON: the iron condor and existing layers).", completion: .file())
    var book: String

    @OptionGroup var committer: CommitterOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let initial = try Book.load(path: book) // validated: the genesis book must be a real one
            let key = try committer.load(passphrase: passphrase.provider)
            let ledger = try await Ledger.initialize(workspace: workspace.path, location: try workspace.ledgerLocation(), policyPath: policy,
                                                     book: initial, committer: key, at: Date())
            let head: LedgerEntry, loaded: Policy
            do {
                head = try await ledger.head()
                loaded = try await ledger.policyInForce()
                try await ledger.close()
            } catch {
                try? await ledger.close()
                throw error
            }
            if output.json {
                try Console.json(InitReport(ledger: ledger.location, ledgerID: head.hash, policyHash: loaded.hash,
                                            policyVersion: loaded.version))
            } else {
                Console.out(head.hash)
                Console.err("created \(ledger.location): ledger id \(head.hash)")
                Console.err("  policy '\(loaded.name)' v\(loaded.version) (\(loaded.hash.prefix(16))…), \(loaded.signers.count) signers")
            }
        }
    }
}

struct InitReport: Encodable {
    let ledger: String
    let ledgerID: String
    let policyHash: String
    let policyVersion: Int
}
