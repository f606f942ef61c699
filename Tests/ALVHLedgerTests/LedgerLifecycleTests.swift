import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHEngine
@testable import ALVHLedger

@Suite("Ledger lifecycle")
struct LedgerLifecycleTests {
    @Test("init writes a genesis entry whose hash is the ledger id; WAL and synchronous=FULL stick; re-init is refused")
    func genesis() throws {
        let fx = try LedgerFixture()
        let ledger = try fx.ledger()
        let head = try ledger.head()
        #expect(head.sequence == 0)
        #expect(head.kind == .genesis)
        #expect(head.previousHash == LedgerEntry.zeroHash)
        #expect(try ledger.ledgerID() == head.hash)
        #expect(head.computeHash() == head.hash)
        #expect(try ledger.store.synchronousLevel() == 2)
        #expect(try ledger.store.journalMode() == "wal")
        #expect(try ledger.book().layers.map(\.name) == ["backstop"])
        #expect { try Ledger.initialize(workspace: fx.root, policyPath: "\(fx.root)/Policies/desk.yaml",
                                         book: try ledger.book(), at: fx.start) } throws: { ($0 as? LedgerError)?.code == .alreadyInitialized }
        #expect(try fx.verify().ok)
    }

    @Test("two ledgers from the same files have different ids")
    func distinctIDs() throws {
        let a = try LedgerFixture()
        let b = try LedgerFixture()
        #expect(try a.ledger().ledgerID() != b.ledger().ledgerID())
    }

    @Test("a missing or broken book or policy leaves no ledger file behind")
    func initFailureWritesNothing() throws {
        let fx = try LedgerFixture(initialize: false)
        try fx.write("Policies/bad.yaml", "version: 1\nsigners: []\n")
        #expect(throws: ApprovalError.self) {
            try Ledger.initialize(workspace: fx.root, policyPath: "\(fx.root)/Policies/bad.yaml", book: try Book.load(path: "\(fx.root)/book.json"), at: fx.start)
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fx.root).filter { $0.contains("sqlite") }
        #expect(leftovers.isEmpty)
    }

    @Test("propose → sign → commit appends an entry, applies the change to the book, empties the queue")
    func happyPath() throws {
        let fx = try LedgerFixture()
        let ledger = try fx.ledger()
        let envelope = try fx.envelope(try fx.layerProposal(), signedBy: ["tom"])
        let queued = try ledger.enqueue(envelope, at: fx.start)
        #expect(queued.isNew)
        #expect(try ledger.evaluate(id: queued.pending.id, at: fx.start).commitReady == false)
        #expect { try ledger.commit(id: queued.pending.id, at: fx.start) } throws: { ($0 as? LedgerError)?.code == .notApproved }

        _ = try ledger.sign(id: queued.pending.id, with: fx.key("alice"), at: fx.start)
        #expect { try ledger.sign(id: queued.pending.id, with: fx.key("alice"), at: fx.start) } throws: { ($0 as? ApprovalError)?.code == .signingRefused }
        _ = try ledger.sign(id: queued.pending.id, with: fx.key("carol"), at: fx.start)
        #expect(try ledger.evaluate(id: queued.pending.id, at: fx.start).commitReady)

        let entry = try ledger.commit(id: queued.pending.id, at: fx.start)
        #expect(entry.sequence == 1)
        #expect(entry.kind == .layerChange)
        #expect(entry.previousHash == (try ledger.entry(0)).hash)
        #expect(try ledger.pending().isEmpty)
        let layer = try #require(try ledger.book().layer(named: "short-term"))
        #expect(layer.positions.first?.quantity == 10)
        // The stored envelope carries every signature collected.
        #expect(try Envelope.decode(entry.envelope).signatures.count == 3)
        let report = try fx.verify()
        #expect(report.ok, "\(report.firstBad?.problem ?? "")")
        #expect(report.entries == 2)
        #expect(report.signatureChecks == 3)
    }

    @Test("a proposal on a moved head is stale: commit refuses with both heads named and writes nothing")
    func staleProposal() throws {
        let fx = try LedgerFixture()
        let ledger = try fx.ledger()
        let first = try fx.envelope(try fx.layerProposal(layer: "short-term"), signedBy: ["tom", "alice", "carol"])
        // Other approvers: a key signs one live proposal per entry (the ledger refuses a second).
        let second = try fx.envelope(try fx.layerProposal(layer: "event"), signedBy: ["tom", "bob", "limits"])
        let a = try ledger.enqueue(first, at: fx.start).pending.id
        let b = try ledger.enqueue(second, at: fx.start).pending.id
        let base = try ledger.head().hash
        try ledger.commit(id: a, at: fx.start)
        let head = try ledger.head()
        #expect { try ledger.commit(id: b, at: fx.start) } throws: { error in
            guard let error = error as? LedgerError, error.code == .staleProposal else { return false }
            return error.reason.contains("head moved from \(base.prefix(16))") && error.reason.contains("to \(head.hash.prefix(16))") && error.reason.contains("re-propose")
        }
        #expect(try ledger.head() == head)
        #expect(try ledger.pending().map(\.id) == [b])
        #expect(try ledger.markExpiredAndStale(at: fx.start).map(\.status) == ["stale"])
    }

    @Test("a committed proposal cannot be committed again, nor queued into another ledger")
    func replay() throws {
        let fx = try LedgerFixture()
        let envelope = try fx.envelope(try fx.layerProposal(), signedBy: ["tom", "alice", "carol"])
        let ledger = try fx.ledger()
        let id = try ledger.enqueue(envelope, at: fx.start).pending.id
        try ledger.commit(id: id, at: fx.start)
        #expect { try ledger.enqueue(envelope, at: fx.start) } throws: { ($0 as? LedgerError)?.code == .staleProposal }
        #expect { try ledger.commit(id: id, at: fx.start) } throws: { ($0 as? LedgerError)?.code == .notFound }

        let other = try LedgerFixture()
        // Same keys? No: other ledger has its own keys, so nothing verifies; and the ledger id differs anyway.
        #expect(throws: LedgerError.self) { try other.ledger().enqueue(envelope, at: other.start) }
    }

    @Test("expired proposals are refused at commit and marked by the coordinator's sweep")
    func expiry() throws {
        let fx = try LedgerFixture()
        let ledger = try fx.ledger()
        let id = try ledger.enqueue(try fx.envelope(try fx.layerProposal(expiresIn: 600), signedBy: ["tom", "alice", "carol"]), at: fx.start).pending.id
        let later = fx.start.addingTimeInterval(600)
        #expect { try ledger.commit(id: id, at: later) } throws: { ($0 as? LedgerError)?.reason.contains("expired") == true }
        #expect(try ledger.markExpiredAndStale(at: later).map(\.status) == ["expired"])
        #expect(try ledger.head().sequence == 0)
    }

    @Test("a veto recorded in the queue blocks the commit")
    func veto() throws {
        let fx = try LedgerFixture()
        let ledger = try fx.ledger()
        let envelope = try fx.envelope(try fx.layerProposal(), signedBy: ["tom", "alice", "carol"])
        let id = try ledger.enqueue(envelope, at: fx.start).pending.id
        let doc = RejectionDocument(proposal: id, reason: "premium over the daily limit", created: fx.start, signer: fx.key("limits").keyID)
        var rejection = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.rejection)
        try rejection.addSignature(using: fx.key("limits"))
        try ledger.addRejection(rejection, to: id, at: fx.start)
        #expect { try ledger.commit(id: id, at: fx.start) } throws: { ($0 as? LedgerError)?.reason.contains("vetoed by limits") == true }
    }

    @Test("close-layer removes the layer; selling more than held is refused and nothing is written")
    func closeAndOversell() throws {
        let fx = try LedgerFixture()
        try fx.commitLayer()
        // Built honestly as a close of 10, then the signed leg says 11: the book cannot apply it.
        var oversell = try fx.layerProposal(kind: .closeLayer, quantity: -10)
        oversell.change.layer!.legs[0].quantity = -11
        #expect { try fx.commitLayer(oversell) } throws: { ($0 as? LedgerError)?.reason.contains("long options only") == true }
        #expect(try fx.ledger().head().sequence == 1)
        try fx.commitLayer(try fx.layerProposal(kind: .closeLayer, quantity: -10))
        #expect(try fx.ledger().book().layer(named: "short-term") == nil)
        #expect(try fx.verify().ok)
    }

    @Test("entries are append-only: UPDATE and DELETE are refused by triggers")
    func appendOnly() throws {
        let fx = try LedgerFixture()
        try fx.commitLayer()
        let db = "\(fx.root)/alvh.sqlite"
        let update = try Tools.sqlite(db, "UPDATE entries SET committed_at = 'x' WHERE seq = 1;")
        #expect(update.status != 0)
        #expect(update.stderr.contains("append-only"))
        let delete = try Tools.sqlite(db, "DELETE FROM entries WHERE seq = 1;")
        #expect(delete.status != 0)
        #expect(try fx.verify().ok)
    }
}

