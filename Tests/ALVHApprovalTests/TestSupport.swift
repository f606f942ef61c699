import Foundation
import ALVHSigning
@testable import ALVHApproval

/// A temporary workspace with a signer set and a policy written over it.
final class Workspace: @unchecked Sendable {
    let root: String
    var keys: [String: PrivateKey] = [:]

    init() throws {
        var template = Array("/tmp/alvh-approval-XXXXXX".utf8CString)
        root = String(cString: mkdtemp(&template)!)
        try makeKeys(["committer"]) // made here, once: suites share a workspace across parallel tests
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Generates keys named `names` under Keys/ (Ed25519 unless the name starts with "p256-").
    @discardableResult
    func makeKeys(_ names: [String]) throws -> Self {
        let store = KeyStore(directory: "\(root)/Keys")
        for name in names {
            let made = try store.generate(name: name, type: name.hasPrefix("p256-") ? .p256 : .ed25519)
            keys[name] = try PrivateKey.load(from: made.privateKeyPath)
        }
        return self
    }

    func key(_ name: String) -> PrivateKey { keys[name]! }

    /// A signer entry for the policy YAML.
    func signer(_ id: String, key name: String, roles: [String], revoked: Bool = false) -> String {
        """
          - id: \(id)
            key: Keys/\(name).pub.pem
            key-id: \(key(name).keyID.hex)
            roles: [\(roles.joined(separator: ", "))]
        \(revoked ? "    revoked: true\n" : "")
        """
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = "\(root)/\(name)"
        try SecureFile.makeDirectory((path as NSString).deletingLastPathComponent, mode: 0o755)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The policy of `yaml`; one without a `committers:` section gets this workspace's committer key
    /// appended (every policy names one; most tests are about other sections).
    func policy(_ yaml: String) throws -> Policy {
        try Policy(bytes: Array(withCommitter(yaml).utf8), workspace: root, path: "policy.yaml")
    }

    func withCommitter(_ yaml: String) throws -> String {
        guard !yaml.contains("committers:"), yaml.contains("signers:") else { return yaml }
        return yaml + "\ncommitters:\n  - id: committer\n    key: Keys/committer.pub.pem\n    key-id: \(key("committer").keyID.hex)\n"
    }
}

/// The standard test desk: trader tom, risk officers alice/bob/dana, cro carol, limits bot.
struct Desk {
    let workspace: Workspace
    let policy: Policy
    let ledger = LedgerContext(ledgerID: String(repeating: "a", count: 64), head: String(repeating: "b", count: 64), nextSequence: 7)
    let now = RFC3339.parse("2026-11-25T14:00:00Z")!

    static let names = ["tom", "alice", "p256-bob", "dana", "carol", "limits", "mallory"]

    init(extraPolicy: String = "", revokeDana: Bool = false, proposerMayApprove: Bool = false, threshold: Int = 3) throws {
        let ws = try Workspace().makeKeys(Desk.names)
        workspace = ws
        let yaml = """
        version: 3
        name: test-desk
        proposer-may-approve: \(proposerMayApprove)
        veto-roles: [limits-bot]
        max-proposal-lifetime: 24h
        signers:
        \(ws.signer("tom", key: "tom", roles: ["trader"]))
        \(ws.signer("alice", key: "alice", roles: ["risk-officer"]))
        \(ws.signer("bob", key: "p256-bob", roles: ["risk-officer"]))
        \(ws.signer("dana", key: "dana", roles: ["risk-officer"], revoked: revokeDana))
        \(ws.signer("carol", key: "carol", roles: ["cro"]))
        \(ws.signer("limits", key: "limits", roles: ["limits-bot"]))
        rules:
          - name: policy-change
            kinds: [policy-change]
            threshold: \(threshold)
            roles: { cro: 1 }
        \(extraPolicy)
        """
        policy = try ws.policy(yaml)
    }

    /// A policy-change proposal bound to `ledger` and this policy, created at `now`.
    func document(expiresIn seconds: TimeInterval = 3600, proposer: String = "tom", ledger: LedgerContext? = nil,
                  policyHash: String? = nil, newVersion: Int = 4) -> ProposalDocument {
        let context = ledger ?? self.ledger
        return ProposalDocument(
            ledger: LedgerBinding(ledgerID: context.ledgerID, base: context.head, sequence: context.nextSequence,
                                  policyHash: policyHash ?? policy.hash),
            created: now, expires: now.addingTimeInterval(seconds), proposer: workspace.key(proposer).keyID,
            change: .init(kind: .policyChange, policy: .init(bytes: Array("version: \(newVersion)\n".utf8), version: newVersion)))
    }

    /// An envelope over `document`, signed by `signers` in order.
    func envelope(_ document: ProposalDocument? = nil, signedBy signers: [String]) throws -> Envelope {
        var envelope = Envelope(payload: try (document ?? self.document()).encoded(), payloadType: PayloadTypes.proposal)
        for name in signers { try envelope.addSignature(using: workspace.key(name)) }
        return envelope
    }

    func evaluate(_ envelope: Envelope, at: Date? = nil, rejections: [Envelope] = [], withLedger: Bool = true) -> ApprovalReport {
        ThresholdEvaluator(policy: policy).evaluate(envelope, at: at ?? now, ledger: withLedger ? ledger : nil, rejections: rejections)
    }

    func rejection(of envelope: Envelope, by name: String, reason: String = "limits breached") throws -> Envelope {
        let key = workspace.key(name)
        let doc = RejectionDocument(proposal: envelope.id, reason: reason, created: now, signer: key.keyID)
        var rejection = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.rejection)
        try rejection.addSignature(using: key)
        return rejection
    }
}
