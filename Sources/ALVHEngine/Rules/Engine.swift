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

    /// Risk before and after applying `change`, and its cost at the trades' prices. Deterministic:
    /// an independent signer recomputes exactly these figures from the same inputs.
    public static func evaluate(book: Book, change: LayerChange, market: MarketSnapshot,
                                model: ScenarioModel = .standard) throws -> (before: RiskReport, after: RiskReport, costDollars: Double) {
        let after = try book.applying(change)
        let before = try BookValuer(book: book, market: market, model: model).report(book: book, scenarios: reportScenarios)
        let afterReport = try BookValuer(book: after, market: market, model: model).report(book: after, scenarios: reportScenarios)
        return (before, afterReport, cost(of: change))
    }

    /// Premium in dollars of `change` at its prices: buys positive, sells negative.
    public static func cost(of change: LayerChange) -> Double {
        Money.cents(change.trades.reduce(0) { $0 + $1.price * Double($1.quantity) * VIXOption.multiplier })
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

    /// The model mid of a VIX call (Black-76 on the future of its expiry), in index points, to a cent.
    public static func vixCallMid(market: MarketSnapshot, expiry: String, strike: Double) throws -> Double {
        let spec = OptionSpec(model: .black76, right: .call, underlying: try market.vixFuture(expiry: expiry), strike: strike,
                              years: max(market.years(to: expiry), 1e-6), rate: market.spx.rate, vol: market.vixOptionVol(expiry: expiry, strike: strike))
        return max(0.01, (Pricer.price(spec) * 100).rounded() / 100)
    }

    /// Runs the rules in priority order — take-profit, close, roll, event, coverage — and returns
    /// every proposal that fires, the most urgent first. Each is computed on the current book.
    ///
    /// `vixHistory` (CBOE's VIX daily file) adds the VIX percentile over a year to every rationale and
    /// lets a bearish MACD crossover of VIX roll the short-term layer; `spxHistory` does the same for SPX.
    public static func propose(book: Book, market: MarketSnapshot, strategy: Strategy = .standard,
                               spxHistory: DailyHistory? = nil, vixHistory: DailyHistory? = nil) throws -> [EngineProposal] {
        let rules = try RuleSet(book: book, market: market, strategy: strategy, spxHistory: spxHistory, vixHistory: vixHistory)
        var context: [SignalReading] = []
        if let closes = vixHistory?.upTo(String(market.asOf.prefix(10))).closes, let percentile = Indicators.percentile(closes, lookback: 252) {
            context.append(SignalReading(name: "vix-percentile-1y", value: percentile, note: "last VIX close \(closes.last!) against the past 252 closes"))
        }
        var out: [EngineProposal] = []
        for (rule, change, signals, summary) in try rules.takeProfit() + rules.closeSpent() + rules.roll() + rules.event() + rules.coverage() {
            let evaluated = try evaluate(book: book, change: change, market: market)
            out.append(EngineProposal(rule: rule, change: change, rationale: signals + context, riskBefore: evaluated.before,
                                      riskAfter: evaluated.after, costDollars: evaluated.costDollars, summary: summary))
        }
        return out
    }
}

/// The ALVH rules over one book and market.
struct RuleSet {
    typealias Fired = (rule: String, change: LayerChange, signals: [SignalReading], summary: String)

    let book: Book
    let market: MarketSnapshot
    let strategy: Strategy
    let spxHistory: DailyHistory?
    let vixHistory: DailyHistory?
    let valuer: BookValuer

    init(book: Book, market: MarketSnapshot, strategy: Strategy, spxHistory: DailyHistory?, vixHistory: DailyHistory? = nil) throws {
        self.book = book
        self.market = market
        self.strategy = strategy
        self.spxHistory = spxHistory
        self.vixHistory = vixHistory
        valuer = try BookValuer(book: book, market: market, model: strategy.scenarioModel)
    }

    /// Limit price: the model mid rounded to a cent, at least a cent.
    func mid(expiry: String, strike: Double) throws -> Double {
        try Engine.vixCallMid(market: market, expiry: expiry, strike: strike)
    }

