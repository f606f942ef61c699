import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHLedger
import ALVHStorage
import ALVHService
import ALVHTestSupport

/// Real `alvh serve` processes over a PostgreSQL ledger (a fresh database of the test server),
/// driven with curl over TLS: one service, then two on the same database with the signers split
/// between them and the commits raced.
@Suite("alvh serve on PostgreSQL", .serialized)
struct ServePostgresTests {
    /// A proposal for the ledger's next slot, opened and closed around it.
    static func nextProposal(_ f: ServiceFixture) async throws -> (envelope: Envelope, snapshot: [UInt8]) {
        let ledger = try await f.openLedger()
        do {
            let made = try await f.proposal(on: ledger, markets: ["calm", "spike", "pre-fomc", "recovery"])
            try await ledger.close()
            return made
        } catch {
            try? await ledger.close()
            throw error
        }
    }

    static func head(_ f: ServiceFixture) async throws -> UInt64 {
        let ledger = try await f.openLedger()
        let sequence = try await ledger.head().sequence
        try await ledger.close()
        return sequence
    }

    /// `alvh ledger verify --ledger URL`.
    static func verify(_ f: ServiceFixture) throws -> TestProcess.Output {
        try TestProcess.run(TestProcess.alvh, ["ledger", "verify", "--workspace", f.root] + f.ledgerArguments, timeout: 120)
    }

    @Test("one service on a PostgreSQL ledger: propose, sign, commit through curl; the ledger verifies",
          PostgresTestServer.enabled, .enabled(if: ServeProcess.curlPath != nil))
    func oneService() async throws {
        try await PostgresTestServer.withFreshDatabase { db in
            let f = try await ServiceFixture(location: .postgres(db.location))
            let tls = "\(f.root)/tls"
            try ServeProcess.tlsInit(tls)
            let served = try ServeProcess.start(["--workspace", f.root, "--committer-key", f.committerKeyPath] + f.ledgerArguments
                                                + ServeProcess.serverTLS(tls),
                                                log: "\(f.root)/serve.log", client: ServeProcess.clientTLS(tls))
            defer { served.stop() }

            let head = try served.call("/v1/ledger/head")
            #expect(head.status == 200 && head.body.contains("\"sequence\":0"), "\(head)")
            let (envelope, snapshot) = try await Self.nextProposal(f)
            let posted = try served.propose(envelope, snapshot: snapshot, dir: f.root)
            #expect(posted.status == 201, "\(posted)")
            for name in ["s1", "s2"] {
                let reply = try served.sign(envelope.id, try f.signature(name, over: envelope))
                #expect(reply.status == 201, "\(reply)")
            }
            let commit = try served.commit(envelope.id)
            #expect(commit.status == 201 && commit.body.contains("\"sequence\":1"), "\(commit)")
            let again = try served.commit(envelope.id)
            #expect(again.status == 404 && again.code == "not-found", "\(again)")
            #expect(try await Self.head(f) == 1)

            served.stop()
            #expect(served.process.terminationStatus == 0, "\(served.logText)")
            let verified = try Self.verify(f)
            #expect(verified.status == 0, "\(verified.text) \(verified.stderr)")
        }
    }

