import Foundation
import Testing
import ALVHTestSupport
import ALVHSigning
import ALVHApproval
import ALVHSigner
import ALVHStorage
@testable import ALVHLedger

@Suite("C2SP signed notes and checkpoints")
struct SignedNoteTests {
    /// Ed25519 SPKI of a raw 32-byte key.
    static func ed25519(_ raw: [UInt8]) throws -> PublicKey {
        try PublicKey(spkiDER: Hex.decode("302a300506032b6570032100")! + raw)
    }

    @Test("the published vectors: golang.org/x/mod sumdb/note's PeterNeumann note and C2SP's example.com/foo note")
    func publishedNotes() throws {
        let cases: [(vkey: String, note: String)] = [
            ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n"
             + "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
            ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
             "This is an example message.\n\n"
             + "\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"),
        ]
        for (vkey, text) in cases {
            let parts = vkey.split(separator: "+")
            let material = Array(Data(base64Encoded: String(parts[2]))!)
            #expect(material[0] == 0x01)
            let verifier = try NoteVerifier(name: String(parts[0]), key: try Self.ed25519(Array(material.dropFirst())), kind: .note)
            #expect(verifier.keyID == UInt32(parts[1], radix: 16)!)
            #expect(verifier.vkey == vkey)
            let note = try SignedNote(parsing: Array(text.utf8))
            #expect(note.encoded() == Array(text.utf8), "encoding is byte for byte")
            #expect(verifier.check(note.signatures[0], text: note.text) == .valid(timestamp: nil))
            var altered = note.signatures[0]
            altered.bytes[3] ^= 1
            #expect(verifier.check(altered, text: note.text) == .invalid)
            #expect(verifier.check(note.signatures[0], text: note.text + "x\n") == .invalid)
        }
    }

    @Test("malformed notes are refused with a reason", arguments: [
        "no blank line\n\u{2014} a AAAAAAAA\n",
        "text\n\n- a AAAAAAAAAA==\n",                      // a hyphen, not an em dash
        "text\n\n\u{2014} a not-base64!\n",
        "text\n\n\u{2014} a AAAA\n",                         // 3 bytes: no room for a key id and a signature
        "text\n\n\u{2014} a b AAAAAAAAAA==\n",               // a space in the name
        "text\n\n\u{2014} a AAAAAAAAAA==",                   // no final newline
        "te\u{7}xt\n\n\u{2014} a AAAAAAAAAA==\n",            // a control character
        "text\n\n",                                          // no signature
    ])
    func malformed(_ text: String) {
        #expect(throws: SigningError.self) { try SignedNote(parsing: Array(text.utf8)) }
    }

    @Test("a cosignature (tlog-cosignature v1) is over `cosignature/v1`, its time and the text; P-256 ones too")
    func cosignatures() throws {
        for type in [KeyType.ed25519, .p256] {
            let key = try PrivateKey.generate(type)
            let signer = try NoteSigner(name: "witness.example/w1", key: key, kind: .cosignature)
            let text = "origin\n7\n" + Data(repeating: 7, count: 32).base64EncodedString() + "\n"
            let line = try signer.sign(text, timestamp: 1_700_000_000)
            #expect(line.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } == 1_700_000_000)
            #expect(signer.verifier.check(line, text: text) == .valid(timestamp: 1_700_000_000))
            // The same key as a note signer has another key id: its cosignature is not a note signature.
            let asNote = try NoteVerifier(name: "witness.example/w1", key: key.publicKey, kind: .note)
            #expect(asNote.check(line, text: text) == nil)
            // Another time under the same signature does not verify.
            var restamped = line
            restamped.bytes[7] ^= 1
            #expect(signer.verifier.check(restamped, text: text) == .invalid)
            if type == .ed25519 {
                #expect(Array(Data(base64Encoded: String(signer.verifier.vkey.split(separator: "+")[2]))!)[0] == 0x04)
            }
        }
    }

    @Test("a checkpoint's text is strict: decimal size, a 32-byte base64 root")
    func checkpointText() throws {
        let root = Data(repeating: 1, count: 32).base64EncodedString()
        let good = try TreeCheckpoint(text: "ledger\n12\n\(root)\n")
        #expect(good.size == 12 && good.root == Array(repeating: 1, count: 32) && good.text == "ledger\n12\n\(root)\n")
        for bad in ["ledger\n012\n\(root)\n", "ledger\n-1\n\(root)\n", "ledger\n12\nAAAA\n", "\n12\n\(root)\n", "ledger\n12\n"] {
            #expect(throws: LedgerError.self) { try TreeCheckpoint(text: bad) }
        }
    }
}

