import Foundation
import Yams
import ALVHYAML
import ALVHSigning

/// An approval policy: who may sign, with which roles, and how many signatures each kind and
/// size of change needs. Loaded from `Policies/*.yaml`; its hash is SHA-256 of the file's bytes.
///
/// ```yaml
/// version: 1
/// name: desk
/// signers:
///   - id: alice
///     key: Keys/alice.pub.pem
///     key-id: 35cfdc73…        # pins the key file's bytes into the policy hash
///     roles: [risk-officer]
/// rules:
///   - name: layer-changes
///     kinds: [add-layer, roll-layer, resize-layer, close-layer]
///     threshold: 2
///     roles: { cro: 1 }
/// ```
///
/// ```swift
/// let policy = try Policy.load(path: "Policies/desk.yaml", workspace: ".")
/// print(policy.hash)
/// ```
public struct Policy: Sendable {
    /// One signer: a key, its roles, whether it is revoked.
    public struct Signer: Sendable {
        public let id: String
        public let key: PublicKey
        public let roles: Set<String>
        public let revoked: Bool
        public var keyID: KeyID { key.keyID }
    }

    /// A party whose key signs each ledger entry it appends (the coordinator, an operator). Not an
    /// approver: its key may not also be a signer's, and it counts toward no threshold.
    public struct Committer: Sendable {
        public let id: String
        public let key: PublicKey
        public var keyID: KeyID { key.keyID }
    }

    /// How far a leg's limit price may be from the cited snapshot's model mid, in the
    /// underlying's points: the larger of `points` and `fraction` × mid.
    public struct LimitPriceTolerance: Sendable, Equatable {
        public var points: Double
        public var fraction: Double
        public init(points: Double, fraction: Double) {
            self.points = points
            self.fraction = fraction
        }
        /// 0.10 points or 15 % of mid, whichever is larger.
        public static let standard = LimitPriceTolerance(points: 0.10, fraction: 0.15)
        /// The allowed distance from `mid`.
        public func allowance(mid: Double) -> Double { max(points, fraction * abs(mid)) }
    }

    /// One rule: which changes it matches and what it demands.
    public struct Rule: Sendable, Codable, Equatable {
        public let name: String
        /// Change kinds the rule matches.
        public let kinds: Set<ChangeKind>
        /// Matches only when the premium (|cost| in dollars) is at least this.
        public let minPremiumDollars: Double?
        /// Matches only when |Δ vega| (dollars per VIX point in the one risk basis, book total) is at least this.
        public let minAbsDeltaVega: Double?
        /// Matches only when the legs' total |quantity| (contracts) is at least this.
        public let minContracts: Int?
        /// Matches only changes to one of these layers (nil: any layer, and policy changes).
        public let layers: Set<String>?
        /// Total distinct counted signatures needed.
        public let threshold: Int
        /// At least this many counted signatures from holders of each role.
        public let roleMinimums: [String: Int]

        /// Whether this rule applies to a change of `kind` and `size`.
        public func matches(kind: ChangeKind, size: ChangeSize) -> Bool {
            guard kinds.contains(kind) else { return false }
            if let min = minPremiumDollars, size.premiumDollars < min { return false }
            if let min = minAbsDeltaVega, size.absDeltaVega < min { return false }
            if let min = minContracts, size.contracts < min { return false }
            if let layers { guard let layer = size.layer, layers.contains(layer) else { return false } }
            return true
        }
    }

