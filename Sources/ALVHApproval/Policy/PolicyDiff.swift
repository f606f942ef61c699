import Foundation
import ALVHSigning

/// What a policy change changes: the differences between the policy in force and a proposed one,
/// for the people asked to approve it (`alvh sign`, `alvh verify`).
///
/// Signers are matched by id, rules by name (the n-th rule of a name with the n-th of the same
/// name), so a renamed signer or rule shows as one removed and one added.
///
/// ```swift
/// let diff = PolicyDiff(from: current, to: proposed)
/// print(diff)
/// // policy 'desk' v1 → v2: 3 differences
/// //   version 1 → 2
/// //   + signer dave [risk-officer] key SHA256:1a2b3c4d:5e6f7a8b
/// //   rule layers: threshold 2 → 3
/// ```
public struct PolicyDiff: Sendable, Equatable, CustomStringConvertible, Encodable {
    /// One changed field of a rule present in both policies.
    public enum RuleChange: Sendable, Equatable {
        case kinds(added: [String], removed: [String])
        /// Nil: any layer.
        case layers(from: [String]?, to: [String]?)
        case threshold(from: Int, to: Int)
        /// A role's minimum of counted signatures (nil: no minimum).
        case roleMinimum(role: String, from: Int?, to: Int?)
        case minPremiumDollars(from: Double?, to: Double?)
        case minAbsDeltaVega(from: Double?, to: Double?)
        case minContracts(from: Int?, to: Int?)
    }

    /// One difference.
    public enum Difference: Sendable, Equatable, CustomStringConvertible {
        case version(from: Int, to: Int)
        case name(from: String, to: String)
        case proposerMayApprove(from: Bool, to: Bool)
        case requireProposerSignature(from: Bool, to: Bool)
        case vetoRoles(added: [String], removed: [String])
        case maxProposalLifetime(fromSeconds: Int, toSeconds: Int)
        /// Nil: no limit.
        case maxMarketAge(fromSeconds: Int?, toSeconds: Int?)
        /// `keyID` is the key's hex SPKI id.
        case proposerRoles(from: [String]?, to: [String]?)
        case maxClockSkew(fromSeconds: Int, toSeconds: Int)
        case limitPriceTolerance(from: Policy.LimitPriceTolerance, to: Policy.LimitPriceTolerance)
        /// A committer (a key that signs ledger entries) added, removed or re-keyed.
        case committerAdded(id: String, keyID: String)
        case committerRemoved(id: String)
        case committerRekeyed(id: String, fromKeyID: String, toKeyID: String)
        case signerAdded(id: String, roles: [String], keyID: String, revoked: Bool)
        case signerRemoved(id: String, roles: [String])
        case signerRekeyed(id: String, fromKeyID: String, toKeyID: String)
        case signerRevoked(id: String)
        case signerUnrevoked(id: String)
        case signerRoles(id: String, added: [String], removed: [String])
        case ruleAdded(Policy.Rule)
        case ruleRemoved(Policy.Rule)
        case ruleChanged(rule: String, RuleChange)

        /// A short machine name of the case, e.g. `signer-added`.
        public var kind: String {
            switch self {
            case .version: "version"
            case .name: "name"
            case .proposerMayApprove: "proposer-may-approve"
            case .requireProposerSignature: "require-proposer-signature"
            case .vetoRoles: "veto-roles"
            case .maxProposalLifetime: "max-proposal-lifetime"
            case .maxMarketAge: "max-market-age"
            case .proposerRoles: "proposer-roles"
            case .maxClockSkew: "max-clock-skew"
            case .limitPriceTolerance: "limit-price-tolerance"
            case .committerAdded: "committer-added"
            case .committerRemoved: "committer-removed"
            case .committerRekeyed: "committer-rekeyed"
            case .signerAdded: "signer-added"
            case .signerRemoved: "signer-removed"
            case .signerRekeyed: "signer-rekeyed"
            case .signerRevoked: "signer-revoked"
            case .signerUnrevoked: "signer-unrevoked"
            case .signerRoles: "signer-roles"
            case .ruleAdded: "rule-added"
            case .ruleRemoved: "rule-removed"
            case .ruleChanged: "rule-changed"
            }
        }

