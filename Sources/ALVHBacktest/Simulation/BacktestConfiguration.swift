import ALVHEngine

/// What a backtest runs over and with: the date range, the account, the condor's size and the proxies.
public struct BacktestConfiguration: Sendable {
    /// First and last day traded (nil: from the end of the warm-up, through the last day of the files).
    public var from: CalendarDay?
    public var to: CalendarDay?
    /// Dollars in the account on the first day.
    public var startingEquity: Double
    /// The condor's max loss (its wider wing) as a share of the account at each roll: 0.10 as in
    /// CNDR, whose Treasury bill account is ten times the wider wing.
    public var condorRisk: Double
    public var proxy: ProxyModel
    /// SPX fills for the desk's condor: half-spread and commission per contract (docs/backtest.md).
    public var spxExecution: Execution
    public var rates: RateHistory
    public var releases: ReleaseHistory

    public init(from: CalendarDay? = nil, to: CalendarDay? = nil, startingEquity: Double = 10_000_000, condorRisk: Double = 0.10,
                proxy: ProxyModel = .standard, spxExecution: Execution = Self.standardSPXExecution,
                rates: RateHistory = .shipped, releases: ReleaseHistory = .shipped) {
        self.from = from
        self.to = to
        self.startingEquity = startingEquity
        self.condorRisk = condorRisk
        self.proxy = proxy
        self.spxExecution = spxExecution
        self.rates = rates
        self.releases = releases
    }

    /// $1 a contract; half the spread max(0.10 points, 2 % of mid), on SPX's 0.05/0.10 tick grid.
    public static let standardSPXExecution = Execution(commissionPerContract: 1, halfSpreadPoints: 0.10, halfSpreadFraction: 0.02)
}
