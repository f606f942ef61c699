import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHSigner
import ALVHTestSupport
@testable import ALVHLedger

/// The threshold against a hostile trader (his own key, `alvh import`), a hostile database writer
/// (sqlite3 on the ledger file) and hostile files: each attack of the hardening issue, end to end
/// against a real ledger, refused, with the head unmoved.
@Suite("Threshold hardening")
struct ThresholdHardeningTests {

    static let dropTriggers = "DROP TRIGGER IF EXISTS entries_append_only_update; DROP TRIGGER IF EXISTS entries_append_only_delete; "

    // MARK: - 2. The proposer does not pick the rule

    @Test("a buy claimed as $150 is refused, naming the claimed cost and the recomputed one")
    func falseCost() throws {
        let f = try LedgerFixture()
        var doc = try f.layerProposal(quantity: 300)
        doc.costDollars = 150
        try refused(f, "claimed costDollars 150 is not the recomputed") { try f.commitLayer(doc) }
    }

    @Test("a limit price far from the snapshot's model mid is refused (the limits bot's cap read the trader's 0.01)")
    func limitOffModel() throws {
        let f = try LedgerFixture()
        var doc = try f.layerProposal(quantity: 300)
        doc.change.layer!.legs[0].limitPrice = 0.01
        try refused(f, "limit-price-tolerance") { try f.commitLayer(doc) }
    }

    @Test("rules match on the recomputed gross premium: a roll whose net premium is small still needs the CRO")
    func rulesOnRecomputedSize() throws {
        let f = try LedgerFixture(initialize: false)
        // Roll the backstop's 20 × 35C down to 25C: the net premium is the difference of the two
        // mids, the gross their sum. The rule's floor sits between the two.
        let sold = try Engine.vixLimitPrice(market: f.market, expiry: "2027-03-17", strike: 35, buying: false)
        let bought = try Engine.vixLimitPrice(market: f.market, expiry: "2027-03-17", strike: 25, buying: true)
        let net = (bought - sold) * 20 * 100, gross = (bought + sold) * 20 * 100
        let floor = ((net + gross) / 2).rounded()
        let rules = """
              - name: large
                kinds: [roll-layer]
                min-premium-dollars: \(floor)
                threshold: 2
                roles: { cro: 1 }
            """
        try f.write("Policies/desk.yaml", f.policyYAML(version: 1).replacingOccurrences(of: "rules:\n", with: "rules:\n" + rules + "\n"))
        _ = try Ledger.initialize(workspace: f.root, policyPath: "\(f.root)/Policies/desk.yaml", book: try Book.load(path: "\(f.root)/book.json"), at: f.start)
        let ledger = try f.ledger()
        let change = LayerChange(kind: .rollLayer, layer: "backstop", layerKind: .backstop, trades: [
            Trade(expiry: "2027-03-17", strike: 35, quantity: -20, price: sold),
            Trade(expiry: "2027-03-17", strike: 25, quantity: 20, price: bought)])
        let proposal = try Engine.manual(book: try ledger.book(), change: change, market: f.market, note: "roll down")
        let context = try ledger.context()
        let doc = ProposalBuilder.document(for: proposal, binding: LedgerBinding(ledgerID: context.ledgerID, base: context.head, sequence: context.nextSequence,
                                                                                   policyHash: try ledger.policyInForce().hash),
                                           proposer: f.key("tom").keyID, market: f.market, snapshotBytes: f.snapshotBytes, created: f.start, lifetime: 3600)
        #expect(abs(doc.costDollars) < floor) // the claim alone (net) would not reach the rule
        let id = try ledger.enqueue(try f.envelope(doc, signedBy: ["tom", "alice", "bob"]), at: f.start).pending.id
        let report = try ledger.evaluate(id: id, at: f.start)
        #expect(report.assessedSize?.premiumDollars ?? 0 > floor)
        #expect(report.rules.contains("large"), "\(report.rules) at \(report.assessedSize?.premiumDollars ?? 0)")
        #expect(report.findings.contains(.roleMinimumUnmet(rule: "large", role: "cro", have: 0, need: 1)))
        try refused(f, "role minimum unmet") { try ledger.commit(id: id, at: f.start) }
    }

