import Foundation

/// Prices a book's legs from a snapshot, now and under scenarios. Legs are prepared once
/// (time to expiry, vol, forward, β), so a 101 × 101 stress grid costs only the closed forms.
public struct BookValuer: Sendable {
    /// One option position, prepared.
    struct Leg: Sendable {
        var layer: String          // "condor" or the layer name
        var model: PricingModel
        var right: OptionRight
        var strike: Double
        var quantity: Double       // signed contracts
        var multiplier: Double
        var years: Double
        var vol: Double
        var underlying: Double     // SPX spot or the VIX future
        var beta: Double           // VIX futures' response to an ordinary VIX move
        var entryPrice: Double
        var expiry: String = ""
        var spxVolResponse: Double = 1   // share of the 30-day SPX vol response (falls with tenor)

        func spec(underlying: Double, years: Double, vol: Double, rate: Double, dividend: Double) -> OptionSpec {
            OptionSpec(model: model, right: right, underlying: underlying, strike: strike, years: years, rate: rate, dividend: dividend, vol: vol)
        }
    }

    public let market: MarketSnapshot
    public let model: ScenarioModel
    let legs: [Leg]
    let rate: Double
    let dividend: Double

    /// Prepares `book`'s legs; errors when a VIX expiry lies beyond the futures curve.
    public init(book: Book, market: MarketSnapshot, model: ScenarioModel = .standard) throws {
        self.market = market
        self.model = model
        rate = market.spx.rate
        dividend = market.spx.dividendYield
        var legs: [Leg] = []
        let c = book.condor
        let t = market.spxYears(to: c.expiry)
        for (right, strike, quantity) in c.legs {
            legs.append(Leg(layer: "condor", model: .bsm, right: right, strike: strike, quantity: Double(quantity), multiplier: IronCondor.multiplier,
                            years: t, vol: market.spxVol(expiry: c.expiry, strike: strike), underlying: market.spx.spot, beta: 0,
                            entryPrice: 0, expiry: c.expiry, spxVolResponse: model.spxVolTenorFactor(days: t * 365)))
        }
        for layer in book.layers {
            for position in layer.positions {
                legs.append(try Self.vixLeg(layer: layer.name, right: position.right, expiry: position.expiry, strike: position.strike,
                                            quantity: position.quantity, entryPrice: position.entryPrice, market: market, model: model))
            }
        }
        self.legs = legs
    }

    static func vixLeg(layer: String, right: OptionRight, expiry: String, strike: Double, quantity: Int, entryPrice: Double,
                       market: MarketSnapshot, model: ScenarioModel) throws -> Leg {
        let years = market.years(to: expiry)
        return Leg(layer: layer, model: .black76, right: right, strike: strike, quantity: Double(quantity), multiplier: VIXOption.multiplier,
                   years: years, vol: market.vixOptionVol(expiry: expiry, strike: strike), underlying: try market.vixFuture(expiry: expiry),
                   beta: model.beta(days: years * 365), entryPrice: entryPrice, expiry: expiry)
    }

    // MARK: - Valuation

    /// The value and Greeks of one leg under `scenario` (nil: now), in dollars for the position.
    func value(_ leg: Leg, _ shock: Shock?) -> OptionValuation {
        var underlying = leg.underlying, years = leg.years, vol = leg.vol
        if let shock {
            years -= shock.days / 365
            switch leg.model {
            case .bsm:
                underlying *= shock.spxFactor
                if model.spxSmile == .stickyMoneyness, shock.spxFactor != 1 {
                    vol = market.spxVol(expiry: leg.expiry, strike: leg.strike / shock.spxFactor)
                }
                vol = max(0.01, vol + shock.vixMove * model.spxVolPerVixPoint * leg.spxVolResponse / 100)
            case .black76:
                let beta = model.futuresResponse(days: leg.years * 365, vixAfter: shock.vixAfter, ordinary: leg.beta)
                underlying = max(0.5, underlying + shock.vixMove * beta)
                vol = max(model.minimumVIXOptionVol, vol + shock.vixMove * model.vixVolPerVixPoint)
            }
            if years <= 1e-9 {
                let settle = leg.model == .black76 ? shock.vixAfter : underlying
                let intrinsic = leg.right == .call ? max(0, settle - leg.strike) : max(0, leg.strike - settle)
                return OptionValuation(price: intrinsic * leg.multiplier * leg.quantity, delta: 0, gamma: 0, vega: 0, theta: 0, rho: 0)
            }
        } else if years <= 1e-9 {
            let intrinsic = leg.right == .call ? max(0, underlying - leg.strike) : max(0, leg.strike - underlying)
            return OptionValuation(price: intrinsic * leg.multiplier * leg.quantity, delta: 0, gamma: 0, vega: 0, theta: 0, rho: 0)
        }
        return Pricer.valueUnchecked(leg.spec(underlying: underlying, years: years, vol: vol, rate: rate, dividend: dividend))
            .scaled(by: leg.multiplier * leg.quantity)
    }

    /// A scenario resolved against this market.
    struct Shock: Sendable {
        var spxFactor: Double
        var vixMove: Double
        var vixAfter: Double
        var days: Double
    }

    func shock(_ scenario: Scenario) -> Shock {
        let vixAfter = scenario.vixAfter(spot: market.vix.spot, model: model)
        return Shock(spxFactor: 1 + scenario.spxMovePercent / 100, vixMove: vixAfter - market.vix.spot, vixAfter: vixAfter, days: scenario.days)
    }

    /// Book value in dollars by layer ("condor" and each layer name) under `scenario` (nil: now).
    public func values(under scenario: Scenario?) -> [String: Double] {
        let s = scenario.map(shock)
        var out: [String: Double] = [:]
        for leg in legs { out[leg.layer, default: 0] += value(leg, s).price }
        return out
    }

    /// P&L in dollars by layer and in total for `scenario`, against now.
    public func pnl(_ scenario: Scenario) -> (byLayer: [String: Double], total: Double) {
        let s = shock(scenario)
        var out: [String: Double] = [:]
        var total = 0.0
        for leg in legs {
            let change = value(leg, s).price - value(leg, nil).price
            out[leg.layer, default: 0] += change
            total += change
        }
        return (out, total)
    }

    /// Total P&L for a grid of SPX moves (percent) × VIX levels: `result[i][j]` for spxMoves[i], vixLevels[j].
    public func grid(spxMoves: [Double], vixLevels: [Double], days: Double = 0) -> [[Double]] {
        let base = legs.reduce(0) { $0 + value($1, nil).price }
        var result = [[Double]](repeating: [Double](repeating: 0, count: vixLevels.count), count: spxMoves.count)
        for (i, move) in spxMoves.enumerated() {
            for (j, level) in vixLevels.enumerated() {
                let s = Shock(spxFactor: 1 + move / 100, vixMove: level - market.vix.spot, vixAfter: level, days: days)
                var total = 0.0
                for leg in legs { total += value(leg, s).price }
                result[i][j] = total - base
            }
        }
        return result
    }
}

/// VIX option and future contract terms.
public enum VIXOption {
    /// VIX options: $100 per VIX point.
    public static let multiplier = 100.0
    /// VIX futures: $1,000 per VIX point.
    public static let futuresMultiplier = 1000.0
}
