import Foundation
import Testing
import ALVHSigning
@testable import ALVHApproval

/// What a policy change changes, shown to the humans who approve it.
@Suite("Policy diff")
struct PolicyDiffTests {
    let ws: Workspace

    init() throws { ws = try Workspace().makeKeys(["alice", "bob", "carol", "dave", "alice2"]) }

    static let baseRules = """
    rules:
      - name: layers
        kinds: [add-layer, resize-layer]
        threshold: 2
      - name: backstop
        kinds: [add-layer]
        layers: [backstop]
        min-premium-dollars: 5000
        threshold: 3
        roles: { cro: 1 }
    """

    func yaml(version: Int = 1, name: String = "desk", header: String = "", signers: [String]? = nil, rules: String = baseRules) -> String {
        let people = signers ?? [ws.signer("alice", key: "alice", roles: ["risk-officer"]),
                                 ws.signer("bob", key: "bob", roles: ["risk-officer"]),
                                 ws.signer("carol", key: "carol", roles: ["cro"])]
        return "version: \(version)\nname: \(name)\n\(header)signers:\n\(people.joined(separator: "\n"))\n\(rules)\n"
    }

    func diff(_ old: String, _ new: String) throws -> PolicyDiff {
        PolicyDiff(from: try ws.policy(old), to: try ws.policy(new))
    }

    @Test("identical policies: no differences; the header says so")
    func identical() throws {
        let d = try diff(yaml(), yaml())
        #expect(d.isEmpty)
        #expect(d.description == "policy 'desk' v1 → v1: no differences")
    }

