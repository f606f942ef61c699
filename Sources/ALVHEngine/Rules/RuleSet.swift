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
        let valuer = try BookValuer(book: book, market: market, model: strategy.scenarioModel)
        self.valuer = valuer
        namedStress = Engine.reportScenarios.map { valuer.pnl($0).byLayer }
    }

    /// The book's P&L by layer in each named stress (``Engine/reportScenarios``, same order), valued once:
    /// the trim rule and every sizing's stress headroom read it.
    let namedStress: [[String: Double]]

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

    /// One contract of a VIX option on this market, priced as the book's legs are.
    func oneContract(_ right: OptionRight = .call, expiry: String, strike: Double, entryPrice: Double) throws -> BookValuer.Leg {
        try BookValuer.vixLeg(layer: "candidate", right: right, expiry: expiry, strike: strike, quantity: 1, entryPrice: entryPrice,
                              market: market, model: strategy.scenarioModel)
    }

    /// The P&L in dollars of one contract bought at `price` (commission included) in `scenario`.
    func contractPnL(expiry: String, strike: Double, price: Double, scenario: Scenario) throws -> Double {
        valuer.value(try oneContract(expiry: expiry, strike: strike, entryPrice: price), valuer.shock(scenario)).price - contractCost(price)
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
        book.layers.reduce(0.0) { $0 + $1.entryPremiumDollars }
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
        /// Scenario name → stress P&L the run's buys add, in total and per layer.
        var stressUsed: [String: Double] = [:]
        var stressUsedByLayer: [String: [String: Double]] = [:]
        /// Why rules that had a reason to act did not.
        var held: [HeldRule] = []

        mutating func take(_ trade: Trade, layer: String, cost: Double, pnl: (Scenario) throws -> Double, scenarios: [Scenario]) rethrows {
            spentDollars += Double(trade.quantity) * cost
            for scenario in scenarios {
                let added = Double(trade.quantity) * max(0, try pnl(scenario))
                stressUsed[scenario.name, default: 0] += added
                stressUsedByLayer[layer, default: [:]][scenario.name, default: 0] += added
            }
        }
    }

    func take(_ trade: Trade, layer: String, into allowance: inout Allowance) throws {
        try allowance.take(trade, layer: layer, cost: contractCost(trade.price),
                           pnl: { try contractPnL(expiry: trade.expiry, strike: trade.strike, price: trade.price, scenario: $0) },
                           scenarios: stressCapDollars == nil ? [] : Engine.reportScenarios)
    }

    // MARK: - Stress cap

    /// The most the hedge layers may make in any named stress: a multiple of the condor's max loss
    /// (nil: no cap).
    var stressCapDollars: Double? {
        strategy.maxHedgeStressMultiple > 0 ? strategy.maxHedgeStressMultiple * book.condor.maxLossDollars : nil
    }

    /// A layer's share of the stress cap: the cap × its target-coverage-fraction over the sum of
    /// every layer design's — so that no layer crowds out the others (the shares add up to the cap).
    func stressShare(layer: String) -> Double? {
        guard let cap = stressCapDollars else { return nil }
        let total = strategy.layers.keys.sorted().reduce(0) { $0 + strategy.layers[$1]!.targetCoverageFraction }
        guard total > 0, let design = strategy.layers[layer] ?? book.layer(named: layer)?.kind.flatMap({ strategy.layers[$0.rawValue] }) else { return cap }
        return cap * design.targetCoverageFraction / total
    }

    /// One named stress's headroom for a layer: how much more the layer may make in it before it
    /// reaches its share of the cap, or the hedge as a whole reaches the cap.
    struct Room {
        var scenario: Scenario
        var room: Double
        /// The binding figures, for the reason a rule is held.
        var hedgeDollars: Double
        var capDollars: Double
    }

    /// Per named stress, what `layer` of the book `valuer` prices may still add (less what the run's
    /// earlier buys use).
    func stressHeadroom(on valuer: BookValuer, layer: String, less allowance: Allowance = Allowance()) -> [Room] {
        stressHeadroom(byLayer: Engine.reportScenarios.map { valuer.pnl($0).byLayer }, layer: layer, less: allowance)
    }

    /// The same from the named stresses' P&L by layer (``namedStress`` for the rules' own book).
    func stressHeadroom(byLayer stresses: [[String: Double]], layer: String, less allowance: Allowance = Allowance()) -> [Room] {
        guard let cap = stressCapDollars, let share = stressShare(layer: layer) else { return [] }
        return zip(Engine.reportScenarios, stresses).map { scenario, byLayer in
            let hedge = byLayer.filter { $0.key != "condor" }.sumInKeyOrder + allowance.stressUsed[scenario.name, default: 0]
            let mine = (byLayer[layer] ?? 0) + (allowance.stressUsedByLayer[layer]?[scenario.name] ?? 0)
            let total = cap - hedge, own = share - mine
            return own < total ? Room(scenario: scenario, room: own, hedgeDollars: mine, capDollars: share)
                               : Room(scenario: scenario, room: total, hedgeDollars: hedge, capDollars: cap)
        }
    }

    /// The most contracts of a candidate the stress cap allows, given the headroom. The candidate is
    /// judged as it will be when its layer is next rolled (`agedDays` to expiry, when sooner): a
    /// shorter VIX call takes more of a crash, so a layer that fits today still fits then.
    func contractsUnderCap(expiry: String, strike: Double, price: Double, headroom: [Room], agedDays: Double? = nil) throws -> (contracts: Int, binding: Room?) {
        var most = Trade.maxAbsQuantity
        var binding: Room?
        var leg = try oneContract(expiry: expiry, strike: strike, entryPrice: price)
        if let agedDays, agedDays / 365 < leg.years {
            leg.years = max(1.0 / 365, agedDays / 365)
            leg.beta = strategy.scenarioModel.beta(days: agedDays)
        }
        for room in headroom {
            let perContract = valuer.value(leg, valuer.shock(room.scenario)).price - contractCost(price)
            guard perContract > 0 else { continue }
            let allowed = room.room <= 0 ? 0 : Trade.contracts((room.room / perContract).rounded(.down))
            if allowed < most { most = allowed; binding = room }
        }
        return (most, binding)
    }

    // MARK: - Sizing

    struct Sized {
        var trade: Trade
        var pnlPerContract: Double
        var budgetLimited: Bool
        var capLimited: Bool
    }

    /// A sizing's outcome: a trade, or why none.
    enum Sizing {
        case sized(Sized)
        case held(HeldRule.Reason)
    }

    /// VIX expiries still trading within the design's day range.
    func expiries(_ design: Strategy.LayerDesign) -> [String] {
        market.vix.futures.map(\.expiry).filter { expiry in
            let days = market.days(to: expiry)
            return days >= design.minExpiryDays && days <= design.maxExpiryDays && tradable(expiry)
        }
    }

    /// The candidate (expiry × strike on the VIX strike grid, priced at least `min-limit-price`, in
    /// the money once the design scenario has moved its future) that covers the most of `shortfall` dollars in the design scenario within the budget and the
    /// layer's share of the stress cap, and among those that cover it all, the cheapest — premium
    /// at the ask plus commission.
    func size(design: Strategy.LayerDesign, layer: String, shortfall: Double, budget: Double, headroom makeHeadroom: () -> [Room], expiries: [String]) throws -> Sizing {
        // The stress headroom values the whole book in every named stress: only when a candidate is affordable.
        var computedHeadroom: [Room]?
        func headroom() -> [Room] {
            if let computedHeadroom { return computedHeadroom }
            let rooms = makeHeadroom()
            computedHeadroom = rooms
            return rooms
        }
        var best: (trade: Trade, covered: Double, cost: Double, pnl: Double, budgetLimited: Bool, capLimited: Bool)?
        var heldByBudget = false, heldByCap: Room?
        var sawCandidate = false
        let aged = design.rollBelowDays > 0 ? Double(design.rollBelowDays) : nil
        let shock = valuer.shock(design.designScenario)
        for expiry in expiries {
            let future = try market.vixFuture(expiry: expiry)
            // Where the design scenario takes this expiry's future: a hedge pays from the calls its
            // scenario puts in the money, not from a mark-up of their vol.
            let futureAfter = future + shock.vixMove * strategy.scenarioModel.futuresResponse(days: market.years(to: expiry) * 365, vixAfter: shock.vixAfter)
            for offset in design.strikeOffsets {
                let strike = max(1, (future + offset).rounded())
                guard strike < futureAfter else { continue }
                let price = try limit(expiry: expiry, strike: strike, buying: true)
                guard price >= strategy.minLimitPrice else { continue }
                let pnl = try contractPnL(expiry: expiry, strike: strike, price: price, scenario: design.designScenario)
                guard pnl > 0 else { continue }
                sawCandidate = true
                let needed = Trade.contracts((shortfall / pnl).rounded(.up))
                let perContract = contractCost(price)
                let affordable = Trade.contracts((max(0, budget) / perContract).rounded(.down))
                guard affordable > 0, needed > 0 else {
                    if affordable == 0 { heldByBudget = true }
                    continue
                }
                let cap = try contractsUnderCap(expiry: expiry, strike: strike, price: price, headroom: headroom(), agedDays: aged)
                let quantity = min(needed, affordable, cap.contracts)
                guard quantity > 0 else {
                    if heldByCap == nil { heldByCap = cap.binding }
                    continue
                }
                let covered = min(shortfall, Double(quantity) * pnl), cost = Double(quantity) * perContract
                if best == nil || covered > best!.covered + 1 || (abs(covered - best!.covered) <= 1 && cost < best!.cost) {
                    best = (Trade(expiry: expiry, strike: strike, quantity: quantity, price: price), covered, cost, pnl,
                            affordable < needed && affordable <= cap.contracts, cap.contracts < needed && cap.contracts < affordable)
                }
            }
        }
        if let best { return .sized(Sized(trade: best.trade, pnlPerContract: best.pnl, budgetLimited: best.budgetLimited, capLimited: best.capLimited)) }
        if expiries.isEmpty { return .held(.noExpiry("no VIX expiry still trading within \(design.minExpiryDays)–\(design.maxExpiryDays) days")) }
        if !sawCandidate { return .held(.noCandidate(minLimitPrice: strategy.minLimitPrice)) }
        if !heldByBudget, let room = heldByCap {
            return .held(.stressCap(scenario: room.scenario.name, hedgeDollars: Money.cents(room.hedgeDollars), capDollars: Money.cents(room.capDollars)))
        }
        return .held(.budgetSpent(availableDollars: Money.cents(max(0, budget))))
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

    /// Partial close of positions deep in the money after a spike, with the curve in backwardation —
    /// except in a layer being closed whole (`closing`): its sale takes the profit anyway.
    func takeProfit(closing: Set<String> = []) throws -> [Fired] {
        guard let curve = TermStructure(market) else { return [] }
        if strategy.takeProfitRequiresBackwardation && !curve.isBackwardation { return [] }
        var fired: [Fired] = []
        for layer in book.layers where !closing.contains(layer.name) {
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

    /// The P&L in dollars of one contract of a held `position` in `scenario`, against its value now.
    func positionPnL(_ position: Position, scenario: Scenario) throws -> Double {
        let leg = try oneContract(position.right, expiry: position.expiry, strike: position.strike, entryPrice: position.entryPrice)
        return valuer.value(leg, valuer.shock(scenario)).price - valuer.value(leg, nil).price
    }

    /// A hedge that makes more than the stress cap (by over `trimToleranceFraction`) in a named
    /// stress — the market moved, or a layer's calls came closer to expiry — is trimmed: each layer
    /// over its share sells its calls that make the most in that stress, enough to come back to its
    /// share.
    func trim() throws -> [Fired] {
        guard let cap = stressCapDollars else { return [] }
        var worst: (scenario: Scenario, byLayer: [String: Double], hedge: Double)?
        for (scenario, byLayer) in zip(Engine.reportScenarios, namedStress) {
            let hedge = byLayer.filter { $0.key != "condor" }.sumInKeyOrder
            if hedge > cap * (1 + strategy.trimToleranceFraction), worst == nil || hedge - cap > worst!.hedge - cap { worst = (scenario, byLayer, hedge) }
        }
        guard let worst else { return [] }
        var fired: [Fired] = []
        for layer in book.layers {
            guard let share = stressShare(layer: layer.name), let mine = worst.byLayer[layer.name], mine > share else { continue }
            var excess = mine - share
            var sells: [Trade] = []
            let ranked = try layer.positions.filter { tradable($0.expiry) }
                .map { ($0, try positionPnL($0, scenario: worst.scenario)) }
                .filter { $0.1 > 0 }
                .sorted { $0.1 > $1.1 }
            for (position, perContract) in ranked where excess > 0 {
                let quantity = min(position.quantity, Trade.contracts((excess / perContract).rounded(.up)))
                guard quantity > 0 else { continue }
                sells.append(Trade(expiry: position.expiry, strike: position.strike, quantity: -quantity,
                                   price: try limit(expiry: position.expiry, strike: position.strike, buying: false)))
                excess -= Double(quantity) * perContract
            }
            guard !sells.isEmpty else { continue }
            let all = sells.reduce(0) { $0 - $1.quantity } == layer.contracts
            let sold = sells.map { "\(-$0.quantity) × \($0.expiry) \(whole($0.strike))C @ \($0.price)" }.joined(separator: ", ")
            fired.append(("trim", LayerChange(kind: all ? .closeLayer : .resizeLayer, layer: layer.name, trades: sells),
                          [SignalReading(name: "hedge-stress-pnl", value: worst.hedge, threshold: cap, note: "\(worst.scenario.name): the hedge makes more than max-hedge-stress-multiple × the condor's max loss, dollars"),
                           SignalReading(name: "\(layer.name)-stress-pnl", value: mine, threshold: share, note: "the layer's share of the cap, dollars")],
                          "trim \(layer.name): sell \(sold) — the hedge makes \(dollars(worst.hedge)) in \(worst.scenario.name), over its \(dollars(cap)) cap"))
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
            var headroom = stressHeadroom(on: try BookValuer(book: afterSells, market: market, model: strategy.scenarioModel), layer: layer.name, less: allowance)
            var buys: [Trade] = []
            var limited = Set<RollLimit>()
            for sale in sells {
                var strike = max(1, (sale.strike - oldFuture + newFuture).rounded())
                if backwardation { strike = max(strike, (newFuture + strategy.rollOTMPoints).rounded(.up)) }
                let price = try limit(expiry: target, strike: strike, buying: true)
                let affordable = Trade.contracts((budget / contractCost(price)).rounded(.down))
                let underCap = try contractsUnderCap(expiry: target, strike: strike, price: price, headroom: headroom,
                                                     agedDays: design.rollBelowDays > 0 ? Double(design.rollBelowDays) : nil).contracts
                let quantity = min(-sale.quantity, affordable, underCap)
                if quantity < -sale.quantity { limited.insert(affordable <= underCap ? .budget : .stressCap) }
                guard quantity > 0, price >= strategy.minLimitPrice else { continue }
                let buy = Trade(expiry: target, strike: strike, quantity: quantity, price: price)
                buys.append(buy)
                try take(buy, layer: layer.name, into: &allowance)
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
                signals.append(SignalReading(name: limited.contains(.budget) ? "budget-limited" : "stress-cap-limited",
                                             value: limited.contains(.budget) ? availableBudget(after: sells) : (stressCapDollars ?? 0),
                                             note: "the roll buys fewer calls than it sells (\(RollLimit.describe(limited, separator: ", ")))"))
            }
            if buys.isEmpty {
                fired.append(("roll", LayerChange(kind: .closeLayer, layer: layer.name, trades: sells), signals,
                              "close \(layer.name) \(nearest) instead of rolling: \(limited.isEmpty ? "no later call to buy" : "the \(RollLimit.describe(limited, separator: " and ")) leaves nothing to buy")"))
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
        let sizing = try size(design: design, layer: "event", shortfall: target, budget: budget,
                              headroom: { stressHeadroom(byLayer: namedStress, layer: "event", less: allowance) }, expiries: Array(candidates))
        guard case .sized(let sized) = sizing else {
            if case .held(var reason) = sizing {
                if candidates.isEmpty { reason = .noExpiry("no VIX expiry in \(design.minExpiryDays)–\(design.maxExpiryDays) days settles after \(next.name) at \(EngineDate.formatInstant(next.instant))") }
                allowance.held.append(HeldRule(rule: "event", layer: "event", reason: reason))
            }
            return []
        }
        try take(sized.trade, layer: "event", into: &allowance)
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
                guard rsi >= strategy.shortTermMinSPXRSI else {
                    allowance.held.append(HeldRule(rule: "coverage", layer: name, reason: .oversoldSPX(rsi: (rsi * 100).rounded() / 100, threshold: strategy.shortTermMinSPXRSI)))
                    continue
                }
                signals.append(SignalReading(name: "spx-rsi-14", value: rsi, threshold: strategy.shortTermMinSPXRSI,
                                             note: "SPX not oversold: a short-term layer is not bought into a sell-off"))
            }
            let sizing = try size(design: design, layer: name, shortfall: target - current, budget: budget,
                                  headroom: { stressHeadroom(byLayer: namedStress, layer: name, less: allowance) }, expiries: expiries(design))
            guard case .sized(let sized) = sizing else {
                if case .held(let reason) = sizing { allowance.held.append(HeldRule(rule: "coverage", layer: name, reason: reason)) }
                continue
            }
            try take(sized.trade, layer: name, into: &allowance)
            let exists = book.layer(named: name) != nil
            signals += limitSignals(sized, budget: budget)
            let change = LayerChange(kind: exists ? .resizeLayer : .addLayer, layer: name, layerKind: HedgeLayer.Kind(rawValue: name), trades: [sized.trade])
            fired.append(("coverage", change, signals,
                          "\(exists ? "resize" : "add") \(name): buy \(sized.trade.quantity) × VIX \(sized.trade.expiry) \(whole(sized.trade.strike)) calls @ \(sized.trade.price) to lift coverage from \(dollars(current)) toward \(dollars(target))"))
        }
        return fired
    }
}

/// What held a roll's purchases below the calls it sells (typed: the signal's name is chosen on it).
enum RollLimit: String, Comparable {
    case budget = "budget"
    case stressCap = "stress cap"
    static func < (a: RollLimit, b: RollLimit) -> Bool { a.rawValue < b.rawValue }
    /// "budget", "stress cap", or both in that order.
    static func describe(_ limits: Set<RollLimit>, separator: String) -> String {
        limits.sorted().map(\.rawValue).joined(separator: separator)
    }
}
