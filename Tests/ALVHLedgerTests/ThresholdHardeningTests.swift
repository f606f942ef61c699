import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHSigner
import ALVHTestSupport
@_spi(Testing) import ALVHStorageSQLite
@testable import ALVHLedger

/// The threshold against a hostile trader (his own key, `alvh import`), a hostile database writer
/// (sqlite3 on the ledger file) and hostile files: each attack of the hardening issue, end to end
/// against a real ledger, refused, with the head unmoved.
@Suite("Threshold hardening")
struct ThresholdHardeningTests {

    static let dropTriggers = "DROP TRIGGER IF EXISTS entries_append_only_update; DROP TRIGGER IF EXISTS entries_append_only_delete; "

    // MARK: - 2. The proposer does not pick the rule

    @Test("a buy claimed as $150 is refused, naming the claimed cost and the recomputed one")
    func falseCost() async throws {
        let f = try await LedgerFixture()
        var doc = try await f.layerProposal(quantity: 300)
        doc.costDollars = 150
        try await refused(f, "claimed costDollars 150 is not the recomputed") { try await f.commitLayer(doc) }
    }

    @Test("a limit price far from the snapshot's model mid is refused (the limits bot's cap read the trader's 0.01)")
    func limitOffModel() async throws {
        let f = try await LedgerFixture()
        var doc = try await f.layerProposal(quantity: 300)
        doc.change.layer!.legs[0].limitPrice = 0.01
        try await refused(f, "limit-price-tolerance") { try await f.commitLayer(doc) }
    }

    @Test("rules match on the recomputed gross premium: a roll whose net premium is small still needs the CRO")
    func rulesOnRecomputedSize() async throws {
        let f = try await LedgerFixture(initialize: false)
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
        _ = try await Ledger.initialize(workspace: f.root, policyPath: "\(f.root)/Policies/desk.yaml", book: try Book.load(path: "\(f.root)/book.json"), at: f.start)
        let ledger = try await f.ledger()
        let change = LayerChange(kind: .rollLayer, layer: "backstop", layerKind: .backstop, trades: [
            Trade(expiry: "2027-03-17", strike: 35, quantity: -20, price: sold),
            Trade(expiry: "2027-03-17", strike: 25, quantity: 20, price: bought)])
        let proposal = try Engine.manual(book: try await ledger.book(), change: change, market: f.market, note: "roll down")
        let context = try await ledger.context()
        let doc = ProposalBuilder.document(for: proposal, binding: LedgerBinding(ledgerID: context.ledgerID, base: context.head, sequence: context.nextSequence,
                                                                                   policyHash: try await ledger.policyInForce().hash),
                                           proposer: f.key("tom").keyID, market: f.market, snapshotBytes: f.snapshotBytes, created: f.start, lifetime: 3600)
        #expect(abs(doc.costDollars) < floor) // the claim alone (net) would not reach the rule
        let id = try await ledger.enqueue(try f.envelope(doc, signedBy: ["tom", "alice", "bob"]), at: f.start).pending.id
        let report = try await ledger.evaluate(id: id, at: f.start)
        #expect(report.assessedSize?.premiumDollars ?? 0 > floor)
        #expect(report.rules.contains("large"), "\(report.rules) at \(report.assessedSize?.premiumDollars ?? 0)")
        #expect(report.findings.contains(.roleMinimumUnmet(rule: "large", role: "cro", have: 0, need: 1)))
        try await refused(f, "role minimum unmet") { try await ledger.commit(id: id, at: f.start) }
    }

    @Test("alvh sign shows the recomputed figures and refuses a proposal whose claims are false")
    func signRefusesFalseClaims() async throws {
        let f = try await LedgerFixture()
        let ledger = try await f.ledger()
        let honest = try await ledger.enqueue(try f.envelope(try await f.layerProposal(), signedBy: ["tom"]), at: f.start).pending.id
        let review = try await ledger.signable(id: honest, by: f.key("alice"), at: f.start)
        #expect(review.recomputed?.market.vix.spot == f.market.vix.spot)
        #expect(review.recomputed.map { abs($0.costDollars - review.document.costDollars) < 0.01 } == true)
    }

