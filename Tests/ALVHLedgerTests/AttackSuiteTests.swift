import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHSigner
import ALVHTestSupport
@testable import ALVHLedger

/// TUF's attack list, in this domain: each attack end to end against a real ledger file, asserting
/// the refusal reason and that nothing was written (the head is unchanged).
@Suite("Attack suite")
struct AttackSuiteTests {

    func commit(_ fixture: LedgerFixture, _ doc: ProposalDocument, signedBy names: [String]) async throws {
        let ledger = try await fixture.ledger()
        let id = try await ledger.enqueue(try fixture.envelope(doc, signedBy: names), at: fixture.start).pending.id
        try await ledger.commit(id: id, at: fixture.start)
    }

    @Test("arbitrary change: signed only by keys outside the policy → not even queued")
    func outsideKeys() async throws {
        let f = try await LedgerFixture()
        try await refused(f, "no signature verifies under any key") {
            try await commit(f, try await f.layerProposal(proposer: "mallory"), signedBy: ["mallory"])
        }
    }

    @Test("arbitrary change: below threshold → not committed")
    func belowThreshold() async throws {
        let f = try await LedgerFixture()
        try await refused(f, "threshold unmet: 1 of 2") { try await commit(f, try await f.layerProposal(), signedBy: ["tom", "alice"]) }
    }

    @Test("key compromise below threshold: M−1 honest signatures plus forgeries naming honest keyids")
    func compromiseBelowThreshold() async throws {
        let f = try await LedgerFixture()
        let doc = try await f.layerProposal()
        var envelope = try f.envelope(doc, signedBy: ["tom", "alice"])
        // The attacker forges "carol" and "bob" by naming their keyids over signatures of keys it holds.
        let attacker = [f.key("mallory"), try PrivateKey.generate(.p256)]
        for (victim, key) in zip(["carol", "bob"], attacker) {
            envelope.signatures.append(.init(keyid: f.key(victim).keyID.hex, sig: try key.signature(for: envelope.pae)))
        }
        let ledger = try await f.ledger()
        let queued = try await ledger.enqueue(envelope, at: f.start)
        #expect(queued.signaturesRefused == 2) // the forgeries are not even stored
        let report = try await ledger.evaluate(id: queued.pending.id, at: f.start)
        #expect(report.counted == 1)
        try await refused(f, "threshold unmet: 1 of 2") { try await ledger.commit(id: queued.pending.id, at: f.start) }
    }

    @Test("rollback: a proposal built on an older head is refused once the head moved")
    func rollbackOlderProposal() async throws {
        let f = try await LedgerFixture()
        let old = try await f.layerProposal(quantity: 5)
        let oldEnvelope = try f.envelope(old, signedBy: ["tom", "alice", "carol"])
        try await f.commitLayer(try await f.layerProposal(quantity: 7))
        try await refused(f, "stale proposal") { try await f.ledger().enqueue(oldEnvelope, at: f.start) }
    }

    @Test("rollback: a policy change to a lower (or equal) version is refused")
    func rollbackPolicy() async throws {
        let f = try await LedgerFixture()
        let lower = f.policyYAML(version: 1, withoutBob: true)
        try await refused(f, "policy rollback refused") {
            try await commit(f, try await f.policyProposal(lower, version: 1), signedBy: ["tom", "alice", "bob", "carol"])
        }
    }

    @Test("replay: a proposal from another ledger is refused")
    func otherLedger() async throws {
        let a = try await LedgerFixture(), b = try await LedgerFixture()
        let doc = try await b.layerProposal()
        // b's own signers sign, but the document binds ledger a's id (with b's head and policy).
        var docForB = doc
        docForB.ledger.ledgerID = try await a.ledger().ledgerID()
        try await refused(b, "ledger") { try await commit(b, docForB, signedBy: ["tom", "alice", "carol"]) }
    }

    @Test("replay: another base, another sequence")
    func otherBaseOrSequence() async throws {
        let f = try await LedgerFixture()
        var doc = try await f.layerProposal()
        doc.ledger.base = String(repeating: "c", count: 64)
        try await refused(f, "stale proposal") { try await commit(f, doc, signedBy: ["tom", "alice", "carol"]) }
        var later = try await f.layerProposal()
        later.ledger.sequence += 1
        try await refused(f, "stale proposal") { try await commit(f, later, signedBy: ["tom", "alice", "carol"]) }
    }

    @Test("replay: a committed proposal submitted again is refused")
    func replayCommitted() async throws {
        let f = try await LedgerFixture()
        let envelope = try f.envelope(try await f.layerProposal(), signedBy: ["tom", "alice", "carol"])
        let ledger = try await f.ledger()
        try await ledger.commit(id: try await ledger.enqueue(envelope, at: f.start).pending.id, at: f.start)
        try await refused(f, "stale proposal") { try await ledger.enqueue(envelope, at: f.start) }
    }