    /// The policy version; a policy change must raise it (no rollback).
    public let version: Int
    public let name: String
    public let signers: [Signer]
    public let rules: [Rule]
    /// Whether the proposer's own signature counts toward its proposal (default false).
    public let proposerMayApprove: Bool
    /// Whether a proposal needs its proposer's valid signature to be commit-ready (default true).
    public let requireProposerSignature: Bool
    /// Roles whose valid signed rejection blocks a proposal.
    public let vetoRoles: Set<String>
    /// The longest a proposal may live, `expires − created`, in seconds.
    public let maxProposalLifetimeSeconds: Int
    /// The oldest a proposal's market snapshot may be at signing/commit time, in seconds (nil: no limit).
    public let maxMarketAgeSeconds: Int?
    /// Keys that sign the entries appended to the ledger (at least one).
    public let committers: [Committer]
    /// Roles whose holders may propose (nil: every signer may).
    public let proposerRoles: Set<String>?
    /// The clock skew allowed between parties, in seconds (default 60): a proposal's `created` may be
    /// at most this far ahead of the clock, and it is expired this long before its `expires`.
    public let maxClockSkewSeconds: Int
    /// How far limit prices may be from the cited snapshot's model mids.
    public let limitPriceTolerance: LimitPriceTolerance
    /// The exact policy file bytes.
    public let bytes: [UInt8]
    /// Lowercase hex SHA-256 of ``bytes``.
    public let hash: String

    /// The largest policy file alvh reads (256 KiB).
    public static let maxPolicyBytes = 256 * 1024

    /// The signer holding `keyID`, if any.
    public func signer(for keyID: KeyID) -> Signer? { signers.first { $0.keyID == keyID } }

    /// The committer holding `keyID`, if any.
    public func committer(for keyID: KeyID) -> Committer? { committers.first { $0.keyID == keyID } }

    /// Why the holder of `keyID` may not propose under this policy, or nil when it may.
    public func proposerRefusal(_ keyID: KeyID) -> String? {
        guard let signer = signer(for: keyID) else { return "key \(keyID.fingerprint) is not a signer of policy '\(name)' v\(version)" }
        if signer.revoked { return "\(signer.id) is revoked" }
        if let roles = proposerRoles, signer.roles.isDisjoint(with: roles) {
            return "\(signer.id) holds none of the proposer roles [\(roles.sorted().joined(separator: ", "))]"
        }
        return nil
    }

    /// The rules matching a change; empty means no rule covers it (fail closed).
    public func matchingRules(kind: ChangeKind, size: ChangeSize) -> [Rule] {
        rules.filter { $0.matches(kind: kind, size: size) }
    }

    /// Reads a key file named by a policy (a path relative to the workspace) and returns its PEM bytes.
    public typealias KeyLoader = @Sendable (_ relativePath: String) throws -> [UInt8]

    /// A loader reading key files from `workspace` on disk.
    public static func diskKeyLoader(workspace: String) -> KeyLoader {
        { relative in
            let full = workspace.isEmpty || workspace == "." ? relative : "\(workspace)/\(relative)"
            do {
                return try SecureFile.read(full, limit: SecureFile.keyFileLimit)
            } catch let error as SigningError where error.code == .fileUnreadable && !SecureFile.exists(full) {
                let base = workspace.isEmpty || workspace == "." ? "the current directory" : "'\(workspace)'"
                throw SigningError(.fileUnreadable, "no such file under \(base); key paths are relative to the workspace — give --workspace DIR (or ALVH_WORKSPACE)",
                                   path: full)
            }
        }
    }

    /// Loads and validates a policy file. Key file paths are relative to `workspace`.
    public static func load(path: String, workspace: String) throws -> Policy {
        let bytes = try ApprovalFiles.read(path, limit: maxPolicyBytes)
        return try Policy(bytes: bytes, workspace: workspace, path: path)
    }

    /// Parses and validates policy bytes, reading key files from `workspace`.
    public init(bytes: [UInt8], workspace: String, path: String = "policy") throws {
        try self.init(bytes: bytes, keyLoader: Policy.diskKeyLoader(workspace: workspace), path: path)
    }

    /// The relative key file paths a policy names (`signers[].key`), for archiving them beside it.
    public var keyFiles: [String] { keyFilePaths }
    private let keyFilePaths: [String]

