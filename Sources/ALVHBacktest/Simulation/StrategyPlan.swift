import ALVHEngine

/// One strategy a backtest runs: what it holds and how it hedges.
///
/// - `naked`: a monthly SPX iron condor in the manner of Cboe's CNDR index — on each SPX monthly
///   expiry, sell the next month's 20-delta put and call and buy the 5-delta put and call, one condor
///   per `condorRisk` of the account (CNDR: max loss ≈ 10 % of the account), held to the AM settlement;
/// - `one-layer`: the same condor with one VIX call layer in the manner of Cboe's VXTH index — on
///   each VIX expiry, buy the next month's 30-delta VIX calls for 1 % of the account when that
///   future is above 15 and at most 30, 0.5 % above 30 up to 50, none otherwise;
/// - `alvh`: the same condor with the three ALVH layers, every change proposed by the real rules
///   (`Engine.run`) on the day's synthesised snapshot and filled at the proposal's limit prices.
///
/// The calibration plans run the published indices' own rules: `cndr` (fills at mid, no
/// commissions) and `vxth` (the S&P 500 with dividends, VIX calls bought at the ask).
public struct StrategyPlan: Sendable {
    public enum Holding: String, Sendable, Codable { case condor, sp500 }

    public enum Hedge: Sendable {
        case none
        case vxth
        case alvh(Strategy)
    }

    /// How fills are priced.
    public enum Fills: String, Sendable, Codable {
        /// The desk's: the engine's half-spread on the tick grid and commissions (``Execution``).
        case desk
        /// At the model mid, no commission (CNDR's "average of the last bid-ask quote").
        case mid
        /// Buys at the ask (mid + the half-spread on the tick grid), no commission (VXTH's "asking price").
        case ask
    }

    public var name: String
    public var holding: Holding
    public var hedge: Hedge
    public var fills: Fills
    /// The sweep value this plan runs (nil: a strategy of the report, not a sweep row).
    public var sweepValue: String?

    public init(name: String, holding: Holding = .condor, hedge: Hedge, fills: Fills = .desk, sweepValue: String? = nil) {
        self.name = name
        self.holding = holding
        self.hedge = hedge
        self.fills = fills
        self.sweepValue = sweepValue
    }

    public static let naked = StrategyPlan(name: "naked", hedge: .none)
    public static let oneLayer = StrategyPlan(name: "one-layer", hedge: .vxth)
    public static func alvh(_ strategy: Strategy = .standard, name: String = "alvh") -> StrategyPlan { StrategyPlan(name: name, hedge: .alvh(strategy)) }
    public static let cndrReplica = StrategyPlan(name: "cndr-replica", hedge: .none, fills: .mid)
    public static let vxthReplica = StrategyPlan(name: "vxth-replica", holding: .sp500, hedge: .vxth, fills: .ask)
    public static let sp500 = StrategyPlan(name: "sp500", holding: .sp500, hedge: .none, fills: .mid)

    /// The strategy's engine rules, if it runs them.
    var engineStrategy: Strategy? {
        if case .alvh(let strategy) = hedge { return strategy }
        return nil
    }
}
