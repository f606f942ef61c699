import Foundation

/// How a joint SPX / VIX shock moves every input the book is priced from.
///
/// - **SPX**: spot moves by `spxMovePercent`. Implied vols shift by `spxVolPerVixPoint` vol points
///   per VIX point of the VIX move, scaled down with tenor: × min(1, √(`spxVolTenorDays` / T)) for an
///   option T days from expiry (a 30-day vol moves with VIX, a 6-month vol about half as much).
///   The smile either stays put in strike (`sticky-strike`, the default) or moves with spot
///   (`sticky-moneyness`: the vol at K after the move is the old smile's vol at K ÷ (1 + move)).
/// - **VIX**: spot goes to the scenario's VIX (``Scenario/vixAfter(spot:model:)``); a future T days
///   from expiry moves by ΔVIX × β(T, VIX after) — in ordinary moves β = exp(−T / `termBetaDays`),
///   in the crash state (VIX after ≥ `crashStateVIX`) the persistence measured in the shared VIX
///   history when VIX was above 45 (``StressCalibration``), blended linearly from `calmStateVIX`.
/// - **VIX options**: sticky strike; implied vols rise by `vixVolPerVixPoint` per VIX point (and
///   fall as VIX falls), floored at `minimumVIXOptionVol`. A long VIX call therefore never loses in
///   an instantaneous shock in which VIX rises: its future and its vol both go up.
/// - Time passes by the scenario's `days`; an option past expiry pays its intrinsic value (VIX
///   options settle on the scenario's VIX).
/// - When a scenario gives no VIX, VIX moves by `vixPointsPerSPXPercent` points per −1 % of SPX.
public struct ScenarioModel: Sendable, Codable, Equatable {
    /// How the SPX smile moves with spot.
    public enum SmileDynamics: String, Sendable, Codable, Equatable {
        case stickyStrike = "sticky-strike"
        case stickyMoneyness = "sticky-moneyness"
    }

    /// Days: ordinary-state decay of the futures' response with tenor.
    public var termBetaDays: Double
    /// SPX vol points per VIX point, for a `spxVolTenorDays` option.
    public var spxVolPerVixPoint: Double
    /// Days: the tenor whose SPX vol moves one-for-one with `spxVolPerVixPoint`.
    public var spxVolTenorDays: Double
    /// VIX option vol (fraction) per VIX point.
    public var vixVolPerVixPoint: Double
    public var minimumVIXOptionVol: Double
    /// VIX points per −1 % of SPX, when a scenario gives no VIX.
    public var vixPointsPerSPXPercent: Double
    public var spxSmile: SmileDynamics
    /// VIX levels: below `calmStateVIX` the futures respond as in ordinary moves, from `crashStateVIX`
    /// on as in the crash state, linearly between.
    public var calmStateVIX: Double
    public var crashStateVIX: Double

    public init(termBetaDays: Double = 120, spxVolPerVixPoint: Double = 1.0, spxVolTenorDays: Double = 30, vixVolPerVixPoint: Double = 0.01,
                minimumVIXOptionVol: Double = 0.2, vixPointsPerSPXPercent: Double = 1.0, spxSmile: SmileDynamics = .stickyStrike,
                calmStateVIX: Double = 30, crashStateVIX: Double = 45) {
        self.termBetaDays = termBetaDays
        self.spxVolPerVixPoint = spxVolPerVixPoint
        self.spxVolTenorDays = spxVolTenorDays
        self.vixVolPerVixPoint = vixVolPerVixPoint
        self.minimumVIXOptionVol = minimumVIXOptionVol
        self.vixPointsPerSPXPercent = vixPointsPerSPXPercent
        self.spxSmile = spxSmile
        self.calmStateVIX = calmStateVIX
        self.crashStateVIX = crashStateVIX
    }

