import Foundation

/// The engine's entry points: evaluate a change, and run the ALVH rules.
///
/// ```swift
/// let proposals = try Engine.propose(book: book, market: snapshot, strategy: .standard)
/// let check = try Engine.evaluate(book: book, change: proposals[0].change, market: snapshot)
/// ```
public enum Engine {
    /// The scenarios every risk report carries: the named historical stresses.
    public static var reportScenarios: [Scenario] { HistoricalStress.scenarios }

    /// Risk before and after applying `change`, and what its fills cost. Deterministic: an
    /// independent signer recomputes exactly these figures from the same inputs.
    ///
    /// Refuses a leg whose option has stopped trading as of the snapshot (`change.legs[N].expiry`).
    public static func evaluate(book: Book, change: LayerChange, market: MarketSnapshot,
                                model: ScenarioModel = .standard) throws -> (before: RiskReport, after: RiskReport, costDollars: Double) {
        try checkTradable(change, market: market)
        let after = try book.applying(change)
        let before = try BookValuer(book: book, market: market, model: model).report(book: book, scenarios: reportScenarios)
        let afterReport = try BookValuer(book: after, market: market, model: model).report(book: after, scenarios: reportScenarios)
        return (before, afterReport, cost(of: change, market: market))
    }

    /// Every leg must be an option still trading at the snapshot's `asOf`: a VIX option trades until
    /// the close of the business day before its Wednesday-morning settlement.
    public static func checkTradable(_ change: LayerChange, market: MarketSnapshot) throws {
        guard let asOf = market.asOfDate else { return }
        for (index, trade) in change.trades.enumerated() {
            guard let day = CalendarDay(trade.expiry) else { continue }
            if let wrong = ExchangeCalendar.classify(vixExpiry: day) {
                throw EngineError(.invalidChange, wrong, path: "change.legs[\(index)].expiry")
            }
            let lastTrade = ExchangeCalendar.lastTradeInstant(.vixOption, expiry: day)
            guard asOf < lastTrade else {
                throw EngineError(.invalidChange,
                                  "VIX \(trade.expiry) options stopped trading at \(EngineDate.formatInstant(lastTrade)) (the close of \(ExchangeCalendar.lastTradingDay(.vixOption, expiry: day)), before their settlement at the opening of \(trade.expiry)); the market is as of \(market.asOf) — trade a later expiry",
                                  path: "change.legs[\(index)].expiry")
            }
        }
    }

    /// What `change` costs in dollars at its limit prices, commissions included: buys positive,
    /// sales negative (a sale's commission is still paid).
    public static func cost(of change: LayerChange, market: MarketSnapshot) -> Double {
        let premium = change.trades.reduce(0) { $0 + $1.price * Double($1.quantity) * VIXOption.multiplier }
        let commissions = market.costs.commissionDollars(contracts: change.trades.reduce(0) { $0 + Int($1.quantity.magnitude) })
        return Money.cents(premium + commissions)
    }

    /// A trader's own change (no rule fired for it), evaluated exactly as the rules' proposals are,
    /// so it carries the same risk before/after and cost for the signers to recompute.
    public static func manual(book: Book, change: LayerChange, market: MarketSnapshot, note: String) throws -> EngineProposal {
        let evaluated = try evaluate(book: book, change: change, market: market)
        let legs = change.trades.map { "\($0.quantity) × VIX \($0.expiry) \(whole($0.strike)) \($0.right.rawValue)s @ \($0.price)" }
        return EngineProposal(rule: "manual", change: change, rationale: [SignalReading(name: "manual", value: 0, note: note)],
                              riskBefore: evaluated.before, riskAfter: evaluated.after, costDollars: evaluated.costDollars,
                              summary: "manual \(change.kind.rawValue) \(change.layer): " + legs.joined(separator: ", "))
    }

    /// The model mid of a VIX option (Black-76 on the future of its expiry, the smile's vol at the
    /// strike, time to the Wednesday-morning settlement), in index points, unrounded.
    public static func vixMid(market: MarketSnapshot, right: OptionRight = .call, expiry: String, strike: Double) throws -> Double {
        let spec = OptionSpec(model: .black76, right: right, underlying: try market.vixFuture(expiry: expiry), strike: strike,
                              years: max(market.years(to: expiry), 1e-6), rate: market.spx.rate, vol: market.vixOptionVol(expiry: expiry, strike: strike))
        return Pricer.price(spec)
    }

