import Foundation
import ALVHEngine

/// How a backtest prices what the daily closes do not show: the SPX smile, the VIX futures curve,
/// VIX option vols, rates and dividends, and fills. Every parameter is documented with its fit or
/// source in docs/backtest.md; nothing here looks past the day it prices (``ProxyEstimates``).
///
/// - **SPX smile**: the 30-day at-the-money vol is VIX ÷ `varianceSwapRatio`, where the ratio makes the
///   smile's variance-swap level equal VIX²; the vol at strike K, T years out, is
///   ATM × (1 + `spxSkewSlope`·z + `spxSkewCurvature`·z²) with z = ln(K/F) ÷ (ATM·√T), clamped to
///   [`spxSmileFloor`, `spxSmileCap`] × ATM. Flat in tenor.
/// - **VIX futures**: F(T) = m + (VIX − m) × the engine's futures response at T days
///   (``ScenarioModel/futuresResponse(days:vixAfter:)``: exp(−T/`termBetaDays`) in ordinary markets,
///   the crash-state persistence measured in the shared history above VIX 45), m = the mean of
///   every VIX close up to the day.
/// - **VIX option vols**: the realised vol of daily log changes of VIX (the root mean square of the
///   21- and 63-day windows, annualised over 252 days) × `impliedOverRealised`, scaled to an option on
///   the T-day future by √(τ(1 − e^(−2T/τ)) ÷ 2T), τ = `termBetaDays`; floored at the scenario model's
///   minimum; the engine's VIX skew (``VIXSkew/standard``) shapes it across strikes.
public struct ProxyModel: Sendable, Codable, Equatable {
    /// Vol factor per standard deviation of log-moneyness (negative: puts dearer).
    public var spxSkewSlope: Double
    /// Vol factor per squared standard deviation (the smile's curvature).
    public var spxSkewCurvature: Double
    public var spxSmileFloor: Double
    public var spxSmileCap: Double
    /// Continuous dividend yield of the S&P 500.
    public var dividendYield: Double
    /// Scales the realised vol of VIX into an implied vol of vol.
    public var impliedOverRealised: Double
    /// Trading days of VIX history before the first trade (the estimates' warm-up).
    public var warmUpDays: Int

    public init(spxSkewSlope: Double = -0.30, spxSkewCurvature: Double = 0.02, spxSmileFloor: Double = 0.5, spxSmileCap: Double = 2,
                dividendYield: Double = 0.018, impliedOverRealised: Double = 1, warmUpDays: Int = 252) {
        self.spxSkewSlope = spxSkewSlope
        self.spxSkewCurvature = spxSkewCurvature
        self.spxSmileFloor = spxSmileFloor
        self.spxSmileCap = spxSmileCap
        self.dividendYield = dividendYield
        self.impliedOverRealised = impliedOverRealised
        self.warmUpDays = warmUpDays
    }

    public static let standard = ProxyModel()

    /// VIX ÷ 30-day ATM vol: with vol(z) = ATM(1 + b z + c z²) and z standard normal (the variance
    /// swap as the Gaussian average of implied variance), VIX² = ATM² · E[(1 + b z + c z²)²]
    /// = ATM² (1 + b² + 2c + 3c²).
    public var varianceSwapRatio: Double {
        let b = spxSkewSlope, c = spxSkewCurvature
        return (1 + b * b + 2 * c + 3 * c * c).squareRoot()
    }

    /// The 30-day at-the-money SPX vol for a VIX level.
    public func spxATMVol(vix: Double) -> Double { vix / 100 / varianceSwapRatio }

    /// The SPX implied vol at `strike` for a forward `forward`, `years` to expiry.
    public func spxVol(atm: Double, strike: Double, forward: Double, years: Double) -> Double {
        let z = log(strike / forward) / (atm * max(years, 1.0 / 3650).squareRoot())
        let factor = 1 + spxSkewSlope * z + spxSkewCurvature * z * z
        return atm * min(spxSmileCap, max(spxSmileFloor, factor))
    }

    /// The VIX future `days` to settlement, for VIX `vix` and long-run mean `mean`.
    public func vixFuture(vix: Double, mean: Double, days: Double, scenario: ScenarioModel) -> Double {
        mean + (vix - mean) * scenario.futuresResponse(days: days, vixAfter: vix)
    }

    /// The at-the-money vol of a VIX option `days` to settlement, from VIX's realised vol `realised`.
    public func vixOptionVol(realised: Double, days: Double, scenario: ScenarioModel) -> Double {
        let tau = scenario.termBetaDays, t = max(days, 0.5)
        let scale = (tau * (1 - exp(-2 * t / tau)) / (2 * t)).squareRoot()
        return min(5, max(scenario.minimumVIXOptionVol, realised * impliedOverRealised * scale))
    }

    func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> BacktestError { BacktestError(.invalidArgument, reason, path: "\(path).\(field)") }
        guard spxSkewSlope.isFinite, (-2...0).contains(spxSkewSlope) else { throw fail("spxSkewSlope", "must be between -2 and 0") }
        guard spxSkewCurvature.isFinite, (0...1).contains(spxSkewCurvature) else { throw fail("spxSkewCurvature", "must be between 0 and 1") }
        guard spxSmileFloor > 0, spxSmileFloor <= 1, spxSmileCap >= 1, spxSmileCap <= 10 else { throw fail("spxSmileFloor", "floor in (0, 1], cap in [1, 10]") }
        guard dividendYield.isFinite, (0...0.2).contains(dividendYield) else { throw fail("dividendYield", "must be a yield like 0.018") }
        guard impliedOverRealised.isFinite, (0.1...5).contains(impliedOverRealised) else { throw fail("impliedOverRealised", "must be between 0.1 and 5") }
        guard (63...2520).contains(warmUpDays) else { throw fail("warmUpDays", "must be between 63 and 2520 trading days") }
    }
}