    /// The P&L in dollars of one contract bought at `price` in `scenario`.
    func contractPnL(expiry: String, strike: Double, price: Double, scenario: Scenario) throws -> Double {
        let leg = try BookValuer.vixLeg(layer: "candidate", right: .call, expiry: expiry, strike: strike, quantity: 1, entryPrice: price,
                                        market: market, model: strategy.scenarioModel)
        return valuer.value(leg, valuer.shock(scenario)).price - price * VIXOption.multiplier
    }

    func design(for layer: HedgeLayer) -> Strategy.LayerDesign? {
        strategy.layers[layer.name] ?? layer.kind.flatMap { strategy.layers[$0.rawValue] }
    }

    func targetDollars(layerName: String, design: Strategy.LayerDesign) -> Double {
        book.layer(named: layerName)?.targetCoverageDollars ?? design.targetCoverageFraction * book.condor.maxLossDollars
    }

    /// Premium still allowed: the budget less what the layers cost at entry.
    var remainingBudget: Double {
        let spent = book.layers.reduce(0.0) { sum, layer in
            sum + layer.positions.reduce(0.0) { $0 + $1.entryPrice * VIXOption.multiplier * Double($1.quantity) }
        }
        return max(0, strategy.budgetFractionOfCredit * book.condor.creditDollars - spent)
    }

    /// VIX futures expiries within the design's day range.
    func expiries(_ design: Strategy.LayerDesign, after: String? = nil) -> [String] {
        market.vix.futures.map(\.expiry).filter { expiry in
            let days = market.days(to: expiry)
            return days >= design.minExpiryDays && days <= design.maxExpiryDays && (after == nil || expiry > after!)
        }
    }

    /// The cheapest candidate (expiry × strike) whose contracts cover `shortfall` dollars in the
    /// design scenario, or the most efficient one the budget allows.
    func size(design: Strategy.LayerDesign, shortfall: Double, budget: Double, expiries: [String]) throws
        -> (trade: Trade, pnlPerContract: Double, budgetLimited: Bool)? {
        var best: (trade: Trade, cost: Double, pnl: Double)?
        var mostEfficient: (trade: Trade, ratio: Double, pnl: Double, price: Double)?
        for expiry in expiries {
            let future = try market.vixFuture(expiry: expiry)
            for offset in design.strikeOffsets {
                let strike = max(1, (future + offset).rounded())
                let price = try mid(expiry: expiry, strike: strike)
                let pnl = try contractPnL(expiry: expiry, strike: strike, price: price, scenario: design.designScenario)
                guard pnl > 0 else { continue }
                // Clamped to Trade.maxAbsQuantity: a tiny P&L per contract must not trap Int(_:).
                let contracts = Trade.contracts((shortfall / pnl).rounded(.up))
                guard contracts > 0 else { continue }
                let cost = Double(contracts) * price * VIXOption.multiplier
                let trade = Trade(expiry: expiry, strike: strike, quantity: contracts, price: price)
                if best == nil || cost < best!.cost { best = (trade, cost, pnl) }
                let ratio = pnl / (price * VIXOption.multiplier)
                if mostEfficient == nil || ratio > mostEfficient!.ratio { mostEfficient = (trade, ratio, pnl, price) }
            }
        }
        guard let best else { return nil }
        if best.cost <= budget { return (best.trade, best.pnl, false) }
        guard let efficient = mostEfficient else { return nil }
        let affordable = Trade.contracts((budget / (efficient.price * VIXOption.multiplier)).rounded(.down))
        guard affordable > 0 else { return nil }
        var trade = efficient.trade
        trade.quantity = affordable
        return (trade, efficient.pnl, true)
    }

    // MARK: - Rules