    public static let standard = ScenarioModel()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case termBetaDays, spxVolPerVixPoint, spxVolTenorDays, vixVolPerVixPoint, minimumVIXOptionVol, vixPointsPerSPXPercent, spxSmile
        case calmStateVIX, crashStateVIX
    }

    /// Every field optional: a strategy file names only what it changes.
    public init(from decoder: any Decoder) throws {
        try EngineFiles.refuseUnknownFields(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ScenarioModel.standard
        termBetaDays = try c.decodeIfPresent(Double.self, forKey: .termBetaDays) ?? d.termBetaDays
        spxVolPerVixPoint = try c.decodeIfPresent(Double.self, forKey: .spxVolPerVixPoint) ?? d.spxVolPerVixPoint
        spxVolTenorDays = try c.decodeIfPresent(Double.self, forKey: .spxVolTenorDays) ?? d.spxVolTenorDays
        vixVolPerVixPoint = try c.decodeIfPresent(Double.self, forKey: .vixVolPerVixPoint) ?? d.vixVolPerVixPoint
        minimumVIXOptionVol = try c.decodeIfPresent(Double.self, forKey: .minimumVIXOptionVol) ?? d.minimumVIXOptionVol
        vixPointsPerSPXPercent = try c.decodeIfPresent(Double.self, forKey: .vixPointsPerSPXPercent) ?? d.vixPointsPerSPXPercent
        spxSmile = try c.decodeIfPresent(SmileDynamics.self, forKey: .spxSmile) ?? d.spxSmile
        calmStateVIX = try c.decodeIfPresent(Double.self, forKey: .calmStateVIX) ?? d.calmStateVIX
        crashStateVIX = try c.decodeIfPresent(Double.self, forKey: .crashStateVIX) ?? d.crashStateVIX
    }

    /// β of a future `days` from expiry in ordinary moves.
    public func beta(days: Double) -> Double { exp(-max(0, days) / termBetaDays) }

    /// The share of a VIX move that a future `days` from expiry takes, with VIX at `vixAfter` after
    /// the move: ordinary β below `calmStateVIX`, the crash-state persistence from `crashStateVIX` on.
    public func futuresResponse(days: Double, vixAfter: Double) -> Double {
        futuresResponse(days: days, vixAfter: vixAfter, ordinary: beta(days: days))
    }

    /// The same, with the ordinary β already computed (a prepared leg carries it).
    func futuresResponse(days: Double, vixAfter: Double, ordinary: Double) -> Double {
        let weight = min(1, max(0, (vixAfter - calmStateVIX) / max(1e-9, crashStateVIX - calmStateVIX)))
        guard weight > 0 else { return ordinary }
        return (1 - weight) * ordinary + weight * StressCalibration.persistence(days: days, vixAfterShock: StressCalibration.crashThreshold + 1)
    }

    /// The share of the 30-day SPX vol response an SPX option `days` from expiry takes.
    public func spxVolTenorFactor(days: Double) -> Double {
        min(1, (spxVolTenorDays / max(1, days)).squareRoot())
    }

    func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> EngineError { EngineError(.invalidStrategy, reason, path: "\(path).\(field)") }
        guard termBetaDays.isFinite, termBetaDays > 0 else { throw fail("termBetaDays", "must be > 0 days") }
        guard spxVolPerVixPoint.isFinite, (0...5).contains(spxVolPerVixPoint) else { throw fail("spxVolPerVixPoint", "must be between 0 and 5 vol points per VIX point") }
        guard spxVolTenorDays.isFinite, spxVolTenorDays > 0 else { throw fail("spxVolTenorDays", "must be > 0 days") }
        guard vixVolPerVixPoint.isFinite, (0...0.2).contains(vixVolPerVixPoint) else { throw fail("vixVolPerVixPoint", "must be between 0 and 0.2 (vol per VIX point)") }
        guard minimumVIXOptionVol.isFinite, minimumVIXOptionVol > 0, minimumVIXOptionVol < 5 else { throw fail("minimumVIXOptionVol", "must be in (0, 5)") }
        guard vixPointsPerSPXPercent.isFinite, (0...10).contains(vixPointsPerSPXPercent) else { throw fail("vixPointsPerSPXPercent", "must be between 0 and 10 VIX points per SPX percent") }
        guard calmStateVIX.isFinite, crashStateVIX.isFinite, calmStateVIX > 0, crashStateVIX > calmStateVIX else {
            throw fail("crashStateVIX", "must be above calmStateVIX > 0 (VIX levels)")
        }
    }
}