    @Test("alvh sign shows the recomputed figures and refuses a proposal whose claims are false")
    func signRefusesFalseClaims() throws {
        let f = try LedgerFixture()
        let ledger = try f.ledger()
        let honest = try ledger.enqueue(try f.envelope(try f.layerProposal(), signedBy: ["tom"]), at: f.start).pending.id
        let review = try ledger.signable(id: honest, by: f.key("alice"), at: f.start)
        #expect(review.recomputed?.market.vix.spot == f.market.vix.spot)
        #expect(review.recomputed.map { abs($0.costDollars - review.document.costDollars) < 0.01 } == true)
    }

    @Test("alvh sign FILE (the air-gapped path) recomputes too: false figures are refused, honest ones shown recomputed")
    func signFileRecomputes() throws {
        let f = try LedgerFixture()
        var lying = try f.layerProposal(quantity: 300)
        lying.costDollars = 150
        let lyingFile = "\(f.root)/lying.json"
        try f.envelope(lying, signedBy: ["tom"]).write(to: lyingFile)
        let refused = try Tools.run(Tools.alvh, ["sign", lyingFile, "--yes", "--key", "\(f.root)/Keys/private/alice.key.pem", "--workspace", f.root])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("claimed costDollars 150"), "\(refused.stderr)")
        #expect(try Envelope.load(path: lyingFile).signatures.count == 1) // nothing was written
        let honestFile = "\(f.root)/honest.json"
        try f.envelope(try f.layerProposal(at: Date()), signedBy: ["tom"]).write(to: honestFile)
        let signed = try Tools.run(Tools.alvh, ["sign", honestFile, "--yes", "--key", "\(f.root)/Keys/private/alice.key.pem", "--workspace", f.root])
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(signed.stderr.contains("Recomputed from the signed legs"))
        #expect(try Envelope.load(path: honestFile).signatures.count == 2)
    }

    // MARK: - 3. Vetoes and unauthenticated queue writes

    @Test("unsigned junk rejections are not stored, so they cannot crowd out the CRO's real veto")
    func junkRejections() throws {
        let f = try LedgerFixture()
        let ledger = try f.ledger()
        let id = try ledger.enqueue(try f.envelope(try f.layerProposal(), signedBy: ["tom", "alice", "carol"]), at: f.start).pending.id
        for index in 0..<64 {
            let junk = Envelope(payload: Array("junk \(index)".utf8), payloadType: PayloadTypes.rejection, signatures: [])
            #expect(throws: LedgerError.self) { try ledger.addRejection(junk, to: id, at: f.start) }
        }
        #expect(try ledger.rejections(id: id).isEmpty)
        let veto = try RejectionDocument.signedEnvelope(rejecting: id, reason: "over limit", key: f.key("limits"), at: f.start)
        #expect(try ledger.addRejection(veto, to: id, at: f.start))
        #expect(try ledger.pending().first { $0.id == id }?.status == "vetoed")
        try refused(f, "vetoed by limits") { try ledger.commit(id: id, at: f.start) }
    }

    @Test("junk signatures are not stored and fill no slot: honest signers still get in")
    func junkSignatures() throws {
        let f = try LedgerFixture()
        let ledger = try f.ledger()
        let id = try ledger.enqueue(try f.envelope(try f.layerProposal(), signedBy: ["tom"]), at: f.start).pending.id
        for index in 0..<70 {
            #expect(throws: LedgerError.self) {
                try ledger.addSignature(.init(keyid: nil, sig: Array(repeating: UInt8(index), count: 64)), to: id, at: f.start)
            }
        }
        _ = try ledger.sign(id: id, with: f.key("alice"), at: f.start)
        _ = try ledger.sign(id: id, with: f.key("carol"), at: f.start)
        #expect(try ledger.commit(id: id, at: f.start).sequence == 1)
    }

    @Test("every entry records the slot's signed rejections; an entry committing a vetoed proposal does not verify")
    func vetoInHistory() throws {
        let f = try LedgerFixture()
        let ledger = try f.ledger()
        let id = try ledger.enqueue(try f.envelope(try f.layerProposal(), signedBy: ["tom", "alice", "carol"]), at: f.start).pending.id
        let veto = try RejectionDocument.signedEnvelope(rejecting: id, reason: "over limit", key: f.key("limits"), at: f.start)
        try ledger.addRejection(veto, to: id, at: f.start)
        // A database writer erases the veto and resets the status …
        let erase = try Tools.sqlite("\(f.root)/alvh.sqlite", "DELETE FROM rejections; UPDATE pending SET status = 'pending';")
        try #require(erase.status == 0, "\(erase.stderr)")
        // … then forges the entry with the committer's key, attaching the veto it hid (as an honest
        // committer that saw it would): verification names the veto.
        try f.forceFirstEntry(try ledger.envelope(id: id), attachments: EntryAttachments(rejections: [veto]))
        let report = try f.verify()
        #expect(!report.ok)
        #expect(report.firstBad?.sequence == 1)
        #expect(report.firstBad?.problem.contains("vetoed by limits") == true, "\(report.firstBad?.problem ?? "")")
    }

    @Test("rows appended with sqlite3 and no committer key are refused by ledger verify")
    func appendedWithoutCommitter() throws {
        let f = try LedgerFixture()
        try f.commitLayer()
        let ledger = try f.ledger()
        let head = try ledger.head()
        // A well-formed entry (links, hash) with a signature by a key the policy does not list as committer.
        let doc = try f.layerProposal(kind: .resizeLayer, quantity: 1)
        let envelope = try f.envelope(doc, signedBy: ["tom", "alice", "carol"])
        var entry = LedgerEntry(sequence: head.sequence + 1, previousHash: head.hash, kind: .layerChange, envelope: try envelope.encoded(),
                                attachments: try EntryAttachments().encoded(),
                                policyHash: try ledger.policyInForce().hash, committedAt: RFC3339.format(f.start))
        entry.committerSignature = try f.key("mallory").signature(for: entry.signingMessage)
        try ledger.store.queue.write { try Ledger.insert(entry, $0) }
        let report = try f.verify()
        #expect(report.firstBad?.sequence == 2)
        #expect(report.firstBad?.problem.contains("not signed by a committer") == true)
        // A process that verified before refuses to build on it.
        #expect(throws: LedgerError.self) { try ledger.verified() }
    }

    @Test("a snapshot is kept once, content-addressed; a database writer who swaps its bytes is named by verification")
    func swappedSnapshot() throws {
        let f = try LedgerFixture()
        try f.commitLayer()
        try f.commitLayer(try f.layerProposal(kind: .resizeLayer, quantity: 2, at: f.start.addingTimeInterval(10)), at: f.start.addingTimeInterval(10))
        #expect(try Tools.sqlite("\(f.root)/alvh.sqlite", "SELECT COUNT(*) FROM blobs;").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try f.verify().ok)
        let hash = SHA256.hexDigest(f.snapshotBytes)
        let swap = try Tools.sqlite("\(f.root)/alvh.sqlite",
                                    "DROP TRIGGER blobs_append_only_update; UPDATE blobs SET bytes = CAST(replace(CAST(bytes AS TEXT), '13.6', '38.5') AS BLOB) WHERE hash = '\(hash)';")
        try #require(swap.status == 0, "\(swap.stderr)")
        let report = try f.verify()
        #expect(!report.ok)
        #expect(report.firstBad?.sequence == 1)
        #expect(report.firstBad?.problem.contains("does not hash to its name") == true, "\(report.firstBad?.problem ?? "")")
    }

    // MARK: - 4. Validity windows

    @Test("a proposal created 10 years ahead (or with notBefore before created) is not queued")
    func futureCreated() throws {
        let f = try LedgerFixture()
        let future = f.start.addingTimeInterval(10 * 365 * 86400)
        var doc = try f.layerProposal(at: future, expiresIn: 3600)
        doc.notBefore = RFC3339.format(f.start)
        try refused(f, "is not now") { try f.ledger().enqueue(try f.envelope(doc, signedBy: ["tom", "limits"]), at: f.start) }
        var early = try f.layerProposal()
        early.notBefore = RFC3339.format(f.start.addingTimeInterval(-60))
        try refused(f, "notBefore") { try f.ledger().enqueue(try f.envelope(early, signedBy: ["tom"]), at: f.start) }
    }

    @Test("a signer never exits on one bad proposal: a proposal that cannot be applied is skipped and the next one signed")
    func signerSkipsBadProposal() throws {
        let f = try LedgerFixture()
        let ledger = try f.ledger()
        _ = try ledger.enqueue(try f.envelope(try f.layerProposal(), signedBy: ["tom"]), at: f.start)
        let state = try SignerState.open(path: "\(f.root)/alice.state.json", keyID: f.key("alice").keyID)
        let signer = try SignerProcess(workspace: f.root, key: f.key("alice"), limits: .none, state: state, logger: .init(label: "test"))
        #expect(try signer.pass(at: { f.start.addingTimeInterval(5) }) == 1)
    }

    // MARK: - 5. Roles and proposers

    @Test("one signature fills one role slot: alice holding risk-officer and cro plus bob do not meet {risk-officer: 2, cro: 1}")
    func roleOverlap() throws {
        let f = try LedgerFixture(initialize: false)
        var yaml = f.policyYAML(version: 1)
        yaml = yaml.replacingOccurrences(of: "roles: [risk-officer]\n  - id: bob", with: "roles: [risk-officer, cro]\n  - id: bob")
        yaml = yaml.replacingOccurrences(of: "    threshold: 2\n", with: "    threshold: 2\n    roles: { risk-officer: 2, cro: 1 }\n")
        try f.write("Policies/desk.yaml", yaml)
        _ = try Ledger.initialize(workspace: f.root, policyPath: "\(f.root)/Policies/desk.yaml", book: try Book.load(path: "\(f.root)/book.json"), at: f.start)
        let ledger = try f.ledger()
        let id = try ledger.enqueue(try f.envelope(try f.layerProposal(), signedBy: ["tom", "alice", "bob"]), at: f.start).pending.id
        let report = try ledger.evaluate(id: id, at: f.start)
        #expect(report.counted == 2)
        #expect(!report.commitReady)
        try refused(f, "role minimum unmet") { try ledger.commit(id: id, at: f.start) }
        // carol (cro) makes it: alice and bob fill the risk-officer slots, carol the cro slot.
        _ = try ledger.sign(id: id, with: f.key("carol"), at: f.start)
        #expect(try ledger.commit(id: id, at: f.start).sequence == 1)
    }

    @Test("a revoked proposer, an outsider named as proposer, and a role not allowed to propose are refused")
    func proposers() throws {
        let f = try LedgerFixture(initialize: false)
        var yaml = f.policyYAML(version: 1, extra: "require-proposer-signature: false\nproposer-roles: [trader, risk-officer]")
        yaml = yaml.replacingOccurrences(of: "roles: [trader]\n", with: "roles: [trader]\n    revoked: true\n")
        try f.write("Policies/desk.yaml", yaml)
        _ = try Ledger.initialize(workspace: f.root, policyPath: "\(f.root)/Policies/desk.yaml", book: try Book.load(path: "\(f.root)/book.json"), at: f.start)
        // tom is revoked: his proposal is not queued, even with approvals.
        try refused(f, "tom is revoked") {
            try f.ledger().enqueue(try f.envelope(try f.layerProposal(proposer: "tom"), signedBy: ["tom", "alice", "carol"]), at: f.start)
        }
        // mallory (outside the policy) named as proposer, so that the real trader's signature would count.
        try refused(f, "is not a signer of policy") {
            try f.ledger().enqueue(try f.envelope(try f.layerProposal(proposer: "mallory"), signedBy: ["alice", "carol"]), at: f.start)
        }
        // carol (cro) holds no proposer role.
        try refused(f, "none of the proposer roles") {
            try f.ledger().enqueue(try f.envelope(try f.layerProposal(proposer: "carol"), signedBy: ["carol", "alice"]), at: f.start)
        }
    }

    // MARK: - 6. Double-sign protection belongs to the key

    @Test("the ledger refuses a key's second signature on another live proposal for the same entry")
    func doubleSignPerKey() throws {
        let f = try LedgerFixture()
        let ledger = try f.ledger()
        let a = try ledger.enqueue(try f.envelope(try f.layerProposal(layer: "short-term", expiresIn: 600), signedBy: ["tom"]), at: f.start).pending.id
        let b = try ledger.enqueue(try f.envelope(try f.layerProposal(layer: "event"), signedBy: ["tom"]), at: f.start).pending.id
        _ = try ledger.sign(id: a, with: f.key("limits"), at: f.start)
        // The same key from another state file, another process: refused by the ledger itself.
        #expect { try ledger.sign(id: b, with: f.key("limits"), at: f.start) } throws: {
            ($0 as? LedgerError)?.code == .duplicate && ($0 as? LedgerError)?.reason.contains("double-sign refused") == true
        }
        // Once the first has expired, the key may sign the other.
        #expect(throws: Never.self) { try ledger.sign(id: b, with: f.key("limits"), at: f.start.addingTimeInterval(700)) }
    }

    // MARK: - 8. Pinning

    @Test("a chain forged from a new genesis is refused by a party that pinned the ledger id")
    func forgedGenesis() throws {
        let f = try LedgerFixture()
        let id = try f.ledger().ledgerID()
        // The whole file replaced by another ledger made from the same policy and keys.
        let other = try LedgerFixture()
        try FileManager.default.removeItem(atPath: "\(f.root)/alvh.sqlite")
        try FileManager.default.copyItem(atPath: "\(other.root)/alvh.sqlite", toPath: "\(f.root)/alvh.sqlite")
        let ledger = try Ledger.open(workspace: f.root)
        ledger.pin(.init(ledgerID: id))
        #expect { try ledger.verified() } throws: { ($0 as? LedgerError)?.reason.contains("not the pinned") == true }
        // The CLI's auditor view too.
        let out = try Tools.run(Tools.alvh, ["ledger", "verify", "--workspace", f.root, "--expect-ledger-id", id])
        #expect(out.status != 0)
        #expect(out.stdout.contains("not the expected"))
    }

    @Test("a truncated ledger is refused by a party that verified it before")
    func truncated() throws {
        let f = try LedgerFixture()
        try f.commitLayer()
        try f.commitLayer(try f.layerProposal(kind: .resizeLayer, quantity: 2, at: f.start.addingTimeInterval(10)), at: f.start.addingTimeInterval(10))
        let ledger = try f.ledger()
        _ = try ledger.verified()
        let cut = try Tools.sqlite("\(f.root)/alvh.sqlite", Self.dropTriggers + "DELETE FROM entries WHERE seq = 2;")
        try #require(cut.status == 0, "\(cut.stderr)")
        #expect { try ledger.verified() } throws: { ($0 as? LedgerError)?.reason.contains("entries were removed") == true }
    }

    @Test("ledger verify checks that a policy change's declared version is its policy's")
    func declaredVersion() throws {
        let f = try LedgerFixture()
        let v2 = f.policyYAML(version: 2)
        let ledger = try f.ledger()
        let doc = try f.policyProposal(v2, version: 3) // declares 3, the YAML says 2
        let id = try ledger.enqueue(try f.envelope(doc, signedBy: ["tom", "alice", "bob", "carol", "limits"]), at: f.start).pending.id
        #expect { try ledger.commit(id: id, at: f.start) } throws: { ($0 as? LedgerError)?.reason.contains("declares policy version 3") == true }
    }

    // MARK: - 9. More of the same kind

    @Test("a quantity of Int.max is refused when the payload is read, before any arithmetic")
    func hugeQuantity() throws {
        let f = try LedgerFixture()
        var doc = try f.layerProposal()
        doc.change.layer!.legs[0].quantity = Int.max
        try refused(f, "quantity") { try f.ledger().enqueue(try f.envelope(doc, signedBy: ["tom"]), at: f.start) }
    }

    @Test("a payloadType canonically equivalent to the proposal type (U+037E for ';') is refused")
    func payloadTypeBytes() throws {
        let f = try LedgerFixture()
        let variant = PayloadTypes.proposal.replacingOccurrences(of: ";", with: "\u{037E}")
        #expect(variant == PayloadTypes.proposal) // Swift's String == says they are equal …
        #expect(!PayloadTypes.isProposal(variant)) // … the bytes differ
        var envelope = Envelope(payload: try f.layerProposal().encoded(), payloadType: variant)
        for name in ["tom", "alice", "carol"] { try envelope.addSignature(using: f.key(name)) }
        try refused(f, "wrong payloadType") { try f.ledger().enqueue(envelope, at: f.start) }
    }
}