    /// The limit price the engine proposes: the model mid plus (buying) or minus (selling) the
    /// snapshot's half-spread, on the VIX tick grid (``Execution``, ``TickSchedule``).
    public static func vixLimitPrice(market: MarketSnapshot, right: OptionRight = .call, expiry: String, strike: Double, buying: Bool) throws -> Double {
        market.costs.limitPrice(mid: try vixMid(market: market, right: right, expiry: expiry, strike: strike), buying: buying)
    }

    /// Runs the rules in priority order — take-profit, close, trim, roll, event, coverage — and returns
    /// every proposal that fires, the most urgent first. Each is computed on the current book.
    ///
    /// `vixHistory` (CBOE's VIX daily file) adds the VIX percentile over a year to every rationale and
    /// lets a bearish MACD crossover of VIX roll the short-term layer; `spxHistory` does the same for
    /// SPX, and its RSI(14) holds back a new short-term layer bought into an oversold sell-off.
    public static func propose(book: Book, market: MarketSnapshot, strategy: Strategy = .standard,
                               spxHistory: DailyHistory? = nil, vixHistory: DailyHistory? = nil) throws -> [EngineProposal] {
        try run(book: book, market: market, strategy: strategy, spxHistory: spxHistory, vixHistory: vixHistory).proposals
    }

    /// The rules' proposals and the rules held back (``HeldRule``), from one run.
    public static func run(book: Book, market: MarketSnapshot, strategy: Strategy = .standard,
                           spxHistory: DailyHistory? = nil, vixHistory: DailyHistory? = nil) throws -> RuleRun {
        let rules = try RuleSet(book: book, market: market, strategy: strategy, spxHistory: spxHistory, vixHistory: vixHistory)
        var context: [SignalReading] = []
        if let closes = vixHistory?.upTo(rules.asOfDay).closes, let percentile = Indicators.percentile(closes, lookback: 252) {
            context.append(SignalReading(name: "vix-percentile-1y", value: percentile, note: "last VIX close \(closes.last!) against the past 252 closes"))
        }
        var out: [EngineProposal] = []
        var allowance = RuleSet.Allowance()
        let closes = try rules.closeSpent()
        let fired = try rules.takeProfit(closing: Set(closes.map(\.change.layer))) + closes + rules.trim() + rules.roll(&allowance)
            + rules.event(&allowance) + rules.coverage(&allowance)
        // Every proposal of a run starts from the same book: its risk before is reported once.
        var before: RiskReport?
        for (rule, change, signals, summary) in fired {
            try checkTradable(change, market: market)
            let after = try book.applying(change)
            let riskBefore = try before ?? BookValuer(book: book, market: market).report(book: book, scenarios: reportScenarios)
            before = riskBefore
            let riskAfter = try BookValuer(book: after, market: market).report(book: after, scenarios: reportScenarios)
            out.append(EngineProposal(rule: rule, change: change, rationale: signals + context, riskBefore: riskBefore,
                                      riskAfter: riskAfter, costDollars: cost(of: change, market: market), summary: summary))
        }
        return RuleRun(proposals: out, held: allowance.held)
    }
}

/// A number as a whole number for a summary line; `Int(_:)` traps on NaN, ±∞ and beyond ±2⁶³.
func whole(_ value: Double) -> String {
    value.isFinite && value.magnitude < 1e15 ? String(Int(value)) : String(value)
}

/// Whole dollars with thousands separators for a summary line: `$107,275`, `-$2,318`.
func dollars(_ value: Double) -> String {
    guard value.isFinite, value.magnitude < 1e15 else { return "$\(value)" }
    let digits = String(Int(value.magnitude.rounded()))
    var grouped = ""
    for (i, c) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { grouped.append(",") }
        grouped.append(c)
    }
    return (value < 0 && digits != "0" ? "-$" : "$") + grouped
}
