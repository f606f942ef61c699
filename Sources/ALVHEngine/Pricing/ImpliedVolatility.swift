import Foundation

/// Implied volatility: bracketed Newton steps with bisection fallback (never leaves the bracket).
///
/// ```swift
/// let sigma = try ImpliedVolatility.solve(price: 4.76, spec: spec)   // ≈ 0.20
/// ```
public enum ImpliedVolatility {
    /// The vol (in (1e-6, 10]) at which `spec` prices at `price`, within `tolerance` of price.
    public static func solve(price target: Double, spec: OptionSpec, tolerance: Double = 1e-10) throws -> Double {
        var probe = spec
        probe.vol = 0.2
        try probe.validate()
        guard target.isFinite, target > 0 else {
            throw EngineError(.noSolution, "the price must be positive; no volatility gives \(target)", path: "implied")
        }
        var low = 1e-6, high = 10.0
        probe.vol = low
        let floor = Pricer.price(probe)
        probe.vol = high
        let ceiling = Pricer.price(probe)
        guard target >= floor - tolerance else {
            throw EngineError(.noSolution, String(format: "price %.6g is below the option's intrinsic value %.6g: no volatility reproduces it", target, floor), path: "implied")
        }
        guard target <= ceiling + tolerance else {
            throw EngineError(.noSolution, String(format: "price %.6g is above the most the option is worth (%.6g at 1000%% vol)", target, ceiling), path: "implied")
        }
        var sigma = 0.3
        for _ in 0..<200 {
            probe.vol = sigma
            let v = Pricer.valueUnchecked(probe)
            let diff = v.price - target
            if abs(diff) <= tolerance { return sigma }
            if diff > 0 { high = sigma } else { low = sigma }
            let vegaUnit = v.vega * 100
            var next = vegaUnit > 1e-12 ? sigma - diff / vegaUnit : .nan
            if !(next > low && next < high) { next = 0.5 * (low + high) }
            if high - low < 1e-15 { return next }
            sigma = next
        }
        return sigma
    }
}
