import Foundation

/// The ALVH rules over one book and market. Every buy pays the snapshot's half-spread and
/// commission on the tick grid, is charged in full against the premium budget, and is cut to what
/// keeps the hedge's P&L in every named stress under the stress cap.
struct RuleSet {
    typealias Fired = (rule: String, change: LayerChange, signals: [SignalReading], summary: String)

    let book: Book
    let market: MarketSnapshot
    let strategy: Strategy
    let spxHistory: DailyHistory?
    let vixHistory: DailyHistory?
    let valuer: BookValuer
    let asOf: Date
    /// asOf's New York date, YYYY-MM-DD: history after it is never looked at.
    let asOfDay: String

    init(book: Book, market: MarketSnapshot, strategy: Strategy, spxHistory: DailyHistory?, vixHistory: DailyHistory? = nil) throws {
        self.book = book
        self.market = market
        self.strategy = strategy
        self.spxHistory = spxHistory
        self.vixHistory = vixHistory
        guard let asOf = market.asOfDate, let day = market.asOfDay else {
            throw EngineError(.invalidSnapshot, "must be an RFC 3339 time", path: "asOf")
        }
        self.asOf = asOf
        asOfDay = day.text
        valuer = try BookValuer(book: book, market: market, model: strategy.scenarioModel)
    }

    // MARK: - Prices and tradability

    /// The limit price of a buy (ask side) or a sale (bid side), on the tick grid.
    func limit(expiry: String, strike: Double, buying: Bool) throws -> Double {
        try Engine.vixLimitPrice(market: market, expiry: expiry, strike: strike, buying: buying)
    }

    /// Whether options of `expiry` still trade at asOf (until the close of the day before settlement).
    func tradable(_ expiry: String) -> Bool {
        guard let day = CalendarDay(expiry) else { return false }
        return asOf < ExchangeCalendar.lastTradeInstant(.vixOption, expiry: day)
    }

    /// Dollars paid for one contract at `price`, commission included.
    func contractCost(_ price: Double) -> Double { price * VIXOption.multiplier + market.costs.commissionPerContract }

    /// The P&L in dollars of one contract bought at `price` (commission included) in `scenario`.
    func contractPnL(expiry: String, strike: Double, price: Double, scenario: Scenario) throws -> Double {
        let leg = try BookValuer.vixLeg(layer: "candidate", right: .call, expiry: expiry, strike: strike, quantity: 1, entryPrice: price,
                                        market: market, model: strategy.scenarioModel)
        return valuer.value(leg, valuer.shock(scenario)).price - contractCost(price)
    }

    func design(for layer: HedgeLayer) -> Strategy.LayerDesign? {
        strategy.layers[layer.name] ?? layer.kind.flatMap { strategy.layers[$0.rawValue] }
    }

    func targetDollars(layerName: String, design: Strategy.LayerDesign) -> Double {
        book.layer(named: layerName)?.targetCoverageDollars ?? design.targetCoverageFraction * book.condor.maxLossDollars
    }

    // MARK: - Budget

    /// The premium budget in dollars: a fraction of the condor's credit.
    var budgetDollars: Double { strategy.budgetFractionOfCredit * book.condor.creditDollars }

    /// Premium at entry of every position held (what the layers cost), dollars.
    static func heldBasis(_ book: Book) -> Double {
        book.layers.reduce(0.0) { sum, layer in sum + layer.positions.reduce(0.0) { $0 + $1.entryPrice * VIXOption.multiplier * Double($1.quantity) } }
    }

    /// What may still be spent on buys — gross, never netted against a sale in the same change —
    /// after `sells`: the budget, plus the gains realised by earlier sales (take-profits), less the
    /// entry premium of every position still held once `sells` are done.
    func availableBudget(after sells: [Trade] = []) -> Double {
        var freed = 0.0
        for sale in sells where sale.quantity < 0 {
            let entry = book.layers.lazy.flatMap(\.positions).first { $0.sameContract(as: sale) }?.entryPrice ?? 0
            freed += entry * VIXOption.multiplier * Double(sale.quantity.magnitude)
        }
        return max(0, budgetDollars + max(0, book.realizedHedgeDollars) - (Self.heldBasis(book) - freed))
    }

    /// What the proposals fired so far in one run would use if they were all committed: the rules
    /// later in the run size against what is left, so that every proposal of a run can be committed
    /// together without breaking the budget or the stress cap.
    struct Allowance {
        var spentDollars = 0.0
        var stressUsed: [String: Double] = [:]

