import ALVHEngine

/// A published figure of a Cboe benchmark index that a calibration plan is checked against.
/// Sources, with how each was obtained, are in docs/backtest.md ("Published figures").
public struct PublishedFigure: Sendable, Codable, Equatable {
    public enum Measure: String, Sendable, Codable {
        /// Compound annual return over the period.
        case cagr
        /// Total return over the period.
        case periodReturn = "period-return"
        /// Annualised standard deviation of monthly returns.
        case volatility
        /// Largest peak-to-trough fall.
        case maxDrawdown = "max-drawdown"
    }

    /// The plan checked: "cndr-replica", "vxth-replica", "sp500".
    public var strategy: String
    public var index: String
    public var measure: Measure
    public var from: String
    public var to: String
    /// The published value (a fraction); `bound` when the source gives only a bound ("down less than 4 %").
    public var value: Double
    public var isLowerBound: Bool
    public var source: String

    static func make(_ strategy: String, _ index: String, _ measure: Measure, _ from: String, _ to: String, _ value: Double,
                     lowerBound: Bool = false, _ source: String) -> PublishedFigure {
        PublishedFigure(strategy: strategy, index: index, measure: measure, from: from, to: to, value: value, isLowerBound: lowerBound, source: source)
    }

    static let blackSzado = "Black & Szado, \"Performance Analysis of CBOE S&P 500 Options-Selling Indices\" (2016), via Cboe press release 2016-02-25"
    static let blackSzadoBlog = "Black & Szado (2016) as quoted by lowriskincome.net, 2016-12-19"
    static let cndrLevels = "CNDR index levels read from Cboe's chart (99.29 Jan-1988, 771.31 Jan-2010, 713.49 Jan-2019), the-lazy-trader.com 2019-01"
    static let acg = "Asset Consulting Group, \"Key Tools for Hedging and Tail Risk Management\" (2012), on Cboe's VXTH page"
    static let cboeProtection = "Cboe, \"Index protection\" (res.cboe.com/us/index_protection), total returns by quarter"
    static let cboeVXTH5y = "Cboe Insights 2023-11-06, \"Cboe VXTH Index had 5-year gain of 98.6%\""

    /// Every published figure the calibration prints.
    public static let all: [PublishedFigure] = [
        make("cndr-replica", "CNDR", .cagr, "1986-06-30", "2015-12-31", 0.0709, blackSzadoBlog),
        make("cndr-replica", "CNDR", .volatility, "1986-06-30", "2015-12-31", 0.0723, blackSzado),
        make("cndr-replica", "CNDR", .maxDrawdown, "1986-06-30", "2015-12-31", 0.1366, blackSzadoBlog),
        make("cndr-replica", "CNDR", .periodReturn, "2008-01-01", "2008-12-31", -0.04, lowerBound: true, blackSzadoBlog + " (\"down less than 4% in 2008\")"),
        make("cndr-replica", "CNDR", .cagr, "1988-01-31", "2010-01-31", 0.0977, cndrLevels),
        make("cndr-replica", "CNDR", .cagr, "2010-01-31", "2019-01-31", -0.0086, cndrLevels),
        make("vxth-replica", "VXTH", .periodReturn, "2008-01-01", "2008-12-31", -0.193, acg),
        make("sp500", "S&P 500", .periodReturn, "2008-01-01", "2008-12-31", -0.370, acg),
        make("vxth-replica", "VXTH", .periodReturn, "2008-10-01", "2008-12-31", 0.002, cboeProtection),
        make("sp500", "S&P 500", .periodReturn, "2008-10-01", "2008-12-31", -0.219, cboeProtection),
        make("vxth-replica", "VXTH", .periodReturn, "2011-07-01", "2011-09-30", -0.068, cboeProtection),
        make("sp500", "S&P 500", .periodReturn, "2011-07-01", "2011-09-30", -0.139, cboeProtection),
        make("vxth-replica", "VXTH", .periodReturn, "2020-01-01", "2020-03-31", 0.549, cboeProtection),
        make("sp500", "S&P 500", .periodReturn, "2020-01-01", "2020-03-31", -0.196, cboeProtection),
        make("vxth-replica", "VXTH", .periodReturn, "2022-04-01", "2022-06-30", -0.182, cboeProtection),
        make("sp500", "S&P 500", .periodReturn, "2022-04-01", "2022-06-30", -0.161, cboeProtection),
        make("vxth-replica", "VXTH", .periodReturn, "2018-11-01", "2023-10-31", 0.986, cboeVXTH5y),
    ]
}

/// A backtest figure beside the published one it is checked against.
public struct CalibrationRow: Sendable, Codable, Equatable {
    public var published: PublishedFigure
    /// The backtest's figure over the part of the period inside the run (nil: none of it is).
    public var backtest: Double?
    /// The period actually measured, when the run covers only part of the published one.
    public var measuredFrom: String?
    public var measuredTo: String?
    /// backtest − published (nil when either is missing).
    public var difference: Double?
    /// Whether the backtest is within the tolerance of the figure (or honours the bound).
    public var matches: Bool?
}
