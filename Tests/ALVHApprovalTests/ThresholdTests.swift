import Foundation
import Testing
import ALVHSigning
@testable import ALVHApproval

@Suite("Threshold evaluation")
struct ThresholdTests {
    @Test("round trip: proposer + M approvals is commit-ready; M-1 is not")
    func mOfN() throws {
        let desk = try Desk()
        let ready = desk.evaluate(try desk.envelope(signedBy: ["tom", "alice", "p256-bob", "carol"]))
        #expect(ready.commitReady, "\(ready.problems)")
        #expect(ready.counted == 3)
        #expect(ready.tally == "3 of 3 needed, 1 of 1 cro")

        let short = desk.evaluate(try desk.envelope(signedBy: ["tom", "alice", "carol"]))
        #expect(!short.commitReady)
        #expect(short.counted == 2)
        #expect(short.problems.contains { $0.contains("threshold unmet: 2 of 3") })
    }

    @Test("the same key twice counts once")
    func duplicateKey() throws {
        let desk = try Desk()
        var envelope = try desk.envelope(signedBy: ["tom", "alice", "p256-bob", "carol"])
        let bobAgain = envelope.signatures[2]
        // A second, different P-256 signature by bob (ECDSA nonces differ), and the same bytes again.
        try envelope.addSignature(using: desk.workspace.key("p256-bob"))
        envelope.signatures.append(bobAgain)
        var report = desk.evaluate(envelope)
        #expect(report.counted == 3)
        #expect(report.signatures.filter { $0.status == .duplicate }.count == 2)

        envelope = try desk.envelope(signedBy: ["tom", "alice", "alice", "carol"])
        report = desk.evaluate(envelope)
        #expect(report.counted == 2)
        #expect(!report.commitReady)
    }

    @Test("signatures by keys outside the policy are ignored and reported")
    func unknownKey() throws {
        let desk = try Desk()
        let stranger = try PrivateKey.generate(.ed25519)
        var envelope = try desk.envelope(signedBy: ["tom", "alice", "carol"])
        try envelope.addSignature(using: stranger)
        let report = desk.evaluate(envelope)
        #expect(report.counted == 2)
        #expect(!report.commitReady)
        #expect(report.signatures.last?.status == .unknownKey)
    }

    @Test("a revoked signer's signature is not counted")
    func revoked() throws {
        let desk = try Desk(revokeDana: true)
        let report = desk.evaluate(try desk.envelope(signedBy: ["tom", "alice", "dana", "carol"]))
        #expect(report.counted == 2)
        #expect(report.signatures.first { $0.signer == "dana" }?.status == .revoked)
        #expect(!report.commitReady)
    }

    @Test("the proposer's signature does not count toward its own proposal unless the policy allows it")
    func proposerSelfApproval() throws {
        let desk = try Desk()
        // alice proposes and signs; she is a risk officer, but separation of duties excludes her.
        let doc = desk.document(proposer: "alice")
        let report = desk.evaluate(try desk.envelope(doc, signedBy: ["alice", "p256-bob", "carol"]))
        #expect(report.counted == 2)
        #expect(report.signatures.first { $0.signer == "alice" }?.status == .proposer)
        #expect(!report.commitReady)

        let lenient = try Desk(proposerMayApprove: true)
        let allowed = lenient.evaluate(try lenient.envelope(lenient.document(proposer: "alice"), signedBy: ["alice", "p256-bob", "carol"]))
        #expect(allowed.counted == 3)
        #expect(allowed.commitReady, "\(allowed.problems)")
    }

    @Test("the proposer's own signature is required")
    func proposerSignatureRequired() throws {
        let desk = try Desk()
        let report = desk.evaluate(try desk.envelope(signedBy: ["alice", "p256-bob", "carol"]))
        #expect(report.counted == 3)
        #expect(!report.proposerSigned)
        #expect(!report.commitReady)
        #expect(report.problems.contains { $0.contains("proposer's signature") })
    }

    @Test("a role minimum is enforced even when the total is met")
    func roleMinimum() throws {
        let desk = try Desk()
        let report = desk.evaluate(try desk.envelope(signedBy: ["tom", "alice", "p256-bob", "dana"]))
        #expect(report.counted == 3)
        #expect(!report.commitReady)
        #expect(report.problems.contains { $0.contains("role minimum unmet: 0 of 1 'cro'") })
    }

