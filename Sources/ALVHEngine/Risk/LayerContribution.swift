import Foundation

/// One hedge layer's contribution to delta neutrality and gamma balance: its Greeks in the
/// ``RiskBasis`` and the share of the condor's delta and gamma it offsets.
public struct LayerContribution: Sendable, Codable, Equatable {
    public var name: String
    /// $ per SPX point along the model path.
    public var delta: Double
    /// $ per SPX point² along the model path.
    public var gamma: Double
    /// $ per VIX point.
    public var vega: Double
    /// $ per calendar day.
    public var theta: Double
    /// $ per vol point of the VIX options' implied vol.
    public var volOfVolVega: Double
    /// −layer delta / condor delta: 1 offsets the condor's delta fully, negative adds to it; nil
    /// when the condor's delta is negligible (below ``RiskBasis/negligibleDelta``).
    public var deltaOffsetShare: Double?
    /// −layer gamma / condor gamma, nil when the condor's gamma is negligible.
    public var gammaOffsetShare: Double?

    /// The table for a report's layers (the rounded Greeks): one row per hedge layer, in book order.
    static func table(_ layers: [RiskReport.Layer]) -> [LayerContribution] {
        let condor = layers.first { $0.name == "condor" }?.greeks ?? .zero
        func share(_ layer: Double, _ condor: Double, _ negligible: Double) -> Double? {
            abs(condor) < negligible ? nil : (-layer / condor * 10_000).rounded() / 10_000
        }
        return layers.filter { $0.name != "condor" }.map { layer in
            let g = layer.greeks
            return LayerContribution(name: layer.name, delta: g.delta, gamma: g.gamma, vega: g.vega, theta: g.theta, volOfVolVega: g.volOfVolVega,
                                     deltaOffsetShare: share(g.delta, condor.delta, RiskBasis.negligibleDelta),
                                     gammaOffsetShare: share(g.gamma, condor.gamma, RiskBasis.negligibleGamma))
        }
    }
}

extension RiskReport {
    /// The contribution of the hedge layer `name`, if the book has it.
    public func contribution(of name: String) -> LayerContribution? { contributions.first { $0.name == name } }
}