    @Test("mix-and-match: signatures lifted from one proposal onto another are not counted")
    func liftedSignatures() async throws {
        let f = try await LedgerFixture()
        let donor = try f.envelope(try await f.layerProposal(quantity: 1), signedBy: ["tom", "alice", "carol"])
        var target = try f.envelope(try await f.layerProposal(quantity: 900), signedBy: ["tom"])
        target.signatures += donor.signatures.dropFirst()
        let ledger = try await f.ledger()
        let queued = try await ledger.enqueue(target, at: f.start)
        #expect(queued.signaturesRefused == 2)
        let id = queued.pending.id
        try await refused(f, "threshold unmet: 0 of 2") { try await ledger.commit(id: id, at: f.start) }
    }

    @Test("mix-and-match: a veto lifted onto another proposal does not block it, and a veto on its own does")
    func liftedRejection() async throws {
        let f = try await LedgerFixture()
        let ledger = try await f.ledger()
        let vetoed = try await ledger.enqueue(try f.envelope(try await f.layerProposal(quantity: 1), signedBy: ["tom", "alice", "carol"]), at: f.start).pending.id
        let doc = RejectionDocument(proposal: vetoed, reason: "over limit", created: f.start, signer: f.key("limits").keyID)
        var rejection = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.rejection)
        try rejection.addSignature(using: f.key("limits"))
        try await ledger.addRejection(rejection, to: vetoed, at: f.start)
        try await refused(f, "vetoed by limits") { try await ledger.commit(id: vetoed, at: f.start) }
        let other = try await ledger.enqueue(try f.envelope(try await f.layerProposal(quantity: 2), signedBy: ["tom", "bob", "limits"]), at: f.start).pending.id
        // The lifted veto is not even stored for the other proposal.
        await #expect { try await ledger.addRejection(rejection, to: other, at: f.start) } throws: { ($0 as? LedgerError)?.reason.contains("rejects another proposal") == true }
        #expect(try await ledger.rejections(id: other).isEmpty)
        #expect(try await ledger.commit(id: other, at: f.start).sequence == 1)
    }

    @Test("freeze: an expired proposal is refused at commit")
    func expired() async throws {
        let f = try await LedgerFixture()
        let ledger = try await f.ledger()
        let id = try await ledger.enqueue(try f.envelope(try await f.layerProposal(expiresIn: 600), signedBy: ["tom", "alice", "carol"]), at: f.start).pending.id
        try await refused(f, "expired at") { try await ledger.commit(id: id, at: f.start.addingTimeInterval(601)) }
    }

    @Test("freeze, backdated: a commit time before the head's is refused (the CLI has no commit-time option at all)")
    func backdated() async throws {
        let f = try await LedgerFixture()
        try await f.commitLayer(try await f.layerProposal(at: f.start), at: f.start.addingTimeInterval(60))
        let ledger = try await f.ledger()
        let id = try await ledger.enqueue(try f.envelope(try await f.layerProposal(kind: .resizeLayer, at: f.start), signedBy: ["tom", "alice", "carol"]), at: f.start).pending.id
        try await refused(f, "commit times never go back") { try await ledger.commit(id: id, at: f.start.addingTimeInterval(30)) }
        let help = try TestProcess.run(TestProcess.alvh, ["commit", "--help"])
        #expect(!help.text.contains("--at"))
    }

    @Test("stale market: a snapshot older than the policy's max-market-age is refused")
    func staleMarket() async throws {
        let f = try await LedgerFixture(initialize: false)
        let policy = f.policyYAML(version: 1).replacingOccurrences(of: "veto-roles:", with: "max-market-age: 2h\nveto-roles:")
        try f.write("Policies/desk.yaml", policy)
        _ = try await Ledger.initialize(workspace: f.root, policyPath: "\(f.root)/Policies/desk.yaml", book: try Book.load(path: "\(f.root)/book.json"), at: f.start)
        // The cited snapshot is as of a week before: stale, whatever the proposal says.
        try await refused(f, "market snapshot is stale") { try await commit(f, try await f.layerProposal(), signedBy: ["tom", "alice", "carol"]) }
        // Labelled fresh: the snapshot's own asOf is what ages, and the false label is named.
        var relabelled = try await f.layerProposal()
        relabelled.market?.asOf = RFC3339.format(f.start)
        try await refused(f, "claimed market.asOf") { try await commit(f, relabelled, signedBy: ["tom", "alice", "carol"]) }
    }

    @Test("fast-forward: a sequence far ahead of the head is refused")
    func fastForward() async throws {
        let f = try await LedgerFixture()
        var doc = try await f.layerProposal()
        doc.ledger.sequence = 1_000_000
        try await refused(f, "stale proposal") { try await commit(f, doc, signedBy: ["tom", "alice", "carol"]) }
    }

    @Test("endless data: oversized envelope, payload, policy, key file, snapshot and CSV are refused with a size error")
    func endlessData() async throws {
        let f = try await LedgerFixture()
        let big = String(repeating: "A", count: 2 << 20)
        let envelopeFile = try f.write("big-envelope.json", "{\"payload\": \"\(big)\", \"payloadType\": \"x\", \"signatures\": []}")
        #expect { try Envelope.load(path: envelopeFile) } throws: { ($0 as? ApprovalError)?.code == .tooLarge || "\($0)".contains("limit") }
        #expect { try ProposalDocument.decode(Array(repeating: 0x20, count: ProposalDocument.maxPayloadBytes + 1)) } throws: { ($0 as? ApprovalError)?.code == .tooLarge }
        let policyFile = try f.write("big-policy.yaml", "# " + String(repeating: "x", count: Policy.maxPolicyBytes))
        #expect { try Policy.load(path: policyFile, workspace: f.root) } throws: { "\($0)".contains("limit") || "\($0)".contains("large") }
        let keyFile = try f.write("big.pub.pem", String(repeating: "A", count: SecureFile.keyFileLimit + 1))
        #expect { try PublicKey.load(from: keyFile) } throws: { "\($0)".contains("limit") || "\($0)".contains("large") }
        let snapshot = try f.write("big-market.json", String(repeating: " ", count: MarketSnapshot.maxBytes + 1))
        #expect { try MarketSnapshot.load(path: snapshot) } throws: { "\($0)".contains("limit") || "\($0)".contains("large") }
        let csv = try f.write("big.csv", "DATE,CLOSE\n" + String(repeating: "2020-01-02,1\n", count: DailyHistory.maxBytes / 12 + 1))
        #expect { try DailyHistory.load(path: csv) } throws: { "\($0)".contains("limit") || "\($0)".contains("large") }
    }

    @Test("wrong change: a payload whose risk figures do not match its legs is refused by an independent signer")
    func wrongChange() async throws {
        let f = try await LedgerFixture()
        let bytes = try SecureFile.read(TestProcess.packageRoot.appendingPathComponent("Examples/market/calm.json").path, limit: MarketSnapshot.maxBytes)
        let market = try MarketSnapshot.decode(Data(bytes))
        let ledger = try await f.ledger()
        let proposal = try #require(try Engine.propose(book: try await ledger.book(), market: market).first)
        let context = try await ledger.context()
        try SnapshotStore.store(bytes, workspace: f.root)
        var doc = ProposalBuilder.document(for: proposal, binding: LedgerBinding(ledgerID: context.ledgerID, base: context.head, sequence: context.nextSequence,
                                                                                   policyHash: try await ledger.policyInForce().hash),
                                           proposer: f.key("tom").keyID, market: market, snapshotBytes: bytes, created: Date(), lifetime: 3600)
        doc.change.layer!.legs[0].quantity *= 10 // ten times the contracts, the same risk figures
        let envelope = try f.envelope(doc, signedBy: ["tom"])
        // The ledger does not even queue it …
        try await refused(f, "is not the recomputed") { try await ledger.enqueue(envelope, snapshot: bytes, at: Date()) }
        // … and an independent signer shown it refuses it too.
        let verified = try await ProposalReview.VerifiedLedger.verify(ledger)
        let verdict = ProposalReview(verified: verified, me: f.key("alice").publicKey, limits: .none)
            .decide(envelope, snapshot: bytes, premiumToday: 0, at: Date())
        guard case .reject(let reason) = verdict else { Issue.record("signed a change whose figures do not match: \(verdict)"); return }
        #expect(reason.contains("not what its signed legs and cited snapshot give"))
    }

    @Test("keyid confusion: keyid names alice, the bytes are mallory's → not counted as alice")
    func keyidConfusion() async throws {
        let f = try await LedgerFixture()
        var envelope = try f.envelope(try await f.layerProposal(), signedBy: ["tom", "carol"])
        envelope.signatures.append(.init(keyid: f.key("alice").keyID.hex, sig: try f.key("mallory").signature(for: envelope.pae)))
        let ledger = try await f.ledger()
        let queued = try await ledger.enqueue(envelope, at: f.start)
        #expect(queued.signaturesRefused == 1) // mallory's bytes verify under no policy key: not stored
        let id = queued.pending.id
        let report = try await ledger.evaluate(id: id, at: f.start)
        #expect(!report.signatures.contains { $0.signer == "alice" })
        try await refused(f, "threshold unmet: 1 of 2") { try await ledger.commit(id: id, at: f.start) }
    }
}
