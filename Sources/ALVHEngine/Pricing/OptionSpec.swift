/// Which closed form prices an option.
public enum PricingModel: String, Sendable, Codable, CaseIterable {
    /// Black-Scholes-Merton on a spot with a continuous dividend yield (SPX options).
    case bsm
    /// Black-76 on a futures price (VIX options, on the VIX future of the same expiry).
    case black76
}

/// One European option to price: all rates continuously compounded, per year.
///
/// ```swift
/// let hull = OptionSpec(model: .bsm, right: .call, underlying: 42, strike: 40, years: 0.5, rate: 0.10, dividend: 0, vol: 0.20)
/// let v = try Pricer.value(hull)   // v.price ≈ 4.76
/// ```
public struct OptionSpec: Sendable, Codable, Equatable {
    public var model: PricingModel
    public var right: OptionRight
    /// Spot (bsm) or futures price (black76), in index points.
    public var underlying: Double
    public var strike: Double
    /// Time to expiry in years (ACT/365).
    public var years: Double
    /// Risk-free rate (0.05 = 5 %).
    public var rate: Double
    /// Dividend yield for bsm (ignored by black76).
    public var dividend: Double
    /// Implied volatility (0.20 = 20 %).
    public var vol: Double

    public init(model: PricingModel, right: OptionRight, underlying: Double, strike: Double, years: Double,
                rate: Double, dividend: Double = 0, vol: Double) {
        self.model = model
        self.right = right
        self.underlying = underlying
        self.strike = strike
        self.years = years
        self.rate = rate
        self.dividend = dividend
        self.vol = vol
    }

    /// Domain checks; errors name the field.
    public func validate(path: String = "option") throws {
        func check(_ ok: Bool, _ field: String, _ reason: String) throws {
            if !ok { throw EngineError(.invalidInput, reason, path: "\(path).\(field)") }
        }
        try check(underlying.isFinite && underlying > 0, "underlying", "must be a positive price")
        try check(strike.isFinite && strike > 0, "strike", "must be a positive strike")
        try check(years.isFinite && years > 0 && years <= 50, "years", "must be in (0, 50] years")
        try check(rate.isFinite && abs(rate) <= 1, "rate", "must be a rate between -1 and 1 (0.05 = 5 %)")
        try check(dividend.isFinite && abs(dividend) <= 1, "dividend", "must be a yield between -1 and 1")
        try check(vol.isFinite && vol > 0 && vol <= 10, "vol", "must be in (0, 10] (0.20 = 20 %)")
    }
}

/// Price and Greeks of one option, per unit of the underlying (multiply by the contract multiplier
/// and the quantity for dollars).
public struct OptionValuation: Sendable, Codable, Equatable {
    public var price: Double
    /// ∂V/∂underlying.
    public var delta: Double
    /// ∂²V/∂underlying².
    public var gamma: Double
    /// ∂V per +1 vol point (σ + 0.01).
    public var vega: Double
    /// ∂V per calendar day passing (−∂V/∂T / 365).
    public var theta: Double
    /// ∂V per +1 % rate (r + 0.01).
    public var rho: Double

    public init(price: Double, delta: Double, gamma: Double, vega: Double, theta: Double, rho: Double) {
        self.price = price
        self.delta = delta
        self.gamma = gamma
        self.vega = vega
        self.theta = theta
        self.rho = rho
    }

    public static let zero = OptionValuation(price: 0, delta: 0, gamma: 0, vega: 0, theta: 0, rho: 0)

    /// Scaled by `factor` (multiplier × quantity).
    public func scaled(by factor: Double) -> OptionValuation {
        OptionValuation(price: price * factor, delta: delta * factor, gamma: gamma * factor, vega: vega * factor,
                        theta: theta * factor, rho: rho * factor)
    }
}
