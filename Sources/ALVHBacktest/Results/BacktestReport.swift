import Foundation
import ALVHEngine

/// Everything `alvh backtest` prints: per strategy its figures, P&L by source and curve; the
/// calibration against the published indices; the stress episodes; and the answer to whether each
/// extra layer pays for itself.
public struct BacktestReport: Sendable, Codable, Equatable {
    public var from: String
    public var to: String
    public var tradingDays: Int
    public var startingEquity: Double
    public var condorRisk: Double
    public var proxy: ProxyModel
    public var strategies: [StrategyResult]
    public var calibration: [CalibrationRow]
    public var episodes: [EpisodeResult]
    public var verdicts: [LayerVerdict]
    public var sweep: [SweepRow]?
    public var notes: [String]
}

public struct CurvePoint: Sendable, Codable, Equatable {
    public var date: String
    public var equity: Double
    /// Below the running peak, a fraction ≥ 0.
    public var drawdown: Double
}

public struct StrategyResult: Sendable, Codable, Equatable {
    public var name: String
    public var performance: Performance
    /// Dollars of P&L over the run by source: "condor", "interest", layer names, "sp500".
    public var pnlBySource: [String: Double]
    public var condorsSold: Int
    public var creditDollars: Double
    /// Premium paid for hedges, commissions included, dollars; and as a share of the condor credit.
    public var hedgeBoughtDollars: Double
    public var hedgeCostShareOfCredit: Double?
    /// The hedges' net P&L (sales, settlements and the last marks less what they cost), dollars.
    public var hedgeNetDollars: Double
    public var proposalsApplied: Int
    public var proposalsRefused: Int
    public var proposalsByRule: [String: Int]
    public var heldByReason: [String: Int]
    /// The equity curve at each week's last close (and the last day).
    public var curve: [CurvePoint]
}

/// One stress episode (``StressEpisode``) as each strategy lived it: from the last calm close to the
/// VIX peak, and on to three months (63 trading days) after the calm close.
public struct EpisodeResult: Sendable, Codable, Equatable {
    public struct Row: Sendable, Codable, Equatable {
        public var strategy: String
        public var toPeak: Double
        public var threeMonths: Double
        public var maxDrawdown: Double
        /// Dollars of P&L by source over the three months.
        public var pnlBySource: [String: Double]
    }

    public var name: String
    public var from: String
    public var peak: String
    public var threeMonthsTo: String
    public var spxToPeak: Double
    public var vixFrom: Double
    public var vixPeak: Double
    public var rows: [Row]
}

/// Does an extra layer pay for itself? One strategy against the one with fewer layers.
public struct LayerVerdict: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        /// Better risk-adjusted (Sharpe and Sortino up), and safer: neither the max drawdown nor the
        /// monthly CVaR99 worse, one of them better.
        case paysForItself = "pays-for-itself"
        /// Safer, at a cost in risk-adjusted return.
        case buysProtection = "buys-protection"
        /// Worse risk-adjusted and not safer: overkill.
        case overkill
        /// Better risk-adjusted but not safer.
        case mixed
    }

    public var base: String
    public var with: String
    public var outcome: Outcome
    public var cagrChange: Double
    public var sharpeChange: Double
    public var sortinoChange: Double
    public var maxDrawdownChange: Double
    public var cvar99Change: Double
    public var hedgeCostShareOfCredit: Double?
    public var sentence: String
}

/// One row of a sensitivity sweep: the ALVH run with one parameter set to one value.
public struct SweepRow: Sendable, Codable, Equatable {
    public var parameter: String
    public var value: String
    public var performance: Performance
    public var hedgeCostShareOfCredit: Double?
    public var hedgeNetDollars: Double
}
