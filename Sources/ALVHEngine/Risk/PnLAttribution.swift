import Foundation

/// A change in market's P&L explained by the book's Greeks in the ``RiskBasis``, per layer and in
/// total: delta Δ·dS, gamma ½Γ·dS², vega vega·dVIX′, theta θ·days, and the residual — the actual
/// full-revaluation P&L minus their sum, so the parts always add up to the actual P&L.
///
/// Delta and gamma are taken along the scenario model's joint path, which already moves VIX by
/// −`vixPointsPerSPXPercent` points per +1 % of SPX; vega therefore explains only the VIX move
/// beyond that response, dVIX′ = dVIX + (dS / S · 100) · `vixPointsPerSPXPercent` (the "VIX
/// surprise"). A scenario with no VIX given has no surprise and no vega term.
public struct Attribution: Sendable, Codable, Equatable {
    public struct Row: Sendable, Codable, Equatable {
        /// "condor", a layer name, or "total".
        public var name: String
        public var delta: Double
        public var gamma: Double
        public var vega: Double
        public var theta: Double
        /// Actual P&L minus delta + gamma + vega + theta.
        public var residual: Double
        /// Full-revaluation P&L.
        public var actual: Double

        /// delta + gamma + vega + theta.
        public var explained: Double { delta + gamma + vega + theta }
    }

    /// The scenario's name (or "SNAPSHOT → SNAPSHOT").
    public var scenario: String
    /// dS, SPX points.
    public var spxMovePoints: Double
    /// dVIX, VIX points.
    public var vixMovePoints: Double
    /// dVIX′: dVIX beyond the model path's response to dS — what the vega term explains.
    public var vixSurprisePoints: Double
    /// Calendar days that pass.
    public var days: Double
    /// One row per layer, condor first then the hedge layers in book order.
    public var layers: [Row]
    /// The layers' rows summed (its residual is the total actual minus the total explained).
    public var total: Row

    public func layer(_ name: String) -> Row? { layers.first { $0.name == name } }
}

extension BookValuer {
    /// Attribution of `scenario`'s P&L (``pnl(_:)``) to the Greeks of this market.
    public func attribution(to scenario: Scenario) -> Attribution {
        let result = pnl(scenario)
        let vixAfter = scenario.vixAfter(spot: market.vix.spot, model: model)
        return attribution(name: scenario.name, spxMovePoints: market.spx.spot * scenario.spxMovePercent / 100,
                           vixMovePoints: vixAfter - market.vix.spot, days: scenario.days, actual: result.byLayer)
    }

    /// Attribution of the same `book`'s P&L from this snapshot to `later` (full revaluation on
    /// each), explained by this snapshot's Greeks. Errors when `later` is before this snapshot or
    /// a VIX expiry lies beyond its futures curve.
    public func attribution(to later: MarketSnapshot, book: Book) throws -> Attribution {
        guard let from = market.asOfDate, let to = later.asOfDate, to >= from else {
            throw EngineError(.invalidSnapshot, "the later snapshot (\(later.asOf)) must not be before this one (\(market.asOf))", path: "asOf")
        }
        let after = try BookValuer(book: book, market: later, model: model)
        let before = values(under: nil), now = after.values(under: nil)
        var actual: [String: Double] = [:]
        for name in Set(before.keys).union(now.keys) { actual[name] = (now[name] ?? 0) - (before[name] ?? 0) }
        return attribution(name: "\(market.asOf) → \(later.asOf)", spxMovePoints: later.spx.spot - market.spx.spot,
                           vixMovePoints: later.vix.spot - market.vix.spot, days: to.timeIntervalSince(from) / 86_400, actual: actual)
    }

