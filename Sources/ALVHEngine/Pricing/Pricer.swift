import Foundation

/// Closed-form European option prices and Greeks.
///
/// - bsm: V = S e^(−qT) N(d1) − K e^(−rT) N(d2) for a call, with d1 = [ln(S/K) + (r − q + σ²/2)T] / σ√T.
/// - black76: V = e^(−rT) [F N(d1) − K N(d2)], d1 = [ln(F/K) + σ²T/2] / σ√T; delta is with respect
///   to F; rho is −T·V (the future does not depend on r).
///
/// Units follow QuantLib's AnalyticEuropeanEngine, rescaled: vega per vol point (÷100), theta per
/// calendar day (÷365), rho per 1 % (÷100).
public enum Pricer {
    /// Price and Greeks, after checking the inputs.
    public static func value(_ spec: OptionSpec) throws -> OptionValuation {
        try spec.validate()
        return valueUnchecked(spec)
    }

    /// Price and Greeks without input checks (hot loops over validated inputs).
    @inlinable
    public static func valueUnchecked(_ spec: OptionSpec) -> OptionValuation {
        let t = spec.years, sigma = spec.vol, k = spec.strike, r = spec.rate
        let sqrtT = t.squareRoot()
        let sigmaSqrtT = sigma * sqrtT
        let discount = exp(-r * t)
        // Forward-measure quantities: `f` is the forward, `growthDiscount` discounts it to spot terms.
        let f: Double, carryDiscount: Double
        switch spec.model {
        case .bsm:
            carryDiscount = exp(-spec.dividend * t)
            f = spec.underlying * carryDiscount / discount
        case .black76:
            carryDiscount = discount
            f = spec.underlying
        }
        let d1 = (log(f / k) + 0.5 * sigma * sigma * t) / sigmaSqrtT
        let d2 = d1 - sigmaSqrtT
        let nd1 = Normal.pdf(d1)
        let s = spec.underlying
        let isCall = spec.right == .call
        let w: Double = isCall ? 1 : -1
        let Nwd1 = Normal.cdf(w * d1), Nwd2 = Normal.cdf(w * d2)
        let price = w * (s * carryDiscount * Nwd1 - k * discount * Nwd2)
        let delta = w * carryDiscount * Nwd1
        let gamma = carryDiscount * nd1 / (s * sigmaSqrtT)
        let vega = s * carryDiscount * nd1 * sqrtT
        let thetaYear: Double
        let rhoUnit: Double
        switch spec.model {
        case .bsm:
            let q = spec.dividend
            thetaYear = -s * carryDiscount * nd1 * sigma / (2 * sqrtT) - w * r * k * discount * Nwd2 + w * q * s * carryDiscount * Nwd1
            rhoUnit = w * k * t * discount * Nwd2
        case .black76:
            thetaYear = -s * carryDiscount * nd1 * sigma / (2 * sqrtT) + r * price
            rhoUnit = -t * price
        }
        return OptionValuation(price: price, delta: delta, gamma: gamma, vega: vega / 100, theta: thetaYear / 365, rho: rhoUnit / 100)
    }

    /// The price alone.
    @inlinable
    public static func price(_ spec: OptionSpec) -> Double { valueUnchecked(spec).price }
}