        /// One line, e.g. `+ signer dave [risk-officer] key SHA256:1a2b3c4d:5e6f7a8b`.
        public var description: String {
            switch self {
            case let .version(from, to): "version \(from) → \(to)"
            case let .name(from, to): "name '\(from)' → '\(to)'"
            case let .proposerMayApprove(from, to): "proposer-may-approve \(from) → \(to)"
            case let .requireProposerSignature(from, to): "require-proposer-signature \(from) → \(to)"
            case let .vetoRoles(added, removed): "veto-roles: " + PolicyDiff.setChange(added: added, removed: removed)
            case let .maxProposalLifetime(from, to):
                "max-proposal-lifetime \(PolicyDiff.duration(from)) → \(PolicyDiff.duration(to))"
            case let .maxMarketAge(from, to):
                "max-market-age \(from.map(PolicyDiff.duration) ?? "none") → \(to.map(PolicyDiff.duration) ?? "none")"
            case let .proposerRoles(from, to):
                "proposer-roles \(from.map { "[\($0.joined(separator: ","))]" } ?? "any signer") → \(to.map { "[\($0.joined(separator: ","))]" } ?? "any signer")"
            case let .maxClockSkew(from, to): "max-clock-skew \(from)s → \(to)s"
            case let .limitPriceTolerance(from, to):
                "limit-price-tolerance \(from.points) pts / \(Int((from.fraction * 100).rounded())) % → \(to.points) pts / \(Int((to.fraction * 100).rounded())) %"
            case let .committerAdded(id, keyID): "+ committer \(id) key \(keyID.prefix(16))…"
            case let .committerRemoved(id): "− committer \(id)"
            case let .committerRekeyed(id, from, to): "committer \(id): key \(from.prefix(16))… → \(to.prefix(16))…"
            case let .signerAdded(id, roles, keyID, revoked):
                "+ signer \(id) [\(roles.joined(separator: ","))] key \(PolicyDiff.fingerprint(keyID))\(revoked ? " (revoked)" : "")"
            case let .signerRemoved(id, roles): "− signer \(id) [\(roles.joined(separator: ","))]"
            case let .signerRekeyed(id, from, to):
                "signer \(id): key \(PolicyDiff.fingerprint(from)) → \(PolicyDiff.fingerprint(to))"
            case let .signerRevoked(id): "signer \(id): revoked"
            case let .signerUnrevoked(id): "signer \(id): no longer revoked"
            case let .signerRoles(id, added, removed): "signer \(id) roles: " + PolicyDiff.setChange(added: added, removed: removed)
            case let .ruleAdded(rule): "+ rule \(PolicyDiff.summary(rule))"
            case let .ruleRemoved(rule): "− rule \(PolicyDiff.summary(rule))"
            case let .ruleChanged(name, change): "rule \(name): \(PolicyDiff.describe(change))"
            }
        }
    }

    public let fromName: String
    public let fromVersion: Int
    public let toName: String
    public let toVersion: Int
    /// In order: settings, then signers (in the proposed policy's order, removed ones last), then rules.
    public let differences: [Difference]

