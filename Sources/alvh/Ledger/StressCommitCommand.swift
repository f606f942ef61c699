import ArgumentParser
import ALVHApproval
import ALVHLedger
import ALVHSigning
import Foundation

/// A hidden test driver: proposes, signs and commits synthetic resize changes in a loop, printing
/// `committed SEQ HASH` (flushed) after each acknowledged commit. The crash-safety tests kill it
/// with SIGKILL at random moments and check that every reported commit survived.
struct StressCommitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress-commit",
        abstract: "Test driver: commit synthetic layer changes in a loop (for crash-safety tests).",
        shouldDisplay: false
    )

    @Option(name: .long, help: "Private key files: the proposer first, then the approvers.")
    var key: [String]

    @Option(name: .long, help: "The layer to resize (it must exist in the book).")
    var layer: String

    @Option(name: .long, help: "The VIX option expiry (YYYY-MM-DD) of the layer's position.")
    var expiry: String

    @Option(name: .long, help: "The strike of the layer's position.")
    var strike: Double

    @Option(name: .long, help: "How many commits (0: until killed).")
    var count = 0

    @OptionGroup var workspace: WorkspaceOptions

    func run() async throws {
        try reportingErrors(json: false) {
            let keys = try key.map { try PrivateKey.load(from: $0) }
            guard let proposer = keys.first else { throw ValidationError("give at least one --key") }
            let ledger = try Ledger.open(workspace: workspace.path)
            var done = 0
            while count == 0 || done < count {
                let now = Date()
                let context = try ledger.context()
                let policy = try ledger.policyInForce()
                let quantity = context.nextSequence % 2 == 0 ? -1 : 1
                let doc = ProposalDocument(
                    ledger: LedgerBinding(ledgerID: context.ledgerID, base: context.head, sequence: context.nextSequence, policyHash: policy.hash),
                    created: now.addingTimeInterval(-1), expires: now.addingTimeInterval(3600), proposer: proposer.keyID,
                    change: .init(kind: .resizeLayer, layer: .init(layer: layer, legs: [
                        .init(instrument: "VIX", right: "call", expiry: expiry, strike: strike, quantity: quantity, limitPrice: 1)])),
                    riskBefore: .init(layers: [:], total: .zero, stressPnL: [:]), riskAfter: .init(layers: [:], total: .zero, stressPnL: [:]),
                    costDollars: Double(quantity) * 100,
                    market: .init(snapshotHash: String(repeating: "0", count: 64), asOf: RFC3339.format(now), spx: 6000, vix: 15, vixFront: nil))
                var envelope = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.proposal)
                for key in keys { try envelope.addSignature(using: key) }
                let id = try ledger.enqueue(envelope, at: now).pending.id
                let entry = try ledger.commit(id: id, at: now)
                Console.out("committed \(entry.sequence) \(entry.hash)") // FileHandle writes are unbuffered
                done += 1
            }
        }
    }
}
