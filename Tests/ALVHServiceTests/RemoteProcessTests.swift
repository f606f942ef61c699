import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHLedger
import ALVHStorage
import ALVHService
import ALVHTestSupport

/// Signers, a coordinator and the CLI on "other hosts": real `alvh` processes, each in a folder of
/// its own holding only its TLS identity (and its state), that reach the ledger only through a real
/// `alvh serve` over TLS 1.3 with client certificates made by `alvh tls init`.
@Suite("Remote signers and coordinator over TLS", .serialized)
struct RemoteProcessTests {
    @Test("alvh tls init; 2 remote signers and a remote coordinator commit a proposal; pending, sign and ledger verify --server")
    func remoteWalk() async throws {
        let f = try await ServiceFixture()
        let tls = "\(f.root)/tls"
        let made = try TestProcess.run(TestProcess.alvh, ["tls", "init", tls, "s1", "s2", "coordinator", "trader", "stranger"], timeout: 60)
        #expect(made.status == 0, "\(made.stderr)")
        for name in ["s1", "s2", "coordinator", "trader"] {
            #expect(try SecureFile.permissions("\(tls)/clients/\(name)/client.key.pem") & 0o077 == 0)
        }
        let service = try ServeProcess.start(["--workspace", f.root] + ServeProcess.serverTLS(tls) + f.ledgerArguments, log: "\(f.root)/serve.log")
        defer { service.stop() }
        let ledgerID = try await f.openLedger().verified().ledgerID

        // Each process in a folder of its own: its TLS identity (and, as it runs, its state) only.
        var children: [String: Process] = [:]
        defer { for process in children.values where process.isRunning { process.terminate(); process.waitUntilExit() } }
        for name in ["s1", "s2", "coordinator"] {
            let folder = "\(f.root)/hosts/\(name)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            #expect(rename("\(tls)/clients/\(name)", "\(folder)/tls") == 0)
            let key = name == "coordinator" ? ["--committer-key", f.committerKeyPath]
                : ["--key", "\(f.root)/Keys/private/\(name).key.pem", "--state", "\(folder)/signer.state.json"]
            let command = name == "coordinator" ? ["coordinator", "run"] : ["signer", "run"]
            // A long poll: the service's events, not the poll, wake them.
            children[name] = try TestProcess.spawn(TestProcess.alvh, command + ["--workspace", folder, "--server", service.url, "--poll", "20000",
                                                                               "--expect-ledger-id", ledgerID] + key,
                                                   log: "\(folder)/run.log")
        }

        // The trader queues through the service too.
        let trader = try await Ledger.open(workspace: "\(f.root)/hosts", at: .service(.init(url: service.url, tls: .init(directory: "\(tls)/clients/trader"))))
        let (envelope, snapshot) = try await f.proposal(on: trader)
        try await trader.enqueue(envelope, snapshot: snapshot, at: Date())
        let committed = TestProcess.waitUntil(seconds: 30) {
            (try? TestProcess.run(TestProcess.alvh, ["pending", "--server", service.url, "--tls-dir", "\(tls)/clients/trader", "--json",
                                                     "--workspace", "\(f.root)/hosts"], timeout: 20).text.contains(envelope.id)) == false
        }
        #expect(committed, "logs: \(children.keys.map { (try? String(contentsOfFile: "\(f.root)/hosts/\($0)/run.log", encoding: .utf8)) ?? "" })")
        #expect(try await trader.verified().sequence == 1)
        let entry = try await trader.entry(1)
        #expect(try Envelope.decode(entry.envelope).id == envelope.id)

        // An auditor on another host verifies the whole ledger through the service.
        let verify = try TestProcess.run(TestProcess.alvh, ["ledger", "verify", "--server", service.url, "--tls-dir", "\(tls)/clients/trader",
                                                            "--expect-ledger-id", ledgerID, "--workspace", "\(f.root)/hosts", "--json"], timeout: 60)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.text.contains("\"ok\" : true"), "\(verify.text)")

        // Each signer kept its double-sign state in its own folder.
        for name in ["s1", "s2"] {
            let files = (try? FileManager.default.subpathsOfDirectory(atPath: "\(f.root)/hosts/\(name)")) ?? []
            #expect(files.contains { $0.hasSuffix(".json") && !$0.hasPrefix("tls") }, "\(name): \(files)")
        }

        // A client without a certificate of the desk CA is refused at the TLS handshake.
        let selfSigned = "\(f.root)/self"
        _ = try TestProcess.run(TestProcess.alvh, ["tls", "init", selfSigned, "mallory"], timeout: 60)
        let refused = try TestProcess.run(TestProcess.alvh, ["pending", "--server", service.url, "--tls-dir", "\(selfSigned)/clients/mallory",
                                                             "--workspace", "\(f.root)/hosts"], timeout: 30)
        #expect(refused.status != 0)
        // Bad --server / --tls-dir inputs say what to give.
        let noTLS = try TestProcess.run(TestProcess.alvh, ["pending", "--server", service.url, "--tls-dir", "\(f.root)/missing", "--workspace", "\(f.root)/hosts"],
                                        timeout: 30)
        #expect(noTLS.status != 0 && noTLS.stderr.contains("missing/ca.pem"), "\(noTLS.stderr)")
        let both = try TestProcess.run(TestProcess.alvh, ["pending", "--server", service.url, "--ledger", "sqlite:x.sqlite"], timeout: 30)
        #expect(both.status != 0 && both.stderr.contains("--server"), "\(both.stderr)")
        let plain = try TestProcess.run(TestProcess.alvh, ["pending", "--server", "http://10.0.0.1:8443"], timeout: 30)
        #expect(plain.status != 0 && plain.stderr.contains("loopback"), "\(plain.stderr)")
        try await trader.close()
    }

    @Test("alvh reject, sign and commit --server: the CLI works through the service as on a database; the service holds no key")
    func cliThroughService() async throws {
        let f = try await ServiceFixture()
        let service = try ServeProcess.start(["--workspace", f.root, "--insecure-loopback"] + f.ledgerArguments, log: "\(f.root)/serve.log")
        defer { service.stop() }
        let host = "\(f.root)/host"
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
        let trader = try await Ledger.open(workspace: host, at: .service(.init(url: service.url, tls: nil)))
        let (envelope, snapshot) = try await f.proposal(on: trader)
        try await trader.enqueue(envelope, snapshot: snapshot, at: Date())
        func alvh(_ arguments: [String]) throws -> TestProcess.Output {
            try TestProcess.run(TestProcess.alvh, arguments + ["--server", service.url, "--workspace", host], timeout: 60)
        }
        let id = String(envelope.id.prefix(16))
        let rejected = try alvh(["reject", id, "--key", "\(f.root)/Keys/private/s3.key.pem", "--reason", "too early"])
        #expect(rejected.status == 0, "\(rejected.stderr)")
        for name in ["s1", "s2"] {
            let signed = try alvh(["sign", id, "--key", "\(f.root)/Keys/private/\(name).key.pem", "--yes"])
            #expect(signed.status == 0, "\(signed.stderr)")
        }
        let committed = try alvh(["commit", id, "--committer-key", f.committerKeyPath, "--json"])
        #expect(committed.status == 0, "\(committed.stderr)")
        let ledger = try await f.openLedger()
        #expect(try await ledger.verified().sequence == 1)
        // The entry carries the risk officer's rejection: the remote commit attached every one the service held.
        let attachments = try EntryAttachments.decode(try await ledger.entry(1).attachments)
        #expect(attachments.rejections?.count == 1)
        try await ledger.close()
        try await trader.close()
    }
}
