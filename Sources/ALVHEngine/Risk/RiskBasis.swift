import Foundation

/// The one risk basis every Greek in a ``RiskReport`` is stated in, for every leg (the SPX iron
/// condor and the VIX call layers alike), so that layer Greeks add up to a meaningful book total:
///
/// - **delta**: $ per +1 SPX point *along the scenario model's joint path*: SPX moves by x and,
///   per +1 % of SPX, VIX moves by −`vixPointsPerSPXPercent` points — so SPX implied vols shift by
///   `spxVolPerVixPoint` per VIX point, each VIX future by β(T) per VIX point and VIX option vols
///   by `vixVolPerVixPoint`, exactly as a ``Scenario`` with no VIX given. Central difference,
///   ± ``spotStep`` of spot.
/// - **gamma**: $ per SPX point², the second difference along the same path (VIX layers included:
///   their model SPX-equivalent gamma).
/// - **vega**: $ per +1 VIX point with SPX fixed: SPX implied vols shift by `spxVolPerVixPoint`,
///   VIX futures by β(T) (and VIX option vols by `vixVolPerVixPoint`, as the model says). Central
///   difference, ± ``vixStep`` VIX points.
/// - **volOfVolVega**: $ per +1 vol point of the VIX options' own implied vol, everything else
///   fixed (analytic Black-76 vega; 0 for the condor).
/// - **theta**: $ per calendar day; **rho**: $ per +1 % rate (analytic, per leg's own model).
///
/// Step sizes. ``spotStep`` = 0.1 % of spot (≈ 6 SPX points, VIX ∓ 0.1 point) and ``vixStep`` =
/// 0.1 VIX point. The truncation error of a central difference is O(h²): on the shipped snapshots
/// a 0.5 % step put the condor's delta off by up to 0.5 $/pt (2 % of a near-neutral condor's
/// delta), a 0.1 % step by ≤ 0.03 $/pt and its gamma by < 0.02 % (a test checks against a 0.01 %
/// step). Smaller steps buy nothing at the report's rounding: the round-off of the second
/// difference, ≈ ε·|V| / (h·S)², is ~1e-11 $/pt², far below gamma's 4-decimal rounding, and the
/// pricer is smooth well below this step (0.01 % converges too). 0.1 % is also far from the
/// scenario model's floors (SPX vol 1 %, VIX option vol 20 %) for ordinary markets.
///
/// Everything is deterministic: the same legs and market give the same bits.
public enum RiskBasis {
    /// Relative SPX step of the path differences (0.1 % of spot).
    public static let spotStep = 0.001
    /// VIX step of the vega difference, in VIX points.
    public static let vixStep = 0.1
    /// Below these (one cent per SPX point; one unit of gamma's 4-decimal rounding) the condor's
    /// delta or gamma counts as zero and a layer's offset share is not defined.
    public static let negligibleDelta = 0.01
    public static let negligibleGamma = 0.0001

    /// One line stating the basis, for report headers.
    public static func description(model: ScenarioModel) -> String {
        let k = model.vixPointsPerSPXPercent
        return "basis: delta $/SPX pt and gamma $/SPX pt² along the model path (VIX \(Self.number(-k)) pt per +1 % SPX), every leg; "
            + "vega $/VIX pt (SPX vols \(Self.number(model.spxVolPerVixPoint)) vol pt per VIX pt, futures by β); "
            + "volvega $/VIX-option vol pt; theta $/day"
    }

    /// A signed coefficient: "+1", "-0.50".
    public static func number(_ v: Double) -> String {
        v == v.rounded() ? String(format: "%+.0f", v) : String(format: "%+.2f", v)
    }
}

extension BookValuer {
    /// The shock of a move of `fraction` of SPX spot along the model's joint path (no time passing).
    func pathShock(_ fraction: Double) -> Shock {
        let vixMove = -fraction * 100 * model.vixPointsPerSPXPercent
        return Shock(spxFactor: 1 + fraction, vixMove: vixMove, vixAfter: market.vix.spot + vixMove, days: 0)
    }

    /// The shock of a VIX move of `points` with SPX fixed (no time passing).
    func vixShock(_ points: Double) -> Shock {
        Shock(spxFactor: 1, vixMove: points, vixAfter: market.vix.spot + points, days: 0)
    }

    /// One leg's Greeks in the ``RiskBasis``, in dollars for the position, unrounded.
    func basisGreeks(_ leg: Leg, spotStep: Double = RiskBasis.spotStep, vixStep: Double = RiskBasis.vixStep) -> DollarGreeks {
        let now = value(leg, nil)
        let up = value(leg, pathShock(spotStep)).price
        let mid = value(leg, pathShock(0)).price
        let down = value(leg, pathShock(-spotStep)).price
        let dS = spotStep * market.spx.spot
        let vixUp = value(leg, vixShock(vixStep)).price
        let vixDown = value(leg, vixShock(-vixStep)).price
        return DollarGreeks(delta: (up - down) / (2 * dS),
                            gamma: (up - 2 * mid + down) / (dS * dS),
                            vega: (vixUp - vixDown) / (2 * vixStep),
                            theta: now.theta,
                            rho: now.rho,
                            volOfVolVega: leg.model == .black76 ? now.vega : 0)
    }

    /// The layer names in book order: "condor", then each hedge layer with positions.
    var layerNames: [String] {
        var names: [String] = []
        for leg in legs where !names.contains(leg.layer) { names.append(leg.layer) }
        return names
    }

    /// Greeks by layer in the ``RiskBasis``, unrounded (summed over the layer's legs in book order).
    func layerGreeks(spotStep: Double = RiskBasis.spotStep, vixStep: Double = RiskBasis.vixStep) -> [String: DollarGreeks] {
        var out: [String: DollarGreeks] = [:]
        for leg in legs { out[leg.layer, default: .zero] = out[leg.layer, default: .zero] + basisGreeks(leg, spotStep: spotStep, vixStep: vixStep) }
        return out
    }
}
