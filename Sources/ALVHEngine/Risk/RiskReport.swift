import Foundation

/// Greeks in dollars for a position, a layer or the book, all in the one ``RiskBasis``:
///
/// - delta: $ per +1 SPX point along the scenario model's joint path (VIX −`vixPointsPerSPXPercent`
///   points per +1 % SPX), every leg — condor and VIX layers alike;
/// - gamma: $ per SPX point², second difference along the same path, every leg;
/// - vega: $ per +1 VIX point, SPX fixed (SPX vols by `spxVolPerVixPoint`, VIX futures by β);
/// - volOfVolVega: $ per +1 vol point of the VIX options' implied vol (0 for the condor; engine
///   only — the signed proposal carries the other five);
/// - theta: $ per calendar day; rho: $ per +1 % rate.
public struct DollarGreeks: Sendable, Codable, Equatable {
    public var delta: Double
    public var gamma: Double
    public var vega: Double
    public var theta: Double
    public var rho: Double
    public var volOfVolVega: Double

    public init(delta: Double = 0, gamma: Double = 0, vega: Double = 0, theta: Double = 0, rho: Double = 0, volOfVolVega: Double = 0) {
        self.delta = delta
        self.gamma = gamma
        self.vega = vega
        self.theta = theta
        self.rho = rho
        self.volOfVolVega = volOfVolVega
    }

    public static let zero = DollarGreeks()

    static func + (a: DollarGreeks, b: DollarGreeks) -> DollarGreeks {
        DollarGreeks(delta: a.delta + b.delta, gamma: a.gamma + b.gamma, vega: a.vega + b.vega, theta: a.theta + b.theta, rho: a.rho + b.rho,
                     volOfVolVega: a.volOfVolVega + b.volOfVolVega)
    }

    /// Rounded to cents (and gamma to 4 decimals) for stable, readable documents.
    var rounded: DollarGreeks {
        DollarGreeks(delta: Money.cents(delta), gamma: (gamma * 10_000).rounded() / 10_000, vega: Money.cents(vega),
                     theta: Money.cents(theta), rho: Money.cents(rho), volOfVolVega: Money.cents(volOfVolVega))
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
    /// The ``RiskBasis`` the Greeks are stated in, in one line.
    public var basis: String
    public var layers: [Layer]
    public var total: DollarGreeks
    /// Scenario name → total P&L in dollars.
    public var stressPnL: [String: Double]
    /// Scenario name → layer name → P&L in dollars.
    public var stressByLayer: [String: [String: Double]]
    /// Each hedge layer's Greeks and its share of the condor's delta and gamma it offsets.
    public var contributions: [LayerContribution]
}

/// Dollar rounding.
enum Money {
    static func cents(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}

extension BookValuer {
    /// Greeks per layer and total, and the stress P&L for `scenarios`.
    public func report(book: Book, scenarios: [Scenario]) -> RiskReport {
        let greeks = layerGreeks()
        var values: [String: Double] = [:]
        for leg in legs { values[leg.layer, default: 0] += value(leg, nil).price }
        let credit = book.condor.creditDollars
        var layers: [RiskReport.Layer] = []
        let names = ["condor"] + book.layers.map(\.name)
        for name in names {
            let cost = name == "condor" ? -credit : (book.layer(named: name)?.entryPremiumDollars ?? 0)
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
        return RiskReport(asOf: market.asOf, basis: RiskBasis.description(model: model), layers: layers, total: total.rounded, stressPnL: stress,
                          stressByLayer: byLayer, contributions: LayerContribution.table(layers))
    }
}

extension Dictionary where Key == String, Value == Double {
    /// The values' sum in key order: a dictionary's own order changes from run to run, and a sum of
    /// doubles in another order can differ in its last bit — enough to flip a threshold or a byte.
    public var sumInKeyOrder: Double { keys.sorted().reduce(0) { $0 + self[$1]! } }
}
