import Foundation
import ALVHSigning
import ALVHApproval

/// Fixtures shared by the fuzz targets. The key below exists only to sign the fuzz seeds; it is
/// not a desk key and signs nothing else.
public enum FuzzFixture {
    public static let privatePEM = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIBCc2J/Y2cvJqb8pPMfFri/9uJ8Sj4Uk/aGf2p55d/ub
        -----END PRIVATE KEY-----

        """
    public static let publicPEM = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEA/0ig1vrfLRwNWoGUQ+POVSfaq9X2tbqnBgmCXH4TGgs=
        -----END PUBLIC KEY-----

        """

    public static let key: PrivateKey = try! PrivateKey(pem: Array(privatePEM.utf8))

    /// The committer's public key (another key: a committer may not be a signer).
    public static let committerPEM = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEADIaCzXVrZvsnWY1WcLLUS1CL2UEXDgGzXeclEuI4tfA=
        -----END PUBLIC KEY-----
        """

    /// A one-signer policy (threshold 1, proposer may approve) whose key is the fixture key.
    public static let policy: Policy = {
        let indented = publicPEM.split(separator: "\n").map { "      \($0)" }.joined(separator: "\n")
        let yaml = """
            version: 1
            name: fuzz
            proposer-may-approve: true
            signers:
              - id: fuzz
                roles: [risk-officer]
                public-key: |
            \(indented)
            committers:
              - id: committer
                public-key: |
            \(committerPEM.split(separator: "\n").map { "      \($0)" }.joined(separator: "\n"))
            rules:
              - name: all
                kinds: ["*"]
                threshold: 1
            """
        return try! Policy(bytes: Array(yaml.utf8), keyLoader: { _ in throw ApprovalError(.invalidPolicy, "no files in fuzzing") })
    }()

    /// Runs `body`; an error of one of alvh's module types is an expected refusal, anything else a finding.
    public static func expectRefusalOnly(_ body: () throws -> Void) {
        do { try body() }
        catch is ApprovalError {}
        catch is SigningError {}
        catch { fatalError("unexpected error type \(type(of: error)): \(error)") }
    }
}
