import Foundation
import ALVHEngine

/// One fill or settlement of a backtest, for an audit of the run (not in the report).
public struct TradeRecord: Sendable, Equatable {
    public enum Kind: String, Sendable { case sellCondor = "sell-condor", settleCondor = "settle-condor", buyCalls = "buy-calls", proposal, settleCalls = "settle-calls" }
    public var date: String
    public var kind: Kind
    /// What: the condor's strikes and expiry, the calls' expiry and strike, or the proposal's rule and layer.
    public var detail: String
    public var quantity: Int
    /// Index points per unit (a condor's credit, a call's price, the settlement value).
    public var price: Double
    /// Cash in (positive) or out, dollars, commissions included.
    public var dollars: Double
}

/// One strategy's path through a backtest: equity and each source's P&L at every close.
public struct StrategyRun: Sendable {
    public var trades: [TradeRecord]
    public var name: String
    public var plan: StrategyPlan
    public var equity: [Double]
    /// Source → cumulative P&L at each close ("condor", "interest", "sp500", layer names).
    public var pnl: [String: [Double]]
    public var condorsSold: Int
    public var creditDollars: Double
    public var hedgeBoughtDollars: Double
    public var hedgeSoldDollars: Double
    public var hedgeSettledDollars: Double
    public var proposalsApplied: Int
    public var proposalsRefused: Int
    public var proposalsByRule: [String: Int]
    public var heldByReason: [String: Int]
}

/// Runs strategy plans side by side, day by day, over one history: the same synthesised market
/// every day for all of them.
///
/// Each day, in order: interest on cash since the last close; at the open, what expires today
/// settles — SPX monthlies on the day's SPX open (the SOQ/SET is computed from opening prices),
/// VIX options on the day's VIX open (their SOQ); at the close, the condor rolls on an SPX monthly
/// expiry, VXTH-style calls roll on a VIX expiry, the ALVH rules run, and everything is marked.
public struct Backtester: Sendable {
    public let synthesizer: MarketSynthesizer
    public let configuration: BacktestConfiguration
    /// The traded days: indices into the history.
    public let range: ClosedRange<Int>

    /// Trading days of history handed to the engine's signals (MACD, RSI, the 1-year percentile).
    static let signalWindow = 300

    public init(history: MarketHistory, configuration: BacktestConfiguration = BacktestConfiguration(), scenario: ScenarioModel = .standard) throws {
        try configuration.proxy.validate(path: "proxy")
        guard configuration.startingEquity.isFinite, configuration.startingEquity >= 10_000 else {
            throw BacktestError(.invalidArgument, "the starting equity must be at least $10,000", path: "startingEquity")
        }
        guard configuration.condorRisk.isFinite, configuration.condorRisk > 0, configuration.condorRisk <= 1 else {
            throw BacktestError(.invalidArgument, "must be a share of the account in (0, 1]", path: "condorRisk")
        }
        let warm = configuration.proxy.warmUpDays
        guard history.days.count > warm + 30 else {
            throw BacktestError(.notEnoughHistory, "the files hold \(history.days.count) common days; the warm-up alone needs \(warm)", path: "history")
        }
        var first = warm
        if let from = configuration.from {
            guard let i = history.index(onOrAfter: from) else {
                throw BacktestError(.notEnoughHistory, "no trading day on or after \(from) in the files (they end \(history.days.last!.date))", path: "--from")
            }
            guard i >= warm else {
                throw BacktestError(.notEnoughHistory, "\(from) leaves only \(i) trading days of history before it; the proxies need \(warm) (first possible start: \(history.days[warm].date))", path: "--from")
            }
            first = i
        }
        var last = history.days.count - 1
        if let to = configuration.to {
            guard let i = history.index(onOrBefore: to), i >= first else {
                throw BacktestError(.invalidArgument, "--to \(to) is before the first traded day \(history.days[first].date)", path: "--to")
            }
            last = i
        }
        guard last - first >= 20 else {
            throw BacktestError(.notEnoughHistory, "\(history.days[first].date)…\(history.days[last].date) is \(last - first + 1) trading days; a backtest needs at least a month (21 trading days)", path: "--from/--to")
        }
        self.configuration = configuration
        self.synthesizer = MarketSynthesizer(history: history, proxy: configuration.proxy, scenario: scenario,
                                             rates: configuration.rates, releases: configuration.releases)
        self.range = first...last
    }

    public var history: MarketHistory { synthesizer.history }

