import Foundation
import Testing
import ALVHTestSupport

/// Untrusted text (a policy's names, an error quoting a path or an argument) reaches the terminal
/// escaped: no raw ESC, BEL, CR, C1 or bidi control, in text or in `--json` output.
@Suite("Terminal escaping")
struct TerminalEscapeTests {
    /// Bytes a terminal acts on: C0 but newline, DEL, and the UTF-8 of C1 and the bidi controls.
    static func rawControls(_ bytes: [UInt8]) -> [String] {
        var found: [String] = []
        for byte in bytes where (byte < 0x20 && byte != 0x0A) || byte == 0x7F { found.append(String(format: "0x%02X", byte)) }
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            switch scalar.value {
            case 0x80...0x9F, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: found.append(String(format: "U+%04X", scalar.value))
            default: break
            }
        }
        return found
    }

    /// A workspace whose policy's name and one signer id carry a screen clear, a title change,
    /// BEL, CR, a C1 CSI and bidi overrides (YAML double-quoted escapes).
    static func hostileWorkspace() throws -> String {
        var template = Array("/tmp/alvh-escape-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        let repo = TestProcess.packageRoot.path
        try FileManager.default.createDirectory(atPath: "\(root)/Policies", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(repo)/Keys", toPath: "\(root)/Keys")
        var yaml = try String(contentsOfFile: "\(repo)/Policies/desk.yaml", encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "name: desk\n", with: #"name: "desk\e[2J\e]0;pwned\a\u202Eevil\r\x9B31m""# + "\n")
        yaml = yaml.replacingOccurrences(of: "  - id: bob\n", with: #"  - id: "bob\e[31m\u2066""# + "\n")
        try yaml.write(toFile: "\(root)/Policies/desk.yaml", atomically: true, encoding: .utf8)
        return root
    }

    @Test("policy check: the policy's name and a signer id are shown escaped, not sent raw")
    func policyCheckText() throws {
        let root = try Self.hostileWorkspace()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let out = try TestProcess.run(TestProcess.alvh, ["policy", "check", "\(root)/Policies/desk.yaml", "--workspace", root])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(Self.rawControls(out.stdout).isEmpty, "\(Self.rawControls(out.stdout))")
        #expect(out.text.contains(#"desk\e[2J\e]0;pwned\x07\u{202E}evil\r\u{009B}31m"#))
        #expect(out.text.contains(#"bob\e[31m\u{2066}"#))
    }

    @Test("policy check --json: the same text JSON-escaped, and it decodes back to the original")
    func policyCheckJSON() throws {
        let root = try Self.hostileWorkspace()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let out = try TestProcess.run(TestProcess.alvh, ["policy", "check", "\(root)/Policies/desk.yaml", "--workspace", root, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(Self.rawControls(out.stdout).isEmpty, "\(Self.rawControls(out.stdout))")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout)) as? [String: Any])
        #expect(object["name"] as? String == "desk\u{1B}[2J\u{1B}]0;pwned\u{07}\u{202E}evil\r\u{9B}31m")
    }

    @Test("errors: a path quoted in an error, and an argument quoted in a usage error, are escaped on stderr")
    func errors() throws {
        let hostile = "/tmp/no-such-\u{1B}[2J\u{202E}file"
        let missing = try TestProcess.run(TestProcess.alvh, ["policy", "check", hostile])
        #expect(missing.status == 1)
        #expect(Self.rawControls(Array(missing.stderr.utf8)).isEmpty, "\(missing.stderr)")
        #expect(missing.stderr.contains(#"/tmp/no-such-\e[2J\u{202E}file"#))

        let usage = try TestProcess.run(TestProcess.alvh, ["policy", "check", "x.yaml", "--bogus\u{1B}[2J\u{202E}"])
        #expect(usage.status == 64)
        #expect(Self.rawControls(Array(usage.stderr.utf8)).isEmpty, "\(usage.stderr)")
        #expect(usage.stderr.contains(#"\e[2J"#))
    }
}
