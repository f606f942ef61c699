import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHLedger
import ALVHService
import ALVHTestSupport

/// A real `alvh serve` OS process over TLS on loopback, driven with the `curl` CLI and the
/// certificates `scripts/tls-init` makes.
@Suite("alvh serve process", .serialized)
struct ServeProcessTests {
    static let curl = ServeProcess.curlPath

    static func curl(_ arguments: [String]) throws -> TestProcess.Output { try ServeProcess.curl(arguments) }

    @Test("over TLS 1.3 with a client certificate: read, propose, sign, commit; refused without a certificate; SIGTERM stops it cleanly",
          .enabled(if: curl != nil))
    func tlsEndToEnd() async throws {
        let f = try await ServiceFixture()
        let tls = "\(f.root)/tls"
        try ServeProcess.tlsInit(tls)
        let client = ServeProcess.clientTLS(tls)
        let served = try ServeProcess.start(["--workspace", f.root, "--committer-key", f.committerKeyPath] + ServeProcess.serverTLS(tls),
                                            log: "\(f.root)/serve.log", client: client)
        let (process, url) = (served.process, served.url)
        defer { served.stop() }
        #expect(url.hasPrefix("https://127.0.0.1:"))

        let head = try Self.curl(client + ["--tlsv1.3", "-w", "\n%{http_code}", "\(url)/v1/ledger/head"])
        #expect(head.status == 0, "\(head.stderr)")
        #expect(head.text.hasSuffix("\n200"), "\(head.text)")
        #expect(head.text.contains("\"ledgerID\""))

        // No client certificate: the handshake is refused.
        let anonymous = try Self.curl(["--cacert", "\(tls)/ca.pem", "\(url)/v1/ledger/head"])
        #expect(anonymous.status != 0)
        #expect(!anonymous.text.contains("ledgerID"))
        // TLS 1.2 at most: refused (1.3 is the minimum).
        let old = try Self.curl(client + ["--tls-max", "1.2", "\(url)/v1/ledger/head"])
        #expect(old.status != 0)
        // Plain HTTP to the TLS port: no answer.
        let plain = try Self.curl(["http://" + url.dropFirst("https://".count) + "/v1/ledger/head"])
        #expect(!plain.text.contains("ledgerID"))

        // Propose, sign twice (idempotent), commit — through curl.
        let ledger = try await Ledger.open(workspace: f.root)
        let (envelope, snapshot) = try await f.proposal(on: ledger)
        try await ledger.close()
        let posted = try served.propose(envelope, snapshot: snapshot, dir: f.root)
        #expect(posted.status == 201, "\(posted)")
        for name in ["s1", "s2", "s2"] {
            let reply = try served.sign(envelope.id, try f.signature(name, over: envelope))
            #expect(reply.status == 201 || reply.status == 200, "\(reply)")
        }
        let envelopeBytes = try Self.curl(client + ["\(url)/v1/proposals/\(envelope.id)/envelope"])
        #expect(try Envelope.decode(envelopeBytes.stdout).signatures.count == 3)
        let commit = try Self.curl(client + ["-w", "\n%{http_code}", "-X", "POST", "\(url)/v1/proposals/\(envelope.id)/commit"])
        #expect(commit.text.hasSuffix("\n201"), "\(commit.text)")
        let missing = try Self.curl(client + ["-w", "\n%{http_code}", "\(url)/v1/proposals/\(envelope.id)"])
        #expect(missing.text.hasSuffix("\n404") && missing.text.contains("\"code\":\"not-found\""), "\(missing.text)")
        let events = try Self.curl(client + ["-N", "\(url)/v1/events?after=0&max=4"])
        let types = events.text.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
        #expect(types == ["queued", "signature", "signature", "committed"], "\(events.text)")

        // SIGTERM with an event stream open: the stream ends, then the server; exit 0.
        let listener = try TestProcess.spawn(Self.curl!, ["-sS", "-N", "--max-time", "30"] + client + ["\(url)/v1/events"], log: "\(f.root)/events.log")
        defer { if listener.isRunning { listener.terminate() } }
        #expect(TestProcess.waitUntil(seconds: 10) { ((try? String(contentsOfFile: "\(f.root)/events.log", encoding: .utf8)) ?? "").contains("retry:") })
        process.terminate()
        let stopped = TestProcess.waitUntil(seconds: 20) { !process.isRunning }
        #expect(stopped)
        #expect(TestProcess.waitUntil(seconds: 5) { !listener.isRunning })
        if stopped { #expect(process.terminationStatus == 0, "\((try? String(contentsOfFile: "\(f.root)/serve.log", encoding: .utf8)) ?? "")") }
        let reopened = try await Ledger.open(workspace: f.root)
        #expect(try await reopened.head().sequence == 1)
        try await reopened.close()
    }

    @Test("rate limits by client certificate: two desk clients from one address have a bucket each; new connections share theirs",
          .enabled(if: curl != nil))
    func rateLimitPerCertificate() async throws {
        let f = try await ServiceFixture()
        let tls = "\(f.root)/tls"
        try ServeProcess.tlsInit(tls, clients: ["alice", "bob"])
        let served = try ServeProcess.start(["--workspace", f.root, "--rate-limit", "0.01", "--burst", "2"] + ServeProcess.serverTLS(tls),
                                            log: "\(f.root)/serve.log")
        defer { served.stop() }
        // One curl a request: a new connection each time, from a new source port, all from 127.0.0.1.
        func head(_ name: String) throws -> ServeProcess.Answer {
            ServeProcess.Answer(try Self.curl(ServeProcess.clientTLS(tls, name) + ["-w", "\n%{http_code}", "\(served.url)/v1/ledger/head"]).text)
        }
        let alice = try (0..<3).map { _ in try head("alice") }
        #expect(alice.map(\.status) == [200, 200, 429], "\(alice)")
        #expect(alice.last?.code == "rate-limited")
        // Bob, from the same address, is not held back by Alice's bucket…
        let bob = try (0..<3).map { _ in try head("bob") }
        #expect(bob.map(\.status) == [200, 200, 429], "\(bob)")
        // …and Alice's stays empty, on a new connection too.
        #expect(try head("alice").status == 429)
    }

    @Test("plain HTTP: refused without --insecure-loopback, and on a non-loopback address; served on 127.0.0.1 with it",
          .enabled(if: curl != nil))
    func plainHTTP() async throws {
        let f = try await ServiceFixture()
        let noTLS = try TestProcess.run(TestProcess.alvh, ["serve", "--workspace", f.root, "--port", "0"], timeout: 30)
        #expect(noTLS.status == 1)
        #expect(noTLS.stderr.contains("[insecure-refused]"), "\(noTLS.stderr)")
        let wide = try TestProcess.run(TestProcess.alvh, ["serve", "--workspace", f.root, "--port", "0", "--insecure-loopback", "--bind", "0.0.0.0"],
                                       timeout: 30)
        #expect(wide.status == 1)
        #expect(wide.stderr.contains("[insecure-refused]") && wide.stderr.contains("--bind"), "\(wide.stderr)")

        let served = try ServeProcess.start(["--workspace", f.root, "--insecure-loopback", "--request-timeout", "1"], log: "\(f.root)/serve.log")
        let (process, url) = (served.process, served.url)
        defer { served.stop() }
        #expect(url.hasPrefix("http://127.0.0.1:"))

        // A slow upload (4 KB at 400 B/s) gets 408 after a second, and does not hold up another client.
        let slowBody = "\(f.root)/slow.json"
        try Data(repeating: UInt8(ascii: " "), count: 4000).write(to: URL(fileURLWithPath: slowBody))
        let slow = try TestProcess.spawn(Self.curl!, ["-sS", "--max-time", "30", "--limit-rate", "400", "-w", "\n%{http_code}",
                                                      "-H", "Content-Type: application/json", "--data-binary", "@\(slowBody)",
                                                      "\(url)/v1/proposals"], log: "\(f.root)/slow.log")
        defer { if slow.isRunning { slow.terminate() } }
        let started = Date()
        let quick = try Self.curl(["-w", "\n%{http_code}", "\(url)/v1/ledger/head"])
        #expect(quick.text.hasSuffix("\n200") && Date().timeIntervalSince(started) < 1, "\(quick.text)")
        #expect(TestProcess.waitUntil(seconds: 8) { !slow.isRunning })
        let slowReply = (try? String(contentsOfFile: "\(f.root)/slow.log", encoding: .utf8)) ?? ""
        #expect(slowReply.contains("\"code\":\"request-timeout\"") && slowReply.hasSuffix("\n408"), "\(slowReply)")
        let head = try Self.curl(["-w", "\n%{http_code}", "\(url)/v1/ledger/head"])
        #expect(head.text.hasSuffix("\n200"), "\(head.text)")
        let commit = try Self.curl(["-w", "\n%{http_code}", "-X", "POST", "\(url)/v1/proposals/deadbeefdeadbeef/commit"])
        #expect(commit.text.hasSuffix("\n403"), "\(commit.text)") // no --committer-key: commits nothing
        process.interrupt() // SIGINT
        #expect(TestProcess.waitUntil(seconds: 20) { !process.isRunning })
    }
}
