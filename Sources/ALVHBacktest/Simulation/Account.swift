import Foundation
import ALVHEngine

/// One strategy's account through a backtest: cash, the condor, the VIX call layers (or S&P 500 units),
/// and every dollar attributed to where it came from.
struct Account {
    let plan: StrategyPlan
    var cash: Double
    var condor: IronCondor?
    /// The hedge layers, as the engine sees them (the condor field is the open condor).
    var layers: [HedgeLayer] = []
    var realizedHedgeDollars = 0.0
    /// S&P 500 units held (the `sp500` holding), dividends reinvested.
    var spUnits = 0.0
    /// Cumulative cash flows per source: "condor", "interest", "sp500", and each layer's name.
    var flows: [String: Double] = [:]
    var counters = Counters()
    var trades: [TradeRecord] = []

    struct Counters {
        var condorsSold = 0
        var creditDollars = 0.0
        var hedgeBoughtDollars = 0.0
        var hedgeSoldDollars = 0.0
        var hedgeSettledDollars = 0.0
        var proposalsApplied = 0
        var proposalsRefused = 0
        var proposalsByRule: [String: Int] = [:]
        var heldByReason: [String: Int] = [:]
    }

    init(plan: StrategyPlan, equity: Double) {
        self.plan = plan
        cash = equity
    }

    mutating func flow(_ source: String, _ dollars: Double) {
        cash += dollars
        flows[source, default: 0] += dollars
    }

    /// The book the engine sees (nil before the first condor).
    var book: Book? {
        condor.map { Book(condor: $0, layers: layers, realizedHedgeDollars: realizedHedgeDollars) }
    }

    /// The mark of each position at the close, dollars by source (the condor negative when it is a liability).
    func marks(market: MarketSnapshot, spxClose: Double) -> [String: Double] {
        var out: [String: Double] = [:]
        if let condor {
            var value = 0.0
            for (right, strike, quantity) in condor.legs {
                value += Double(quantity) * CondorRule.mid(right, strike: strike, expiry: condor.expiry, market: market) * IronCondor.multiplier
            }
            out["condor"] = value
        }
        for layer in layers {
            var value = 0.0
            for p in layer.positions {
                let mid = (try? Engine.vixMid(market: market, right: p.right, expiry: p.expiry, strike: p.strike)) ?? 0
                value += Double(p.quantity) * mid * VIXOption.multiplier
            }
            out[layer.name, default: 0] += value
        }
        if spUnits != 0 { out["sp500"] = spUnits * spxClose }
        return out
    }

    /// Cash plus every mark.
    func equity(marks: [String: Double]) -> Double { cash + marks.sumInKeyOrder }

    /// Each source's P&L so far: its cash flows plus its mark.
    func pnl(marks: [String: Double]) -> [String: Double] {
        var out = flows
        for (k, v) in marks { out[k, default: 0] += v }
        return out
    }
}