    /// Parses and validates policy bytes; key files come from `keyLoader`; `path` names the source in errors.
    public init(bytes: [UInt8], keyLoader: KeyLoader, path: String = "policy") throws {
        guard bytes.count <= Policy.maxPolicyBytes else {
            throw ApprovalError(.tooLarge, "policy is \(bytes.count) bytes, over the \(Policy.maxPolicyBytes)-byte limit", path: path)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ApprovalError(.invalidPolicy, "not UTF-8 text", path: path)
        }
        try YAMLFields.refuseAnchorsAndAliases(in: text, path: path)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ApprovalError(.invalidPolicy, "the file is empty; see Policies/desk.yaml for an example", path: path)
            }
            root = node
        } catch let error as ApprovalError {
            throw error
        } catch {
            throw ApprovalError(.invalidPolicy, "not valid YAML: \(YAMLGuard.excerpt("\(error)"))", path: path)
        }
        let top = try YAMLFields(root, path: path)
        try top.rejectUnknown(["version", "name", "signers", "rules", "proposer-may-approve", "require-proposer-signature",
                               "veto-roles", "max-proposal-lifetime", "max-market-age", "committers", "proposer-roles",
                               "max-clock-skew", "limit-price-tolerance"])
        guard let version = try top.int("version"), version >= 1 else {
            throw ApprovalError(.invalidPolicy, "is required: a whole number ≥ 1, raised by every policy change", path: top.field("version"))
        }
        self.version = version
        self.name = try top.string("name") ?? "policy"
        self.proposerMayApprove = try top.bool("proposer-may-approve") ?? false
        self.requireProposerSignature = try top.bool("require-proposer-signature") ?? true
        self.maxProposalLifetimeSeconds = try top.duration("max-proposal-lifetime") ?? 72 * 3600
        self.maxMarketAgeSeconds = try top.duration("max-market-age")
        let skew = try top.duration("max-clock-skew") ?? 60
        guard skew <= 3600 else {
            throw ApprovalError(.invalidPolicy, "must be at most 1h: a larger skew lets a late clock commit what has expired", path: top.field("max-clock-skew"))
        }
        self.maxClockSkewSeconds = skew
        if let node = top.node("limit-price-tolerance") {
            let fields = try YAMLFields(node, path: top.field("limit-price-tolerance"))
            try fields.rejectUnknown(["points", "fraction"])
            let points = try fields.double("points") ?? LimitPriceTolerance.standard.points
            let fraction = try fields.double("fraction") ?? LimitPriceTolerance.standard.fraction
            guard points >= 0, points <= 5 else { throw ApprovalError(.invalidPolicy, "must be 0 to 5 index points", path: fields.field("points")) }
            guard fraction >= 0, fraction <= 1 else { throw ApprovalError(.invalidPolicy, "must be 0 to 1 (a fraction of the model mid)", path: fields.field("fraction")) }
            self.limitPriceTolerance = LimitPriceTolerance(points: points, fraction: fraction)
        } else {
            self.limitPriceTolerance = .standard
        }

        // Signers
        guard let signerNodes = try top.list("signers"), !signerNodes.isEmpty else {
            throw ApprovalError(.invalidPolicy, "is required: a list of signers", path: top.field("signers"))
        }
        var signers: [Signer] = []
        var keyFilePaths: [String] = []
        for (index, node) in signerNodes.enumerated() {
            let fields = try YAMLFields(node, path: "\(top.field("signers"))[\(index)]")
            try fields.rejectUnknown(["id", "key", "key-id", "public-key", "roles", "revoked"])
            let id = try fields.requiredString("id")
            if let other = signers.first(where: { $0.id == id }) {
                throw ApprovalError(.invalidPolicy, "signer id '\(YAMLGuard.excerpt(id))' is used twice (also by the signer with key \(other.keyID.fingerprint))", path: fields.field("id"))
            }
            let key = try Policy.signerKey(fields, keyLoader: keyLoader)
            if let file = try fields.string("key") { keyFilePaths.append(file) }
            if let other = signers.first(where: { $0.keyID == key.keyID }) {
                throw ApprovalError(.invalidPolicy,
                    "the same key (\(key.keyID.fingerprint)) is listed under two signer ids, '\(YAMLGuard.excerpt(other.id))' and '\(YAMLGuard.excerpt(id))'; one key, one signer",
                    path: fields.field("key"))
            }
            let roles = try fields.stringList("roles") ?? []
            guard !roles.isEmpty else {
                throw ApprovalError(.invalidPolicy, "is required: at least one role, e.g. [risk-officer]", path: fields.field("roles"))
            }
            signers.append(Signer(id: id, key: key, roles: Set(roles), revoked: try fields.bool("revoked") ?? false))
        }
        self.signers = signers
        let active = signers.filter { !$0.revoked }
        let knownRoles = Set(signers.flatMap(\.roles))

        // Veto roles
        let vetoRoles = try top.stringList("veto-roles") ?? []
        for (index, role) in vetoRoles.enumerated() where !knownRoles.contains(role) {
            throw ApprovalError(.invalidPolicy, "unknown role '\(YAMLGuard.excerpt(role))': no signer holds it", path: "\(top.field("veto-roles"))[\(index)]")
        }
        self.vetoRoles = Set(vetoRoles)

        // Proposer roles
        if let roles = try top.stringList("proposer-roles") {
            for (index, role) in roles.enumerated() where !knownRoles.contains(role) {
                throw ApprovalError(.invalidPolicy, "unknown role '\(role)': no signer holds it", path: "\(top.field("proposer-roles"))[\(index)]")
            }
            self.proposerRoles = Set(roles)
        } else {
            self.proposerRoles = nil
        }

        // Committers
        guard let committerNodes = try top.list("committers"), !committerNodes.isEmpty else {
            throw ApprovalError(.invalidPolicy,
                "is required: the keys that sign ledger entries, e.g. '- id: coordinator / key: Keys/committer.pub.pem / key-id: …' (make one with `alvh keys generate committer`)",
                path: top.field("committers"))
        }
        var committers: [Committer] = []
        for (index, node) in committerNodes.enumerated() {
            let fields = try YAMLFields(node, path: "\(top.field("committers"))[\(index)]")
            try fields.rejectUnknown(["id", "key", "key-id", "public-key"])
            let id = try fields.requiredString("id")
            if committers.contains(where: { $0.id == id }) {
                throw ApprovalError(.invalidPolicy, "committer id '\(id)' is used twice", path: fields.field("id"))
            }
            let key = try Policy.signerKey(fields, keyLoader: keyLoader)
            if let file = try fields.string("key") { keyFilePaths.append(file) }
            if let signer = signers.first(where: { $0.keyID == key.keyID }) {
                throw ApprovalError(.invalidPolicy,
                    "the committer's key is signer '\(signer.id)''s key; a committer appends entries and must hold a key of its own",
                    path: fields.field("key"))
            }
            if let other = committers.first(where: { $0.keyID == key.keyID }) {
                throw ApprovalError(.invalidPolicy, "the same key is listed under two committer ids, '\(other.id)' and '\(id)'", path: fields.field("key"))
            }
            committers.append(Committer(id: id, key: key))
        }
        self.committers = committers

        // Rules
        guard let ruleNodes = try top.list("rules"), !ruleNodes.isEmpty else {
            throw ApprovalError(.invalidPolicy, "is required: a list of rules", path: top.field("rules"))
        }
        var rules: [Rule] = []
        for (index, node) in ruleNodes.enumerated() {
            let fields = try YAMLFields(node, path: "\(top.field("rules"))[\(index)]")
            try fields.rejectUnknown(["name", "kinds", "layers", "min-premium-dollars", "min-abs-delta-vega", "min-contracts", "threshold", "roles"])
            let name = try fields.string("name") ?? "rule \(index)"
            if rules.contains(where: { $0.name == name }) {
                throw ApprovalError(.invalidPolicy, "rule name '\(YAMLGuard.excerpt(name))' is used twice", path: fields.field("name"))
            }
            guard let kindNames = try fields.stringList("kinds"), !kindNames.isEmpty else {
                throw ApprovalError(.invalidPolicy, "is required: change kinds, from \(ChangeKind.allCases.map(\.rawValue).joined(separator: ", ")) or *",
                                    path: fields.field("kinds"))
            }
            var kinds = Set<ChangeKind>()
            for (k, kindName) in kindNames.enumerated() {
                if kindName == "*" { kinds.formUnion(ChangeKind.allCases); continue }
                guard let kind = ChangeKind(rawValue: kindName) else {
                    throw ApprovalError(.invalidPolicy, "unknown change kind '\(YAMLGuard.excerpt(kindName))'; use one of \(ChangeKind.allCases.map(\.rawValue).joined(separator: ", ")) or *",
                                        path: "\(fields.field("kinds"))[\(k)]")
                }
                kinds.insert(kind)
            }
            guard let threshold = try fields.int("threshold"), threshold >= 1 else {
                throw ApprovalError(.invalidPolicy, "is required: a whole number ≥ 1", path: fields.field("threshold"))
            }
            guard threshold <= active.count else {
                throw ApprovalError(.invalidPolicy,
                    "threshold \(threshold) is more than the \(active.count) signers who are not revoked; it could never be met",
                    path: fields.field("threshold"))
            }
            var roleMinimums: [String: Int] = [:]
            if let roleNode = fields.node("roles") {
                let roleFields = try YAMLFields(roleNode, path: fields.field("roles"))
                if case .mapping(let mapping) = roleNode {
                    for (key, _) in mapping {
                        let role = key.string ?? ""
                        guard knownRoles.contains(role) else {
                            throw ApprovalError(.invalidPolicy, "unknown role '\(YAMLGuard.excerpt(role))': no signer holds it", path: roleFields.field(role))
                        }
                        guard let minimum = try roleFields.int(role), minimum >= 1 else {
                            throw ApprovalError(.invalidPolicy, "must be a whole number ≥ 1", path: roleFields.field(role))
                        }
                        let holders = active.filter { $0.roles.contains(role) }.count
                        guard minimum <= holders else {
                            throw ApprovalError(.invalidPolicy,
                                "needs \(minimum) '\(role)' signatures but only \(holders) signer(s) who are not revoked hold that role",
                                path: roleFields.field(role))
                        }
                        guard minimum <= threshold else {
                            throw ApprovalError(.invalidPolicy,
                                "role minimum \(minimum) is above the rule's threshold \(threshold); raise the threshold",
                                path: roleFields.field(role))
                        }
                        roleMinimums[role] = minimum
                    }
                }
            }
            func nonNegative(_ value: Double?, _ key: String) throws -> Double? {
                if let value, value < 0 { throw ApprovalError(.invalidPolicy, "must be ≥ 0", path: fields.field(key)) }
                return value
            }
            let minContracts = try fields.int("min-contracts")
            if let minContracts, minContracts < 0 {
                throw ApprovalError(.invalidPolicy, "must be ≥ 0", path: fields.field("min-contracts"))
            }
            var layers: Set<String>?
            if let names = try fields.stringList("layers") {
                guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty }) else {
                    throw ApprovalError(.invalidPolicy, "must list layer names (short-term, event, backstop …), or be left out to match any layer",
                                        path: fields.field("layers"))
                }
                layers = Set(names)
            }
            rules.append(Rule(name: name, kinds: kinds,
                              minPremiumDollars: try nonNegative(try fields.double("min-premium-dollars"), "min-premium-dollars"),
                              minAbsDeltaVega: try nonNegative(try fields.double("min-abs-delta-vega"), "min-abs-delta-vega"),
                              minContracts: minContracts, layers: layers,
                              threshold: threshold, roleMinimums: roleMinimums))
        }
        self.rules = rules
        self.keyFilePaths = keyFilePaths
        self.bytes = bytes
        self.hash = SHA256.hexDigest(bytes)
    }

    /// The signer's key: `public-key` inline PEM, or `key` file pinned by `key-id`.
    private static func signerKey(_ fields: YAMLFields, keyLoader: KeyLoader) throws -> PublicKey {
        let inline = try fields.string("public-key")
        let file = try fields.string("key")
        let pin = try fields.string("key-id")
        switch (inline, file) {
        case (.some, .some):
            throw ApprovalError(.invalidPolicy, "give either 'key' (a file) or 'public-key' (inline PEM), not both", path: fields.path)
        case (nil, nil):
            throw ApprovalError(.invalidPolicy, "is required: 'key: Keys/NAME.pub.pem' with 'key-id', or inline 'public-key'", path: fields.field("key"))
        case (.some(let pem), nil):
            do {
                let key = try PublicKey(pem: Array(pem.utf8), path: fields.field("public-key"))
                try checkPin(pin, key: key, fields: fields)
                return key
            } catch let error as SigningError {
                throw ApprovalError(.invalidPolicy, error.reason, path: fields.field("public-key"))
            }
        case (nil, .some(let relative)):
            guard let pin else {
                throw ApprovalError(.invalidPolicy,
                    "is required with 'key': the key id (from `alvh keys id \(relative)`) pins the file's key into the policy hash",
                    path: fields.field("key-id"))
            }
            guard !relative.hasPrefix("/"), !relative.split(separator: "/").contains("..") else {
                throw ApprovalError(.invalidPolicy, "must be a path inside the workspace, e.g. Keys/alice.pub.pem", path: fields.field("key"))
            }
            let key: PublicKey
            do {
                key = try PublicKey(pem: try keyLoader(relative), path: relative)
            } catch let error as SigningError {
                throw ApprovalError(.invalidPolicy, "cannot use key file \(relative): \(error.reason)", path: fields.field("key"))
            } catch let error as ApprovalError {
                throw ApprovalError(.invalidPolicy, "cannot use key file \(relative): \(error.reason)", path: fields.field("key"))
            }
            try checkPin(pin, key: key, fields: fields)
            return key
        }
    }

    private static func checkPin(_ pin: String?, key: PublicKey, fields: YAMLFields) throws {
        guard let pin else { return }
        guard let id = KeyID(hex: pin) else {
            throw ApprovalError(.invalidPolicy, "must be 64 hex digits (`alvh keys id FILE` prints it)", path: fields.field("key-id"))
        }
        guard id == key.keyID else {
            throw ApprovalError(.invalidPolicy, "the key file's id is \(key.keyID.hex), not the pinned \(id.hex); the key file was replaced or the pin is wrong",
                                path: fields.field("key-id"))
        }
    }
}

/// How big a change is, for rule matching.
public struct ChangeSize: Sendable, Codable, Equatable {
    /// |cost| in dollars.
    public var premiumDollars: Double
    /// |Δ vega| of the book total, dollars per VIX point (the one risk basis).
    public var absDeltaVega: Double
    /// Sum of |quantity| over the legs, contracts.
    public var contracts: Int
    /// The layer the change touches (nil for a policy change).
    public var layer: String?

    public init(premiumDollars: Double, absDeltaVega: Double, contracts: Int, layer: String? = nil) {
        self.premiumDollars = premiumDollars
        self.absDeltaVega = absDeltaVega
        self.contracts = contracts
        self.layer = layer
    }

    public static let zero = ChangeSize(premiumDollars: 0, absDeltaVega: 0, contracts: 0)
}