    @Test("two services on one PostgreSQL ledger, signers split: each proposal committed exactly once, events on both",
          PostgresTestServer.enabled, .enabled(if: ServeProcess.curlPath != nil))
    func twoServices() async throws {
        try await PostgresTestServer.withFreshDatabase { db in
            let f = try await ServiceFixture(location: .postgres(db.location))
            let tls = "\(f.root)/tls"
            try ServeProcess.tlsInit(tls)
            let arguments = ["--workspace", f.root, "--committer-key", f.committerKeyPath, "--poll", "100"] + f.ledgerArguments
                + ServeProcess.serverTLS(tls)
            let a = try ServeProcess.start(arguments, log: "\(f.root)/serve-a.log", client: ServeProcess.clientTLS(tls))
            defer { a.stop() }
            let b = try ServeProcess.start(arguments, log: "\(f.root)/serve-b.log", client: ServeProcess.clientTLS(tls))
            defer { b.stop() }
            #expect(a.url != b.url)

            let listenerA = try a.listen(log: "\(f.root)/events-a.log")
            defer { if listenerA.isRunning { listenerA.terminate() } }
            let listenerB = try b.listen(log: "\(f.root)/events-b.log")
            defer { if listenerB.isRunning { listenerB.terminate() } }
            for log in ["events-a", "events-b"] {
                #expect(TestProcess.waitUntil(seconds: 10) { ((try? String(contentsOfFile: "\(f.root)/\(log).log", encoding: .utf8)) ?? "").contains("retry:") })
            }

            var committed: [String] = []
            for round in 1...5 {
                let before = try await Self.head(f)
                let (envelope, snapshot) = try await Self.nextProposal(f)
                let id = envelope.id
                let posted = try a.propose(envelope, snapshot: snapshot, dir: f.root)
                #expect(posted.status == 201, "round \(round): \(posted)")
                // The signers are split: s1 and s3 sign through B, s2 through A.
                for (name, server) in [("s1", b), ("s2", a), ("s3", b)] {
                    let reply = try server.sign(id, try f.signature(name, over: envelope))
                    #expect(reply.status == 201, "round \(round), \(name): \(reply)")
                }
                // Both commit at once.
                let answers = try ServeProcess.race([(a, "/v1/proposals/\(id)/commit"), (b, "/v1/proposals/\(id)/commit")], dir: f.root)
                let won = answers.filter { $0.status == 201 }
                let lost = answers.filter { $0.status != 201 }
                #expect(won.count == 1, "round \(round): \(answers)")
                for answer in lost {
                    #expect((answer.status == 409 || answer.status == 404) && answer.code != nil, "round \(round): \(answers)")
                }
                #expect(won.first?.body.contains("\"sequence\":\(before + 1)") == true, "round \(round): \(answers)")
                #expect(try await Self.head(f) == before + 1, "round \(round): committed once")
                committed.append(id)
            }

            // Rivals: two proposals for the same slot, queued through different servers, each approved
            // by other keys (a key that approved one through A cannot approve the other through B: the
            // double-sign check is the ledger's, in the shared database). Committing both at once
            // appends one entry; the other is refused as stale.
            do {
                let before = try await Self.head(f)
                let ledger = try await f.openLedger()
                let x = try await f.proposal(on: ledger, lifetime: 3600, markets: ["calm", "spike", "pre-fomc", "recovery"])
                let y = try await f.proposal(on: ledger, lifetime: 3000, markets: ["calm", "spike", "pre-fomc", "recovery"])
                try await ledger.close()
                #expect(x.envelope.id != y.envelope.id)
                #expect(try a.propose(x.envelope, snapshot: x.snapshot, dir: f.root).status == 201)
                #expect(try b.propose(y.envelope, snapshot: y.snapshot, dir: f.root).status == 201)
                #expect(try a.sign(x.envelope.id, try f.signature("s1", over: x.envelope)).status == 201)
                let doubled = try b.sign(y.envelope.id, try f.signature("s1", over: y.envelope))
                #expect(doubled.status == 409 && doubled.code == "duplicate", "\(doubled)")
                #expect(try b.sign(x.envelope.id, try f.signature("s2", over: x.envelope)).status == 201)
                #expect(try a.sign(y.envelope.id, try f.signature("s3", over: y.envelope)).status == 201)
                #expect(try b.sign(y.envelope.id, try f.signature("lim", over: y.envelope)).status == 201)
                let answers = try ServeProcess.race([(a, "/v1/proposals/\(x.envelope.id)/commit"), (b, "/v1/proposals/\(y.envelope.id)/commit")],
                                                    dir: f.root)
                #expect(answers.filter { $0.status == 201 }.count == 1, "rivals: \(answers)")
                for answer in answers where answer.status != 201 {
                    #expect(answer.status == 409 && answer.code == "stale-proposal", "rivals: \(answers)")
                }
                #expect(try await Self.head(f) == before + 1, "rivals: one entry")
                if let winner = answers.firstIndex(where: { $0.status == 201 }) { committed.append(winner == 0 ? x.envelope.id : y.envelope.id) }
            }

            // Both streams saw every proposal queued and committed (B learns of A's proposals, and
            // each of the other's commits, through its watcher's poll).
            for (name, log) in [("A", "\(f.root)/events-a.log"), ("B", "\(f.root)/events-b.log")] {
                let complete = TestProcess.waitUntil(seconds: 10) {
                    let events = ServeProcess.events(in: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
                    return committed.allSatisfy { id in
                        events.contains { $0.type == "queued" && $0.proposal == id } && events.contains { $0.type == "committed" && $0.proposal == id }
                    }
                }
                let events = ServeProcess.events(in: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
                #expect(complete, "server \(name)'s stream: \(events)")
                for id in committed {
                    #expect(events.filter { $0.type == "queued" && $0.proposal == id }.count == 1, "server \(name): \(id) queued once")
                    #expect(events.filter { $0.type == "committed" && $0.proposal == id }.count == 1, "server \(name): \(id) committed once")
                }
            }

            listenerA.terminate()
            listenerB.terminate()
            a.stop()
            b.stop()
            #expect(try await Self.head(f) == 6)
            let verified = try Self.verify(f)
            #expect(verified.status == 0, "\(verified.text) \(verified.stderr)")
        }
    }
}
