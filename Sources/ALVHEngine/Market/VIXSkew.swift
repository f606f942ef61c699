import Foundation

/// The shape given to a VIX expiry for which a snapshot lists only the at-the-money vol.
///
/// VIX options have a steep *upward* skew: out-of-the-money calls trade at higher implied vols
/// than at-the-money ones (VIX rises fast and far when it rises), puts at lower. With moneyness
/// m = ln(K / F) on the expiry's future F:
///
///     σ(K) = σ_atm · (1 + callSlope · m)   for K ≥ F
///     σ(K) = σ_atm · (1 + putSlope · m)    for K < F
///
/// clamped to [`floorFactor`, `capFactor`] × σ_atm. The standard slopes (calls 1.0, puts 0.3)
/// put a call 50 % out of the money (m ≈ 0.41) about 40 % above the at-the-money vol — the order of
/// the skew seen on listed VIX options; they are a documented desk default, not a market
/// quote: a snapshot with real per-strike vols gives `points` for the expiry, and those are used as
/// they are. The skew moves with the future (sticky moneyness): when VIX futures rise in a
/// scenario, a fixed strike slides down the skew.
public struct VIXSkew: Sendable, Codable, Equatable {
    /// Vol factor per unit of ln(K/F) above the future.
    public var callSlope: Double
    /// Vol factor per unit of ln(K/F) below the future.
    public var putSlope: Double
    /// Lowest and highest vol as multiples of the at-the-money vol.
    public var floorFactor: Double
    public var capFactor: Double

    public init(callSlope: Double, putSlope: Double, floorFactor: Double = 0.5, capFactor: Double = 3) {
        self.callSlope = callSlope
        self.putSlope = putSlope
        self.floorFactor = floorFactor
        self.capFactor = capFactor
    }

    public static let standard = VIXSkew(callSlope: 1.0, putSlope: 0.3)

    enum CodingKeys: String, CodingKey { case callSlope, putSlope, floorFactor, capFactor }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        callSlope = try c.decode(Double.self, forKey: .callSlope)
        putSlope = try c.decode(Double.self, forKey: .putSlope)
        floorFactor = try c.decodeIfPresent(Double.self, forKey: .floorFactor) ?? 0.5
        capFactor = try c.decodeIfPresent(Double.self, forKey: .capFactor) ?? 3
    }

    /// The vol at `strike` for an at-the-money vol `atm` on the future `future`.
    @inlinable
    public func vol(atm: Double, strike: Double, future: Double) -> Double {
        guard strike > 0, future > 0 else { return atm }
        let m = log(strike / future)
        let factor = 1 + (m >= 0 ? callSlope : putSlope) * m
        return atm * min(capFactor, max(floorFactor, factor))
    }

    func validate(path: String) throws {
        guard callSlope.isFinite, (0...5).contains(callSlope) else { throw EngineError(.invalidSnapshot, "must be between 0 and 5 (vol factor per unit of ln(K/F))", path: "\(path).callSlope") }
        guard putSlope.isFinite, (0...5).contains(putSlope) else { throw EngineError(.invalidSnapshot, "must be between 0 and 5 (vol factor per unit of ln(K/F))", path: "\(path).putSlope") }
        guard floorFactor.isFinite, floorFactor > 0, floorFactor <= 1 else { throw EngineError(.invalidSnapshot, "must be in (0, 1]", path: "\(path).floorFactor") }
        guard capFactor.isFinite, capFactor >= 1, capFactor <= 10 else { throw EngineError(.invalidSnapshot, "must be in [1, 10]", path: "\(path).capFactor") }
    }
}