    @Test("a valid rejection from a veto role blocks; one from another role or a stranger does not")
    func veto() throws {
        let desk = try Desk()
        let envelope = try desk.envelope(signedBy: ["tom", "alice", "p256-bob", "carol"])
        let vetoed = desk.evaluate(envelope, rejections: [try desk.rejection(of: envelope, by: "limits", reason: "premium over limit")])
        #expect(!vetoed.commitReady)
        #expect(vetoed.rejections.first?.veto == true)
        #expect(vetoed.problems.contains { $0.contains("vetoed by limits") && $0.contains("premium over limit") })

        let mere = desk.evaluate(envelope, rejections: [try desk.rejection(of: envelope, by: "dana")])
        #expect(mere.commitReady)
        #expect(mere.rejections.first?.veto == false)

        let stranger = desk.evaluate(envelope, rejections: [try desk.rejection(of: envelope, by: "mallory")])
        #expect(stranger.commitReady)
        #expect(stranger.rejections.first?.ignored != nil)
    }

    @Test("a rejection lifted onto another proposal does not veto it")
    func rejectionLifted() throws {
        let desk = try Desk()
        let first = try desk.envelope(signedBy: ["tom", "alice", "p256-bob", "carol"])
        let second = try desk.envelope(desk.document(expiresIn: 1800), signedBy: ["tom", "alice", "p256-bob", "carol"])
        let report = desk.evaluate(second, rejections: [try desk.rejection(of: first, by: "limits")])
        #expect(report.commitReady)
        #expect(report.rejections.first?.ignored?.contains("another proposal") == true)
    }

    @Test("expiry edges: valid until the policy's clock skew before expires; refused from then on; not before notBefore")
    func expiryEdges() throws {
        let desk = try Desk()
        let envelope = try desk.envelope(desk.document(expiresIn: 3600), signedBy: ["tom", "alice", "p256-bob", "carol"])
        #expect(desk.policy.maxClockSkewSeconds == 60)
        #expect(desk.evaluate(envelope, at: desk.now.addingTimeInterval(3539)).commitReady)
        // A clock up to the skew behind cannot commit what has expired: refused 60 s early.
        #expect(!desk.evaluate(envelope, at: desk.now.addingTimeInterval(3541)).commitReady)
        let atExpiry = desk.evaluate(envelope, at: desk.now.addingTimeInterval(3600))
        #expect(!atExpiry.commitReady)
        #expect(atExpiry.problems.contains { $0.hasPrefix("expired") })
        #expect(!desk.evaluate(envelope, at: desk.now.addingTimeInterval(86400)).commitReady)
        let early = desk.evaluate(envelope, at: desk.now.addingTimeInterval(-1))
        #expect(early.problems.contains { $0.hasPrefix("not yet valid") })
    }

    @Test("a lifetime over the policy's maximum is refused")
    func lifetime() throws {
        let desk = try Desk()
        let report = desk.evaluate(try desk.envelope(desk.document(expiresIn: 25 * 3600), signedBy: ["tom", "alice", "p256-bob", "carol"]))
        #expect(report.problems.contains { $0.contains("exceeds the policy's maximum") })
    }

    @Test("a payload swapped under valid signatures verifies under no key and is not parsed")
    func payloadSwapped() throws {
        let desk = try Desk()
        var envelope = try desk.envelope(signedBy: ["tom", "alice", "p256-bob", "carol"])
        envelope.payload = try desk.document(newVersion: 99).encoded()
        let report = desk.evaluate(envelope)
        #expect(!report.commitReady)
        #expect(report.counted == 0)
        #expect(report.changeKind == nil)
        #expect(report.signatures.allSatisfy { $0.status == .invalid })
        #expect(report.problems.contains { $0.contains("was not parsed") })
    }

    @Test("a payloadType swap is refused, and the signatures do not verify under the new type")
    func payloadTypeSwapped() throws {
        let desk = try Desk()
        var envelope = try desk.envelope(signedBy: ["tom", "alice", "p256-bob", "carol"])
        envelope.payloadType = "application/vnd.alvh.proposal+json;version=2"
        let report = desk.evaluate(envelope)
        #expect(!report.commitReady)
        #expect(report.problems.first?.contains("wrong payloadType") == true)
        // Even relabelled as a rejection, the PAE differs, so no signature carries over.
        envelope.payloadType = PayloadTypes.rejection
        let key = desk.workspace.key("alice").publicKey
        #expect(!envelope.signatures.contains { key.isValidSignature($0.sig, for: envelope.pae) })
    }