/// A ledger and a fork of it (a copy of the database taken at `forkAt` entries), each grown
/// with different entries: what an operator running two services would show two audiences.
final class ForkedLedger: @unchecked Sendable {
    let fixture: LedgerFixture
    let forkPath: String
    var fork: LedgerLocation { .sqlite(path: forkPath) }

    init() async throws {
        fixture = try await LedgerFixture()
        try await fixture.commitLayer() // entry 1, in both
        forkPath = fixture.root + "/fork.sqlite"
        let copy = try Tools.sqlite("\(fixture.root)/alvh.sqlite", "VACUUM INTO '\(forkPath)'")
        #expect(copy.status == 0, "\(copy.stderr)")
        // Entry 2: a different change on each side, both proposed on the same head.
        let here = try await fixture.layerProposal(layer: "event", quantity: 10, strike: 20)
        let there = try await fixture.layerProposal(layer: "event", quantity: 4, strike: 25)
        try await fixture.commitLayer(here)
        try await Ledger.withOpened(workspace: fixture.root, at: fork) { ledger in
            let envelope = try fixture.envelope(there, signedBy: ["tom", "alice", "carol"])
            let queued = try await ledger.enqueue(envelope, at: there.createdDate)
            _ = try await ledger.commit(id: queued.pending.id, at: fixture.start)
        }
    }

    func state(_ name: String) throws -> SignerState {
        try SignerState.open(path: "\(fixture.root)/\(name).state.json", keyID: fixture.key(name).keyID)
    }

    /// Cosigns as `name` at `at` (default: the fixture's start, the time its entries are committed at).
    func cosign(_ name: String, state: SignerState, on location: LedgerLocation?, _ given: SignedCheckpoint? = nil, at: Date? = nil) async throws -> SignedCheckpoint {
        try await Ledger.withOpened(workspace: fixture.root, at: location) { ledger in
            try await CheckpointWitness(key: fixture.key(name), state: state).cosign(given, on: ledger, at: at ?? fixture.start)
        }
    }

    func checkpoint(on location: LedgerLocation?) async throws -> SignedCheckpoint {
        try await Ledger.withOpened(workspace: fixture.root, at: location) { try await $0.signedCheckpoint(committer: fixture.key("committer")) }
    }
}

