import Foundation
import Testing
import ALVHSigning
@testable import ALVHApproval

/// A key re-encoded by `openssl ec -conv_form compressed` is the same key: a policy cannot list it
/// as a second signer (which would let one person's signature count twice).
@Suite("Policy: one key, one signer", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
struct KeyIdentityPolicyTests {
    @Test("the same P-256 key under two signer ids, once re-encoded with a compressed point, is refused")
    func compressedTwin() throws {
        let ws = try Workspace().makeKeys(["p256-alice", "carol"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["ec", "-pubin", "-in", "\(ws.root)/Keys/p256-alice.pub.pem", "-conv_form", "compressed",
                             "-out", "\(ws.root)/Keys/alice-twin.pub.pem"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        // The pin is what `alvh keys id` prints for the re-encoded file.
        let twinID = try PublicKey.load(from: "\(ws.root)/Keys/alice-twin.pub.pem").keyID.hex
        let yaml = """
        version: 1
        signers:
        \(ws.signer("alice", key: "p256-alice", roles: ["risk-officer"]))
          - id: alice-again
            key: Keys/alice-twin.pub.pem
            key-id: \(twinID)
            roles: [risk-officer]
        \(ws.signer("carol", key: "carol", roles: ["cro"]))
        rules:
          - name: all
            kinds: ['*']
            threshold: 2
        """
        #expect {
            try ws.policy(yaml)
        } throws: { error in
            guard let error = error as? ApprovalError else { return false }
            return error.code == .invalidPolicy && error.path == "policy.yaml.signers[1].key"
                && error.reason.contains("the same key") && error.reason.contains("is listed under two signer ids, 'alice' and 'alice-again'")
        }
    }
}
