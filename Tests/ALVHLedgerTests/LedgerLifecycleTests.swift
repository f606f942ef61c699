import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHEngine
@_spi(Testing) import ALVHStorageSQLite
@testable import ALVHLedger

@Suite("Ledger lifecycle")
struct LedgerLifecycleTests {
    @Test("init writes a genesis entry whose hash is the ledger id; WAL and synchronous=FULL stick; re-init is refused")
    func genesis() async throws {
        let fx = try await LedgerFixture()
        let ledger = try await fx.ledger()
        let head = try await ledger.head()
        #expect(head.sequence == 0)
        #expect(head.kind == .genesis)
        #expect(head.previousHash == LedgerEntry.zeroHash)
        #expect(try await ledger.ledgerID() == head.hash)
        #expect(head.computeHash() == head.hash)
        #expect(try (ledger.storage as! SQLiteLedgerStorage).synchronousLevel() == 2)
        #expect(try (ledger.storage as! SQLiteLedgerStorage).journalMode() == "wal")
        #expect(try await ledger.book().layers.map(\.name) == ["backstop"])
        await #expect { try await Ledger.initialize(workspace: fx.root, policyPath: "\(fx.root)/Policies/desk.yaml",
                                         book: try await ledger.book(), at: fx.start) } throws: { ($0 as? LedgerError)?.code == .alreadyInitialized }
        #expect(try await fx.verify().ok)
    }

    @Test("two ledgers from the same files have different ids")
    func distinctIDs() async throws {
        let a = try await LedgerFixture()
        let b = try await LedgerFixture()
        #expect(try await a.ledger().ledgerID() != b.ledger().ledgerID())
    }

    @Test("a missing or broken book or policy leaves no ledger file behind")
    func initFailureWritesNothing() async throws {
        let fx = try await LedgerFixture(initialize: false)
        try fx.write("Policies/bad.yaml", "version: 1\nsigners: []\n")
        await #expect(throws: ApprovalError.self) {
            try await Ledger.initialize(workspace: fx.root, policyPath: "\(fx.root)/Policies/bad.yaml", book: try Book.load(path: "\(fx.root)/book.json"), at: fx.start)
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fx.root).filter { $0.contains("sqlite") }
        #expect(leftovers.isEmpty)
    }

    @Test("propose → sign → commit appends an entry, applies the change to the book, empties the queue")
    func happyPath() async throws {
        let fx = try await LedgerFixture()
        let ledger = try await fx.ledger()
        let envelope = try fx.envelope(try await fx.layerProposal(), signedBy: ["tom"])
        let queued = try await ledger.enqueue(envelope, at: fx.start)
        #expect(queued.isNew)
        #expect(try await ledger.evaluate(id: queued.pending.id, at: fx.start).commitReady == false)
        await #expect { try await ledger.commit(id: queued.pending.id, at: fx.start) } throws: { ($0 as? LedgerError)?.code == .notApproved }

        _ = try await ledger.sign(id: queued.pending.id, with: fx.key("alice"), at: fx.start)
        await #expect { try await ledger.sign(id: queued.pending.id, with: fx.key("alice"), at: fx.start) } throws: { ($0 as? ApprovalError)?.code == .signingRefused }
        _ = try await ledger.sign(id: queued.pending.id, with: fx.key("carol"), at: fx.start)
        #expect(try await ledger.evaluate(id: queued.pending.id, at: fx.start).commitReady)

        let entry = try await ledger.commit(id: queued.pending.id, at: fx.start)
        #expect(entry.sequence == 1)
        #expect(entry.kind == .layerChange)
        #expect(entry.previousHash == (try await ledger.entry(0)).hash)
        #expect(try await ledger.pending().isEmpty)
        let layer = try #require(try await ledger.book().layer(named: "short-term"))
        #expect(layer.positions.first?.quantity == 10)
        // The stored envelope carries every signature collected.
        #expect(try Envelope.decode(entry.envelope).signatures.count == 3)
        let report = try await fx.verify()
        #expect(report.ok, "\(report.firstBad?.problem ?? "")")
        #expect(report.entries == 2)
        #expect(report.signatureChecks == 3)
    }

    @Test("a proposal on a moved head is stale: commit refuses with both heads named and writes nothing")
    func staleProposal() async throws {
        let fx = try await LedgerFixture()
        let ledger = try await fx.ledger()
        let first = try fx.envelope(try await fx.layerProposal(layer: "short-term"), signedBy: ["tom", "alice", "carol"])
        // Other approvers: a key signs one live proposal per entry (the ledger refuses a second).
        let second = try fx.envelope(try await fx.layerProposal(layer: "event"), signedBy: ["tom", "bob", "limits"])
        let a = try await ledger.enqueue(first, at: fx.start).pending.id
        let b = try await ledger.enqueue(second, at: fx.start).pending.id
        let base = try await ledger.head().hash
        try await ledger.commit(id: a, at: fx.start)
        let head = try await ledger.head()
        await #expect { try await ledger.commit(id: b, at: fx.start) } throws: { error in
            guard let error = error as? LedgerError, error.code == .staleProposal else { return false }
            return error.reason.contains("head moved from \(base.prefix(16))") && error.reason.contains("to \(head.hash.prefix(16))") && error.reason.contains("re-propose")
        }
        #expect(try await ledger.head() == head)
        #expect(try await ledger.pending().map(\.id) == [b])
        #expect(try await ledger.markExpiredAndStale(at: fx.start).map(\.status) == [.stale])
    }

    @Test("a committed proposal cannot be committed again, nor queued into another ledger")
    func replay() async throws {
        let fx = try await LedgerFixture()
        let envelope = try fx.envelope(try await fx.layerProposal(), signedBy: ["tom", "alice", "carol"])
        let ledger = try await fx.ledger()
        let id = try await ledger.enqueue(envelope, at: fx.start).pending.id
        try await ledger.commit(id: id, at: fx.start)
        await #expect { try await ledger.enqueue(envelope, at: fx.start) } throws: { ($0 as? LedgerError)?.code == .staleProposal }
        await #expect { try await ledger.commit(id: id, at: fx.start) } throws: { ($0 as? LedgerError)?.code == .notFound }

        let other = try await LedgerFixture()
        // Same keys? No: other ledger has its own keys, so nothing verifies; and the ledger id differs anyway.
        await #expect(throws: LedgerError.self) { try await other.ledger().enqueue(envelope, at: other.start) }
    }

    @Test("expired proposals are refused at commit and marked by the coordinator's sweep")
    func expiry() async throws {
        let fx = try await LedgerFixture()
        let ledger = try await fx.ledger()
        let id = try await ledger.enqueue(try fx.envelope(try await fx.layerProposal(expiresIn: 600), signedBy: ["tom", "alice", "carol"]), at: fx.start).pending.id
        let later = fx.start.addingTimeInterval(600)
        await #expect { try await ledger.commit(id: id, at: later) } throws: { ($0 as? LedgerError)?.reason.contains("expired") == true }
        #expect(try await ledger.markExpiredAndStale(at: later).map(\.status) == [.expired])
        #expect(try await ledger.head().sequence == 0)
    }

    @Test("a veto recorded in the queue blocks the commit")
    func veto() async throws {
        let fx = try await LedgerFixture()
        let ledger = try await fx.ledger()
        let envelope = try fx.envelope(try await fx.layerProposal(), signedBy: ["tom", "alice", "carol"])
        let id = try await ledger.enqueue(envelope, at: fx.start).pending.id
        let doc = RejectionDocument(proposal: id, reason: "premium over the daily limit", created: fx.start, signer: fx.key("limits").keyID)
        var rejection = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.rejection)
        try rejection.addSignature(using: fx.key("limits"))
        try await ledger.addRejection(rejection, to: id, at: fx.start)
        await #expect { try await ledger.commit(id: id, at: fx.start) } throws: { ($0 as? LedgerError)?.reason.contains("vetoed by limits") == true }
    }

    @Test("close-layer removes the layer; selling more than held is refused and nothing is written")
    func closeAndOversell() async throws {
        let fx = try await LedgerFixture()
        try await fx.commitLayer()
        // Built honestly as a close of 10, then the signed leg says 11: the book cannot apply it.
        var oversell = try await fx.layerProposal(kind: .closeLayer, quantity: -10)
        oversell.change.layer!.legs[0].quantity = -11
        await #expect { try await fx.commitLayer(oversell) } throws: { ($0 as? LedgerError)?.reason.contains("long options only") == true }
        #expect(try await fx.ledger().head().sequence == 1)
        try await fx.commitLayer(try await fx.layerProposal(kind: .closeLayer, quantity: -10))
        #expect(try await fx.ledger().book().layer(named: "short-term") == nil)
        #expect(try await fx.verify().ok)
    }

    @Test("entries are append-only: UPDATE and DELETE are refused by triggers")
    func appendOnly() async throws {
        let fx = try await LedgerFixture()
        try await fx.commitLayer()
        let db = "\(fx.root)/alvh.sqlite"
        let update = try Tools.sqlite(db, "UPDATE entries SET committed_at = 'x' WHERE seq = 1;")
        #expect(update.status != 0)
        #expect(update.stderr.contains("append-only"))
        let delete = try Tools.sqlite(db, "DELETE FROM entries WHERE seq = 1;")
        #expect(delete.status != 0)
        #expect(try await fx.verify().ok)
    }
}