        mutating func take(_ trade: Trade, cost: Double, pnl: (Scenario) throws -> Double, scenarios: [Scenario]) rethrows {
            spentDollars += Double(trade.quantity) * cost
            for scenario in scenarios { stressUsed[scenario.name, default: 0] += Double(trade.quantity) * max(0, try pnl(scenario)) }
        }
    }

    func take(_ trade: Trade, into allowance: inout Allowance) throws {
        try allowance.take(trade, cost: contractCost(trade.price), pnl: { try contractPnL(expiry: trade.expiry, strike: trade.strike, price: trade.price, scenario: $0) },
                           scenarios: stressCapDollars == nil ? [] : Engine.reportScenarios)
    }

    // MARK: - Stress cap

    /// The most the hedge layers may make in any named stress: a multiple of the condor's max loss
    /// (nil: no cap).
    var stressCapDollars: Double? {
        strategy.maxHedgeStressMultiple > 0 ? strategy.maxHedgeStressMultiple * book.condor.maxLossDollars : nil
    }

    /// Per named stress, what the hedge layers of `book` may still add before the cap.
    func stressHeadroom(on book: Book, less allowance: Allowance = Allowance()) throws -> [(scenario: Scenario, room: Double)] {
        guard let cap = stressCapDollars else { return [] }
        let valuer = try BookValuer(book: book, market: market, model: strategy.scenarioModel)
        return Engine.reportScenarios.map { scenario in
            let hedge = valuer.pnl(scenario).byLayer.filter { $0.key != "condor" }.values.reduce(0, +)
            return (scenario, cap - hedge - allowance.stressUsed[scenario.name, default: 0])
        }
    }

    /// The most contracts of a candidate the stress cap allows, given the headroom.
    func contractsUnderCap(expiry: String, strike: Double, price: Double, headroom: [(scenario: Scenario, room: Double)]) throws -> Int {
        var most = Trade.maxAbsQuantity
        for (scenario, room) in headroom {
            let perContract = try contractPnL(expiry: expiry, strike: strike, price: price, scenario: scenario)
            guard perContract > 0 else { continue }
            most = min(most, room <= 0 ? 0 : Trade.contracts((room / perContract).rounded(.down)))
        }
        return most
    }

    // MARK: - Sizing

    struct Sized {
        var trade: Trade
        var pnlPerContract: Double
        var budgetLimited: Bool
        var capLimited: Bool
    }

    /// VIX expiries still trading within the design's day range.
    func expiries(_ design: Strategy.LayerDesign) -> [String] {
        market.vix.futures.map(\.expiry).filter { expiry in
            let days = market.days(to: expiry)
            return days >= design.minExpiryDays && days <= design.maxExpiryDays && tradable(expiry)
        }
    }

    /// The candidate (expiry × strike on the VIX strike grid) that covers `shortfall` dollars in the
    /// design scenario at the least cost — premium at the ask plus commission — among those priced at
    /// least `min-limit-price`; cut to the budget and to the stress cap.
    func size(design: Strategy.LayerDesign, shortfall: Double, budget: Double, headroom: [(scenario: Scenario, room: Double)],
              expiries: [String]) throws -> Sized? {
        var best: (trade: Trade, cost: Double, pnl: Double, perContract: Double, capMax: Int)?
        for expiry in expiries {
            let future = try market.vixFuture(expiry: expiry)
            for offset in design.strikeOffsets {
                let strike = max(1, (future + offset).rounded())
                let price = try limit(expiry: expiry, strike: strike, buying: true)
                guard price >= strategy.minLimitPrice else { continue }
                let pnl = try contractPnL(expiry: expiry, strike: strike, price: price, scenario: design.designScenario)
                guard pnl > 0 else { continue }
                let contracts = Trade.contracts((shortfall / pnl).rounded(.up))
                guard contracts > 0 else { continue }
                let perContract = contractCost(price)
                let cost = Double(contracts) * perContract
                if best == nil || cost < best!.cost {
                    let capMax = try contractsUnderCap(expiry: expiry, strike: strike, price: price, headroom: headroom)
                    best = (Trade(expiry: expiry, strike: strike, quantity: contracts, price: price), cost, pnl, perContract, capMax)
                }
            }
        }
        guard var chosen = best else { return nil }
        let affordable = Trade.contracts((budget / chosen.perContract).rounded(.down))
        let quantity = min(chosen.trade.quantity, affordable, chosen.capMax)
        guard quantity > 0 else { return nil }
        let budgetLimited = affordable < chosen.trade.quantity && affordable <= chosen.capMax
        let capLimited = chosen.capMax < chosen.trade.quantity && chosen.capMax < affordable
        chosen.trade.quantity = quantity
        return Sized(trade: chosen.trade, pnlPerContract: chosen.pnl, budgetLimited: budgetLimited, capLimited: capLimited)
    }

