import Foundation

/// Greeks in dollars for a position, a layer or the book.
///
/// - delta: $ per +1 SPX point (for VIX layers: the SPX-equivalent delta under the scenario model);
/// - gamma: $ per SPX point² (condor only);
/// - vega: $ per +1 vol point — SPX implied vol for the condor; for VIX layers, +1 point of VIX
///   (futures moving by their β);
/// - theta: $ per calendar day; rho: $ per +1 % rate.
public struct DollarGreeks: Sendable, Codable, Equatable {
    public var delta: Double
    public var gamma: Double
    public var vega: Double
    public var theta: Double
    public var rho: Double

    public init(delta: Double = 0, gamma: Double = 0, vega: Double = 0, theta: Double = 0, rho: Double = 0) {
        self.delta = delta
        self.gamma = gamma
        self.vega = vega
        self.theta = theta
        self.rho = rho
    }

    public static let zero = DollarGreeks()

    static func + (a: DollarGreeks, b: DollarGreeks) -> DollarGreeks {
        DollarGreeks(delta: a.delta + b.delta, gamma: a.gamma + b.gamma, vega: a.vega + b.vega, theta: a.theta + b.theta, rho: a.rho + b.rho)
    }

    /// Rounded to cents (and gamma to 4 decimals) for stable, readable documents.
    var rounded: DollarGreeks {
        DollarGreeks(delta: Money.cents(delta), gamma: (gamma * 10_000).rounded() / 10_000, vega: Money.cents(vega),
                     theta: Money.cents(theta), rho: Money.cents(rho))
    }
}

/// The book's risk at one moment.
public struct RiskReport: Sendable, Codable, Equatable {
    public struct Layer: Sendable, Codable, Equatable {
        public var name: String
        /// Mark-to-model value in dollars (the condor is negative: a short structure).
        public var valueDollars: Double
        public var greeks: DollarGreeks
        /// Premium paid for the layer at entry, dollars.
        public var costDollars: Double
        /// Entry premium as a share of the condor's credit.
        public var shareOfCredit: Double
        /// Theta per day in dollars: the layer's cost of carry.
        public var carryPerDay: Double
    }

    public var asOf: String
    public var layers: [Layer]
    public var total: DollarGreeks
    /// Scenario name → total P&L in dollars.
    public var stressPnL: [String: Double]
    /// Scenario name → layer name → P&L in dollars.
    public var stressByLayer: [String: [String: Double]]
}

/// Dollar rounding.
enum Money {
    static func cents(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}

extension BookValuer {
    /// Greeks per layer and total, and the stress P&L for `scenarios`.
    public func report(book: Book, scenarios: [Scenario]) -> RiskReport {
        var greeks: [String: DollarGreeks] = [:]
        var values: [String: Double] = [:]
        for leg in legs {
            let v = value(leg, nil)
            values[leg.layer, default: 0] += v.price
            var g = DollarGreeks(delta: v.delta, gamma: v.gamma, vega: v.vega, theta: v.theta, rho: v.rho)
            if leg.model == .black76 {
                // Re-express in SPX terms: vega = $ per VIX point (through β); delta = SPX-equivalent.
                g.vega = v.delta * leg.beta
                g.gamma = 0
                g.delta = spxEquivalentDelta(leg)
            }
            greeks[leg.layer, default: .zero] = greeks[leg.layer, default: .zero] + g
        }
        let credit = book.condor.creditDollars
        var layers: [RiskReport.Layer] = []
        let names = ["condor"] + book.layers.map(\.name)
        for name in names {
            let cost = name == "condor" ? -credit : (book.layer(named: name)?.positions.reduce(0) { $0 + $1.entryPrice * VIXOption.multiplier * Double($1.quantity) } ?? 0)
            let g = greeks[name] ?? .zero
            layers.append(.init(name: name, valueDollars: Money.cents(values[name] ?? 0), greeks: g.rounded, costDollars: Money.cents(cost),
                                shareOfCredit: name == "condor" || credit == 0 ? 0 : (cost / credit * 10_000).rounded() / 10_000,
                                carryPerDay: Money.cents(g.theta)))
        }
        var total = DollarGreeks.zero
        for layer in layers { total = total + layer.greeks }
        var stress: [String: Double] = [:]
        var byLayer: [String: [String: Double]] = [:]
        for scenario in scenarios {
            let result = pnl(scenario)
            stress[scenario.name] = Money.cents(result.total)
            byLayer[scenario.name] = result.byLayer.mapValues(Money.cents)
        }
        return RiskReport(asOf: market.asOf, layers: layers, total: total.rounded, stressPnL: stress, stressByLayer: byLayer)
    }

    /// The VIX leg's P&L for SPX −1 % (VIX up by the model's points per %), as $ per SPX point.
    func spxEquivalentDelta(_ leg: Leg) -> Double {
        let down = Shock(spxFactor: 0.99, vixMove: model.vixPointsPerSPXPercent, vixAfter: market.vix.spot + model.vixPointsPerSPXPercent, days: 0)
        let change = value(leg, down).price - value(leg, nil).price
        return change / (-0.01 * market.spx.spot)
    }
}