    public init(from current: Policy, to proposed: Policy) {
        fromName = current.name
        fromVersion = current.version
        toName = proposed.name
        toVersion = proposed.version
        var out: [Difference] = []
        if current.version != proposed.version { out.append(.version(from: current.version, to: proposed.version)) }
        if current.name != proposed.name { out.append(.name(from: current.name, to: proposed.name)) }
        if current.proposerMayApprove != proposed.proposerMayApprove {
            out.append(.proposerMayApprove(from: current.proposerMayApprove, to: proposed.proposerMayApprove))
        }
        if current.requireProposerSignature != proposed.requireProposerSignature {
            out.append(.requireProposerSignature(from: current.requireProposerSignature, to: proposed.requireProposerSignature))
        }
        if current.vetoRoles != proposed.vetoRoles {
            out.append(.vetoRoles(added: proposed.vetoRoles.subtracting(current.vetoRoles).sorted(),
                                  removed: current.vetoRoles.subtracting(proposed.vetoRoles).sorted()))
        }
        if current.maxProposalLifetimeSeconds != proposed.maxProposalLifetimeSeconds {
            out.append(.maxProposalLifetime(fromSeconds: current.maxProposalLifetimeSeconds, toSeconds: proposed.maxProposalLifetimeSeconds))
        }
        if current.maxMarketAgeSeconds != proposed.maxMarketAgeSeconds {
            out.append(.maxMarketAge(fromSeconds: current.maxMarketAgeSeconds, toSeconds: proposed.maxMarketAgeSeconds))
        }

        if current.proposerRoles != proposed.proposerRoles {
            out.append(.proposerRoles(from: current.proposerRoles?.sorted(), to: proposed.proposerRoles?.sorted()))
        }
        if current.maxClockSkewSeconds != proposed.maxClockSkewSeconds {
            out.append(.maxClockSkew(fromSeconds: current.maxClockSkewSeconds, toSeconds: proposed.maxClockSkewSeconds))
        }
        if current.limitPriceTolerance != proposed.limitPriceTolerance {
            out.append(.limitPriceTolerance(from: current.limitPriceTolerance, to: proposed.limitPriceTolerance))
        }
        let oldCommitters = Dictionary(current.committers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for committer in proposed.committers {
            if let before = oldCommitters[committer.id] {
                if before.keyID != committer.keyID {
                    out.append(.committerRekeyed(id: committer.id, fromKeyID: before.keyID.hex, toKeyID: committer.keyID.hex))
                }
            } else {
                out.append(.committerAdded(id: committer.id, keyID: committer.keyID.hex))
            }
        }
        let newCommitters = Set(proposed.committers.map(\.id))
        for committer in current.committers where !newCommitters.contains(committer.id) { out.append(.committerRemoved(id: committer.id)) }

        let old = Dictionary(current.signers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let newIDs = Set(proposed.signers.map(\.id))
        for signer in proposed.signers {
            guard let before = old[signer.id] else {
                out.append(.signerAdded(id: signer.id, roles: signer.roles.sorted(), keyID: signer.keyID.hex, revoked: signer.revoked))
                continue
            }
            if before.keyID != signer.keyID { out.append(.signerRekeyed(id: signer.id, fromKeyID: before.keyID.hex, toKeyID: signer.keyID.hex)) }
            if !before.revoked && signer.revoked { out.append(.signerRevoked(id: signer.id)) }
            if before.revoked && !signer.revoked { out.append(.signerUnrevoked(id: signer.id)) }
            if before.roles != signer.roles {
                out.append(.signerRoles(id: signer.id, added: signer.roles.subtracting(before.roles).sorted(),
                                        removed: before.roles.subtracting(signer.roles).sorted()))
            }
        }
        for signer in current.signers where !newIDs.contains(signer.id) {
            out.append(.signerRemoved(id: signer.id, roles: signer.roles.sorted()))
        }

        var remaining = current.rules
        for rule in proposed.rules {
            guard let index = remaining.firstIndex(where: { $0.name == rule.name }) else {
                out.append(.ruleAdded(rule))
                continue
            }
            let before = remaining.remove(at: index)
            out += PolicyDiff.changes(from: before, to: rule).map { .ruleChanged(rule: rule.name, $0) }
        }
        out += remaining.map { .ruleRemoved($0) }
        differences = out
    }

    /// True when the two policies differ in nothing this diff looks at.
    public var isEmpty: Bool { differences.isEmpty }

    /// A header line, then one line per difference.
    public var description: String {
        let rename = fromName == toName ? "'\(fromName)'" : "'\(fromName)' → '\(toName)'"
        let header = "policy \(rename) v\(fromVersion) → v\(toVersion): "
            + (differences.isEmpty ? "no differences" : "\(differences.count) difference\(differences.count == 1 ? "" : "s")")
        return ([header] + differences.map { "  \($0)" }).joined(separator: "\n")
    }

    /// JSON: `{from: {name, version}, to: {name, version}, differences: [{kind, text}]}`.
    public func encode(to encoder: Encoder) throws {
        struct Side: Encodable { let name: String; let version: Int }
        struct Line: Encodable { let kind: String; let text: String }
        struct Shape: Encodable { let from: Side; let to: Side; let differences: [Line] }
        try Shape(from: Side(name: fromName, version: fromVersion), to: Side(name: toName, version: toVersion),
                  differences: differences.map { Line(kind: $0.kind, text: $0.description) }).encode(to: encoder)
    }

    // MARK: - Rules

    static func changes(from a: Policy.Rule, to b: Policy.Rule) -> [RuleChange] {
        var out: [RuleChange] = []
        if a.kinds != b.kinds {
            out.append(.kinds(added: b.kinds.subtracting(a.kinds).map(\.rawValue).sorted(),
                              removed: a.kinds.subtracting(b.kinds).map(\.rawValue).sorted()))
        }
        if a.layers != b.layers { out.append(.layers(from: a.layers?.sorted(), to: b.layers?.sorted())) }
        if a.threshold != b.threshold { out.append(.threshold(from: a.threshold, to: b.threshold)) }
        for role in Set(a.roleMinimums.keys).union(b.roleMinimums.keys).sorted() where a.roleMinimums[role] != b.roleMinimums[role] {
            out.append(.roleMinimum(role: role, from: a.roleMinimums[role], to: b.roleMinimums[role]))
        }
        if a.minPremiumDollars != b.minPremiumDollars { out.append(.minPremiumDollars(from: a.minPremiumDollars, to: b.minPremiumDollars)) }
        if a.minAbsDeltaVega != b.minAbsDeltaVega { out.append(.minAbsDeltaVega(from: a.minAbsDeltaVega, to: b.minAbsDeltaVega)) }
        if a.minContracts != b.minContracts { out.append(.minContracts(from: a.minContracts, to: b.minContracts)) }
        return out
    }

    static func describe(_ change: RuleChange) -> String {
        func opt<T>(_ value: T?) -> String { value.map { "\($0)" } ?? "none" }
        switch change {
        case let .kinds(added, removed): return "kinds " + setChange(added: added, removed: removed)
        case let .layers(from, to): return "layers \(from.map { "[\($0.joined(separator: ","))]" } ?? "any") → \(to.map { "[\($0.joined(separator: ","))]" } ?? "any")"
        case let .threshold(from, to): return "threshold \(from) → \(to)"
        case let .roleMinimum(role, from, to): return "at least \(role) \(opt(from)) → \(opt(to))"
        case let .minPremiumDollars(from, to): return "min-premium-dollars \(opt(from)) → \(opt(to))"
        case let .minAbsDeltaVega(from, to): return "min-abs-delta-vega \(opt(from)) → \(opt(to))"
        case let .minContracts(from, to): return "min-contracts \(opt(from)) → \(opt(to))"
        }
    }

    static func summary(_ rule: Policy.Rule) -> String {
        var text = "\(rule.name) [\(rule.kinds.map(\.rawValue).sorted().joined(separator: ","))]"
        if let layers = rule.layers { text += " layers [\(layers.sorted().joined(separator: ","))]" }
        var when: [String] = []
        if let v = rule.minPremiumDollars { when.append("premium ≥ $\(v)") }
        if let v = rule.minAbsDeltaVega { when.append("|Δvega| ≥ \(v)") }
        if let v = rule.minContracts { when.append("contracts ≥ \(v)") }
        if !when.isEmpty { text += " when " + when.joined(separator: " and ") }
        text += " threshold \(rule.threshold)"
        let roles = rule.roleMinimums.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        if !roles.isEmpty { text += " incl. " + roles.joined(separator: ", ") }
        return text
    }

    // MARK: - Text

    static func setChange(added: [String], removed: [String]) -> String {
        (added.map { "+\($0)" } + removed.map { "−\($0)" }).joined(separator: " ")
    }

    /// `SHA256:1a2b3c4d:5e6f7a8b`, as `alvh keys id` and `alvh policy check` show a key.
    static func fingerprint(_ hex: String) -> String {
        KeyID(hex: hex)?.fingerprint ?? hex
    }

    static func duration(_ seconds: Int) -> String {
        if seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}