    /// Runs `plans` over the range. Deterministic: the same inputs give the same numbers.
    public func run(_ plans: [StrategyPlan]) throws -> [StrategyRun] {
        var accounts = plans.map { Account(plan: $0, equity: configuration.startingEquity) }
        var equity = Array(repeating: [Double](), count: plans.count)
        var pnl = Array(repeating: [String: [Double]](), count: plans.count)
        let days = history.days
        let firstDay = days[range.lowerBound].day
        var nextCondorRoll = Self.monthlyExpiry(onOrAfter: firstDay)
        var nextVIXRoll = Self.vixExpiry(onOrAfter: firstDay)
        let needsSignals = plans.contains { $0.engineStrategy != nil }
        for i in range {
            let d = days[i]
            let market = synthesizer.snapshot(at: i)
            let elapsed = i == range.lowerBound ? 0 : Double(d.day.daysSinceEpoch - days[i - 1].day.daysSinceEpoch)
            let rate = synthesizer.rate(at: max(range.lowerBound, i - 1))
            let condorRoll = d.day >= nextCondorRoll, vixRoll = d.day >= nextVIXRoll
            let signals = needsSignals ? history.engineHistories(through: i, window: Self.signalWindow) : nil
            for a in accounts.indices {
                try step(&accounts[a], day: d, market: market, elapsedDays: elapsed, rate: rate, condorRoll: condorRoll, vixRoll: vixRoll, signals: signals)
                let marks = accounts[a].marks(market: market, spxClose: d.spxClose)
                equity[a].append(configuration.startingEquity + accounts[a].pnl(marks: marks).sumInKeyOrder)
                let sources = accounts[a].pnl(marks: marks)
                for (k, v) in sources {
                    if pnl[a][k] == nil { pnl[a][k] = Array(repeating: 0, count: equity[a].count - 1) }
                    pnl[a][k]!.append(v)
                }
                for k in pnl[a].keys where sources[k] == nil { pnl[a][k]!.append(pnl[a][k]!.last ?? 0) }
            }
            if condorRoll { nextCondorRoll = Self.monthlyExpiry(onOrAfter: d.day.adding(days: 1)) }
            if vixRoll { nextVIXRoll = Self.vixExpiry(onOrAfter: d.day.adding(days: 1)) }
        }
        return accounts.indices.map { a in
            let c = accounts[a].counters
            return StrategyRun(trades: accounts[a].trades, name: plans[a].name, plan: plans[a], equity: equity[a], pnl: pnl[a], condorsSold: c.condorsSold, creditDollars: c.creditDollars,
                               hedgeBoughtDollars: c.hedgeBoughtDollars, hedgeSoldDollars: c.hedgeSoldDollars, hedgeSettledDollars: c.hedgeSettledDollars,
                               proposalsApplied: c.proposalsApplied, proposalsRefused: c.proposalsRefused, proposalsByRule: c.proposalsByRule,
                               heldByReason: c.heldByReason)
        }
    }

    static func monthlyExpiry(onOrAfter day: CalendarDay) -> CalendarDay {
        var (y, m) = (day.year, day.month)
        while true {
            let e = ExchangeCalendar.spxMonthlyExpiry(year: y, month: m)
            if e >= day { return e }
            (y, m) = m == 12 ? (y + 1, 1) : (y, m + 1)
        }
    }

    static func vixExpiry(onOrAfter day: CalendarDay) -> CalendarDay {
        var (y, m) = (day.year, day.month)
        while true {
            let e = ExchangeCalendar.vixExpiry(year: y, month: m)
            if e >= day { return e }
            (y, m) = m == 12 ? (y + 1, 1) : (y, m + 1)
        }
    }

    // MARK: - One day of one account

