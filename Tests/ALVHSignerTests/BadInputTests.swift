import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHLedger
import ALVHTestSupport

/// The bad-input table of docs/bad-input.md, one row per test case: the real `alvh` binary against a
/// real workspace; each row asserts the error text, the exit status, and that nothing was written
/// (ledger entries, queue, signatures, rejections, book and every workspace file unchanged).
@Suite("Bad inputs", .serialized)
struct BadInputTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        /// Arguments after `alvh`; `WS` is replaced by the workspace, `ID` by the pending proposal's id.
        let arguments: [String]
        let expected: String
        var status: Int32 = 1
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "malformed JSON envelope", arguments: ["import", "WS/bad/malformed.json"], expected: "not JSON"),
        Row(name: "truncated envelope", arguments: ["import", "WS/bad/truncated.json"], expected: "not JSON"),
        Row(name: "non-UTF-8 envelope", arguments: ["import", "WS/bad/binary.json"], expected: "not JSON"),
        Row(name: "wrong-type JSON envelope", arguments: ["import", "WS/bad/wrong-type.json"], expected: "field 'payload' is missing or not a string"),
        Row(name: "non-UTF-8 market snapshot", arguments: ["propose", "--market", "WS/bad/binary.json", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "not valid JSON"),
        Row(name: "wrong-type market snapshot", arguments: ["propose", "--market", "WS/bad/snapshot-wrong-type.json", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "spx.spot: must be a number"),
        Row(name: "malformed policy YAML", arguments: ["policy", "propose", "WS/bad/malformed.yaml", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "not valid YAML"),
        Row(name: "wrong-type policy YAML", arguments: ["policy", "propose", "WS/bad/wrong-type.yaml", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "rules[0].threshold: must be a whole number"),
        Row(name: "malformed strategy YAML", arguments: ["propose", "--market", "WS/market.json", "--strategy", "WS/bad/malformed.yaml", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "not valid YAML"),
        Row(name: "malformed history CSV", arguments: ["propose", "--market", "WS/market.json", "--history", "WS/bad/bad-number.csv", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "bad-number.csv:2:2: 'abc' is not a positive number"),
        Row(name: "truncated history CSV", arguments: ["propose", "--market", "WS/market.json", "--history", "WS/bad/no-header.csv", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "header must name DATE and CLOSE"),
        Row(name: "missing file", arguments: ["import", "WS/bad/missing.json"], expected: "No such file"),
        Row(name: "a directory where a file is expected", arguments: ["import", "WS/bad"], expected: "directory"),
        Row(name: "a FIFO as a market snapshot", arguments: ["propose", "--market", "WS/bad/fifo.json", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "bad/fifo.json: not a regular file: it is a FIFO (named pipe)"),
        Row(name: "a FIFO as a policy file", arguments: ["policy", "check", "WS/bad/fifo.json"],
            expected: "bad/fifo.json: not a regular file: it is a FIFO (named pipe)"),
        Row(name: "a FIFO as a policy's key file", arguments: ["policy", "check", "WS/bad/fifo-key.yaml"],
            expected: "cannot use key file bad/fifo.json: not a regular file: it is a FIFO (named pipe)"),
        Row(name: "a symbolic link as a private key", arguments: ["sign", "ID", "--yes", "--key", "WS/bad/link.key.pem"],
            expected: "bad/link.key.pem: is a symbolic link; give the real file's path"),
        Row(name: "world-readable private key", arguments: ["sign", "ID", "--yes", "--key", "WS/bad/open.key.pem"],
            expected: "permissions 0644 are too open"),
        Row(name: "wrong passphrase", arguments: ["sign", "ID", "--yes", "--key", "WS/bad/encrypted.key.pem", "--passphrase-file", "WS/bad/wrong-passphrase"],
            expected: "the passphrase does not decrypt this private key"),
        Row(name: "RSA key", arguments: ["sign", "ID", "--yes", "--key", "WS/bad/rsa.key.pem"], expected: "RSA keys are not supported"),
        Row(name: "P-384 key", arguments: ["sign", "ID", "--yes", "--key", "WS/bad/p384.key.pem"], expected: "curve secp384r1 is not supported"),
        Row(name: "X25519 key", arguments: ["sign", "ID", "--yes", "--key", "WS/bad/x25519.key.pem"], expected: "X25519 keys are not supported"),
        Row(name: "a key outside the policy", arguments: ["sign", "ID", "--yes", "--key", "WS/Keys/private/mallory.key.pem"],
            expected: "is not a signer of policy"),
        Row(name: "commit without a committer key", arguments: ["commit", "ID"],
            expected: "every ledger entry is signed by a committer: give --committer-key FILE"),
        Row(name: "a signer's --market that does not exist", arguments: ["signer", "run", "--once", "--key", "WS/Keys/private/s1.key.pem", "--market", "WS/bad/no-feed"],
            expected: "bad/no-feed: no such file or folder (--market)"),
        Row(name: "a market snapshot whose VIX future expiry is not a VIX expiry",
            arguments: ["propose", "--market", "WS/bad/snapshot-vix-expiry.json", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "vix.futures[0].expiry: 2026-12-18 is not a VIX expiry: VIX options of December 2026 settle on Wednesday 2026-12-16"),
        Row(name: "an event time on another New York day than its date",
            arguments: ["propose", "--market", "WS/bad/snapshot-event-time.json", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "events[0].time: 2026-12-09T02:00:00Z falls on 2026-12-08 in New York, not on the event's date 2026-12-09"),
        Row(name: "a strategy's event-kinds naming another release (NFP)",
            arguments: ["propose", "--market", "WS/market.json", "--strategy", "WS/bad/strategy-nfp.yaml", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "event-kinds[0]: must be FOMC or CPI"),
        Row(name: "a strategy's negative max-hedge-stress-multiple",
            arguments: ["propose", "--market", "WS/market.json", "--strategy", "WS/bad/strategy-negative-cap.yaml", "--key", "WS/Keys/private/trader.key.pem"],
            expected: "max-hedge-stress-multiple: must be between 0 (no cap) and 20 times the condor's max loss"),
        Row(name: "a checkpoint file that is not a signed note", arguments: ["ledger", "verify", "--checkpoint", "WS/bad/malformed.json", "--witnesses", "1"],
            expected: "bad/malformed.json: not a signed note: no blank line before the signature lines"),
        Row(name: "a checkpoint to cosign that no committer signed", arguments: ["ledger", "cosign", "WS/bad/forged.checkpoint", "--key", "WS/Keys/private/s1.key.pem"],
            expected: "bad/forged.checkpoint: not cosigned: no committer of the policy signed this checkpoint"),
        Row(name: "an inclusion proof of an entry past the head", arguments: ["ledger", "prove", "99"],
            expected: "entry 99 is not in a tree of 1 entries (entries 0…0); give a larger --size"),
        Row(name: "policy keys without --workspace", arguments: ["verify", "WS/bad/envelope.json", "--policy", "WS/Policies/desk.yaml", "%NO-WORKSPACE%"],
            expected: "key paths are relative to the workspace"),
    ]

    /// A workspace with a ledger, one pending proposal, and the bad files.
    static func workspace() async throws -> (SignerFixture, String) {
        let fixture = try await SignerFixture()
        let id = try await fixture.queue()
        let bad = "\(fixture.root)/bad"
        try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: true)
        func write(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
            try SecureFile.writeAtomically(bytes, to: "\(bad)/\(name)", mode: mode)
        }
        let envelope = try await fixture.ledger().envelope(id: id).encoded()
        try write("envelope.json", envelope)
        try write("malformed.json", Array("{\"payload\": \"abc\", ".utf8))
        try write("truncated.json", Array(envelope.prefix(envelope.count / 2)))
        try write("binary.json", [0xff, 0xfe, 0x00, 0x7b, 0x80, 0x81])
        try write("wrong-type.json", Array("{\"payload\": 5, \"payloadType\": \"x\", \"signatures\": []}".utf8))
        var snapshot = try JSONSerialization.jsonObject(with: Data(try fixture.market().bytes)) as! [String: Any]
        var spx = snapshot["spx"] as! [String: Any]
        spx["spot"] = "high"
        snapshot["spx"] = spx
        try write("snapshot-wrong-type.json", Array(try JSONSerialization.data(withJSONObject: snapshot)))
        try SecureFile.writeAtomically(try fixture.market().bytes, to: "\(fixture.root)/market.json", mode: 0o644)
        // Market conventions: a VIX future on a Friday (the December expiry is Wednesday 2026-12-16), and
        // an event whose time falls on the evening before its date in New York (02:00Z is 21:00 EST).
        var futureOffCalendar = try JSONSerialization.jsonObject(with: Data(try fixture.market().bytes)) as! [String: Any]
        var vix = futureOffCalendar["vix"] as! [String: Any]
        var futures = vix["futures"] as! [[String: Any]]
        futures[0]["expiry"] = "2026-12-18"
        vix["futures"] = futures
        futureOffCalendar["vix"] = vix
        try write("snapshot-vix-expiry.json", Array(try JSONSerialization.data(withJSONObject: futureOffCalendar)))
        var eventOffDay = try JSONSerialization.jsonObject(with: Data(try fixture.market().bytes)) as! [String: Any]
        var events = eventOffDay["events"] as! [[String: Any]]
        events[0]["date"] = "2026-12-09"
        events[0]["time"] = "2026-12-09T02:00:00Z"
        eventOffDay["events"] = events
        try write("snapshot-event-time.json", Array(try JSONSerialization.data(withJSONObject: eventOffDay)))
        // A checkpoint of the ledger's real tree, signed by mallory (not a committer).
        let tree = try await Ledger.withOpened(workspace: fixture.root) { try await $0.treeCheckpoint() }
        var forged = try SignedCheckpoint(tree)
        forged.add(try NoteSigner(name: "committer", key: try #require(fixture.keys["mallory"]), kind: .note).sign(tree.text))
        try write("forged.checkpoint", forged.encoded())
        try write("strategy-nfp.yaml", Array("event-kinds: [NFP]\n".utf8))
        try write("strategy-negative-cap.yaml", Array("max-hedge-stress-multiple: -1\n".utf8))
        try write("malformed.yaml", Array("version: 1\nsigners: [\n".utf8))
        let policy = try String(contentsOfFile: "\(fixture.root)/Policies/desk.yaml", encoding: .utf8)
        try write("wrong-type.yaml", Array(policy.replacingOccurrences(of: "threshold: 3", with: "threshold: three").utf8))
        try write("bad-number.csv", Array("DATE,CLOSE\n2020-01-02,abc\n".utf8))
        try write("no-header.csv", Array("2020-01-02,3.5\n".utf8))
        // Keys: world-readable, encrypted (with the wrong passphrase at hand), and unsupported types.
        let pem = try SecureFile.read(fixture.keyPath("s1"), limit: 65536)
        try write("open.key.pem", pem, mode: 0o644)
        try write("wrong-passphrase", Array("not-the-passphrase\n".utf8), mode: 0o600)
        let openssl = "/usr/bin/openssl"
        _ = try TestProcess.run(openssl, ["genpkey", "-algorithm", "ED25519", "-out", "\(bad)/plain.pem"])
        _ = try TestProcess.run(openssl, ["pkcs8", "-topk8", "-in", "\(bad)/plain.pem", "-v2", "aes-256-cbc", "-passout", "pass:right", "-out", "\(bad)/encrypted.key.pem"])
        _ = try TestProcess.run(openssl, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "\(bad)/rsa.key.pem"])
        _ = try TestProcess.run(openssl, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "\(bad)/p384.key.pem"])
        _ = try TestProcess.run(openssl, ["genpkey", "-algorithm", "X25519", "-out", "\(bad)/x25519.key.pem"])
        // Not regular files: a FIFO with no writer (a plain open(2) would wait forever), a policy naming it
        // as a key file, and a symbolic link to a good private key.
        guard mkfifo("\(bad)/fifo.json", 0o644) == 0 else { throw CocoaError(.fileWriteUnknown) }
        try write("fifo-key.yaml", Array(policy.replacingOccurrences(of: "Keys/s1.pub.pem", with: "bad/fifo.json").utf8))
        guard symlink(fixture.keyPath("s1"), "\(bad)/link.key.pem") == 0 else { throw CocoaError(.fileWriteUnknown) }
        for name in ["encrypted.key.pem", "rsa.key.pem", "p384.key.pem", "x25519.key.pem", "plain.pem"] { chmod("\(bad)/\(name)", 0o600) }
        return (fixture, id)
    }

    /// Everything a command could have written: the ledger's tables and every file's bytes.
    static func state(_ root: String) throws -> String {
        let database = "\(root)/alvh.sqlite"
        let tables = try TestProcess.run("/usr/bin/sqlite3", [database, """
            SELECT count(*), max(entry_hash) FROM entries; SELECT id, status FROM pending ORDER BY id;
            SELECT count(*) FROM signatures; SELECT count(*) FROM rejections; SELECT json FROM book;
            """]).text
        var files: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)!
        while let path = enumerator.nextObject() as? String {
            if path.hasPrefix("alvh.sqlite") || path.hasPrefix("logs") { continue }
            // Regular files only (not followed through links; a FIFO is never opened).
            let type = (try? FileManager.default.attributesOfItem(atPath: "\(root)/\(path)"))?[.type] as? FileAttributeType
            if type != .typeRegular { continue }
            let bytes = (try? SecureFile.read("\(root)/\(path)", limit: 64 << 20)) ?? []
            files.append("\(path) \(SHA256.hexDigest(bytes))")
        }
        return tables + files.sorted().joined(separator: "\n")
    }

    @Test("each bad input: the error names the problem, exit 1, nothing written", arguments: rows)
    func badInput(row: Row) async throws {
        let (fixture, id) = try await Self.workspace()
        let before = try Self.state(fixture.root)
        var arguments = row.arguments.map { $0 == "ID" ? String(id.prefix(16)) : $0.replacingOccurrences(of: "WS/", with: fixture.root + "/") }
        if let index = arguments.firstIndex(of: "%NO-WORKSPACE%") { arguments.remove(at: index) } else { arguments += ["--workspace", fixture.root] }
        // Bounded: a command that waits on a FIFO fails here instead of hanging the suite.
        let out = try TestProcess.run(TestProcess.alvh, arguments, timeout: 60)
        #expect(!out.timedOut, "still running after 60 s")
        if let dump = ProcessInfo.processInfo.environment["ALVH_BAD_INPUT_DUMP"] { // regenerates docs/bad-input.md's texts
            let line = "\(row.name)\t\(out.status)\t\(out.stderr.split(separator: "\n").first ?? "")\n".replacingOccurrences(of: fixture.root, with: "WS")
            if let handle = FileHandle(forWritingAtPath: dump) { handle.seekToEndOfFile(); handle.write(Data(line.utf8)); try? handle.close() }
        }
        #expect(out.status == row.status, "exit \(out.status): \(out.stderr)")
        #expect(out.stderr.contains(row.expected), "stderr: \(out.stderr)")
        #expect(out.stderr.hasPrefix("error: "), "stderr: \(out.stderr)")
        #expect(try Self.state(fixture.root) == before, "something was written")
    }

    @Test("--json puts the same error on stdout as JSON, with its code")
    func jsonError() async throws {
        let (fixture, _) = try await Self.workspace()
        let out = try TestProcess.run(TestProcess.alvh, ["import", "\(fixture.root)/bad/malformed.json", "--json", "--workspace", fixture.root])
        let object = try JSONSerialization.jsonObject(with: Data(out.stdout)) as? [String: Any]
        let error = object?["error"] as? [String: Any]
        #expect(out.status == 1 && error?["code"] as? String == "malformed-envelope" && (error?["reason"] as? String)?.contains("not JSON") == true)
    }

    @Test("a full disk (RLIMIT_FSIZE): commit fails with a database error and writes nothing; it succeeds once there is room")
    func fullDisk() async throws {
        let (fixture, id) = try await Self.workspace()
        for name in ["s1", "s2", "s3"] { #expect(try fixture.signOnce(name).status == 0) }
        let before = try Self.state(fixture.root)
        let script = "ulimit -f 1; trap '' XFSZ; exec \"$0\" commit \(id.prefix(16)) --workspace \(fixture.root) --committer-key \(fixture.keyPath("committer"))"
        let full = try TestProcess.run("/bin/bash", ["-c", script, TestProcess.alvh])
        #expect(full.status == 1, "exit \(full.status): \(full.stderr)")
        #expect(full.stderr.contains("[database]") || full.stderr.contains("full") || full.stderr.contains("I/O"), "stderr: \(full.stderr)")
        #expect(try Self.state(fixture.root) == before, "a failed commit wrote something")
        let roomy = try TestProcess.run(TestProcess.alvh, ["commit", String(id.prefix(16)), "--workspace", fixture.root, "--committer-key", fixture.keyPath("committer")])
        #expect(roomy.status == 0, "stderr: \(roomy.stderr)")
        #expect(try await fixture.headSequence() == 1)
    }

    @Test("a locked database: commit waits ALVH_BUSY_TIMEOUT_MS, then fails naming the lock, and writes nothing")
    func lockedDatabase() async throws {
        let (fixture, id) = try await Self.workspace()
        for name in ["s1", "s2", "s3"] { #expect(try fixture.signOnce(name).status == 0) }
        let before = try Self.state(fixture.root)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(20)",
                            "\(fixture.root)/alvh.sqlite"]
        let pipe = Pipe()
        holder.standardOutput = pipe
        try holder.run()
        // SIGKILL: the test runner's children may inherit an ignored SIGTERM.
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) }; holder.waitUntilExit() }
        _ = pipe.fileHandleForReading.availableData // "locked"
        let started = Date()
        let out = try TestProcess.run(TestProcess.alvh, ["commit", String(id.prefix(16)), "--workspace", fixture.root, "--committer-key", fixture.keyPath("committer")], environment: ["ALVH_BUSY_TIMEOUT_MS": "500"])
        #expect(out.status == 1 && out.stderr.contains("locked"), "stderr: \(out.stderr)")
        #expect(Date().timeIntervalSince(started) >= 0.4)
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        #expect(try Self.state(fixture.root) == before)
    }

    @Test("permission refusals (unreadable file, read-only workspace) — only meaningful when not root")
    func permissions() async throws {
        guard geteuid() != 0 else { return } // root reads and writes through permission bits; CI runs as root
        let (fixture, id) = try await Self.workspace()
        let file = "\(fixture.root)/bad/envelope.json"
        chmod(file, 0o000)
        defer { chmod(file, 0o644) }
        let unreadable = try TestProcess.run(TestProcess.alvh, ["import", file, "--workspace", fixture.root])
        #expect(unreadable.status == 1 && unreadable.stderr.contains("Permission denied"))
        for name in ["s1", "s2", "s3"] { _ = try fixture.signOnce(name) }
        let before = try Self.state(fixture.root)
        chmod(fixture.root, 0o555)
        defer { chmod(fixture.root, 0o755) }
        let readOnly = try TestProcess.run(TestProcess.alvh, ["commit", String(id.prefix(16)), "--workspace", fixture.root, "--committer-key", fixture.keyPath("committer")])
        #expect(readOnly.status == 1)
        chmod(fixture.root, 0o755)
        #expect(try Self.state(fixture.root) == before)
    }

    @Test("secrets: no private key bytes in errors or --json output, even when the key is refused")
    func secretsStayOut() async throws {
        let (fixture, id) = try await Self.workspace()
        let pem = String(decoding: try SecureFile.read("\(fixture.root)/bad/open.key.pem", limit: 65536), as: UTF8.self)
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let probes = stride(from: 0, to: max(1, body.count - 12), by: 8).map { String(body.dropFirst($0).prefix(12)) }
        for arguments in [["sign", String(id.prefix(16)), "--yes", "--key", "\(fixture.root)/bad/open.key.pem"],
                          ["sign", String(id.prefix(16)), "--yes", "--json", "--key", "\(fixture.root)/bad/open.key.pem"],
                          ["keys", "id", "\(fixture.root)/bad/open.key.pem", "--json"],
                          ["verify", "\(fixture.root)/bad/open.key.pem", "--policy", "\(fixture.root)/Policies/desk.yaml"]] {
            let out = try TestProcess.run(TestProcess.alvh, arguments + ["--workspace", fixture.root])
            let text = out.text + out.stderr
            #expect(!probes.contains { text.contains($0) }, "key bytes leaked by \(arguments.joined(separator: " ")): \(text)")
        }
    }
}
