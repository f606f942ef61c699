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
    /// The change kind and the size the proposer claims, when the payload was parsed.
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
    /// Every reason the proposal is not commit-ready, typed; empty when it is. Decide on these.
    public var findings: [ApprovalProblem] {
        didSet { problems = findings.map(\.description); problemCodes = findings.map(\.code) }
    }
    /// The findings in words (what `--json` and the CLI show; never decided on).
    public private(set) var problems: [String]
    /// The findings' codes, in the same order.
    public private(set) var problemCodes: [String]
    /// The size the rules were matched on: recomputed from the signed legs and the cited snapshot.
    public var assessedSize: ChangeSize?
    /// The evaluation time (RFC 3339).
    public var evaluatedAt: String
    public var commitReady: Bool

    enum CodingKeys: String, CodingKey {
        case proposalID, payloadType, policyName, policyVersion, policyHash, changeKind, changeSize, assessedSize, proposer,
             proposerSigned, rules, threshold, counted, roleCounts, signatures, rejections, problems, problemCodes, evaluatedAt, commitReady
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        proposalID = try c.decode(String.self, forKey: .proposalID)
        payloadType = try c.decode(String.self, forKey: .payloadType)
        policyName = try c.decode(String.self, forKey: .policyName)
        policyVersion = try c.decode(Int.self, forKey: .policyVersion)
        policyHash = try c.decode(String.self, forKey: .policyHash)
        changeKind = try c.decodeIfPresent(String.self, forKey: .changeKind)
        changeSize = try c.decodeIfPresent(ChangeSize.self, forKey: .changeSize)
        assessedSize = try c.decodeIfPresent(ChangeSize.self, forKey: .assessedSize)
        proposer = try c.decodeIfPresent(String.self, forKey: .proposer)
        proposerSigned = try c.decode(Bool.self, forKey: .proposerSigned)
        rules = try c.decode([String].self, forKey: .rules)
        threshold = try c.decode(Int.self, forKey: .threshold)
        counted = try c.decode(Int.self, forKey: .counted)
        roleCounts = try c.decode([RoleCount].self, forKey: .roleCounts)
        signatures = try c.decode([SignatureLine].self, forKey: .signatures)
        rejections = try c.decode([RejectionLine].self, forKey: .rejections)
        findings = []
        problems = try c.decode([String].self, forKey: .problems)
        problemCodes = try c.decodeIfPresent([String].self, forKey: .problemCodes) ?? []
        evaluatedAt = try c.decode(String.self, forKey: .evaluatedAt)
        commitReady = try c.decode(Bool.self, forKey: .commitReady)
    }

    init(proposalID: String, payloadType: String, policy: Policy, evaluatedAt: String) {
        self.proposalID = proposalID
        self.payloadType = payloadType
        policyName = policy.name
        policyVersion = policy.version
        policyHash = policy.hash
        proposerSigned = false
        rules = []
        threshold = 0
        counted = 0
        roleCounts = []
        signatures = []
        rejections = []
        findings = []
        problems = []
        problemCodes = []
        self.evaluatedAt = evaluatedAt
        commitReady = false
    }

    /// Whether a valid veto is among the findings.
    public var isVetoed: Bool { findings.contains { if case .vetoed = $0 { return true } else { return false } } }

    /// "3 of 3 needed, 1 of 1 cro"
    public var tally: String {
        var parts = ["\(counted) of \(threshold) needed"]
        for role in roleCounts { parts.append("\(role.have) of \(role.needed) \(role.role)") }
        return parts.joined(separator: ", ")
    }
}
