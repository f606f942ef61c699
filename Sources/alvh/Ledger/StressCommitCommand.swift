import ArgumentParser
import ALVHApproval
import ALVHLedger
import ALVHSigning
import Foundation
import ALVHEngine

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

    @Option(name: .long, help: "The market snapshot the changes are priced on.", completion: .file())
    var market: String

    @OptionGroup var committer: CommitterOptions
    @OptionGroup var workspace: WorkspaceOptions

    func run() async throws {
        try await reportingErrors(json: false) {
            let keys = try key.map { try PrivateKey.load(from: $0) }
            guard let proposer = keys.first else { throw ValidationError("give at least one --key") }
            let committerKey = try committer.load(passphrase: nil)
            let snapshotBytes = try SnapshotStore.read(path: market)
            let snapshot = try MarketSnapshot.decode(Data(snapshotBytes), path: market)
            let ledger = try await Ledger.open(workspace: workspace.path, at: try workspace.ledgerLocation())
            var done = 0
            while count == 0 || done < count {
                let now = Date()
                // A proposal an earlier (killed) run queued for this entry is committed first: its
                // signers may not sign a second one for the same entry while it is live.
                let next = try await ledger.verified().sequence + 1
                if let leftover = try await ledger.openProposals().first(where: { $0.sequence == next }),
                   let entry = try? await ledger.commit(id: leftover.id, committer: committerKey, at: now) {
                    Console.out("committed \(entry.sequence) \(entry.hash)")
                    done += 1
                    continue
                }
                let quantity = try await ledger.verified().sequence % 2 == 0 ? 1 : -1
                var envelope = try await ledger.manualProposal(kind: .resizeLayer, layer: layer,
                                                         trades: [Trade(expiry: expiry, strike: strike, quantity: quantity, price: 0)],
                                                         market: snapshot, snapshotBytes: snapshotBytes, proposer: proposer,
                                                         created: now, lifetime: 3600)
                for key in keys.dropFirst() { try envelope.addSignature(using: key) }
                let id = try await ledger.enqueue(envelope, snapshot: snapshotBytes, at: now).pending.id
                let entry = try await ledger.commit(id: id, committer: committerKey, at: now)
                Console.out("committed \(entry.sequence) \(entry.hash)") // FileHandle writes are unbuffered
                done += 1
            }
        }
    }
}