    func step(_ account: inout Account, day d: MarketHistory.Day, market: MarketSnapshot, elapsedDays: Double, rate: Double,
              condorRoll: Bool, vixRoll: Bool, signals: (spx: DailyHistory, vix: DailyHistory)?) throws {
        let proxy = configuration.proxy
        // Interest on cash and dividends on S&P 500 units, since the last close.
        if elapsedDays > 0 {
            if account.cash != 0 { account.flow("interest", account.cash * (exp(rate * elapsedDays / 365) - 1)) }
            if account.spUnits != 0 { account.spUnits *= 1 + proxy.dividendYield * elapsedDays / 365 }
        }
        // The open: settlements.
        if let condor = account.condor, let expiry = CalendarDay(condor.expiry), expiry <= d.day {
            var payoff = 0.0
            for (right, strike, quantity) in condor.legs {
                let intrinsic = right == .call ? max(0, d.spxOpen - strike) : max(0, strike - d.spxOpen)
                payoff += Double(quantity) * intrinsic * IronCondor.multiplier
            }
            account.flow("condor", payoff)
            account.trades.append(TradeRecord(date: d.date, kind: .settleCondor, detail: "SPX \(condor.expiry) condor on the open", quantity: condor.quantity,
                                              price: d.spxOpen, dollars: payoff))
            account.condor = nil
        }
        for l in account.layers.indices {
            var kept: [Position] = []
            for p in account.layers[l].positions {
                guard let expiry = CalendarDay(p.expiry), expiry <= d.day else { kept.append(p); continue }
                let payoff = Double(p.quantity) * max(0, p.right == .call ? d.vixOpen - p.strike : p.strike - d.vixOpen) * VIXOption.multiplier
                account.flow(account.layers[l].name, payoff)
                account.counters.hedgeSettledDollars += payoff
                account.trades.append(TradeRecord(date: d.date, kind: .settleCalls, detail: "VIX \(p.expiry) \(p.strike) \(p.right.rawValue)s on the open",
                                                  quantity: p.quantity, price: d.vixOpen, dollars: payoff))
            }
            account.layers[l].positions = kept
        }
        account.layers.removeAll { $0.positions.isEmpty }
        // The close: the condor roll.
        if account.plan.holding == .condor, condorRoll, account.condor == nil {
            try sellCondor(&account, day: d, market: market)
        }
        // The S&P 500 holding is fully invested: cash (the start, settled calls) goes into the index
        // on the first day and at each VIX roll, before the new calls are bought.
        if account.plan.holding == .sp500, account.cash > 0, account.spUnits == 0 || vixRoll {
            account.spUnits += account.cash / d.spxClose
            account.flow("sp500", -account.cash)
        }
        // The hedge.
        switch account.plan.hedge {
        case .none:
            break
        case .vxth:
            if vixRoll { try buyVXTH(&account, day: d, market: market) }
        case .alvh(let strategy):
            try runEngine(&account, day: d, market: market, strategy: strategy, signals: signals)
        }
    }

    func sellCondor(_ account: inout Account, day d: MarketHistory.Day, market: MarketSnapshot) throws {
        let expiry = ExchangeCalendar.spxMonthlyExpiry(year: MarketSynthesizer.month(d.day, plus: 1).0, month: MarketSynthesizer.month(d.day, plus: 1).1).text
        let k = CondorRule.strikes(expiry: expiry, market: market)
        func fill(_ right: OptionRight, _ strike: Double, selling: Bool) -> Double {
            let mid = CondorRule.mid(right, strike: strike, expiry: expiry, market: market)
            guard account.plan.fills == .desk else { return mid }
            let half = configuration.spxExecution.halfSpread(mid: mid)
            return selling ? max(0.05, TickSchedule.roundDown(.spx, price: mid - half)) : TickSchedule.roundUp(.spx, price: mid + half)
        }
        let credit = fill(.put, k.shortPut, selling: true) + fill(.call, k.shortCall, selling: true)
            - fill(.put, k.longPut, selling: false) - fill(.call, k.longCall, selling: false)
        let width = max(k.shortPut - k.longPut, k.longCall - k.shortCall)
        let equity = account.equity(marks: account.marks(market: market, spxClose: d.spxClose))
        let quantity = Int((equity * configuration.condorRisk / (width * IronCondor.multiplier)).rounded(.down))
        guard credit > 0, quantity > 0, quantity <= Trade.maxAbsQuantity else {
            throw BacktestError(.engineRefused, "on \(d.date): cannot sell a condor (\(quantity) × \(k), credit \(credit)); the account is $\(Int(equity))", path: "condor")
        }
        let condor = IronCondor(expiry: expiry, quantity: quantity, longPut: k.longPut, shortPut: k.shortPut, shortCall: k.shortCall,
                                longCall: k.longCall, creditPerUnit: (credit * 100).rounded() / 100)
        let commission = account.plan.fills == .desk ? configuration.spxExecution.commissionDollars(contracts: 4 * quantity) : 0
        account.flow("condor", condor.creditDollars - commission)
        account.trades.append(TradeRecord(date: d.date, kind: .sellCondor,
                                          detail: "SPX \(expiry) \(k.longPut)/\(k.shortPut)/\(k.shortCall)/\(k.longCall) condor",
                                          quantity: quantity, price: condor.creditPerUnit, dollars: condor.creditDollars - commission))
        account.condor = condor
        account.counters.condorsSold += 1
        account.counters.creditDollars += condor.creditDollars
    }