    /// The parts from the unrounded Greeks, each rounded to cents; the residual is the rounded
    /// actual minus the rounded parts (a whole number of cents), so every row adds up to the cent;
    /// the total row is the layers' rows summed.
    func attribution(name: String, spxMovePoints dS: Double, vixMovePoints dVIX: Double, days: Double, actual: [String: Double]) -> Attribution {
        let greeks = layerGreeks()
        let surprise = dVIX + dS / market.spx.spot * 100 * model.vixPointsPerSPXPercent
        func row(_ name: String, _ g: DollarGreeks, _ actual: Double) -> Attribution.Row {
            let delta = Money.cents(g.delta * dS), gamma = Money.cents(0.5 * g.gamma * dS * dS)
            let vega = Money.cents(g.vega * surprise), theta = Money.cents(g.theta * days)
            let actual = Money.cents(actual)
            return .init(name: name, delta: delta, gamma: gamma, vega: vega, theta: theta,
                         residual: Money.cents(actual - (delta + gamma + vega + theta)), actual: actual)
        }
        var names = layerNames
        for extra in actual.keys.sorted() where !names.contains(extra) { names.append(extra) }
        let rows = names.map { row($0, greeks[$0] ?? .zero, actual[$0] ?? 0) }
        func sum(_ part: KeyPath<Attribution.Row, Double>) -> Double { Money.cents(rows.reduce(0) { $0 + $1[keyPath: part] }) }
        let (delta, gamma, vega, theta, totalActual) = (sum(\.delta), sum(\.gamma), sum(\.vega), sum(\.theta), sum(\.actual))
        let total = Attribution.Row(name: "total", delta: delta, gamma: gamma, vega: vega, theta: theta,
                                    residual: Money.cents(totalActual - (delta + gamma + vega + theta)), actual: totalActual)
        return Attribution(scenario: name, spxMovePoints: dS, vixMovePoints: dVIX, vixSurprisePoints: surprise, days: days, layers: rows, total: total)
    }
}

/// One rung of the SPX ladder: SPX moves by a percentage and VIX by the response measured in the
/// shared history (``StressCalibration/vixLogResponse(spxMovePercent:horizonTradingDays:)``).
public struct LadderRung: Sendable, Codable, Equatable {
    public var spxMovePercent: Double
    /// VIX after the move: spot × exp(the fitted ln-VIX response to that SPX move over a month), capped
    /// as a named stress is.
    public var vixAfter: Double
    /// P&L in dollars, whole book.
    public var total: Double
    /// P&L in dollars by layer.
    public var byLayer: [String: Double]
}

extension BookValuer {
    /// SPX −30 % … +10 % in 5 % steps.
    public static let ladderMoves: [Double] = Array(stride(from: -30.0, through: 10.0, by: 5.0))

    /// The ladder's scenario for an SPX move: VIX by the ln response fitted on a month of the shared
    /// history (21 closes: VIX rises about 3.8 % per −1 % of SPX, falls about 3.0 % per +1 %) from the
    /// snapshot's own level — regime-relative, like the named stresses — applied at once.
    public static func ladderScenario(spxMovePercent move: Double) -> Scenario {
        Scenario(name: String(format: "spx %+.1f%%", move), spxMovePercent: move,
                 vixLogChange: StressCalibration.vixLogResponse(spxMovePercent: move, horizonTradingDays: 21), days: 0, horizonDays: 30)
    }

    /// The P&L ladder (``pnl(_:)``, rounded to cents): SPX −30 % … +10 % with VIX by the response
    /// measured in the history (``ladderScenario(spxMovePercent:)``); no time passes.
    public func ladder(spxMoves: [Double] = BookValuer.ladderMoves) -> [LadderRung] {
        spxMoves.map { move in
            let scenario = Self.ladderScenario(spxMovePercent: move)
            let result = pnl(scenario)
            return LadderRung(spxMovePercent: move, vixAfter: scenario.vixAfter(spot: market.vix.spot, model: model),
                              total: Money.cents(result.total), byLayer: result.byLayer.mapValues(Money.cents))
        }
    }
}