@Suite("Policy rotation")
struct PolicyRotationTests {
    @Test("a policy change needs the current and the new policy's rule; the version must rise")
    func rotation() throws {
        let fx = try LedgerFixture()
        let ledger = try fx.ledger()
        let v2 = fx.policyYAML(version: 2, withoutBob: true)
        try fx.write("Policies/desk-v2.yaml", v2)

        // 2 approvals: below the current policy's 3.
        // Each attempt expires before the next is made: a key approves one live proposal per entry.
        let short = try fx.envelope(try fx.policyProposal(v2, version: 2, expiresIn: 100), signedBy: ["tom", "alice", "carol"])
        let shortID = try ledger.enqueue(short, at: fx.start).pending.id
        #expect { try ledger.commit(id: shortID, at: fx.start) } throws: { ($0 as? LedgerError)?.code == .notApproved }

        // Rollback: version 1 is not above 1.
        let t1 = fx.start.addingTimeInterval(200)
        let rollback = try fx.envelope(try fx.policyProposal(fx.policyYAML(version: 1, layerThreshold: 1), version: 1, at: t1, expiresIn: 100),
                                       signedBy: ["tom", "alice", "bob", "carol"])
        let rollbackID = try ledger.enqueue(rollback, at: t1).pending.id
        #expect { try ledger.commit(id: rollbackID, at: t1.addingTimeInterval(10)) } throws: { ($0 as? LedgerError)?.code == .policyRollback }

        // alice, bob, carol meet v1's rule (3 with a cro); under v2 bob is gone, so only 2 count there.
        let t2 = fx.start.addingTimeInterval(400)
        let withBob = try fx.envelope(try fx.policyProposal(v2, version: 2, at: t2), signedBy: ["tom", "alice", "bob", "carol"])
        let withBobID = try ledger.enqueue(withBob, at: t2).pending.id
        #expect { try ledger.commit(id: withBobID, at: t2.addingTimeInterval(10)) } throws: { ($0 as? LedgerError)?.reason.contains("new policy's own rule") == true }

        // Adding limits (a v2 signer too) meets both.
        _ = try ledger.sign(id: withBobID, with: fx.key("limits"), at: t2.addingTimeInterval(10))
        let entry = try ledger.commit(id: withBobID, at: t2.addingTimeInterval(10))
        #expect(entry.kind == .policyChange)
        #expect(try ledger.policyInForce().version == 2)
        #expect(try ledger.policyInForce().hash == SHA256.hexDigest(Array(v2.utf8)))

        // From now on bob's signature is not even stored: alice alone is one short of 2.
        let t3 = t2.addingTimeInterval(20)
        let after = try fx.envelope(try fx.layerProposal(at: t3), signedBy: ["tom", "alice", "bob"])
        let queued = try ledger.enqueue(after, at: t3)
        #expect(queued.signaturesRefused == 1)
        let afterID = queued.pending.id
        let report = try ledger.evaluate(id: afterID, at: t3)
        #expect(report.counted == 1)
        _ = try ledger.sign(id: afterID, with: fx.key("carol"), at: t3)
        try ledger.commit(id: afterID, at: t3)

        // The whole history verifies, from the archived keys — even with Keys/ gone.
        try FileManager.default.removeItem(atPath: "\(fx.root)/Keys")
        let verified = try fx.verify()
        #expect(verified.ok, "\(verified.firstBad?.problem ?? "")")
        #expect(verified.entries == 3)
    }
}
