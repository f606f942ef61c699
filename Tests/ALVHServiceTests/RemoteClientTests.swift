import Foundation
import Testing
import Logging
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHStorage
import ALVHSigner
import ALVHService
import ALVHTestSupport
import HummingbirdTesting

/// Clients on other hosts (`--server URL`) trust nothing the service says: a real `alvh serve`
/// behind a deliberately lying proxy (``LyingService``) that swaps a snapshot, forges signatures and
/// the approval report, serves another ledger's history, or acknowledges a commit it dropped. Each
/// lie is refused by the client's own checks; with the lie off, the same steps succeed (so each
/// test fails if the client believed the lie).
@Suite("A lying service", .serialized)
struct LyingServiceTests {
    /// A fixture, its real service (plain HTTP on loopback, no committer key), a liar in front of
    /// it, and an empty folder for the client (nothing of the desk's workspace is there).
    struct Rig {
        let fixture: ServiceFixture
        let service: ServeProcess
        let liar: LyingService
        let client: String

        var location: LedgerLocation { .service(.init(url: liar.url, tls: nil)) }

        /// A client's view of the ledger through the liar (fresh: verifies from genesis).
        func remote(pins: Ledger.Pins? = nil) async throws -> Ledger {
            let ledger = try await Ledger.open(workspace: client, at: location)
            if let pins { ledger.pin(pins) }
            return ledger
        }

        /// The truth, read from the database directly.
        func truth<T>(_ body: (Ledger) async throws -> T) async throws -> T {
            let ledger = try await fixture.openLedger()
            defer { Task { try? await ledger.close() } }
            return try await body(ledger)
        }
    }

    static func withRig(_ body: (Rig) async throws -> Void) async throws {
        let fixture = try await ServiceFixture()
        let service = try ServeProcess.start(["--workspace", fixture.root, "--insecure-loopback", "--poll", "50"] + fixture.ledgerArguments,
                                             log: "\(fixture.root)/serve.log")
        defer { service.stop() }
        let liar = LyingService(upstream: service.url)
        try await liar.start()
        let client = "\(fixture.root)/client"
        try SecureFile.makeDirectory(client, mode: 0o700)
        do {
            try await body(Rig(fixture: fixture, service: service, liar: liar, client: client))
        } catch {
            await liar.stop()
            throw error
        }
        await liar.stop()
    }

    /// Queues the engine's calm proposal through the (honest) liar, with `signers`' signatures.
    static func queue(_ rig: Rig, signers: [String]) async throws -> Envelope {
        let ledger = try await rig.remote()
        defer { Task { try? await ledger.close() } }
        let (envelope, snapshot) = try await rig.fixture.proposal(on: ledger)
        try await ledger.enqueue(envelope, snapshot: snapshot, at: Date())
        for name in signers {
            try await ledger.addSignature(try rig.fixture.signature(name, over: envelope), to: envelope.id, at: Date())
        }
        return envelope
    }

    static func coordinator(_ rig: Rig, pins: Ledger.Pins = Ledger.Pins()) async throws -> Coordinator {
        try await Coordinator(workspace: rig.client, ledger: rig.location, committer: rig.fixture.keys["committer"]!, pins: pins,
                              logger: Logger(label: "test.coordinator"))
    }

    static func verificationFailed(_ error: any Error) -> Bool {
        (error as? LedgerError)?.code == .verificationFailed
    }

    @Test("through an honest service: queue, two signatures, the remote coordinator commits, the entry verifies")
    func honest() async throws {
        try await Self.withRig { rig in
            let envelope = try await Self.queue(rig, signers: ["s1", "s2"])
            let result = try await Self.coordinator(rig).pass()
            #expect(result.committed == [1])
            let head = try await rig.truth { try await $0.verified() }
            #expect(head.sequence == 1)
            // The service appended the entry the coordinator signed (its key, not the service's: it has none).
            let entry = try await rig.truth { try await $0.entry(1) }
            #expect(try Envelope.decode(entry.envelope).id == envelope.id)
            #expect(rig.fixture.keys["committer"]!.publicKey.isValidSignature(entry.committerSignature, for: entry.signingMessage))
            #expect(rig.liar.seen.withLock { $0 }.contains("POST /v1/ledger/entries"))
        }
    }