    @Test("top-level settings: version, name, proposer flags, veto roles, lifetimes")
    func settings() throws {
        let new = yaml(version: 2, name: "desk-2026", header: """
        proposer-may-approve: true
        require-proposer-signature: false
        veto-roles: [cro]
        max-proposal-lifetime: 2h
        max-market-age: 30m

        """)
        let d = try diff(yaml(), new)
        #expect(d.differences == [
            .version(from: 1, to: 2), .name(from: "desk", to: "desk-2026"),
            .proposerMayApprove(from: false, to: true), .requireProposerSignature(from: true, to: false),
            .vetoRoles(added: ["cro"], removed: []),
            .maxProposalLifetime(fromSeconds: try ws.policy(yaml()).maxProposalLifetimeSeconds, toSeconds: 7200),
            .maxMarketAge(fromSeconds: nil, toSeconds: 1800),
        ])
        let lines = d.description.split(separator: "\n").map(String.init)
        #expect(lines.first == "policy 'desk' → 'desk-2026' v1 → v2: 7 differences")
        #expect(lines.contains("  version 1 → 2"))
        #expect(lines.contains("  veto-roles: +cro"))
        #expect(lines.contains("  max-market-age none → 30m"))
        #expect(lines.contains { $0.hasPrefix("  max-proposal-lifetime ") && $0.hasSuffix(" → 2h") })
    }

    @Test("signers: added, removed, re-keyed, revoked, un-revoked, roles changed")
    func signers() throws {
        let old = yaml(signers: [ws.signer("alice", key: "alice", roles: ["risk-officer"]),
                                 ws.signer("bob", key: "bob", roles: ["risk-officer"]),
                                 ws.signer("carol", key: "carol", roles: ["cro"]),
                                 ws.signer("erin", key: "dave", roles: ["trader"], revoked: true)])
        let new = yaml(version: 2, signers: [ws.signer("alice", key: "alice2", roles: ["risk-officer"], revoked: true),
                                             ws.signer("carol", key: "carol", roles: ["cro", "risk-officer"]),
                                             ws.signer("erin", key: "dave", roles: ["trader"]),
                                             ws.signer("dave", key: "bob", roles: ["risk-officer"])])
        let d = try diff(old, new)
        let alice = ws.key("alice").keyID.hex, alice2 = ws.key("alice2").keyID.hex, bob = ws.key("bob").keyID.hex
        #expect(d.differences == [
            .version(from: 1, to: 2),
            .signerRekeyed(id: "alice", fromKeyID: alice, toKeyID: alice2),
            .signerRevoked(id: "alice"),
            .signerRoles(id: "carol", added: ["risk-officer"], removed: []),
            .signerUnrevoked(id: "erin"),
            .signerAdded(id: "dave", roles: ["risk-officer"], keyID: bob, revoked: false),
            .signerRemoved(id: "bob", roles: ["risk-officer"]),
        ])
        let text = d.description
        #expect(text.contains("  + signer dave [risk-officer] key \(ws.key("bob").keyID.fingerprint)"))
        #expect(text.contains("  − signer bob [risk-officer]"))
        #expect(text.contains("  signer alice: key \(ws.key("alice").keyID.fingerprint) → \(ws.key("alice2").keyID.fingerprint)"))
        #expect(text.contains("  signer alice: revoked"))
        #expect(text.contains("  signer erin: no longer revoked"))
        #expect(text.contains("  signer carol roles: +risk-officer"))
    }

    @Test("rules: added, removed, and each changed field (kinds, layers, threshold, roles, size minimums)")
    func rules() throws {
        let new = yaml(version: 2, rules: """
        rules:
          - name: layers
            kinds: [add-layer, close-layer]
            layers: [short-term]
            threshold: 3
            roles: { risk-officer: 2 }
            min-contracts: 50
          - name: policy
            kinds: [policy-change]
            threshold: 3
        """)
        let d = try diff(yaml(), new)
        let old = try ws.policy(yaml())
        #expect(d.differences == [
            .version(from: 1, to: 2),
            .ruleChanged(rule: "layers", .kinds(added: ["close-layer"], removed: ["resize-layer"])),
            .ruleChanged(rule: "layers", .layers(from: nil, to: ["short-term"])),
            .ruleChanged(rule: "layers", .threshold(from: 2, to: 3)),
            .ruleChanged(rule: "layers", .roleMinimum(role: "risk-officer", from: nil, to: 2)),
            .ruleChanged(rule: "layers", .minContracts(from: nil, to: 50)),
            .ruleAdded(try ws.policy(new).rules[1]),
            .ruleRemoved(old.rules[1]),
        ])
        let text = d.description
        #expect(text.contains("  rule layers: threshold 2 → 3"))
        #expect(text.contains("  rule layers: kinds +close-layer −resize-layer"))
        #expect(text.contains("  rule layers: layers any → [short-term]"))
        #expect(text.contains("  rule layers: at least risk-officer none → 2"))
        #expect(text.contains("  + rule policy [policy-change] threshold 3"))
        #expect(text.contains("  − rule backstop [add-layer] layers [backstop] when premium ≥ $5000.0 threshold 3 incl. 1 cro"))

        let premium = yaml(rules: Self.baseRules.replacingOccurrences(of: "min-premium-dollars: 5000", with: "min-premium-dollars: 9000\n    min-abs-delta-vega: 250"))
        let sizes = try diff(yaml(), premium)
        #expect(sizes.differences == [.ruleChanged(rule: "backstop", .minPremiumDollars(from: 5000, to: 9000)),
                                      .ruleChanged(rule: "backstop", .minAbsDeltaVega(from: nil, to: 250))])
    }

    @Test("JSON: from, to and one {kind, text} per difference")
    func json() throws {
        let d = try diff(yaml(), yaml(version: 2, signers: [ws.signer("alice", key: "alice", roles: ["risk-officer"]),
                                                            ws.signer("carol", key: "carol", roles: ["cro"]),
                                                            ws.signer("dave", key: "dave", roles: ["risk-officer"])]))
        let object = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(d)) as? [String: Any])
        #expect((object["to"] as? [String: Any])?["version"] as? Int == 2)
        let lines = try #require(object["differences"] as? [[String: String]])
        #expect(lines.map { $0["kind"] } == ["version", "signer-added", "signer-removed"])
        #expect(lines[2]["text"] == "− signer bob [risk-officer]")
    }

    @Test("the committer's key, the proposer roles, the clock skew and the price tolerance are shown when they change")
    func formatTwoSettings() throws {
        let before = yaml()
        let committer = "committers:\n  - id: committer\n    key: Keys/dave.pub.pem\n    key-id: \(ws.key("dave").keyID.hex)\n"
        let after = yaml(version: 2, header: "proposer-roles: [risk-officer]\nmax-clock-skew: 5s\nlimit-price-tolerance: { points: 0.05, fraction: 0.1 }\n") + committer
        let d = try diff(before, after)
        #expect(d.differences.contains(.committerRekeyed(id: "committer", fromKeyID: ws.key("committer").keyID.hex, toKeyID: ws.key("dave").keyID.hex)))
        #expect(d.differences.contains(.proposerRoles(from: nil, to: ["risk-officer"])))
        #expect(d.differences.contains(.maxClockSkew(fromSeconds: 60, toSeconds: 5)))
        #expect(d.description.contains("committer committer: key"))
    }
}
