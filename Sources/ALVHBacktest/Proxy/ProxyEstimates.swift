import Foundation

/// What the proxies estimate from the VIX closes, day by day; entry i uses closes 0…i only.
///
/// - `vixMean[i]`: the mean of every VIX close up to day i (the futures curve's long-run level);
/// - `vixRealisedVol[i]`: √((rv21² + rv63²) / 2), rvN the annualised (√252) standard deviation of the
///   last N daily log changes of VIX (fewer at the start of the file).
public struct ProxyEstimates: Sendable, Equatable {
    public var vixMean: [Double]
    public var vixRealisedVol: [Double]

    public init(history: MarketHistory) {
        let closes = history.days.map(\.vixClose)
        var mean: [Double] = [], vol: [Double] = []
        mean.reserveCapacity(closes.count)
        vol.reserveCapacity(closes.count)
        var sum = 0.0
        var changes: [Double] = [0]
        changes.reserveCapacity(closes.count)
        for i in closes.indices {
            sum += closes[i]
            mean.append(sum / Double(i + 1))
            if i > 0 { changes.append(log(closes[i] / closes[i - 1])) }
            vol.append((0.5 * Self.variance(changes, through: i, window: 21) + 0.5 * Self.variance(changes, through: i, window: 63)).squareRoot() * 252.0.squareRoot())
        }
        vixMean = mean
        vixRealisedVol = vol
    }

    /// The sample variance of changes[i−window+1…i] (changes[0] is the first day's, 0, and left out).
    static func variance(_ changes: [Double], through i: Int, window: Int) -> Double {
        let start = max(1, i - window + 1)
        guard i - start + 1 >= 2 else { return 0 }
        var s = 0.0, s2 = 0.0
        for k in start...i { s += changes[k]; s2 += changes[k] * changes[k] }
        let n = Double(i - start + 1)
        return max(0, (s2 - s * s / n) / (n - 1))
    }
}