    @Test("a swapped snapshot: the signer refuses to sign; with the real one it signs")
    func swappedSnapshot() async throws {
        try await Self.withRig { rig in
            let envelope = try await Self.queue(rig, signers: [])
            let spike = try rig.fixture.market("spike").bytes
            rig.liar.lie.withLock {
                $0 = { method, path, _, _ in path.hasPrefix("/v1/blobs/") ? (200, spike) : nil }
            }
            let ledger = try await rig.remote()
            let s1 = rig.fixture.keys["s1"]!.keyID.hex
            do {
                _ = try await ledger.sign(id: envelope.id, with: rig.fixture.keys["s1"]!, at: Date())
                Issue.record("signed over a swapped snapshot")
            } catch { #expect(Self.verificationFailed(error), "\(error)") }
            #expect(try await rig.truth { try await $0.storage.signatures(pendingID: envelope.id) }.allSatisfy { $0.signerKey != s1 })
            rig.liar.lie.withLock { $0 = nil }
            _ = try await ledger.sign(id: envelope.id, with: rig.fixture.keys["s1"]!, at: Date())
            #expect(try await rig.truth { try await $0.storage.signatures(pendingID: envelope.id) }.contains { $0.signerKey == s1 })
            try await ledger.close()
        }
    }

    @Test("forged signatures, counts and report: the remote coordinator does not commit; with a real second signature it does")
    func forgedApprovals() async throws {
        try await Self.withRig { rig in
            let envelope = try await Self.queue(rig, signers: ["s1"])
            let s2 = rig.fixture.keys["s2"]!.keyID.hex
            rig.liar.lie.withLock {
                $0 = { method, path, status, body in
                    guard method == "GET", status == 200, var json = JSONEdit.object(body) else { return nil }
                    if path.hasSuffix("/signatures"), var signatures = json["signatures"] as? [[String: Any]] {
                        // s2's "signature": 64 bytes that verify under nothing.
                        signatures.append(["sig": Data(repeating: 7, count: 64).base64EncodedString(), "signerKey": s2, "keyid": s2])
                        json["signatures"] = signatures
                        return (200, JSONEdit.bytes(json))
                    }
                    if path.hasPrefix("/v1/store/queue"), var rows = json["proposals"] as? [[String: Any]] {
                        for index in rows.indices { rows[index]["signatureCount"] = 2 }
                        json["proposals"] = rows
                        return (200, JSONEdit.bytes(json))
                    }
                    if path == "/v1/proposals/\(envelope.id)", var report = json["report"] as? [String: Any] {
                        report["commitReady"] = true
                        report["counted"] = 2
                        json["report"] = report
                        return (200, JSONEdit.bytes(json))
                    }
                    return nil
                }
            }
            let coordinator = try await Self.coordinator(rig)
            #expect(try await coordinator.pass().committed.isEmpty)
            let remote = try await rig.remote()
            let report = try await remote.evaluate(id: envelope.id, at: Date())
            #expect(report.counted == 1 && !report.commitReady, "\(report.tally)")
            #expect(try await rig.truth { try await $0.head().sequence } == 0)
            try await remote.close()
            // The same coordinator commits once the second signature is real.
            rig.liar.lie.withLock { $0 = nil }
            let real = try await rig.remote()
            try await real.addSignature(try rig.fixture.signature("s2", over: envelope), to: envelope.id, at: Date())
            try await real.close()
            #expect(try await coordinator.pass().committed == [1])
        }
    }

    @Test("another ledger's history: refused by the pinned ledger id, and by a client that verified the real one")
    func forkedHistory() async throws {
        try await Self.withRig { rig in
            let real = try await rig.remote()
            let realID = try await real.verified().ledgerID
            // A second desk's ledger (its own genesis, its own committer), served by a second real service.
            let other = try await ServiceFixture()
            let otherService = try ServeProcess.start(["--workspace", other.root, "--insecure-loopback"], log: "\(other.root)/serve.log")
            defer { otherService.stop() }
            rig.liar.upstream.withLock { $0 = otherService.url }

            let pinned = try await rig.remote(pins: Ledger.Pins(ledgerID: realID))
            do {
                _ = try await pinned.verified()
                Issue.record("a pinned client accepted another ledger")
            } catch { #expect(Self.verificationFailed(error), "\(error)") }
            // The client that verified the real ledger sees its checkpoint rewritten.
            do {
                _ = try await real.verified()
                Issue.record("a client that verified the real ledger accepted another history")
            } catch { #expect(Self.verificationFailed(error), "\(error)") }
            // And a coordinator pinned to the real ledger stops at its first pass.
            let coordinator = try await Self.coordinator(rig, pins: Ledger.Pins(ledgerID: realID))
            await #expect(throws: (any Error).self) { try await coordinator.pass() }
            // And a signer started with --expect-ledger-id on a fresh record (no pin of its own yet).
            let state = try SignerState.open(path: "\(rig.client)/s1.state.json", keyID: rig.fixture.keys["s1"]!.keyID)
            let signer = try await SignerProcess(workspace: rig.client, ledger: rig.location, key: rig.fixture.keys["s1"]!, limits: .none,
                                                 state: state, expectLedgerID: realID, logger: Logger(label: "test.signer"))
            do {
                _ = try await signer.pass()
                Issue.record("a signer pinned to the real ledger took another one")
            } catch { #expect(Self.verificationFailed(error), "\(error)") }
            try await pinned.close()
            try await real.close()
        }
    }

    @Test("a commit acknowledged but never written: the coordinator's next pass finds entries missing and stops")
    func droppedCommit() async throws {
        try await Self.withRig { rig in
            _ = try await Self.queue(rig, signers: ["s1", "s2"])
            rig.liar.swallow.withLock {
                $0 = { method, path, body in
                    guard method == "POST", path == "/v1/ledger/entries", let json = JSONEdit.object(body),
                          let entries = json["entries"] as? [[String: Any]], let first = entries.first else { return nil }
                    return (201, JSONEdit.bytes(["sequence": first["sequence"] ?? 1, "hash": first["hash"] ?? ""]))
                }
            }
            let coordinator = try await Self.coordinator(rig)
            #expect(try await coordinator.pass().committed == [1]) // it believed the acknowledgement…
            #expect(try await rig.truth { try await $0.head().sequence } == 0)
            do {
                _ = try await coordinator.pass() // …until it read the ledger again
                Issue.record("the coordinator went on after its entry vanished")
            } catch { #expect(Self.verificationFailed(error), "\(error)") }
        }
    }
}

/// A committer on another host posts the entry it signed; the service verifies it as an auditor
/// would and checks what only its queue knows. Each hostile entry is refused and nothing is written.
@Suite("POST /v1/ledger/entries from a hostile committer")
struct RemoteCommitterTests {
    /// The entry committing `envelope` at entry 1, attaching `rejections`, at `time`, signed by `signer`.
    static func entry(_ f: ServiceFixture, _ ledger: Ledger, envelope: Envelope, rejections: [Envelope] = [], at time: Date = Date(),
                      signer: String = "committer") async throws -> StoredEntry {
        let head = try await ledger.verified()
        var entry = LedgerEntry(sequence: head.sequence + 1, previousHash: head.hash, kind: .layerChange, envelope: try envelope.encoded(),
                                attachments: try EntryAttachments(rejections: rejections).encoded(), policyHash: head.policy.hash,
                                committedAt: RFC3339.format(time))
        entry.committerSignature = try f.keys[signer]!.signature(for: entry.signingMessage)
        return entry.stored
    }

    static func post(_ client: any TestClientProtocol, _ head: HeadRef, _ id: String, _ entry: StoredEntry) async throws -> Reply {
        try await client.post("/v1/ledger/entries", json: StoreWire.Append(decidedOn: StoreWire.Head(head), proposal: id, entries: [StoreWire.Entry(entry)]))
    }

    @Test("a rejection left out, a backdated time, a non-committer, too few signatures, a moved head: refused; the honest entry: 201")
    func hostileEntries() async throws {
        let f = try await ServiceFixture()
        try await f.withApp(committer: false) { ledger, client in
            let box = client
            let (proposal, snapshot) = try await f.proposal(on: ledger)
            try await ledger.enqueue(proposal, snapshot: snapshot, at: Date())
            let genesis = try await ledger.verified().ref
            // One signature only: not approved.
            try await ledger.addSignature(try f.signature("s1", over: proposal), to: proposal.id, at: Date())
            var envelope = try await ledger.envelope(id: proposal.id)
            var reply = try await Self.post(box, genesis, proposal.id, try await Self.entry(f, ledger, envelope: envelope))
            #expect(reply.status == .conflict && reply.error?.code == "not-approved", "\(reply.text)")

            try await ledger.addSignature(try f.signature("s2", over: proposal), to: proposal.id, at: Date())
            // A risk officer's signed rejection (not a veto) is stored for the slot after the committer read the queue.
            let rejection = try RejectionDocument.signedEnvelope(rejecting: proposal.id, reason: "too early", key: f.keys["s3"]!, at: Date())
            try await ledger.addRejection(rejection, to: proposal.id, at: Date())
            envelope = try await ledger.envelope(id: proposal.id)
            reply = try await Self.post(box, genesis, proposal.id, try await Self.entry(f, ledger, envelope: envelope))
            #expect(reply.status == .conflict && reply.error?.code == StoreWire.Codes.queueChanged, "\(reply.text)")

            // Backdated by an hour (the policy's clock skew is a minute).
            reply = try await Self.post(box, genesis, proposal.id,
                                        try await Self.entry(f, ledger, envelope: envelope, rejections: [rejection], at: Date().addingTimeInterval(-3600)))
            #expect(reply.status == .badRequest && reply.error?.path == "entries[0].committedAt", "\(reply.text)")
            // Signed by a signer, not a committer.
            reply = try await Self.post(box, genesis, proposal.id, try await Self.entry(f, ledger, envelope: envelope, rejections: [rejection], signer: "s3"))
            #expect(reply.status == .conflict && reply.error?.code == "not-approved", "\(reply.text)")
            // Decided on another head.
            reply = try await Self.post(box, HeadRef(sequence: 0, hash: String(repeating: "ab", count: 32)), proposal.id,
                                        try await Self.entry(f, ledger, envelope: envelope, rejections: [rejection]))
            #expect(reply.status == .conflict && reply.error?.code == StoreWire.Codes.headMoved, "\(reply.text)")
            // Another proposal's id.
            reply = try await Self.post(box, genesis, String(repeating: "cd", count: 32),
                                        try await Self.entry(f, ledger, envelope: envelope, rejections: [rejection]))
            #expect(reply.status == .badRequest, "\(reply.text)")
            // A kind that is no entry's (found by the API fuzz run: it was a 500).
            var unknown = try await Self.entry(f, ledger, envelope: envelope, rejections: [rejection])
            unknown.kind = ""
            reply = try await Self.post(box, genesis, proposal.id, unknown)
            #expect(reply.status == .badRequest && reply.error?.path == "entries[0].kind", "\(reply.text)")
            #expect(try await ledger.head().sequence == 0)

            reply = try await Self.post(box, genesis, proposal.id, try await Self.entry(f, ledger, envelope: envelope, rejections: [rejection]))
            #expect(reply.status == .created, "\(reply.text)")
            #expect(try await ledger.verified().sequence == 1)
            #expect(try await ledger.storage.pending(id: proposal.id) == nil)
        }
    }

    @Test("a veto cannot be committed past: the vetoed proposal's entry is refused")
    func vetoed() async throws {
        let f = try await ServiceFixture()
        try await f.withApp(committer: false) { ledger, client in
            let box = client
            let (proposal, snapshot) = try await f.proposal(on: ledger)
            try await ledger.enqueue(proposal, snapshot: snapshot, at: Date())
            for name in ["s1", "s2"] { try await ledger.addSignature(try f.signature(name, over: proposal), to: proposal.id, at: Date()) }
            let envelope = try await ledger.envelope(id: proposal.id)
            let genesis = try await ledger.verified().ref
            let veto = try RejectionDocument.signedEnvelope(rejecting: proposal.id, reason: "over limit", key: f.keys["lim"]!, at: Date())
            try await ledger.addRejection(veto, to: proposal.id, at: Date())
            for attached in [[], [veto]] {
                let reply = try await Self.post(box, genesis, proposal.id, try await Self.entry(f, ledger, envelope: envelope, rejections: attached))
                #expect(reply.status == .conflict, "\(reply.text)")
            }
            #expect(try await ledger.head().sequence == 0)
        }
    }
}
