import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHSigner
import ALVHTestSupport

/// The faults the signer set must survive, with real `alvh signer run` and `alvh coordinator run`
/// processes sharing one SQLite ledger.
@Suite("Signer processes", .serialized)
struct SignerProcessTests {
    /// A signer on another host: a folder holding only its own key (no workspace, no policy, no
    /// snapshots) and the ledger's URL. It verifies the ledger from genesis, reads the policy and
    /// the cited snapshot from the ledger, recomputes and signs — and the workspace's snapshot
    /// files, removed first, were never needed.
    @Test("a signer with only its key and the ledger URL verifies, recomputes and signs")
    func loneSignerWithTheLedgerURL() async throws {
        let fixture = try await SignerFixture()
        let id = try await fixture.queue()
        try? FileManager.default.removeItem(atPath: "\(fixture.root)/snapshots")
        var template = Array("/tmp/alvh-lone-XXXXXX".utf8CString)
        let lone = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: lone) }
        try FileManager.default.copyItem(atPath: fixture.keyPath("s1"), toPath: "\(lone)/s1.key.pem")
        let run = try TestProcess.run(TestProcess.alvh, ["signer", "run", "--once", "--json", "--workspace", lone,
                                                         "--ledger", "sqlite:\(fixture.root)/alvh.sqlite",
                                                         "--key", "\(lone)/s1.key.pem", "--state", "\(lone)/s1.state.json"], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.text.contains(#""posted" : 1"#), "\(run.text)\n\(run.stderr)")
        let signers = try await fixture.ledger().evaluate(id: id, at: Date()).signatures.compactMap(\.signer)
        #expect(signers.contains("s1"), "\(signers)")
        let written = Set(try FileManager.default.contentsOfDirectory(atPath: lone))
        #expect(written == ["s1.key.pem", "s1.state.json", "s1.state.json.lock", "s1.state.json.checkpoint"],
                "it wrote only its record, the record's lock and the checkpoint it cosigned: \(written)")
    }

    /// Double-sign protection across proposals for one entry: a signer that signed one proposal for
    /// an entry refuses a rival for the same entry while the first stands, and signs it once a veto
    /// role's signed rejection (verified here) has killed the first.
    @Test("a rival for an entry already signed is refused while the first stands, signed once the first is vetoed")
    func rivalSignedOnlyAfterVeto() async throws {
        let fixture = try await SignerFixture()
        let first = try await fixture.queue(change: try fixture.buyShortTerm(2, add: true))
        let s1 = try #require(fixture.keys["s1"])
        let state = try SignerState.open(path: "\(fixture.root)/s1.state.json", keyID: s1.keyID)
        let signer = try await SignerProcess(workspace: fixture.root, key: s1, limits: .none, state: state, logger: .init(label: "test"))
        #expect(try await signer.pass() == 1, "signs the first")
        let rival = try await fixture.queue(change: try fixture.buyShortTerm(3, add: true))
        #expect(try await signer.pass() == 0, "the first still stands: no second signature for entry 1")
        let veto = try RejectionDocument.signedEnvelope(rejecting: first, reason: "over the bot's limit", key: try #require(fixture.keys["lim"]), at: Date())
        #expect(try await fixture.ledger().addRejection(veto, to: first, at: Date()))
        #expect(try await fixture.status(first) == .vetoed)
        #expect(try await signer.pass() == 1, "the first is dead: the rival is signed")
        let report = try await fixture.ledger().evaluate(id: rival, at: Date())
        #expect(report.signatures.compactMap(\.signer).contains("s1"))
    }

    /// Every signer process is a witness: after verifying a new head it cosigns that tree
    /// (tlog-cosignature v1) and writes the note beside its record; the committer's checkpoint
    /// with those cosignatures attached passes `ledger verify --checkpoint --witnesses 3`.
    @Test("running signers cosign each tree they verify; their notes, attached to the committer's checkpoint, make the witnesses an auditor counts")
    func signersWitness() async throws {
        let fixture = try await SignerFixture()
        for name in ["s1", "s2", "s3"] { try fixture.startSigner(name) }
        try fixture.startCoordinator()
        _ = try await fixture.queue()
        #expect(try await TestProcess.eventually(seconds: 30) { try await fixture.headSequence() == 1 }, "not committed; coordinator log:\n\(fixture.log("coordinator"))")
        let files = ["s1", "s2", "s3"].map { "\(fixture.keyPath($0)).state.json.checkpoint" }
        // Each signer cosigns the tree of 2 once it has verified entry 1.
        #expect(try await TestProcess.eventually(seconds: 30) {
            files.allSatisfy { ((try? String(contentsOfFile: $0, encoding: .utf8)) ?? "").contains("\n2\n") }
        }, "signers did not cosign the tree of 2: \(fixture.log("s1"))")
        fixture.stopAll()
        let ws = fixture.root
        var out = try TestProcess.run(TestProcess.alvh, ["ledger", "checkpoint", "--workspace", ws, "--committer-key", fixture.keyPath("committer"),
                                                         "-o", "\(ws)/cp.txt"] + files.flatMap { ["--cosigned", $0] })
        #expect(out.status == 0, "\(out.stderr)")
        out = try TestProcess.run(TestProcess.alvh, ["ledger", "verify", "--workspace", ws, "--checkpoint", "\(ws)/cp.txt", "--witnesses", "3"])
        #expect(out.status == 0 && out.text.contains("cosigned by 3 witnesses"), "\(out.text)\(out.stderr)")
        let state = try SignerState.open(path: "\(fixture.keyPath("s1")).state.json", keyID: try #require(fixture.keys["s1"]).keyID)
        #expect(state.witnessed?.size == 2)
    }

    @Test("2 of 5 signers down: 3-of-5 still commits, counted exactly the three who ran")
    func twoDown() async throws {
        let fixture = try await SignerFixture()
        for name in ["s1", "s2", "s3"] { try fixture.startSigner(name) }
        try fixture.startCoordinator()
        let id = try await fixture.queue()
        #expect(try await TestProcess.eventually(seconds: 30) { try await fixture.headSequence() == 1 }, "not committed; coordinator log:\n\(fixture.log("coordinator"))")
        fixture.stopAll()
        let (counted, _) = try await fixture.countedSigners(entry: 1)
        #expect(counted == ["s1", "s2", "s3"])
        #expect(try await fixture.status(id) == nil) // left the queue
        #expect(fixture.log("coordinator").contains("committed"))
    }

    @Test("3 of 5 down: the proposal stays pending, then expires with a clear status, and nothing is committed")
    func threeDown() async throws {
        let fixture = try await SignerFixture()
        for name in ["s1", "s2"] { try fixture.startSigner(name) }
        try fixture.startCoordinator()
        let id = try await fixture.queue(lifetime: 7)
        #expect(try await TestProcess.eventually(seconds: 20) { try await fixture.status(id) == .expired })
        fixture.stopAll()
        #expect(try await fixture.headSequence() == 0)
        let pending = try await fixture.ledger().pending().first { $0.id == id }
        #expect(pending?.signatureCount == 3) // trader + s1 + s2
        let listed = try TestProcess.run(TestProcess.alvh, ["pending", "--workspace", fixture.root])
        #expect(listed.text.contains(String(id.prefix(16))) && listed.text.contains("expired"))
        #expect(fixture.log("coordinator").contains("expired"))
        // A late signer does not sign an expired proposal.
        let late = try fixture.signOnce("s3")
        #expect(late.status == 0)
        #expect(try await fixture.ledger().pending().first { $0.id == id }?.signatureCount == 3)
    }

    @Test("a misbehaving signer's corrupt signature, signature over another payload, and forged keyid are not even stored; the honest three decide")
    func misbehaving() async throws {
        let fixture = try await SignerFixture()
        let id = try await fixture.queue()
        let ledger = try await fixture.ledger()
        let envelope = try await ledger.envelope(id: id)
        let s4 = fixture.keys["s4"]!, mallory = fixture.keys["mallory"]!, s1 = fixture.keys["s1"]!
        // (a) s4's signature with a flipped byte.
        var corrupt = try s4.signature(for: envelope.pae)
        corrupt[corrupt.count / 2] ^= 0x40
        await #expect(throws: LedgerError.self) { try await ledger.addSignature(.init(keyid: s4.keyID.hex, sig: corrupt), to: id, at: Date()) }
        // (b) s4's valid signature, but over a different payload.
        var other = envelope
        other.payload[other.payload.count - 2] ^= 1
        await #expect(throws: LedgerError.self) { try await ledger.addSignature(.init(keyid: s4.keyID.hex, sig: try s4.signature(for: other.pae)), to: id, at: Date()) }
        // (c) mallory (outside the policy) signs the right bytes and names s1 as the signer.
        await #expect(throws: LedgerError.self) { try await ledger.addSignature(.init(keyid: s1.keyID.hex, sig: try mallory.signature(for: envelope.pae)), to: id, at: Date()) }

        let before = try await ledger.evaluate(id: id, at: Date())
        #expect(before.counted == 0 && !before.commitReady)
        #expect(before.signatures.count == 1) // the trader's only

        for name in ["s1", "s2"] { try fixture.startSigner(name) }
        try fixture.startCoordinator()
        #expect(try await TestProcess.eventually(seconds: 20) { try await fixture.ledger().evaluate(id: id, at: Date()).counted == 2 })
        #expect(try await fixture.headSequence() == 0) // 2 honest + 3 bad is not 3
        try fixture.startSigner("s3")
        #expect(try await TestProcess.eventually(seconds: 30) { try await fixture.headSequence() == 1 })
        fixture.stopAll()
        let (counted, report) = try await fixture.countedSigners(entry: 1)
        #expect(counted == ["s1", "s2", "s3"])
        // None of the three bad signatures reached the committed envelope.
        #expect(report.signatures.allSatisfy { $0.status == .counted || $0.status == .proposer })
    }

    @Test("a restarted signer neither signs twice nor skips, re-posts a lost signature, refuses a second payload for the slot")
    func restart() async throws {
        let fixture = try await SignerFixture()
        let first = try await fixture.queue()
        let s1 = fixture.keys["s1"]!
        func mine(_ id: String) async throws -> Int {
            let envelope = try await fixture.ledger().envelope(id: id)
            return envelope.signatures.filter { s1.publicKey.isValidSignature($0.sig, for: envelope.pae) }.count
        }
        // Queued while the signer was down: decided on its first pass.
        #expect(try fixture.signOnce("s1").status == 0)
        #expect(try await mine(first) == 1)
        // Restarted: nothing new.
        #expect(try fixture.signOnce("s1").status == 0)
        #expect(try await mine(first) == 1)
        // A crash lost the post after the decision was recorded: the same decision is posted again.
        let database = "\(fixture.root)/alvh.sqlite"
        let deleted = try TestProcess.run("/usr/bin/sqlite3", [database, "DELETE FROM signatures WHERE pending_id = '\(first)' AND keyid = '\(s1.keyID.hex)'; SELECT changes();"])
        #expect(deleted.text.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try await mine(first) == 0)
        let again = try fixture.signOnce("s1")
        #expect(again.stderr.contains("re-posted"))
        #expect(try await mine(first) == 1)
        // A different payload for the same ledger slot, while the first is live: refused.
        let second = try await fixture.queue(lifetime: 1800)
        let refused = try fixture.signOnce("s1")
        #expect(refused.stderr.contains("double-sign protection"))
        #expect(try await mine(second) == 0)
        // Two processes with one key: the second is refused while the first runs; SIGTERM exits 0.
        let running = try fixture.startSigner("s1")
        #expect(TestProcess.waitUntil(seconds: 10) { fixture.log("s1").contains("signer started") })
        let twin = try fixture.signOnce("s1")
        #expect(twin.status == 1 && twin.stderr.contains("[state-locked]"))
        running.terminate()
        running.waitUntilExit()
        #expect(running.terminationStatus == 0)
        #expect(fixture.log("s1").contains("signer stopped"))
    }

    @Test("--once --json: each signer reports what it posted, the coordinator what it committed")
    func onceJSON() async throws {
        let fixture = try await SignerFixture()
        try await fixture.queue()
        for name in ["s1", "s2", "s3"] {
            let out = try TestProcess.run(TestProcess.alvh, ["signer", "run", "--once", "--json", "--key", fixture.keyPath(name), "--workspace", fixture.root])
            let summary = try JSONSerialization.jsonObject(with: Data(out.stdout)) as? [String: Any]
            #expect(summary?["posted"] as? Int == 1 && summary?["keyID"] as? String == fixture.keys[name]!.keyID.hex)
        }
        let out = try TestProcess.run(TestProcess.alvh, ["coordinator", "run", "--once", "--json", "--workspace", fixture.root, "--committer-key", fixture.keyPath("committer")])
        let result = try JSONSerialization.jsonObject(with: Data(out.stdout)) as? [String: Any]
        #expect(result?["committed"] as? [Int] == [1])
        #expect(try await fixture.headSequence() == 1)
    }

    @Test("two coordinators racing: every proposal committed exactly once")
    func racingCoordinators() async throws {
        let fixture = try await SignerFixture()
        for name in ["s1", "s2", "s3", "s4"] { try fixture.startSigner(name) }
        try fixture.startCoordinator("coordinator-a")
        try fixture.startCoordinator("coordinator-b")
        let rounds = 5
        for round in 0..<rounds {
            try await fixture.queue(change: try fixture.buyShortTerm(10 + round, add: round == 0))
            #expect(try await TestProcess.eventually(seconds: 30) { try await fixture.headSequence() == UInt64(round + 1) }, "round \(round) not committed")
        }
        fixture.stopAll()
        let commits = (fixture.log("coordinator-a") + fixture.log("coordinator-b")).components(separatedBy: "\n").filter { $0.hasSuffix(" committed") }
        #expect(commits.count == rounds)
        var source = StorageEntrySource(ledger: try await fixture.ledger())
        let report = try await LedgerVerifier(jobs: 1).verify(&source, materializedBook: try await fixture.ledger().materializedBook())
        #expect(report.ok && report.entries == rounds + 1)
        #expect(try await fixture.ledger().book().layer(named: "short-term")?.positions.first?.quantity == (0..<rounds).reduce(0) { $0 + 10 + $1 })
    }

    @Test("a proposal whose risk figures were altered after computing is not even queued; the mismatch is named")
    func tamperedRisk() async throws {
        let fixture = try await SignerFixture()
        await #expect { try await fixture.queue { doc in doc.riskAfter!.stressPnL["covid-2020"]! += 25_000 } } throws: {
            "\($0)".contains("riskAfter.stressPnL.covid-2020") && "\($0)".contains("not the recomputed")
        }
        #expect(try await fixture.ledger().pending().isEmpty)
        // A cost that does not match the legs' prices is caught too, and so is a false gamma.
        await #expect { try await fixture.queue { doc in doc.costDollars -= 100 } } throws: { "\($0)".contains("claimed costDollars") }
        await #expect { try await fixture.queue { doc in doc.riskAfter!.total.gamma += 1 } } throws: { "\($0)".contains("riskAfter.total.gamma") }
    }

    @Test("the limits bot's veto blocks a proposal the risk officers signed; the coordinator marks it vetoed")
    func limitsVeto() async throws {
        let fixture = try await SignerFixture()
        let id = try await fixture.queue(change: try fixture.buyShortTerm(500, add: true))
        // The three risk officers sign first (no coordinator yet, so nothing commits on their three).
        for name in ["s1", "s2", "s3"] { #expect(try fixture.signOnce(name).status == 0) }
        #expect(try await fixture.ledger().evaluate(id: id, at: Date()).counted == 3)
        let vetoed = try TestProcess.run(TestProcess.alvh, ["signer", "run", "--once", "--key", fixture.keyPath("lim"), "--workspace", fixture.root,
                                                            "--limits", try limitsFile(fixture, "max-premium-per-change-dollars: 1000\n")])
        #expect(vetoed.stderr.contains("over this signer's per-change limit"))
        try fixture.startCoordinator()
        #expect(try await TestProcess.eventually(seconds: 20) { try await fixture.status(id) == .vetoed })
        fixture.stopAll()
        #expect(try await fixture.headSequence() == 0)
        let commit = try TestProcess.run(TestProcess.alvh, ["commit", String(id.prefix(16)), "--workspace", fixture.root, "--committer-key", fixture.keyPath("committer")])
        #expect(commit.status == 1 && commit.stderr.contains("vetoed by lim"))
    }

    @Test("alvh demo --local: the one-workspace walk (every process opens the ledger file)")
    func localDemo() throws {
        var template = Array("/tmp/alvh-demo-test-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let run = try TestProcess.run(TestProcess.alvh, ["demo", "--local", "--workspace", root])
        #expect(run.status == 0, "demo failed: \(run.stderr)")
        #expect(run.text.contains("replayed book matches") && !run.text.contains("alvh serve"), "\(run.text)")
        for layout in ["Keys/private/ro-alice.key.pem", "limits/limits-bot.yaml", "limits/market/calm.json", "alvh.sqlite"] {
            #expect(FileManager.default.fileExists(atPath: "\(root)/\(layout)"), "missing \(layout)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(root)/signers"))
    }

    @Test("alvh demo: runs the whole story unattended across the network and leaves a workspace the other commands work on")
    func demo() throws {
        var template = Array("/tmp/alvh-demo-test-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let run = try TestProcess.run(TestProcess.alvh, ["demo", "--workspace", root])
        #expect(run.status == 0, "demo failed: \(run.stderr)")
        let text = run.text
        for expected in ["add-layer short-term", "add-layer backstop", "add-layer event", "take-profit", "roll-layer", "vetoed by limits-bot",
                         "killed with SIGKILL", "committed as entry", "OK: ", "replayed book matches"] {
            #expect(text.contains(expected), "demo output lacks '\(expected)'")
        }
        #expect(!text.contains("exited with status 1"))
        #expect(text.contains("the service killed with SIGKILL") && text.contains("the service restarted"), "\(text)")
        #expect(text.contains("nothing lost: the "), "\(text)")
        for layout in ["Keys/ro-alice.pub.pem", "Policies/desk.yaml", "alvh.sqlite", "market/calm.json", "logs/limits-bot.log", "logs/service.log",
                       "tls/ca.pem", "tls/server.pem", "signers/ro-alice/ro-alice.key.pem", "signers/ro-alice/tls/client.pem",
                       "signers/ro-alice/ro-alice.key.pem.state.json", "signers/limits-bot/limits.yaml", "coordinator/committer.key.pem",
                       "coordinator/tls/client.key.pem"] {
            #expect(FileManager.default.fileExists(atPath: "\(root)/\(layout)"), "missing \(layout)")
        }
        // Each signer's private key is in its own folder only; the workspace keeps the trader's (the demo proposes).
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(root)/Keys/private").filter { $0.hasSuffix(".key.pem") } == ["trader-tom.key.pem"])
        // A signer's folder holds its key, its state, the checkpoint it cosigned and its TLS identity, nothing of the desk's.
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: "\(root)/signers/ro-alice"))
                    .isSubset(of: ["ro-alice.key.pem", "ro-alice.key.pem.state.json", "ro-alice.key.pem.state.json.lock",
                                   "ro-alice.key.pem.state.json.checkpoint", "tls"]))
        let verify = try TestProcess.run(TestProcess.alvh, ["--workspace", root, "ledger", "verify"])
        #expect(verify.status == 0)
        let book = try TestProcess.run(TestProcess.alvh, ["--workspace", root, "book"])
        #expect(book.status == 0 && book.text.contains("short-term"))
        // The demo holds back a buy that would take the hedges over the stress cap, and says so.
        #expect(text.contains("held —"), "demo output lacks a held rule")
        // The demo's final book within the stress cap: in every named stress, the hedge layers (every
        // layer but the condor) make at most max-hedge-stress-multiple (2) × the condor's max loss.
        let bookJSON = try TestProcess.run(TestProcess.alvh, ["--workspace", root, "book", "--json"])
        try #require(bookJSON.status == 0, "\(bookJSON.stderr)")
        struct Condor: Decodable { var longPut, shortPut, shortCall, longCall, creditPerUnit: Double; var quantity: Int }
        struct BookFile: Decodable { var condor: Condor }
        let condor = try JSONDecoder().decode(BookFile.self, from: Data(bookJSON.stdout)).condor
        let width = max(condor.shortPut - condor.longPut, condor.longCall - condor.shortCall)
        let condorMaxLoss = (width - condor.creditPerUnit) * 100 * Double(condor.quantity)
        #expect(abs(condorMaxLoss - 156_600) < 0.01, "condor max loss \(condorMaxLoss)") // (200 − 43.4) × 100 × 10
        let risk = try TestProcess.run(TestProcess.alvh, ["risk", "--market", "\(root)/market/recovery.json", "--workspace", root, "--json"])
        try #require(risk.status == 0, "\(risk.stderr)")
        struct RiskFile: Decodable { var stressByLayer: [String: [String: Double]]; var stressPnL: [String: Double] }
        let report = try JSONDecoder().decode(RiskFile.self, from: Data(risk.stdout))
        let byLayer = report.stressByLayer, named = report.stressPnL
        #expect(!named.isEmpty && Set(byLayer.keys) == Set(named.keys), "stresses \(byLayer.keys.sorted()) vs \(named.keys.sorted())")
        for (stress, layers) in byLayer.sorted(by: { $0.key < $1.key }) {
            #expect(layers["condor"] != nil, "\(stress): no condor row")
            let hedges = layers.filter { $0.key != "condor" }.values.reduce(0, +)
            #expect(hedges <= 2 * condorMaxLoss, "\(stress): the hedge layers make $\(hedges), over 2 × $\(condorMaxLoss)")
        }
        // A second demo in the same workspace is refused rather than mixed in.
        let again = try TestProcess.run(TestProcess.alvh, ["demo", "--workspace", root])
        #expect(again.status == 1 && again.stderr.contains("already holds a ledger"))
    }

    func limitsFile(_ fixture: SignerFixture, _ text: String) throws -> String {
        let path = "\(fixture.root)/limits.yaml"
        try SecureFile.writeAtomically(Array(text.utf8), to: path, mode: 0o644)
        return path
    }
}