    /// Partial close of positions deep in the money after a spike, with the curve in backwardation.
    func takeProfit() throws -> [Fired] {
        guard let curve = TermStructure(market) else { return [] }
        if strategy.takeProfitRequiresBackwardation && !curve.isBackwardation { return [] }
        var fired: [Fired] = []
        for layer in book.layers {
            var trades: [Trade] = []
            var signals = [SignalReading(name: "vix-term-slope", value: curve.slopePoints, threshold: 0,
                                         note: "third minus front future, VIX points; negative = backwardation")]
            for position in layer.positions where position.entryPrice > 0 && position.right == .call {
                let future = try market.vixFuture(expiry: position.expiry)
                let multiple = max(0, future - position.strike) / position.entryPrice
                guard multiple >= strategy.takeProfitIntrinsicMultiple else { continue }
                let quantity = max(1, Trade.contracts((Double(position.quantity) * strategy.takeProfitCloseFraction).rounded(.down)))
                trades.append(Trade(expiry: position.expiry, strike: position.strike, quantity: -quantity,
                                    price: try mid(expiry: position.expiry, strike: position.strike)))
                signals.append(SignalReading(name: "intrinsic-over-entry", value: multiple, threshold: strategy.takeProfitIntrinsicMultiple,
                                             note: "\(position.expiry) \(whole(position.strike)) call: future \(future)"))
            }
            guard !trades.isEmpty else { continue }
            let sold = trades.reduce(0) { $0 - $1.quantity }
            fired.append(("take-profit", LayerChange(kind: .closeLayer, layer: layer.name, trades: trades), signals,
                          "take profit: sell \(sold) deep-in-the-money \(layer.name) calls into the spike"))
        }
        return fired
    }

    /// Close an event layer once every event it spanned has passed.
    func closeSpent() throws -> [Fired] {
        var fired: [Fired] = []
        for layer in book.layers where (layer.kind == .event || layer.name == "event") && !layer.positions.isEmpty {
            let lastExpiry = layer.positions.map(\.expiry).max()!
            let covered = market.events.filter { $0.date <= lastExpiry }
            let upcoming = covered.filter { market.days(to: $0.date) >= 0 }
            guard upcoming.isEmpty, let passed = covered.max(by: { $0.date < $1.date }) else { continue }
            let trades = try layer.positions.map { Trade(expiry: $0.expiry, strike: $0.strike, quantity: -$0.quantity, price: try mid(expiry: $0.expiry, strike: $0.strike)) }
            fired.append(("close", LayerChange(kind: .closeLayer, layer: layer.name, trades: trades),
                          [SignalReading(name: "days-since-event", value: Double(-market.days(to: passed.date)), threshold: 0, note: "\(passed.kind) \(passed.date) has passed")],
                          "close the \(layer.name) layer: its \(passed.kind) on \(passed.date) has passed"))
        }
        return fired
    }

    /// Roll ("time-shifting") a layer whose nearest expiry is too close, or the short-term layer on a
    /// bearish MACD crossover of SPX.
    func roll() throws -> [Fired] {
        // A bearish MACD crossover of VIX (the spike's momentum is fading: roll before the short
        // calls lose their time value) or of SPX. History after the snapshot's date is not looked at.
        var macdSignal: SignalReading?
        let asOfDay = String(market.asOf.prefix(10))
        for (name, history) in [("vix", vixHistory), ("spx", spxHistory)] where macdSignal == nil && strategy.rollOnMACDBearishCrossover {
            guard let closes = history?.upTo(asOfDay).closes, Indicators.macdBearishCrossover(closes),
                  let last = Indicators.macd(closes).last ?? nil else { continue }
            macdSignal = SignalReading(name: "\(name)-macd-bearish-crossover", value: last.histogram ?? 0, threshold: 0,
                                       note: "\(name.uppercased()) MACD(12,26,9) crossed below its signal")
        }
        var fired: [Fired] = []
        for layer in book.layers {
            guard let design = design(for: layer), design.rollBelowDays > 0 || layer.kind == .shortTerm,
                  let nearest = layer.positions.map(\.expiry).min() else { continue }
            let dte = market.days(to: nearest)
            var signals: [SignalReading] = []
            if dte < design.rollBelowDays {
                signals.append(SignalReading(name: "days-to-expiry", value: Double(dte), threshold: Double(design.rollBelowDays), note: "\(layer.name) \(nearest)"))
            } else if let macdSignal, layer.kind == .shortTerm || layer.name == "short-term", dte < design.maxExpiryDays {
                signals.append(macdSignal)
            } else {
                continue
            }
            // The first later expiry in the design's range; when the listed curve has none there
            // (monthly gaps), the first later one past the minimum.
            let later = market.vix.futures.map(\.expiry).filter { $0 > nearest && market.days(to: $0) >= design.minExpiryDays }
            guard let target = later.first(where: { market.days(to: $0) <= design.maxExpiryDays }) ?? later.first else { continue }
            let oldFuture = try market.vixFuture(expiry: nearest), newFuture = try market.vixFuture(expiry: target)
            var trades: [Trade] = []
            for position in layer.positions where position.expiry == nearest {
                let strike = max(1, (position.strike - oldFuture + newFuture).rounded())
                trades.append(Trade(expiry: nearest, strike: position.strike, quantity: -position.quantity, price: try mid(expiry: nearest, strike: position.strike)))
                trades.append(Trade(expiry: target, strike: strike, quantity: position.quantity, price: try mid(expiry: target, strike: strike)))
            }
            fired.append(("roll", LayerChange(kind: .rollLayer, layer: layer.name, trades: trades), signals,
                          "roll \(layer.name) from \(nearest) to \(target)"))
        }
        return fired
    }

