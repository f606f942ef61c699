import Foundation
import Testing
import ALVHSigning
import ALVHTestSupport

/// `alvh verify` of a policy-change envelope shows what the change changes, line by line.
@Suite("Policy diff on the command line")
struct PolicyDiffCLITests {
    @Test("verify of a policy-change envelope prints the diff (text, escaped, and --json)")
    func verifyShowsDiff() async throws {
        let fixture = try await SignerFixture()
        let root = fixture.root
        // v2: s4 leaves, "dave" (an id carrying an escape sequence) joins with mallory's key,
        // the layers rule needs 4, and a policy-change rule appears.
        var yaml = "version: 2\nname: signer-test\nveto-roles: [limits-bot]\nmax-clock-skew: 3s\nsigners:\n"
        for (name, role) in SignerFixture.members where name != "s4" {
            yaml += "  - id: \(name)\n    key: Keys/\(name).pub.pem\n    key-id: \(fixture.keys[name]!.keyID.hex)\n    roles: [\(role)]\n"
        }
        yaml += "  - id: \"dave\\e[2J\"\n    key: Keys/mallory.pub.pem\n    key-id: \(fixture.keys["mallory"]!.keyID.hex)\n    roles: [risk-officer]\n"
        yaml += "committers:\n  - id: committer\n    key: Keys/committer.pub.pem\n    key-id: \(fixture.keys["committer"]!.keyID.hex)\n"
        yaml += "rules:\n  - name: layers\n    kinds: [add-layer, roll-layer, resize-layer, close-layer]\n    threshold: 4\n"
        yaml += "  - name: policy\n    kinds: [policy-change]\n    threshold: 3\n"
        try yaml.write(toFile: "\(root)/v2.yaml", atomically: true, encoding: .utf8)

        let proposed = try TestProcess.run(TestProcess.alvh, ["policy", "propose", "\(root)/v2.yaml", "--key", fixture.keyPath("trader"), "--workspace", root])
        #expect(proposed.status == 0, "\(proposed.stderr)")
        let id = proposed.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let exported = try TestProcess.run(TestProcess.alvh, ["export", id, "-o", "\(root)/p.json", "--workspace", root])
        #expect(exported.status == 0, "\(exported.stderr)")

        let verified = try TestProcess.run(TestProcess.alvh, ["verify", "\(root)/p.json", "--workspace", root])
        let lines = verified.text.split(separator: "\n").map(String.init)
        #expect(lines.contains("policy change: policy 'signer-test' v1 → v2: 5 differences"), "\(verified.text)")
        #expect(lines.contains("  version 1 → 2"))
        #expect(lines.contains("  + signer dave\\e[2J [risk-officer] key \(fixture.keys["mallory"]!.keyID.fingerprint)"))
        #expect(lines.contains("  − signer s4 [risk-officer]"))
        #expect(lines.contains("  rule layers: threshold 3 → 4"))
        #expect(lines.contains("  + rule policy [policy-change] threshold 3"))
        #expect(!verified.stdout.contains(0x1B))

        let json = try TestProcess.run(TestProcess.alvh, ["verify", "\(root)/p.json", "--workspace", root, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        #expect(object["proposalID"] != nil)   // the report's own fields are still there
        let diff = try #require((object["policyDiff"] as? [String: Any])?["diff"] as? [String: Any])
        let kinds = (diff["differences"] as? [[String: String]])?.compactMap { $0["kind"] }
        #expect(kinds == ["version", "signer-added", "signer-removed", "rule-changed", "rule-added"])
    }
}