    @Test("a signature pasted from one proposal onto another is invalid")
    func signaturePasted() throws {
        let desk = try Desk()
        let donor = try desk.envelope(desk.document(expiresIn: 1800), signedBy: ["carol"])
        var target = try desk.envelope(signedBy: ["tom", "alice", "p256-bob"])
        target.signatures.append(donor.signatures[0])
        let report = desk.evaluate(target)
        #expect(report.counted == 2)
        #expect(report.signatures.last?.status == .invalid)
        #expect(!report.commitReady)
    }

    @Test("the envelope's keyid is only a hint: the verifying key decides who signed")
    func keyidLies() throws {
        let desk = try Desk()
        var envelope = try desk.envelope(signedBy: ["tom", "alice", "p256-bob"])
        // mallory signs and claims to be carol (the CRO): not counted as carol, no cro.
        let mallory = desk.workspace.key("mallory")
        envelope.signatures.append(.init(keyid: desk.workspace.key("carol").keyID.hex, sig: try mallory.signature(for: envelope.pae)))
        var report = desk.evaluate(envelope)
        #expect(report.signatures.last?.status == .invalid)
        #expect(!report.commitReady)

        // carol signs but the keyid names alice: counted as carol all the same.
        envelope.signatures.removeLast()
        envelope.signatures.append(.init(keyid: desk.workspace.key("alice").keyID.hex, sig: try desk.workspace.key("carol").signature(for: envelope.pae)))
        report = desk.evaluate(envelope)
        #expect(report.commitReady, "\(report.problems)")
        #expect(report.signatures.last?.signer == "carol")
        #expect(report.signatures.last?.detail?.contains("signature is by carol") == true)
    }

    @Test("ledger binding mismatches are named")
    func ledgerBinding() throws {
        let desk = try Desk()
        let envelope = try desk.envelope(signedBy: ["tom", "alice", "p256-bob", "carol"])
        let policy = desk.policy
        func problems(_ context: LedgerContext) -> [String] {
            ThresholdEvaluator(policy: policy).evaluate(envelope, at: desk.now, ledger: context).problems
        }
        let l = desk.ledger
        #expect(problems(l).isEmpty)
        #expect(problems(.init(ledgerID: String(repeating: "c", count: 64), head: l.head, nextSequence: l.nextSequence)).contains { $0.hasPrefix("ledger id mismatch") })
        #expect(problems(.init(ledgerID: l.ledgerID, head: String(repeating: "d", count: 64), nextSequence: l.nextSequence)).contains { $0.hasPrefix("stale proposal: head moved") })
        #expect(problems(.init(ledgerID: l.ledgerID, head: l.head, nextSequence: 99)).contains { $0.hasPrefix("sequence mismatch") })
        let otherPolicy = desk.evaluate(try desk.envelope(desk.document(policyHash: String(repeating: "e", count: 64)), signedBy: ["tom", "alice", "p256-bob", "carol"]))
        #expect(otherPolicy.problems.contains { $0.hasPrefix("policy hash mismatch") })
    }

    @Test("a change kind no rule matches cannot be approved")
    func noRule() throws {
        let desk = try Desk()
        var doc = desk.document()
        doc.change = .init(kind: .policyChange, policy: .init(bytes: Array("x".utf8), version: 4))
        let yaml = """
        version: 1
        signers:
        \(desk.workspace.signer("alice", key: "alice", roles: ["risk-officer"]))
        rules:
          - name: layers-only
            kinds: [add-layer]
            threshold: 1
        """
        let policy = try desk.workspace.policy(yaml)
        doc.ledger.policyHash = policy.hash
        doc.proposer = desk.workspace.key("alice").keyID.hex
        let envelope = try desk.envelope(doc, signedBy: ["alice"])
        let report = ThresholdEvaluator(policy: policy).evaluate(envelope, at: desk.now)
        #expect(report.rules.isEmpty)
        #expect(!report.commitReady)
        #expect(report.problems.contains { $0.contains("no rule") })
    }
}