    @Test("alvh sign FILE (the air-gapped path) recomputes too: false figures are refused, honest ones shown recomputed")
    func signFileRecomputes() async throws {
        let f = try await LedgerFixture()
        var lying = try await f.layerProposal(quantity: 300)
        lying.costDollars = 150
        let lyingFile = "\(f.root)/lying.json"
        try f.envelope(lying, signedBy: ["tom"]).write(to: lyingFile)
        let refused = try Tools.run(Tools.alvh, ["sign", lyingFile, "--yes", "--key", "\(f.root)/Keys/private/alice.key.pem", "--workspace", f.root])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("claimed costDollars 150"), "\(refused.stderr)")
        #expect(try Envelope.load(path: lyingFile).signatures.count == 1) // nothing was written
        let honestFile = "\(f.root)/honest.json"
        try f.envelope(try await f.layerProposal(at: Date()), signedBy: ["tom"]).write(to: honestFile)
        let signed = try Tools.run(Tools.alvh, ["sign", honestFile, "--yes", "--key", "\(f.root)/Keys/private/alice.key.pem", "--workspace", f.root])
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(signed.stderr.contains("Recomputed from the signed legs"))
        #expect(try Envelope.load(path: honestFile).signatures.count == 2)
    }

    // MARK: - 3. Vetoes and unauthenticated queue writes

    @Test("unsigned junk rejections are not stored, so they cannot crowd out the CRO's real veto")
    func junkRejections() async throws {
        let f = try await LedgerFixture()
        let ledger = try await f.ledger()
        let id = try await ledger.enqueue(try f.envelope(try await f.layerProposal(), signedBy: ["tom", "alice", "carol"]), at: f.start).pending.id
        for index in 0..<64 {
            let junk = Envelope(payload: Array("junk \(index)".utf8), payloadType: PayloadTypes.rejection, signatures: [])
            await #expect(throws: LedgerError.self) { try await ledger.addRejection(junk, to: id, at: f.start) }
        }
        #expect(try await ledger.rejections(id: id).isEmpty)
        let veto = try RejectionDocument.signedEnvelope(rejecting: id, reason: "over limit", key: f.key("limits"), at: f.start)
        #expect(try await ledger.addRejection(veto, to: id, at: f.start))
        #expect(try await ledger.pending().first { $0.id == id }?.status == .vetoed)
        try await refused(f, "vetoed by limits") { try await ledger.commit(id: id, at: f.start) }
    }

    @Test("junk signatures are not stored and fill no slot: honest signers still get in")
    func junkSignatures() async throws {
        let f = try await LedgerFixture()
        let ledger = try await f.ledger()
        let id = try await ledger.enqueue(try f.envelope(try await f.layerProposal(), signedBy: ["tom"]), at: f.start).pending.id
        for index in 0..<70 {
            await #expect(throws: LedgerError.self) {
                try await ledger.addSignature(.init(keyid: nil, sig: Array(repeating: UInt8(index), count: 64)), to: id, at: f.start)
            }
        }
        _ = try await ledger.sign(id: id, with: f.key("alice"), at: f.start)
        _ = try await ledger.sign(id: id, with: f.key("carol"), at: f.start)
        #expect(try await ledger.commit(id: id, at: f.start).sequence == 1)
    }

    @Test("every entry records the slot's signed rejections; an entry committing a vetoed proposal does not verify")
    func vetoInHistory() async throws {
        let f = try await LedgerFixture()
        let ledger = try await f.ledger()
        let id = try await ledger.enqueue(try f.envelope(try await f.layerProposal(), signedBy: ["tom", "alice", "carol"]), at: f.start).pending.id
        let veto = try RejectionDocument.signedEnvelope(rejecting: id, reason: "over limit", key: f.key("limits"), at: f.start)
        try await ledger.addRejection(veto, to: id, at: f.start)
        // A database writer erases the veto and resets the status …
        let erase = try Tools.sqlite("\(f.root)/alvh.sqlite", "DELETE FROM rejections; UPDATE pending SET status = 'pending';")
        try #require(erase.status == 0, "\(erase.stderr)")
        // … then forges the entry with the committer's key, attaching the veto it hid (as an honest
        // committer that saw it would): verification names the veto.
        try await f.forceFirstEntry(try await ledger.envelope(id: id), attachments: EntryAttachments(rejections: [veto]))
        let report = try await f.verify()
        #expect(!report.ok)
        #expect(report.firstBad?.sequence == 1)
        #expect(report.firstBad?.problem.contains("vetoed by limits") == true, "\(report.firstBad?.problem ?? "")")
    }

    @Test("rows appended with sqlite3 and no committer key are refused by ledger verify")
    func appendedWithoutCommitter() async throws {
        let f = try await LedgerFixture()
        try await f.commitLayer()
        let ledger = try await f.ledger()
        let head = try await ledger.head()
        // A well-formed entry (links, hash) with a signature by a key the policy does not list as committer.
        let doc = try await f.layerProposal(kind: .resizeLayer, quantity: 1)
        let envelope = try f.envelope(doc, signedBy: ["tom", "alice", "carol"])
        var entry = LedgerEntry(sequence: head.sequence + 1, previousHash: head.hash, kind: .layerChange, envelope: try envelope.encoded(),
                                attachments: try EntryAttachments().encoded(),
                                policyHash: try await ledger.policyInForce().hash, committedAt: RFC3339.format(f.start))
        entry.committerSignature = try f.key("mallory").signature(for: entry.signingMessage)
        try await (ledger.storage as! SQLiteLedgerStorage).rawInsert([entry.stored], book: nil)
        let report = try await f.verify()
        #expect(report.firstBad?.sequence == 2)
        #expect(report.firstBad?.problem.contains("not signed by a committer") == true)
        // A process that verified before refuses to build on it.
        await #expect(throws: LedgerError.self) { try await ledger.verified() }
    }

    @Test("a snapshot is kept once, content-addressed; a database writer who swaps its bytes is named by verification")
    func swappedSnapshot() async throws {
        let f = try await LedgerFixture()
        let hash = SHA256.hexDigest(f.snapshotBytes)
        // Genesis keeps the policy text and its key files as blobs too: count what the commits add.
        func count(_ sql: String) throws -> String {
            try Tools.sqlite("\(f.root)/alvh.sqlite", sql).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let atGenesis = try #require(Int(try count("SELECT COUNT(*) FROM blobs;")))
        try await f.commitLayer()
        try await f.commitLayer(try await f.layerProposal(kind: .resizeLayer, quantity: 2, at: f.start.addingTimeInterval(10)), at: f.start.addingTimeInterval(10))
        #expect(try count("SELECT COUNT(*) FROM blobs;") == "\(atGenesis + 1)") // two commits citing one snapshot: one blob
        #expect(try count("SELECT COUNT(*) FROM blobs WHERE hash = '\(hash)';") == "1")
        #expect(try await f.verify().ok)
        let swap = try Tools.sqlite("\(f.root)/alvh.sqlite",
                                    "DROP TRIGGER blobs_append_only_update; UPDATE blobs SET bytes = CAST(replace(CAST(bytes AS TEXT), '13.6', '38.5') AS BLOB) WHERE hash = '\(hash)';")
        try #require(swap.status == 0, "\(swap.stderr)")
        let report = try await f.verify()
        #expect(!report.ok)
        #expect(report.firstBad?.sequence == 1)
        #expect(report.firstBad?.problem.contains("does not hash to its name") == true, "\(report.firstBad?.problem ?? "")")
    }

    // MARK: - 4. Validity windows

    @Test("a proposal created 10 years ahead (or with notBefore before created) is not queued")
    func futureCreated() async throws {
        let f = try await LedgerFixture()
        let future = f.start.addingTimeInterval(10 * 365 * 86400)
        var doc = try await f.layerProposal(at: future, expiresIn: 3600)
        doc.notBefore = RFC3339.format(f.start)
        try await refused(f, "is not now") { try await f.ledger().enqueue(try f.envelope(doc, signedBy: ["tom", "limits"]), at: f.start) }
        var early = try await f.layerProposal()
        early.notBefore = RFC3339.format(f.start.addingTimeInterval(-60))
        try await refused(f, "notBefore") { try await f.ledger().enqueue(try f.envelope(early, signedBy: ["tom"]), at: f.start) }
    }

    @Test("a signer never exits on one bad proposal: a proposal that cannot be applied is skipped and the next one signed")
    func signerSkipsBadProposal() async throws {
        let f = try await LedgerFixture()
        let ledger = try await f.ledger()
        _ = try await ledger.enqueue(try f.envelope(try await f.layerProposal(), signedBy: ["tom"]), at: f.start)
        let state = try SignerState.open(path: "\(f.root)/alice.state.json", keyID: f.key("alice").keyID)
        let signer = try await SignerProcess(workspace: f.root, key: f.key("alice"), limits: .none, state: state, logger: .init(label: "test"))
        #expect(try await signer.pass(at: { f.start.addingTimeInterval(5) }) == 1)
    }

    // MARK: - 5. Roles and proposers

    @Test("one signature fills one role slot: alice holding risk-officer and cro plus bob do not meet {risk-officer: 2, cro: 1}")
    func roleOverlap() async throws {
        let f = try await LedgerFixture(initialize: false)
        var yaml = f.policyYAML(version: 1)
        yaml = yaml.replacingOccurrences(of: "roles: [risk-officer]\n  - id: bob", with: "roles: [risk-officer, cro]\n  - id: bob")
        yaml = yaml.replacingOccurrences(of: "    threshold: 2\n", with: "    threshold: 2\n    roles: { risk-officer: 2, cro: 1 }\n")
        try f.write("Policies/desk.yaml", yaml)
        _ = try await Ledger.initialize(workspace: f.root, policyPath: "\(f.root)/Policies/desk.yaml", book: try Book.load(path: "\(f.root)/book.json"), at: f.start)
        let ledger = try await f.ledger()
        let id = try await ledger.enqueue(try f.envelope(try await f.layerProposal(), signedBy: ["tom", "alice", "bob"]), at: f.start).pending.id
        let report = try await ledger.evaluate(id: id, at: f.start)
        #expect(report.counted == 2)
        #expect(!report.commitReady)
        try await refused(f, "role minimum unmet") { try await ledger.commit(id: id, at: f.start) }
        // carol (cro) makes it: alice and bob fill the risk-officer slots, carol the cro slot.
        _ = try await ledger.sign(id: id, with: f.key("carol"), at: f.start)
        #expect(try await ledger.commit(id: id, at: f.start).sequence == 1)
    }

    @Test("a revoked proposer, an outsider named as proposer, and a role not allowed to propose are refused")
    func proposers() async throws {
        let f = try await LedgerFixture(initialize: false)
        var yaml = f.policyYAML(version: 1, extra: "require-proposer-signature: false\nproposer-roles: [trader, risk-officer]")
        yaml = yaml.replacingOccurrences(of: "roles: [trader]\n", with: "roles: [trader]\n    revoked: true\n")
        try f.write("Policies/desk.yaml", yaml)
        _ = try await Ledger.initialize(workspace: f.root, policyPath: "\(f.root)/Policies/desk.yaml", book: try Book.load(path: "\(f.root)/book.json"), at: f.start)
        // tom is revoked: his proposal is not queued, even with approvals.
        try await refused(f, "tom is revoked") {
            try await f.ledger().enqueue(try f.envelope(try await f.layerProposal(proposer: "tom"), signedBy: ["tom", "alice", "carol"]), at: f.start)
        }
        // mallory (outside the policy) named as proposer, so that the real trader's signature would count.
        try await refused(f, "is not a signer of policy") {
            try await f.ledger().enqueue(try f.envelope(try await f.layerProposal(proposer: "mallory"), signedBy: ["alice", "carol"]), at: f.start)
        }
        // carol (cro) holds no proposer role.
        try await refused(f, "none of the proposer roles") {
            try await f.ledger().enqueue(try f.envelope(try await f.layerProposal(proposer: "carol"), signedBy: ["carol", "alice"]), at: f.start)
        }
    }

    // MARK: - 6. Double-sign protection belongs to the key

    @Test("the ledger refuses a key's second signature on another live proposal for the same entry")
    func doubleSignPerKey() async throws {
        let f = try await LedgerFixture()
        let ledger = try await f.ledger()
        let a = try await ledger.enqueue(try f.envelope(try await f.layerProposal(layer: "short-term", expiresIn: 600), signedBy: ["tom"]), at: f.start).pending.id
        let b = try await ledger.enqueue(try f.envelope(try await f.layerProposal(layer: "event"), signedBy: ["tom"]), at: f.start).pending.id
        _ = try await ledger.sign(id: a, with: f.key("limits"), at: f.start)
        // The same key from another state file, another process: refused by the ledger itself.
        await #expect { try await ledger.sign(id: b, with: f.key("limits"), at: f.start) } throws: {
            ($0 as? LedgerError)?.code == .duplicate && ($0 as? LedgerError)?.reason.contains("double-sign refused") == true
        }
        // Once the first has expired, the key may sign the other.
        await #expect(throws: Never.self) { try await ledger.sign(id: b, with: f.key("limits"), at: f.start.addingTimeInterval(700)) }
    }

    // MARK: - 8. Pinning

    @Test("a chain forged from a new genesis is refused by a party that pinned the ledger id")
    func forgedGenesis() async throws {
        let f = try await LedgerFixture()
        let id = try await f.ledger().ledgerID()
        // The whole file replaced by another ledger made from the same policy and keys.
        let other = try await LedgerFixture()
        try FileManager.default.removeItem(atPath: "\(f.root)/alvh.sqlite")
        try FileManager.default.copyItem(atPath: "\(other.root)/alvh.sqlite", toPath: "\(f.root)/alvh.sqlite")
        let ledger = try await Ledger.open(workspace: f.root)
        ledger.pin(.init(ledgerID: id))
        await #expect { try await ledger.verified() } throws: { ($0 as? LedgerError)?.reason.contains("not the pinned") == true }
        // The CLI's auditor view too.
        let out = try Tools.run(Tools.alvh, ["ledger", "verify", "--workspace", f.root, "--expect-ledger-id", id])
        #expect(out.status != 0)
        #expect(out.stdout.contains("not the expected"))
    }

    @Test("a truncated ledger is refused by a party that verified it before")
    func truncated() async throws {
        let f = try await LedgerFixture()
        try await f.commitLayer()
        try await f.commitLayer(try await f.layerProposal(kind: .resizeLayer, quantity: 2, at: f.start.addingTimeInterval(10)), at: f.start.addingTimeInterval(10))
        let ledger = try await f.ledger()
        _ = try await ledger.verified()
        let cut = try Tools.sqlite("\(f.root)/alvh.sqlite", Self.dropTriggers + "DELETE FROM entries WHERE seq = 2;")
        try #require(cut.status == 0, "\(cut.stderr)")
        await #expect { try await ledger.verified() } throws: { ($0 as? LedgerError)?.reason.contains("entries were removed") == true }
    }

    @Test("ledger verify checks that a policy change's declared version is its policy's")
    func declaredVersion() async throws {
        let f = try await LedgerFixture()
        let v2 = f.policyYAML(version: 2)
        let ledger = try await f.ledger()
        let doc = try await f.policyProposal(v2, version: 3) // declares 3, the YAML says 2
        let id = try await ledger.enqueue(try f.envelope(doc, signedBy: ["tom", "alice", "bob", "carol", "limits"]), at: f.start).pending.id
        await #expect { try await ledger.commit(id: id, at: f.start) } throws: { ($0 as? LedgerError)?.reason.contains("declares policy version 3") == true }
    }

    // MARK: - 9. More of the same kind

    @Test("a quantity of Int.max is refused when the payload is read, before any arithmetic")
    func hugeQuantity() async throws {
        let f = try await LedgerFixture()
        var doc = try await f.layerProposal()
        doc.change.layer!.legs[0].quantity = Int.max
        try await refused(f, "quantity") { try await f.ledger().enqueue(try f.envelope(doc, signedBy: ["tom"]), at: f.start) }
    }

    @Test("a payloadType canonically equivalent to the proposal type (U+037E for ';') is refused")
    func payloadTypeBytes() async throws {
        let f = try await LedgerFixture()
        let variant = PayloadTypes.proposal.replacingOccurrences(of: ";", with: "\u{037E}")
        #expect(variant == PayloadTypes.proposal) // Swift's String == says they are equal …
        #expect(!PayloadTypes.isProposal(variant)) // … the bytes differ
        var envelope = Envelope(payload: try await f.layerProposal().encoded(), payloadType: variant)
        for name in ["tom", "alice", "carol"] { try envelope.addSignature(using: f.key(name)) }
        try await refused(f, "wrong payloadType") { try await f.ledger().enqueue(envelope, at: f.start) }
    }
}