    func limitSignals(_ sized: Sized, budget: Double) -> [SignalReading] {
        var signals: [SignalReading] = []
        if sized.budgetLimited { signals.append(SignalReading(name: "budget-limited", value: budget, note: "sized to the remaining premium budget, dollars")) }
        if sized.capLimited, let cap = stressCapDollars {
            signals.append(SignalReading(name: "stress-cap-limited", value: cap, note: "sized so the hedge makes at most this in any named stress, dollars"))
        }
        return signals
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
            for position in layer.positions where position.entryPrice > 0 && position.right == .call && tradable(position.expiry) {
                let future = try market.vixFuture(expiry: position.expiry)
                let multiple = max(0, future - position.strike) / position.entryPrice
                guard multiple >= strategy.takeProfitIntrinsicMultiple else { continue }
                let quantity = max(1, Trade.contracts((Double(position.quantity) * strategy.takeProfitCloseFraction).rounded(.down)))
                trades.append(Trade(expiry: position.expiry, strike: position.strike, quantity: -quantity,
                                    price: try limit(expiry: position.expiry, strike: position.strike, buying: false)))
                signals.append(SignalReading(name: "intrinsic-over-entry", value: multiple, threshold: strategy.takeProfitIntrinsicMultiple,
                                             note: "\(position.expiry) \(whole(position.strike)) call: future \(future)"))
            }
            guard !trades.isEmpty else { continue }
            let sold = trades.reduce(0) { $0 - $1.quantity }
            let proceeds = trades.reduce(0.0) { $0 + $1.price * Double(-$1.quantity) * VIXOption.multiplier }
            fired.append(("take-profit", LayerChange(kind: .closeLayer, layer: layer.name, trades: trades), signals,
                          "take profit: sell \(sold) deep-in-the-money \(layer.name) calls into the spike for \(dollars(proceeds))"))
        }
        return fired
    }

    /// Close an event layer once every release it was bought for is out.
    func closeSpent() throws -> [Fired] {
        var fired: [Fired] = []
        let kinds = Set(strategy.eventKinds)
        for layer in book.layers where (layer.kind == .event || layer.name == "event") && !layer.positions.isEmpty {
            let live = layer.positions.filter { tradable($0.expiry) }
            guard !live.isEmpty,
                  let lastSettlement = layer.positions.compactMap({ MarketSnapshot.settlement(.vixOption, expiry: $0.expiry) }).max() else { continue }
            let covered = market.releases.filter { kinds.contains($0.kind) && $0.instant < lastSettlement }
            guard !covered.contains(where: { $0.instant > asOf }), let passed = covered.last(where: { $0.instant <= asOf }) else { continue }
            let trades = try live.map { Trade(expiry: $0.expiry, strike: $0.strike, quantity: -$0.quantity, price: try limit(expiry: $0.expiry, strike: $0.strike, buying: false)) }
            let hours = asOf.timeIntervalSince(passed.instant) / 3600
            fired.append(("close", LayerChange(kind: .closeLayer, layer: layer.name, trades: trades),
                          [SignalReading(name: "hours-since-release", value: hours, threshold: 0, note: "\(passed.name) came out at \(EngineDate.formatInstant(passed.instant))")],
                          "close the \(layer.name) layer: \(passed.name) is out and no release it spans is still to come"))
        }
        return fired
    }

    /// Roll ("time-shifting") a layer whose nearest expiry is too close, or the short-term layer on a
    /// bearish MACD crossover. The new calls are bought in full against the budget (only the sold
    /// calls' entry premium is freed); in backwardation they go up and out, at least `roll-otm-points`
    /// above the new expiry's future; cut to the budget and the stress cap, and a close when nothing
    /// can be bought.
    func roll(_ allowance: inout Allowance) throws -> [Fired] {
        var macdSignal: SignalReading?
        for (name, history) in [("vix", vixHistory), ("spx", spxHistory)] where macdSignal == nil && strategy.rollOnMACDBearishCrossover {
            guard let closes = history?.upTo(asOfDay).closes, Indicators.macdBearishCrossover(closes),
                  let last = Indicators.macd(closes).last ?? nil else { continue }
            macdSignal = SignalReading(name: "\(name)-macd-bearish-crossover", value: last.histogram ?? 0, threshold: 0,
                                       note: "\(name.uppercased()) MACD(12,26,9) crossed below its signal")
        }
        let backwardation = TermStructure(market)?.isBackwardation ?? false
        var fired: [Fired] = []
        for layer in book.layers {
            guard let design = design(for: layer), design.rollBelowDays > 0 || layer.kind == .shortTerm,
                  let nearest = layer.positions.map(\.expiry).filter(tradable).min() else { continue }
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
            let later = market.vix.futures.map(\.expiry).filter { $0 > nearest && market.days(to: $0) >= design.minExpiryDays && tradable($0) }
            guard let target = later.first(where: { market.days(to: $0) <= design.maxExpiryDays }) ?? later.first else { continue }
            let oldFuture = try market.vixFuture(expiry: nearest), newFuture = try market.vixFuture(expiry: target)
            var sells: [Trade] = []
            for position in layer.positions where position.expiry == nearest {
                sells.append(Trade(expiry: nearest, strike: position.strike, quantity: -position.quantity,
                                   price: try limit(expiry: nearest, strike: position.strike, buying: false)))
            }
            let afterSells = try book.applying(LayerChange(kind: .resizeLayer, layer: layer.name, trades: sells))
            var budget = availableBudget(after: sells) - allowance.spentDollars
            var headroom = try stressHeadroom(on: afterSells, less: allowance)
            var buys: [Trade] = []
            var limited: [String] = []
            for sale in sells {
                var strike = max(1, (sale.strike - oldFuture + newFuture).rounded())
                if backwardation { strike = max(strike, (newFuture + strategy.rollOTMPoints).rounded(.up)) }
                let price = try limit(expiry: target, strike: strike, buying: true)
                let affordable = Trade.contracts((budget / contractCost(price)).rounded(.down))
                let underCap = try contractsUnderCap(expiry: target, strike: strike, price: price, headroom: headroom)
                let quantity = min(-sale.quantity, affordable, underCap)
                if quantity < -sale.quantity { limited.append(affordable <= underCap ? "budget" : "stress cap") }
                guard quantity > 0, price >= strategy.minLimitPrice else { continue }
                let buy = Trade(expiry: target, strike: strike, quantity: quantity, price: price)
                buys.append(buy)
                try take(buy, into: &allowance)
                budget -= Double(quantity) * contractCost(price)
                for i in headroom.indices {
                    headroom[i].room -= Double(quantity) * max(0, try contractPnL(expiry: target, strike: strike, price: price, scenario: headroom[i].scenario))
                }
            }
            if backwardation {
                signals.append(SignalReading(name: "vix-term-slope", value: TermStructure(market)?.slopePoints ?? 0, threshold: 0,
                                             note: "backwardation: the new calls go at least \(whole(strategy.rollOTMPoints)) points out of the money"))
            }
            if !limited.isEmpty {
                signals.append(SignalReading(name: "\(limited.contains("budget") ? "budget" : "stress-cap")-limited",
                                             value: limited.contains("budget") ? availableBudget(after: sells) : (stressCapDollars ?? 0),
                                             note: "the roll buys fewer calls than it sells (\(Set(limited).sorted().joined(separator: ", ")))"))
            }
            if buys.isEmpty {
                fired.append(("roll", LayerChange(kind: .closeLayer, layer: layer.name, trades: sells), signals,
                              "close \(layer.name) \(nearest) instead of rolling: \(limited.isEmpty ? "no later call to buy" : "the \(Set(limited).sorted().joined(separator: " and ")) leaves nothing to buy")"))
                continue
            }
            let bought = buys.map { "\($0.quantity) × \(target) \(whole($0.strike))C @ \($0.price)" }.joined(separator: ", ")
            fired.append(("roll", LayerChange(kind: .rollLayer, layer: layer.name, trades: sells + buys), signals,
                          "roll \(layer.name) from \(nearest) to \(target): buy \(bought)"))
        }
        return fired
    }

    /// Ahead of a release (`event-kinds`) within `event-days-ahead` with no event layer settling
    /// after it, add an event layer on the first expiry that settles after the release.
    func event(_ allowance: inout Allowance) throws -> [Fired] {
        guard let design = strategy.layers["event"],
              let next = market.nextRelease(kinds: Set(strategy.eventKinds)) else { return [] }
        let daysAhead = market.days(to: next.date)
        guard daysAhead <= strategy.eventDaysAhead else { return [] }
        let settlesAfter: (String) -> Bool = { expiry in (MarketSnapshot.settlement(.vixOption, expiry: expiry) ?? .distantPast) > next.instant }
        let spanned = book.layers.contains { ($0.kind == .event || $0.name == "event") && $0.positions.contains { settlesAfter($0.expiry) } }
        guard !spanned, book.layer(named: "event") == nil else { return [] }
        let candidates = expiries(design).filter(settlesAfter).prefix(1)
        let target = targetDollars(layerName: "event", design: design)
        let budget = availableBudget() - allowance.spentDollars
        guard let sized = try size(design: design, shortfall: target, budget: budget, headroom: try stressHeadroom(on: book, less: allowance),
                                   expiries: Array(candidates)) else { return [] }
        try take(sized.trade, into: &allowance)
        var signals = [SignalReading(name: "days-to-next-release", value: Double(daysAhead), threshold: Double(strategy.eventDaysAhead),
                                     note: "\(next.name) at \(EngineDate.formatInstant(next.instant))\(next.projections ? " (with projections)" : "")")]
        signals.append(SignalReading(name: "event-coverage-target", value: target, note: design.designScenario.name))
        signals += limitSignals(sized, budget: budget)
        let settles = MarketSnapshot.settlement(.vixOption, expiry: sized.trade.expiry).map(EngineDate.formatInstant) ?? sized.trade.expiry
        return [("event", LayerChange(kind: .addLayer, layer: "event", layerKind: .event, trades: [sized.trade]), signals,
                 "add an event layer spanning \(next.name): \(sized.trade.quantity) × VIX \(sized.trade.expiry) \(whole(sized.trade.strike)) calls @ \(sized.trade.price), settling \(settles)")]
    }

    /// A layer below its coverage target in its design scenario is added or resized at least cost —
    /// except a short-term layer bought into an oversold SPX sell-off (RSI(14) under
    /// `short-term-min-spx-rsi`): the spike is already priced in its calls.
    func coverage(_ allowance: inout Allowance) throws -> [Fired] {
        var fired: [Fired] = []
        let priority = ["short-term", "backstop"]
        let names = strategy.layers.keys.sorted { (priority.firstIndex(of: $0) ?? 99, $0) < (priority.firstIndex(of: $1) ?? 99, $1) }
        for name in names where name != "event" {
            let budget = availableBudget() - allowance.spentDollars
            let design = strategy.layers[name]!
            let target = targetDollars(layerName: name, design: design)
            let current = valuer.pnl(design.designScenario).byLayer[name] ?? 0
            guard current < target * 0.95 else { continue }
            var signals = [SignalReading(name: "\(name)-coverage", value: current, threshold: target,
                                         note: "layer P&L in its design scenario (\(design.designScenario.name)), dollars")]
            if name == "short-term", strategy.shortTermMinSPXRSI > 0, let closes = spxHistory?.upTo(asOfDay).closes,
               let rsi = Indicators.rsi(closes).last ?? nil {
                guard rsi >= strategy.shortTermMinSPXRSI else { continue }
                signals.append(SignalReading(name: "spx-rsi-14", value: rsi, threshold: strategy.shortTermMinSPXRSI,
                                             note: "SPX not oversold: a short-term layer is not bought into a sell-off"))
            }
            guard let sized = try size(design: design, shortfall: target - current, budget: budget, headroom: try stressHeadroom(on: book, less: allowance),
                                       expiries: expiries(design)) else { continue }
            try take(sized.trade, into: &allowance)
            let exists = book.layer(named: name) != nil
            signals += limitSignals(sized, budget: budget)
            let change = LayerChange(kind: exists ? .resizeLayer : .addLayer, layer: name, layerKind: HedgeLayer.Kind(rawValue: name), trades: [sized.trade])
            fired.append(("coverage", change, signals,
                          "\(exists ? "resize" : "add") \(name): buy \(sized.trade.quantity) × VIX \(sized.trade.expiry) \(whole(sized.trade.strike)) calls @ \(sized.trade.price) to lift coverage from \(dollars(current)) toward \(dollars(target))"))
        }
        return fired
    }
}
