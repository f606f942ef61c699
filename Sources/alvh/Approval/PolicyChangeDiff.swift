import ALVHApproval
import ALVHLedger
import Foundation

/// What a policy-change proposal would change, for `alvh sign` and `alvh verify`: the proposed
/// policy against the current one, as ``PolicyDiff`` lines (or why it cannot be shown).
struct PolicyChangeDiff: Encodable {
    /// The differences, when both policies could be read.
    let diff: PolicyDiff?
    /// Why there is no diff (the proposed policy does not parse, no current policy…).
    let unavailable: String?

    /// The diff of `document`'s proposed policy against `current` (default: the ledger's policy in
    /// force, else the workspace's only policy file). Nil when `document` is not a policy change.
    static func make(_ document: ProposalDocument?, current: Policy? = nil, workspace: WorkspaceOptions) async -> PolicyChangeDiff? {
        guard let document, document.kind == .policyChange, let change = document.change.policy else { return nil }
        var current = current
        if current == nil { current = await currentPolicy(workspace: workspace) }
        guard let current else {
            return PolicyChangeDiff(diff: nil, unavailable: "no current policy to compare with (no ledger, and not exactly one file in Policies/)")
        }
        do {
            let proposed = try Policy(bytes: try change.bytes(), workspace: workspace.path, path: "proposed policy v\(change.version)")
            return PolicyChangeDiff(diff: PolicyDiff(from: current, to: proposed), unavailable: nil)
        } catch {
            return PolicyChangeDiff(diff: nil, unavailable: "the proposed policy cannot be read: \(error)")
        }
    }

    static func currentPolicy(workspace: WorkspaceOptions) async -> Policy? {
        if let policy = try? await workspace.withLedger(readOnly: true, { try await $0.policyInForce() }) {
            return policy
        }
        return try? PolicyLocator.load(nil, workspace: workspace)
    }

    /// The human lines: `policy change: policy 'desk' v1 → v2: …`, then one per difference.
    var lines: [String] {
        if let diff { return ("policy change: " + diff.description).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        return ["policy change: no diff shown — \(unavailable ?? "unknown reason")"]
    }
}

/// A JSON report with an optional `policyDiff` member added beside its own fields.
struct WithPolicyDiff<Report: Encodable>: Encodable {
    let report: Report
    let policyDiff: PolicyChangeDiff?

    private enum Key: String, CodingKey { case policyDiff }

    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(policyDiff, forKey: .policyDiff)
    }
}