    func buyVXTH(_ account: inout Account, day d: MarketHistory.Day, market: MarketSnapshot) throws {
        guard let front = market.vix.futures.first(where: { e in
            CalendarDay(e.expiry).map { d.day < ExchangeCalendar.lastTradingDay(.vixOption, expiry: $0) } ?? false
        }) else { return }
        let weight = VXTHRule.weight(future: front.price)
        guard weight > 0 else { return }
        let strike = try VXTHRule.strike(expiry: front.expiry, market: market)
        let mid = try Engine.vixMid(market: market, expiry: front.expiry, strike: strike)
        let price = account.plan.fills == .mid ? mid : market.costs.limitPrice(mid: mid, buying: true)
        let commission = account.plan.fills == .desk ? market.costs.commissionPerContract : 0
        let equity = account.equity(marks: account.marks(market: market, spxClose: d.spxClose))
        let quantity = Int((equity * weight / (price * VIXOption.multiplier + commission)).rounded(.down))
        guard quantity > 0, price > 0 else { return }
        let cost = Double(quantity) * (price * VIXOption.multiplier + commission)
        if account.plan.holding == .sp500 {
            // The index sells S&P 500 to pay for the calls.
            account.spUnits -= cost / d.spxClose
            account.flow("sp500", cost)
        }
        account.flow("vxth", -cost)
        account.trades.append(TradeRecord(date: d.date, kind: .buyCalls, detail: "VIX \(front.expiry) \(strike) calls", quantity: quantity, price: price, dollars: -cost))
        account.counters.hedgeBoughtDollars += cost
        let position = Position(expiry: front.expiry, strike: strike, quantity: quantity, entryPrice: price)
        if let l = account.layers.firstIndex(where: { $0.name == "vxth" }) {
            account.layers[l].positions.append(position)
        } else {
            account.layers.append(HedgeLayer(name: "vxth", kind: .shortTerm, positions: [position]))
        }
    }

    /// "rule layer: reason" for a held rule, from its typed reason.
    static func key(_ held: HeldRule) -> String {
        let kind: String
        switch held.reason {
        case .budgetSpent: kind = "budget-spent"
        case .stressCap: kind = "stress-cap"
        case .oversoldSPX: kind = "oversold-spx"
        case .noExpiry: kind = "no-expiry"
        case .noCandidate: kind = "no-candidate"
        }
        return "\(held.rule) \(held.layer): \(kind)"
    }

    func runEngine(_ account: inout Account, day d: MarketHistory.Day, market: MarketSnapshot, strategy: Strategy,
                   signals: (spx: DailyHistory, vix: DailyHistory)?) throws {
        guard var book = account.book else { return }
        let run: RuleRun
        do {
            run = try Engine.run(book: book, market: market, strategy: strategy, spxHistory: signals?.spx, vixHistory: signals?.vix)
        } catch let error as EngineError {
            throw BacktestError(error, context: "the engine on \(d.date)")
        }
        for held in run.held { account.counters.heldByReason[Self.key(held), default: 0] += 1 }
        for proposal in run.proposals {
            // Proposals of one run are computed on the same book; one that no longer applies after an
            // earlier one is stale, as the ledger would find it.
            guard let next = try? book.applying(proposal.change) else {
                account.counters.proposalsRefused += 1
                continue
            }
            book = next
            account.flow(proposal.change.layer, -proposal.costDollars)
            account.trades.append(TradeRecord(date: d.date, kind: .proposal, detail: "\(proposal.rule) \(proposal.change.layer): \(proposal.summary)",
                                              quantity: proposal.change.trades.reduce(0) { $0 + $1.quantity }, price: 0, dollars: -proposal.costDollars))
            account.counters.proposalsApplied += 1
            account.counters.proposalsByRule[proposal.rule, default: 0] += 1
            for trade in proposal.change.trades {
                let dollars = trade.price * Double(trade.quantity.magnitude) * VIXOption.multiplier
                if trade.quantity > 0 { account.counters.hedgeBoughtDollars += dollars } else { account.counters.hedgeSoldDollars += dollars }
            }
        }
        account.layers = book.layers
        account.realizedHedgeDollars = book.realizedHedgeDollars
    }
}
