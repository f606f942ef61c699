import Foundation
import Testing
import ALVHSigning
@testable import ALVHApproval

@Suite("Policy loading")
struct PolicyTests {
    static let ws: Workspace = try! Workspace().makeKeys(["a", "b", "c", "d"])

    func yaml(signers: String? = nil, rules: String? = nil, top: String = "") -> String {
        let ws = Self.ws
        return """
        version: 2
        \(top)
        signers:
        \(signers ?? ws.signer("alice", key: "a", roles: ["risk-officer"]) + ws.signer("bob", key: "b", roles: ["risk-officer"]) + ws.signer("carol", key: "c", roles: ["cro"]))
        rules:
        \(rules ?? "  - name: all\n    kinds: ['*']\n    threshold: 2\n    roles: { cro: 1 }")
        """
    }

    func expectInvalid(_ text: String, field: String, mentions: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) {
            try Self.ws.policy(text)
        } throws: { error in
            guard let error = error as? ApprovalError else { return false }
            let ok = error.code == .invalidPolicy && (error.path ?? "").hasSuffix(field) && error.reason.contains(mentions)
            if !ok { Issue.record("got \(error)", sourceLocation: sourceLocation) }
            return ok
        }
    }

    @Test("a valid policy loads, with its hash over the exact bytes")
    func valid() throws {
        let text = yaml()
        let policy = try Self.ws.policy(text)
        #expect(policy.version == 2)
        #expect(policy.signers.count == 3)
        #expect(policy.hash == SHA256.hexDigest(Array(try Self.ws.withCommitter(text).utf8)))
        #expect(!policy.proposerMayApprove)
        #expect(policy.requireProposerSignature)
        #expect(policy.rules[0].kinds == Set(ChangeKind.allCases))
        let changed = try Self.ws.policy(text + "\n")
        #expect(changed.hash != policy.hash)
    }

    @Test("the shipped example policy loads against the shipped keys")
    func shippedExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let policy = try Policy.load(path: "\(root)/Policies/desk.yaml", workspace: root)
        #expect(policy.name == "desk")
        #expect(policy.vetoRoles == ["limits-bot"])
        #expect(policy.signers.count == 6)
    }

    @Test("threshold above the number of signers is refused")
    func thresholdTooHigh() {
        expectInvalid(yaml(rules: "  - name: r\n    kinds: [add-layer]\n    threshold: 4"), field: "rules[0].threshold", mentions: "more than the 3 signers")
    }

    @Test("revoked signers do not count toward what a threshold can reach")
    func thresholdWithRevoked() {
        let ws = Self.ws
        let signers = ws.signer("alice", key: "a", roles: ["cro"]) + ws.signer("bob", key: "b", roles: ["cro"], revoked: true)
        expectInvalid(yaml(signers: signers, rules: "  - name: r\n    kinds: [add-layer]\n    threshold: 2"), field: "rules[0].threshold", mentions: "not revoked")
    }

    @Test("an unknown role in a rule or veto list is refused")
    func unknownRole() {
        expectInvalid(yaml(rules: "  - name: r\n    kinds: [add-layer]\n    threshold: 1\n    roles: { ceo: 1 }"), field: "rules[0].roles.ceo", mentions: "unknown role 'ceo'")
        expectInvalid(yaml(top: "veto-roles: [auditor]"), field: "veto-roles[0]", mentions: "unknown role 'auditor'")
    }

    @Test("a role minimum no signer set can meet is refused")
    func roleMinimumUnreachable() {
        expectInvalid(yaml(rules: "  - name: r\n    kinds: [add-layer]\n    threshold: 2\n    roles: { cro: 2 }"), field: "rules[0].roles.cro", mentions: "only 1 signer")
    }

    @Test("duplicate signer ids and one key under two ids are refused")
    func duplicates() {
        let ws = Self.ws
        expectInvalid(yaml(signers: ws.signer("alice", key: "a", roles: ["cro"]) + ws.signer("alice", key: "b", roles: ["cro"])),
                      field: "signers[1].id", mentions: "used twice")
        expectInvalid(yaml(signers: ws.signer("alice", key: "a", roles: ["cro"]) + ws.signer("mirror", key: "a", roles: ["risk-officer"])),
                      field: "signers[1].key", mentions: "two signer ids")
    }

    @Test("a missing key file, a wrong pin and a path outside the workspace are refused")
    func keyFiles() {
        let ws = Self.ws
        let missing = ws.signer("alice", key: "a", roles: ["cro"]).replacingOccurrences(of: "Keys/a.pub.pem", with: "Keys/nobody.pub.pem")
        expectInvalid(yaml(signers: missing + ws.signer("bob", key: "b", roles: ["cro"]), rules: "  - name: r\n    kinds: [add-layer]\n    threshold: 1"),
                      field: "signers[0].key", mentions: "Keys/nobody.pub.pem")
        let wrongPin = ws.signer("alice", key: "a", roles: ["cro"]).replacingOccurrences(of: ws.key("a").keyID.hex, with: ws.key("b").keyID.hex)
        expectInvalid(yaml(signers: wrongPin, rules: "  - name: r\n    kinds: [add-layer]\n    threshold: 1"), field: "signers[0].key-id", mentions: "replaced")
        let escape = ws.signer("alice", key: "a", roles: ["cro"]).replacingOccurrences(of: "Keys/a.pub.pem", with: "../etc/a.pub.pem")
        expectInvalid(yaml(signers: escape, rules: "  - name: r\n    kinds: [add-layer]\n    threshold: 1"), field: "signers[0].key", mentions: "inside the workspace")
        let noPin = "  - id: alice\n    key: Keys/a.pub.pem\n    roles: [cro]\n"
        expectInvalid(yaml(signers: noPin, rules: "  - name: r\n    kinds: [add-layer]\n    threshold: 1"), field: "signers[0].key-id", mentions: "pins")
    }

    @Test("an inline public key works without a key file")
    func inlineKey() throws {
        let pem = String(decoding: try Self.ws.key("d").publicKey.pemEncoded(), as: UTF8.self)
        let indented = pem.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n")
        let signers = "  - id: dave\n    public-key: |\n\(indented)\n    roles: [cro]\n"
        let policy = try Self.ws.policy(yaml(signers: signers, rules: "  - name: r\n    kinds: [add-layer]\n    threshold: 1"))
        #expect(policy.signers[0].keyID == Self.ws.key("d").keyID)
    }

    @Test("misspelled fields, wrong types, aliases and bad YAML are refused with the field named")
    func malformed() {
        expectInvalid(yaml(top: "threshhold: 3"), field: "policy.yaml", mentions: "unknown field 'threshhold'")
        expectInvalid(yaml(rules: "  - name: r\n    kinds: [add-layer]\n    threshold: two"), field: "rules[0].threshold", mentions: "whole number")
        expectInvalid(yaml(rules: "  - name: r\n    kinds: [add-leyer]\n    threshold: 1"), field: "rules[0].kinds[0]", mentions: "unknown change kind")
        expectInvalid(yaml(top: "max-proposal-lifetime: forever"), field: "max-proposal-lifetime", mentions: "duration")
        expectInvalid(yaml(top: "proposer-may-approve: maybe"), field: "proposer-may-approve", mentions: "true or false")
        expectInvalid("version: 1\nsigners: &s [1]\nrules: *s\n", field: "policy.yaml", mentions: "anchors and aliases")
        expectInvalid("version: [1\n", field: "policy.yaml", mentions: "not valid YAML")
        expectInvalid("", field: "policy.yaml", mentions: "empty")
        expectInvalid("signers: []\nrules: []\n", field: "version", mentions: "required")
        expectInvalid("version: 1\nversion: 2\nsigners: []\n", field: "policy.yaml", mentions: "duplicated key")
    }

    @Test("rule matching by kind and size; every matching rule counts")
    func ruleMatching() throws {
        let rules = """
          - name: small
            kinds: [add-layer]
            threshold: 1
          - name: large
            kinds: [add-layer]
            min-premium-dollars: 50000
            threshold: 2
            roles: { cro: 1 }
          - name: many
            kinds: [add-layer]
            min-contracts: 100
            threshold: 3
        """
        let policy = try Self.ws.policy(yaml(rules: rules))
        #expect(policy.matchingRules(kind: .addLayer, size: .init(premiumDollars: 1000, absDeltaVega: 0, contracts: 10)).map(\.name) == ["small"])
        #expect(policy.matchingRules(kind: .addLayer, size: .init(premiumDollars: 50000, absDeltaVega: 0, contracts: 10)).map(\.name) == ["small", "large"])
        #expect(policy.matchingRules(kind: .addLayer, size: .init(premiumDollars: 60000, absDeltaVega: 0, contracts: 200)).map(\.name) == ["small", "large", "many"])
        #expect(policy.matchingRules(kind: .closeLayer, size: .zero).isEmpty)
    }
}
