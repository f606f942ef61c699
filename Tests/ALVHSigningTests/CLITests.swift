import Foundation
import Testing
@testable import ALVHSigning

/// The real `alvh` binary, as a user runs it.
@Suite("alvh keys (CLI)")
struct KeysCLITests {
    func alvh(_ args: [String], env: [String: String] = [:]) throws -> ProcessOutput {
        try #require(FileManager.default.isExecutableFile(atPath: Run.alvh), "alvh is not built at \(Run.alvh)")
        return try Run.process(Run.alvh, args, environment: env)
    }

    @Test("generate prints the key id, refuses to overwrite, lists as JSON, signs and verifies")
    func workflow() throws {
        let dir = TempDir()
        let keys = dir.file("Keys")
        let made = try alvh(["keys", "generate", "alice", "--dir", keys])
        #expect(made.status == 0, "\(made.stderr)")
        let id = made.text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id == (try PublicKey.load(from: "\(keys)/alice.pub.pem")).keyID.hex)

        let again = try alvh(["keys", "generate", "alice", "--dir", keys])
        #expect(again.status == 1)
        #expect(again.stderr.contains("--force"))

        #expect(try alvh(["keys", "generate", "bob", "--type", "p256", "--dir", keys]).status == 0)
        let list = try alvh(["keys", "list", "--dir", keys, "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout)) as? [[String: Any]])
        #expect(rows.map { $0["name"] as? String } == ["alice", "bob"])
        #expect(rows[1]["type"] as? String == "p256")
        #expect(rows[0]["keyID"] as? String == id)
        #expect(rows[0]["hasPrivateKey"] as? Bool == true)

        try dir.write("msg", Array("hello desk\n".utf8))
        for name in ["alice", "bob"] {
            let signed = try alvh(["keys", "sign", dir.file("msg"), "--key", "\(keys)/private/\(name).key.pem", "-o", dir.file("\(name).sig")])
            #expect(signed.status == 0, "\(signed.stderr)")
            let ok = try alvh(["keys", "verify", dir.file("msg"), "--sig", dir.file("\(name).sig"), "--pub", "\(keys)/\(name).pub.pem"])
            #expect(ok.status == 0, "\(ok.stderr)")
        }
        try dir.write("msg", Array("hello desk!\n".utf8))
        let bad = try alvh(["keys", "verify", dir.file("msg"), "--sig", dir.file("alice.sig"), "--pub", "\(keys)/alice.pub.pem"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("does not verify"))
        let json = try alvh(["keys", "verify", dir.file("msg"), "--sig", dir.file("alice.sig"), "--pub", "\(keys)/alice.pub.pem", "--json"])
        #expect(json.status == 1)
        #expect(json.text.contains("\"code\" : \"signature-invalid\""))
    }

    @Test("usage errors exit 64; --version prints the version")
    func usage() throws {
        #expect(try alvh(["keys", "generate"]).status == 64)
        #expect(try alvh(["keys", "list", "--no-such-option"]).status == 64)
        #expect(try alvh(["keys", "generate", "x", "--type", "rsa"]).status == 64)
        let version = try alvh(["--version"])
        #expect(version.status == 0)
        #expect(version.text.split(separator: ".").count == 3)
    }

    @Test("encrypted keys through the CLI: passphrase file, environment, wrong passphrase, no terminal")
    func encrypted() throws {
        let dir = TempDir()
        let keys = dir.file("Keys")
        try dir.write("pass", Array("tr0ub4dor\n".utf8), mode: 0o600)
        let made = try alvh(["keys", "generate", "carol", "--dir", keys, "--encrypt", "--passphrase-file", dir.file("pass")])
        #expect(made.status == 0, "\(made.stderr)")
        let id = made.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let key = "\(keys)/private/carol.key.pem"
        let viaEnv = try alvh(["keys", "id", key], env: ["ALVH_PASSPHRASE": "tr0ub4dor"])
        #expect(viaEnv.status == 0)
        #expect(viaEnv.text.contains(id))
        let wrong = try alvh(["keys", "id", key], env: ["ALVH_PASSPHRASE": "password1"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("passphrase"))
        #expect(!wrong.stderr.contains("password1"))
        let none = try alvh(["keys", "id", key])
        #expect(none.status == 1)
        #expect(none.stderr.contains("--passphrase-file"))
        let noTerminal = try alvh(["keys", "generate", "dave", "--dir", keys, "--encrypt"])
        #expect(noTerminal.status == 1)
        #expect(!FileManager.default.fileExists(atPath: "\(keys)/private/dave.key.pem"))
    }
}
