import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHEngine
@testable import ALVHLedger

/// Verification resumed from a checkpoint (what a long-running signer does when the head moves)
/// reaches the verdict of a verification from genesis, reading only the new entries.
@Suite("Resumed verification")
struct ResumedVerificationTests {
    /// Counts the entries a source hands out.
    struct CountingSource: EntrySource {
        var inner: StorageEntrySource
        var handedOut = 0
        mutating func next(max: Int) async throws -> [LedgerEntry] {
            let batch = try await inner.next(max: max)
            handedOut += batch.count
            return batch
        }
        func blob(_ hash: String) async throws -> [UInt8]? { try await inner.blob(hash) }
    }

    func checkpoint(of fx: LedgerFixture) async throws -> LedgerVerifier.Checkpoint {
        let report = try await fx.verify()
        #expect(report.ok)
        return try #require(report.checkpoint)
    }

    @Test("from a checkpoint: the same head, book and policy as from genesis; only the new entries are read")
    func sameVerdict() async throws {
        let fx = try await LedgerFixture()
        try await fx.commitLayer(try await fx.layerProposal(layer: "short-term"))
        let checkpoint = try await checkpoint(of: fx)
        #expect(checkpoint.sequence == 1)
        try await fx.commitLayer(try await fx.layerProposal(kind: .resizeLayer, layer: "short-term", quantity: 5), at: fx.start.addingTimeInterval(60))
        try await fx.commitLayer(try await fx.layerProposal(layer: "event", strike: 22), at: fx.start.addingTimeInterval(120))

        let ledger = try await fx.ledger()
        var source = CountingSource(inner: StorageEntrySource(ledger: ledger, from: checkpoint.sequence + 1))
        let resumed = try await LedgerVerifier(jobs: 2).verify(&source, resumingFrom: checkpoint, materializedBook: try await ledger.materializedBook())
        let full = try await fx.verify()
        #expect(resumed.ok, "\(resumed.firstBad.map { "\($0.sequence): \($0.problem)" } ?? "")")
        #expect(source.handedOut == 2)
        #expect(resumed.entries == 2)
        #expect(resumed.headSequence == full.headSequence && resumed.headHash == full.headHash)
        #expect(resumed.ledgerID == full.ledgerID)
        #expect(resumed.replayedBook == full.replayedBook && resumed.bookMatches == true)
        #expect(resumed.policyInForce?.hash == full.policyInForce?.hash)
        #expect(resumed.checkpoint?.sequence == 3 && resumed.checkpoint?.hash == full.headHash)

        // Nothing new: the checkpoint itself is the verdict.
        var empty = StorageEntrySource(ledger: ledger, from: 4)
        let resumedCheckpoint = try #require(resumed.checkpoint)
        let again = try await LedgerVerifier(jobs: 1).verify(&empty, resumingFrom: resumedCheckpoint)
        #expect(again.ok && again.entries == 0 && again.headSequence == 3)
    }

    @Test("a bad new entry is named; a source that does not start after the checkpoint is refused")
    func failures() async throws {
        let fx = try await LedgerFixture()
        try await fx.commitLayer(try await fx.layerProposal(layer: "short-term"))
        let checkpoint = try await checkpoint(of: fx)
        try await fx.commitLayer(try await fx.layerProposal(layer: "event", strike: 22), at: fx.start.addingTimeInterval(60))
        let result = try Tools.sqlite("\(fx.root)/alvh.sqlite", LedgerTamperTests.dropTriggers
                                      + "UPDATE entries SET committed_at = '2026-11-25T13:00:00Z' WHERE seq = 2;")
        try #require(result.status == 0, "\(result.stderr)")
        let ledger = try await fx.ledger()
        var source = StorageEntrySource(ledger: ledger, from: 2)
        let report = try await LedgerVerifier().verify(&source, resumingFrom: checkpoint)
        #expect(!report.ok && report.firstBad?.sequence == 2)
        #expect(report.checkpoint == nil)

        var fromGenesis = StorageEntrySource(ledger: ledger)
        let misplaced = try await LedgerVerifier().verify(&fromGenesis, resumingFrom: checkpoint)
        #expect(!misplaced.ok && misplaced.firstBad?.problem.contains("is missing") == true)
    }
}