@Suite("Witness-cosigned checkpoints against split views")
struct WitnessTests {
    func expectSplitView(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            try await body()
            Issue.record("cosigned a split view", sourceLocation: sourceLocation)
        } catch let error as SignerError {
            #expect(error.code == .splitView, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a witness never cosigns two roots for one size, nor a larger tree that does not extend what it cosigned")
    func neverTwoRoots() async throws {
        let forked = try await ForkedLedger()
        let alice = try forked.state("alice")
        let mine = try await forked.cosign("alice", state: alice, on: nil)
        #expect(mine.checkpoint.size == 3)
        #expect(alice.witnessed?.size == 3 && alice.witnessed?.root == mine.checkpoint.rootHex)
        // The same tree again: fine (and the time does not go back).
        _ = try await forked.cosign("alice", state: alice, on: nil)
        // The fork's tree of 3 has another root: refused, with the record unchanged.
        await expectSplitView { _ = try await forked.cosign("alice", state: alice, on: forked.fork) }
        #expect(alice.witnessed?.root == mine.checkpoint.rootHex)
        // The fork's committer-signed checkpoint, given to a witness reading the honest ledger: refused.
        let theirs = try await forked.checkpoint(on: forked.fork)
        await expectSplitView { _ = try await forked.cosign("alice", state: alice, on: nil, theirs) }

        // Carol cosigned the fork first; the honest ledger grows to 4: not consistent with her root.
        let carol = try forked.state("carol")
        _ = try await forked.cosign("carol", state: carol, on: forked.fork)
        try await forked.fixture.commitLayer(try await forked.fixture.layerProposal(kind: .resizeLayer, quantity: 2, strike: 20))
        await expectSplitView { _ = try await forked.cosign("carol", state: carol, on: nil) }
        // Alice's view extends: she cosigns 4, and then refuses the smaller tree of 3.
        let four = try await forked.cosign("alice", state: alice, on: nil)
        #expect(four.checkpoint.size == 4)
        await expectSplitView { _ = try await forked.cosign("alice", state: alice, on: nil, try await forked.checkpoint(on: forked.fork)) }
    }

    @Test("a checkpoint without a committer's valid signature, or with another root, is not cosigned")
    func badCheckpoints() async throws {
        let forked = try await ForkedLedger()
        let bob = try forked.state("bob") // a P-256 witness
        let honest = try await forked.checkpoint(on: nil)
        // Signed by mallory (no committer), and by nobody.
        var unsigned = try SignedCheckpoint(honest.checkpoint)
        unsigned.add(try NoteSigner(name: "committer", key: forked.fixture.key("mallory"), kind: .note).sign(honest.checkpoint.text))
        do {
            _ = try await forked.cosign("bob", state: bob, on: nil, unsigned)
            Issue.record("cosigned a checkpoint mallory signed")
        } catch let error as SignerError { #expect(error.code == .badCheckpoint) }
        // The honest one, cosigned; a P-256 cosignature verifies under the policy's keys.
        let cosigned = try await forked.cosign("bob", state: bob, on: nil, honest)
        let policy = try await Ledger.withOpened(workspace: forked.fixture.root) { try await $0.verified().policy }
        let check = cosigned.verify(keys: try CheckpointKeys(policy: policy), witnesses: 1)
        #expect(check.ok && check.committer == "committer" && check.witnesses.map(\.id) == ["bob"], "\(check.problems)")
        // A witness outside the policy cannot cosign.
        let mallory = try forked.state("mallory")
        do {
            _ = try await forked.cosign("mallory", state: mallory, on: nil, honest)
            Issue.record("mallory cosigned")
        } catch let error as SignerError { #expect(error.code == .notASigner) }
    }

    @Test("an auditor's check: witnesses counted once each, altered lines refused, a fork named as two histories, O(log n) offline")
    func audit() async throws {
        let forked = try await ForkedLedger()
        var honest = try await forked.checkpoint(on: nil)
        for name in ["alice", "carol"] { honest = try await forked.cosign(name, state: try forked.state(name), on: nil, honest) }
        let policy = try await Ledger.withOpened(workspace: forked.fixture.root) { try await $0.verified().policy }
        let keys = try CheckpointKeys(policy: policy)
        #expect(honest.verify(keys: keys, witnesses: 2).ok)
        #expect(honest.verify(keys: keys, witnesses: 3).problems == [.tooFewWitnesses(found: 2, required: 3)])
        // The same witness's line twice counts once.
        var doubled = honest
        let aliceLine = honest.note.signatures.first { $0.name == "alice" }!
        doubled.add(SignedNote.Signature(name: "alice", keyID: aliceLine.keyID, bytes: aliceLine.bytes))
        #expect(doubled.verify(keys: keys, witnesses: 2).witnesses.count == 2)
        // A known key's line altered: the note is refused.
        let bytes = String(decoding: honest.encoded(), as: UTF8.self)
        let tampered = try SignedCheckpoint(parsing: Array(bytes.replacingOccurrences(of: "\n3\n", with: "\n4\n").utf8))
        #expect(tampered.verify(keys: keys, witnesses: 0).problems.contains(.badSignature(name: "committer")))

        // Trusted: the honest tree of 3. The fork's (signed by the same committer, cosigned by bob) is two histories.
        var theirs = try await forked.checkpoint(on: forked.fork)
        theirs = try await forked.cosign("bob", state: try forked.state("bob"), on: forked.fork, theirs)
        let audit = CheckpointAudit.check(theirs, trusted: honest, proof: nil, keys: keys, witnesses: 1)
        #expect(audit.consistency == [.inconsistent(oldSize: 3, newSize: 3)])
        // The honest ledger grows; its new checkpoint extends the trusted one, proved offline…
        try await forked.fixture.commitLayer(try await forked.fixture.layerProposal(kind: .resizeLayer, quantity: 2, strike: 20))
        var newer = try await forked.checkpoint(on: nil)
        newer = try await forked.cosign("alice", state: try forked.state("alice"), on: nil, newer)
        let proof = try await Ledger.withOpened(workspace: forked.fixture.root) { try await $0.consistencyProof(from: 3, to: 4) }
        #expect(CheckpointAudit.check(newer, trusted: honest, proof: proof, keys: keys, witnesses: 1).ok)
        #expect(proof.path.count <= 3)
        // …and the fork's tree of 3 is not a prefix of it: with the honest proof it is named, and with the ledger too.
        #expect(CheckpointAudit.check(newer, trusted: theirs, proof: proof, keys: keys, witnesses: 1).consistency == [.inconsistent(oldSize: 3, newSize: 4)])
        let online = try await Ledger.withOpened(workspace: forked.fixture.root) {
            try await $0.auditCheckpoint(newer, trusted: theirs, witnesses: 1, at: Date())
        }
        #expect(online.consistency == [.inconsistent(oldSize: 3, newSize: 4)])
        // The fork's checkpoint against the honest ledger: not this ledger.
        let wrong = try await Ledger.withOpened(workspace: forked.fixture.root) {
            try await $0.auditCheckpoint(theirs, trusted: nil, witnesses: 1, at: Date())
        }
        #expect(wrong.consistency == [.notThisLedger(size: 3)])
    }

    @Test("time no key holder sets alone: an entry committed before a witness saw the tree without it is refused by the witness and named by the auditor")
    func backdated() async throws {
        let forked = try await ForkedLedger()
        let f = forked.fixture
        // Alice and carol see the tree of 3 a day after the fixture's start.
        let later = f.start.addingTimeInterval(86_400)
        var trusted = try await forked.checkpoint(on: nil)
        let alice = try forked.state("alice"), carol = try forked.state("carol")
        trusted = try await forked.cosign("alice", state: alice, on: nil, trusted, at: later)
        trusted = try await forked.cosign("carol", state: carol, on: nil, trusted, at: later)
        // The committer's clock is set back inside the proposal's window (it expired 23 hours ago).
        try await f.commitLayer(try await f.layerProposal(kind: .resizeLayer, quantity: 2, strike: 20), at: f.start.addingTimeInterval(1_800))
        do {
            _ = try await forked.cosign("alice", state: alice, on: nil, at: later.addingTimeInterval(60))
            Issue.record("a witness cosigned a backdated entry")
        } catch let error as SignerError {
            #expect(error.code == .backdated && error.reason.contains("entry 3 says it was committed at 2026-11-25T14:30:00Z"), "\(error)")
        }
        #expect(alice.witnessed?.size == 3, "the record still names the tree it saw")
        // The auditor who trusts the cosigned tree of 3 names it too.
        let newer = try await forked.checkpoint(on: nil)
        let audit = try await Ledger.withOpened(workspace: f.root) { try await $0.auditCheckpoint(newer, trusted: trusted, witnesses: 2, at: later) }
        #expect(audit.consistency.contains { if case .backdated(sequence: 3, _, _) = $0 { true } else { false } }, "\(audit.problems)")
        // Within the skew (the fixture's policy: the default) it is not backdating.
        let honest = try await ForkedLedger()
        var seen = try await honest.checkpoint(on: nil)
        seen = try await honest.cosign("alice", state: try honest.state("alice"), on: nil, seen, at: honest.fixture.start.addingTimeInterval(10))
        try await honest.fixture.commitLayer(try await honest.fixture.layerProposal(kind: .resizeLayer, quantity: 2, strike: 20), at: honest.fixture.start.addingTimeInterval(5))
        let fine = try await Ledger.withOpened(workspace: honest.fixture.root) {
            try await $0.auditCheckpoint(try await $0.signedCheckpoint(committer: honest.fixture.key("committer")), trusted: seen, witnesses: 1, at: honest.fixture.start)
        }
        #expect(!fine.consistency.contains { if case .backdated = $0 { true } else { false } }, "\(fine.problems)")
    }

    @Test("inclusion proofs of the ledger's entries verify with the independent verifier; a tree bigger than the ledger is refused")
    func inclusion() async throws {
        let forked = try await ForkedLedger()
        try await Ledger.withOpened(workspace: forked.fixture.root) { ledger in
            let checkpoint = try await ledger.treeCheckpoint()
            for sequence in UInt64(0)..<3 {
                let proof = try await ledger.inclusionProof(sequence: sequence)
                #expect(proof.verifies && proof.root == checkpoint.rootHex)
                let leaf = MerkleTree.leafHash(Hex.decode(try await ledger.entry(sequence).hash)!)
                #expect(Independent.inclusionRoot(Int(sequence), 3, leaf, proof.path.map { Hex.decode($0)! }) == checkpoint.root)
            }
            await #expect(throws: LedgerError.self) { _ = try await ledger.inclusionProof(sequence: 3) }
            await #expect(throws: LedgerError.self) { _ = try await ledger.treeCheckpoint(size: 4) }
            await #expect(throws: LedgerError.self) { _ = try await ledger.consistencyProof(from: 0) }
        }
    }
}

@Suite("alvh ledger checkpoint / cosign / prove / verify --checkpoint, as OS processes")
struct CheckpointCLITests {
    @Test("a committer signs, two witnesses cosign, an auditor checks: N witnesses, a fork named SPLIT VIEW, a newer tree proved offline")
    func endToEnd() async throws {
        let forked = try await ForkedLedger()
        let ws = forked.fixture.root
        func alvh(_ arguments: [String]) throws -> Tools.Output {
            try Tools.run(Tools.alvh, arguments + ["--workspace", ws])
        }
        let committer = ["--committer-key", "\(ws)/Keys/private/committer.key.pem"]
        var out = try alvh(["ledger", "checkpoint", "-o", "\(ws)/cp.txt"] + committer)
        #expect(out.status == 0, "\(out.stderr)")
        for name in ["alice", "bob"] {
            out = try alvh(["ledger", "cosign", "\(ws)/cp.txt", "--key", "\(ws)/Keys/private/\(name).key.pem", "-o", "\(ws)/cp.txt"])
            #expect(out.status == 0, "\(out.stderr)")
        }
        let note = try String(contentsOfFile: "\(ws)/cp.txt", encoding: .utf8)
        let ledgerID = try await Ledger.withOpened(workspace: ws) { try await $0.ledgerID() }
        #expect(note.hasPrefix("\(ledgerID)\n3\n"))
        #expect(note.components(separatedBy: "\n\u{2014} ").count == 4, "the committer's line and two cosignatures:\n\(note)")

        out = try alvh(["ledger", "verify", "--checkpoint", "\(ws)/cp.txt", "--witnesses", "2"])
        #expect(out.status == 0 && out.stdout.contains("OK: checkpoint of 3 entries"), "\(out.stdout)\(out.stderr)")
        out = try alvh(["ledger", "verify", "--checkpoint", "\(ws)/cp.txt", "--witnesses", "3"])
        #expect(out.status == 1 && out.stdout.contains("2 witness cosignatures verified, 3 required"), "\(out.stdout)")

        // The fork, signed by the same committer and cosigned by carol, shown to an auditor who trusts cp.txt.
        let fork = ["--ledger", "sqlite:\(forked.forkPath)"]
        out = try alvh(["ledger", "checkpoint", "-o", "\(ws)/fork.txt"] + committer + fork)
        #expect(out.status == 0, "\(out.stderr)")
        out = try alvh(["ledger", "cosign", "\(ws)/fork.txt", "--key", "\(ws)/Keys/private/carol.key.pem", "-o", "\(ws)/fork.txt"] + fork)
        #expect(out.status == 0, "\(out.stderr)")
        out = try alvh(["ledger", "verify", "--checkpoint", "\(ws)/fork.txt", "--trusted", "\(ws)/cp.txt", "--witnesses", "1"] + fork)
        #expect(out.status == 1 && out.stdout.contains("SPLIT VIEW"), "\(out.stdout)\(out.stderr)")
        // Alice, who cosigned the honest tree of 3, refuses the fork's.
        out = try alvh(["ledger", "cosign", "\(ws)/fork.txt", "--key", "\(ws)/Keys/private/alice.key.pem"] + fork)
        #expect(out.status == 1 && out.stderr.contains("split view") && out.stderr.contains("[split-view]"), "\(out.stderr)")

        // The honest ledger grows; the auditor checks the new checkpoint offline from a proof and the policy.
        // (On the real clock: the witnesses above cosigned on it, and an entry committed before they
        // saw the tree without it would be backdated.)
        let now = Date()
        try await forked.fixture.commitLayer(try await forked.fixture.layerProposal(kind: .resizeLayer, quantity: 2, strike: 20, at: now), at: now)
        out = try alvh(["ledger", "checkpoint", "-o", "\(ws)/cp4.txt"] + committer)
        out = try alvh(["ledger", "cosign", "\(ws)/cp4.txt", "--key", "\(ws)/Keys/private/alice.key.pem", "-o", "\(ws)/cp4.txt"])
        #expect(out.status == 0, "\(out.stderr)")
        out = try alvh(["ledger", "prove", "--from", "3", "--size", "4", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        try SecureFile.writeAtomically(Array(out.stdout.utf8), to: "\(ws)/proof.json", mode: 0o644)
        let offline = ["ledger", "verify", "--checkpoint", "\(ws)/cp4.txt", "--trusted", "\(ws)/cp.txt", "--proof", "\(ws)/proof.json",
                       "--policy", "\(ws)/Policies/desk.yaml", "--witnesses", "1"]
        // No ledger is read: the workspace's database is moved away first.
        try FileManager.default.moveItem(atPath: "\(ws)/alvh.sqlite", toPath: "\(ws)/away.sqlite")
        out = try alvh(offline)
        #expect(out.status == 0 && out.stdout.contains("extends the trusted tree of 3 entries"), "\(out.stdout)\(out.stderr)")
        // The fork's checkpoint as the trusted one: the same proof shows two histories.
        var againstFork = offline
        againstFork[5] = "\(ws)/fork.txt"
        out = try alvh(againstFork)
        #expect(out.status == 1 && out.stdout.contains("SPLIT VIEW"), "\(out.stdout)\(out.stderr)")
        try FileManager.default.moveItem(atPath: "\(ws)/away.sqlite", toPath: "\(ws)/alvh.sqlite")

        // An inclusion proof, checked by the independent verifier.
        out = try alvh(["ledger", "prove", "2", "--json"])
        let proof = try JSONDecoder().decode(InclusionProof.self, from: Data(out.stdout.utf8))
        let entry = try await Ledger.withOpened(workspace: ws) { try await $0.entry(2) }
        #expect(Independent.inclusionRoot(2, 4, MerkleTree.leafHash(Hex.decode(entry.hash)!), proof.path.map { Hex.decode($0)! })
                == Hex.decode(proof.root))
    }
}
