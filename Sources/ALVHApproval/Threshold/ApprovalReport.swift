/// The outcome of checking one envelope against a policy: what `alvh verify` prints.
public struct ApprovalReport: Sendable, Codable, Equatable {
    /// What became of one signature.
    public enum Status: String, Sendable, Codable {
        /// Valid, by a policy signer, and counted toward the threshold.
        case counted
        /// Does not verify under the policy key its keyid names (or is malformed).
        case invalid
        /// Verifies under no policy key; ignored.
        case unknownKey = "unknown-key"
        /// A second valid signature by a key already counted.
        case duplicate
        /// Valid, but the signer is revoked.
        case revoked
        /// Valid, by the proposer, who may not approve their own proposal.
        case proposer
    }

    /// One signature's line in the report.
    public struct SignatureLine: Sendable, Codable, Equatable {
        public var index: Int
        /// The envelope's keyid hint (not trusted).
        public var keyidHint: String?
        /// The signer whose key verified it, if any.
        public var signer: String?
        /// The key id computed from the verifying key.
        public var keyID: String?
        public var roles: [String]
        public var status: Status
        public var detail: String?
    }

    /// One rejection's line.
    public struct RejectionLine: Sendable, Codable, Equatable {
        public var signer: String?
        public var keyID: String?
        public var roles: [String]
        public var reason: String?
        /// A valid rejection by a non-revoked holder of a veto role.
        public var veto: Bool
        /// Why the rejection was not taken into account, when it was not.
        public var ignored: String?
    }

    /// A role requirement and how far it is met.
    public struct RoleCount: Sendable, Codable, Equatable {
        public var role: String
        public var needed: Int
        public var have: Int
    }

    /// The envelope id (hex SHA-256 of its PAE).
    public var proposalID: String
    public var payloadType: String
    /// The policy checked against.
    public var policyName: String
    public var policyVersion: Int
    public var policyHash: String
    /// The change kind and size, when the payload was parsed.
    public var changeKind: String?
    public var changeSize: ChangeSize?
    public var proposer: String?
    public var proposerSigned: Bool
    /// The names of the rules that matched (all must be met).
    public var rules: [String]
    public var threshold: Int
    public var counted: Int
    public var roleCounts: [RoleCount]
    public var signatures: [SignatureLine]
    public var rejections: [RejectionLine]
    /// Every reason the proposal is not commit-ready; empty when it is.
    public var problems: [String]
    /// The evaluation time (RFC 3339).
    public var evaluatedAt: String
    public var commitReady: Bool

    /// "3 of 3 needed, 1 of 1 cro"
    public var tally: String {
        var parts = ["\(counted) of \(threshold) needed"]
        for role in roleCounts { parts.append("\(role.have) of \(role.needed) \(role.role)") }
        return parts.joined(separator: ", ")
    }
}