@Suite("Policy rotation")
struct PolicyRotationTests {
    @Test("a policy change needs the current and the new policy's rule; the version must rise")
    func rotation() async throws {
        let fx = try await LedgerFixture()
        let ledger = try await fx.ledger()
        let v2 = fx.policyYAML(version: 2, withoutBob: true)
        try fx.write("Policies/desk-v2.yaml", v2)

        // 2 approvals: below the current policy's 3.
        // Each attempt expires before the next is made: a key approves one live proposal per entry.
        let short = try fx.envelope(try await fx.policyProposal(v2, version: 2, expiresIn: 100), signedBy: ["tom", "alice", "carol"])
        let shortID = try await ledger.enqueue(short, at: fx.start).pending.id
        await #expect { try await ledger.commit(id: shortID, at: fx.start) } throws: { ($0 as? LedgerError)?.code == .notApproved }

        // Rollback: version 1 is not above 1.
        let t1 = fx.start.addingTimeInterval(200)
        let rollback = try fx.envelope(try await fx.policyProposal(fx.policyYAML(version: 1, layerThreshold: 1), version: 1, at: t1, expiresIn: 100),
                                       signedBy: ["tom", "alice", "bob", "carol"])
        let rollbackID = try await ledger.enqueue(rollback, at: t1).pending.id
        await #expect { try await ledger.commit(id: rollbackID, at: t1.addingTimeInterval(10)) } throws: { ($0 as? LedgerError)?.code == .policyRollback }

        // alice, bob, carol meet v1's rule (3 with a cro); under v2 bob is gone, so only 2 count there.
        let t2 = fx.start.addingTimeInterval(400)
        let withBob = try fx.envelope(try await fx.policyProposal(v2, version: 2, at: t2), signedBy: ["tom", "alice", "bob", "carol"])
        let withBobID = try await ledger.enqueue(withBob, at: t2).pending.id
        // Queued with what it cites: the new policy's text and every key file it pins, as blobs
        // (a signer on another host reads them from the ledger).
        #expect(try await ledger.blob(SHA256.hexDigest(Array(v2.utf8))) == Array(v2.utf8))
        for name in ["tom", "alice", "carol", "limits", "committer"] {
            let pem = try SecureFile.read("\(fx.root)/Keys/\(name).pub.pem", limit: 1 << 16)
            #expect(try await ledger.blob(SHA256.hexDigest(pem)) == pem, "\(name)'s key file")
        }
        await #expect { try await ledger.commit(id: withBobID, at: t2.addingTimeInterval(10)) } throws: { ($0 as? LedgerError)?.reason.contains("new policy's own rule") == true }

        // Adding limits (a v2 signer too) meets both.
        _ = try await ledger.sign(id: withBobID, with: fx.key("limits"), at: t2.addingTimeInterval(10))
        let entry = try await ledger.commit(id: withBobID, at: t2.addingTimeInterval(10))
        #expect(entry.kind == .policyChange)
        #expect(try await ledger.policyInForce().version == 2)
        #expect(try await ledger.policyInForce().hash == SHA256.hexDigest(Array(v2.utf8)))

        // From now on bob's signature is not even stored: alice alone is one short of 2.
        let t3 = t2.addingTimeInterval(20)
        let after = try fx.envelope(try await fx.layerProposal(at: t3), signedBy: ["tom", "alice", "bob"])
        let queued = try await ledger.enqueue(after, at: t3)
        #expect(queued.signaturesRefused == 1)
        let afterID = queued.pending.id
        let report = try await ledger.evaluate(id: afterID, at: t3)
        #expect(report.counted == 1)
        _ = try await ledger.sign(id: afterID, with: fx.key("carol"), at: t3)
        try await ledger.commit(id: afterID, at: t3)

        // The whole history verifies, from the archived keys — even with Keys/ gone.
        try FileManager.default.removeItem(atPath: "\(fx.root)/Keys")
        let verified = try await fx.verify()
        #expect(verified.ok, "\(verified.firstBad?.problem ?? "")")
        #expect(verified.entries == 3)
    }
}
