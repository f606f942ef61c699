import Foundation

/// What a change *is*, recomputed by a party that trusts nothing the proposer claims: the size
/// that picks the rules, the market's own time, and every claimed figure that is not what the
/// signed legs and the cited snapshot give.
///
/// The approval module does not price; the ledger (which owns the engine and the snapshots the
/// proposals cite) provides a ``ChangeAssessor``. Without one, a layer change is never
/// commit-ready (fail closed).
public struct ChangeAssessment: Sendable, Equatable {
    /// The size recomputed from the signed legs and the cited snapshot: rules are matched on this.
    public var size: ChangeSize
    /// The cited snapshot's own `asOf` (what ages for `max-market-age`), when there is one.
    public var marketAsOf: Date?
    /// Claimed figures that differ from the recomputed ones, prices off the model, or why nothing
    /// could be recomputed.
    public var problems: [ApprovalProblem]

    public init(size: ChangeSize, marketAsOf: Date?, problems: [ApprovalProblem] = []) {
        self.size = size
        self.marketAsOf = marketAsOf
        self.problems = problems
    }

    /// An assessment that failed: no size can be trusted, so no rule is met.
    public static func failed(_ why: String) -> ChangeAssessment {
        ChangeAssessment(size: .zero, marketAsOf: nil, problems: [.notRecomputed(why)])
    }
}

/// Recomputes a layer change's figures from its signed legs and the market snapshot it cites.
public protocol ChangeAssessor {
    /// The assessment of `document` (a parsed, verified layer-change proposal) under `policy`.
    func assess(_ document: ProposalDocument, policy: Policy) -> ChangeAssessment
}