    /// Ahead of an FOMC / CPI date with no layer expiring after it, add an event layer.
    func event() throws -> [Fired] {
        guard let design = strategy.layers["event"], let next = market.nextEvent() else { return [] }
        let daysAhead = market.days(to: next.date)
        guard daysAhead <= strategy.eventDaysAhead else { return [] }
        let spanned = book.layers.contains { ($0.kind == .event || $0.name == "event") && $0.positions.contains { $0.expiry >= next.date } }
        guard !spanned, book.layer(named: "event") == nil else { return [] }
        let candidates = expiries(design).filter { $0 >= next.date }.prefix(1)
        let target = targetDollars(layerName: "event", design: design)
        guard let sized = try size(design: design, shortfall: target, budget: remainingBudget, expiries: Array(candidates)) else { return [] }
        var signals = [SignalReading(name: "days-to-next-event", value: Double(daysAhead), threshold: Double(strategy.eventDaysAhead),
                                     note: "\(next.kind) \(next.date)\(next.name.map { " (\($0))" } ?? "")")]
        signals.append(SignalReading(name: "event-coverage-target", value: target, note: design.designScenario.name))
        if sized.budgetLimited { signals.append(SignalReading(name: "budget-limited", value: remainingBudget, note: "sized to the remaining premium budget")) }
        return [("event", LayerChange(kind: .addLayer, layer: "event", layerKind: .event, trades: [sized.trade]), signals,
                 "add an event layer spanning \(next.kind) \(next.date): \(sized.trade.quantity) × VIX \(sized.trade.expiry) \(whole(sized.trade.strike)) calls")]
    }

    /// A layer below its coverage target in its design scenario is added or resized at least cost.
    func coverage() throws -> [Fired] {
        var fired: [Fired] = []
        let priority = ["short-term", "backstop"]
        let names = strategy.layers.keys.sorted { (priority.firstIndex(of: $0) ?? 99, $0) < (priority.firstIndex(of: $1) ?? 99, $1) }
        for name in names where name != "event" {
            let design = strategy.layers[name]!
            let target = targetDollars(layerName: name, design: design)
            let current = valuer.pnl(design.designScenario).byLayer[name] ?? 0
            guard current < target * 0.95 else { continue }
            guard let sized = try size(design: design, shortfall: target - current, budget: remainingBudget, expiries: expiries(design)) else { continue }
            let exists = book.layer(named: name) != nil
            var signals = [SignalReading(name: "\(name)-coverage", value: current, threshold: target,
                                         note: "layer P&L in its design scenario (\(design.designScenario.name)), dollars")]
            if sized.budgetLimited { signals.append(SignalReading(name: "budget-limited", value: remainingBudget, note: "sized to the remaining premium budget")) }
            let change = LayerChange(kind: exists ? .resizeLayer : .addLayer, layer: name, layerKind: HedgeLayer.Kind(rawValue: name), trades: [sized.trade])
            fired.append(("coverage", change, signals,
                          "\(exists ? "resize" : "add") \(name): buy \(sized.trade.quantity) × VIX \(sized.trade.expiry) \(whole(sized.trade.strike)) calls to lift coverage from $\(whole(current)) toward $\(whole(target))"))
        }
        return fired
    }
}

/// A number as a whole number for a summary line; `Int(_:)` traps on NaN, ±∞ and beyond ±2⁶³.
func whole(_ value: Double) -> String {
    value.isFinite && value.magnitude < 1e15 ? String(Int(value)) : String(value)
}