/// One joint shock.
public struct Scenario: Sendable, Codable, Equatable {
    public var name: String
    /// SPX move in percent (−12 = down 12 %).
    public var spxMovePercent: Double
    /// VIX spot level after the shock (an absolute level: grids and custom scenarios).
    public var vixLevel: Double?
    /// VIX move in points.
    public var vixShockPoints: Double?
    /// VIX move as ln(VIX after / VIX now), from the snapshot's own level — how the named
    /// historical stresses move VIX; capped at the history's extremes (``StressCalibration``).
    public var vixLogChange: Double?
    /// Calendar days that pass.
    public var days: Double
    /// The calendar days the episode took, for the caps on its VIX move (nil: `days`).
    public var horizonDays: Double?
    /// A stylised episode beyond the shared history (Oct 1987): its VIX move is capped only at the
    /// record close, not at the history's largest rise over its horizon.
    public var hypothetical: Bool?
    /// Where the numbers come from.
    public var source: String?

    public init(name: String, spxMovePercent: Double, vixLevel: Double? = nil, vixShockPoints: Double? = nil, vixLogChange: Double? = nil,
                days: Double = 0, horizonDays: Double? = nil, hypothetical: Bool? = nil, source: String? = nil) {
        self.hypothetical = hypothetical
        self.name = name
        self.spxMovePercent = spxMovePercent
        self.vixLevel = vixLevel
        self.vixShockPoints = vixShockPoints
        self.vixLogChange = vixLogChange
        self.days = days
        self.horizonDays = horizonDays
        self.source = source
    }

    /// VIX after the shock, from spot `vix`: the level; else the log change from `vix`, capped at
    /// the largest rise in the history over the horizon (in log and in points; not for a
    /// hypothetical episode) and at the record close (never below `vix` for a rise), a fall at the
    /// record low close; else `vix` + points; else the model's response to the
    /// SPX move. At least 1.
    public func vixAfter(spot vix: Double, model: ScenarioModel) -> Double {
        if let vixLevel { return vixLevel }
        if let vixLogChange {
            let horizon = horizonDays ?? days
            var after = vix * exp(vixLogChange)
            if vixLogChange > 0 {
                after = min(after, max(vix, StressCalibration.maxVIXClose.value))
                if hypothetical != true {
                    after = min(after, vix * exp(StressCalibration.maxLogRise(days: horizon)), vix + StressCalibration.maxPointsRise(days: horizon))
                }
            } else {
                after = max(after, min(vix, StressCalibration.minVIXClose.value))
            }
            return max(1, after)
        }
        if let vixShockPoints { return max(1, vix + vixShockPoints) }
        return max(1, vix - spxMovePercent * model.vixPointsPerSPXPercent)
    }
}

/// The named historical stresses every risk report carries: each episode of ``StressEpisode/all``
/// applied from the snapshot's own levels as an instantaneous shock — SPX by the episode's
/// percentage move, VIX by its log change (capped at the history's extremes over the episode's
/// length), the futures by the crash-state response when VIX ends high.
public enum HistoricalStress {
    public static var episodes: [StressEpisode] { StressEpisode.all }

    /// Built once: every rule run and risk report reads them.
    public static let scenarios: [Scenario] = {
        StressEpisode.all.map { e in
            Scenario(name: e.name, spxMovePercent: e.spxMovePercent, vixLogChange: e.vixLogChange, days: 0, horizonDays: e.days,
                     hypothetical: e.hypothetical ? true : nil,
                     source: "\(e.hypothetical ? "hypothetical; " : "")S&P 500 \(e.from) \(e.spxFrom) → \(e.to) \(e.spxTo); VIX \(e.vixFrom) → \(e.vixTo)")
        }
    }()
}
