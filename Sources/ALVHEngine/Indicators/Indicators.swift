/// Technical signals, standard definitions.
public enum Indicators {
    /// Exponential moving average with α = 2/(n+1), seeded with the simple average of the first n
    /// values. The result is aligned with `values`; entries before index n−1 are nil.
    public static func ema(_ values: [Double], period n: Int) -> [Double?] {
        guard n >= 1, values.count >= n else { return Array(repeating: nil, count: values.count) }
        var out = [Double?](repeating: nil, count: values.count)
        let alpha = 2.0 / Double(n + 1)
        var current = values[0..<n].reduce(0, +) / Double(n)
        out[n - 1] = current
        for i in n..<values.count {
            current += alpha * (values[i] - current)
            out[i] = current
        }
        return out
    }

    /// MACD line, signal line and histogram.
    public struct MACDPoint: Sendable, Equatable {
        public var macd: Double
        public var signal: Double?
        public var histogram: Double? { signal.map { macd - $0 } }
    }

    /// MACD(fast, slow, signal): MACD = EMA(fast) − EMA(slow); signal = EMA(signal) of the MACD
    /// line, seeded with its first `signal` values' average. Aligned with `values`.
    public static func macd(_ values: [Double], fast: Int = 12, slow: Int = 26, signal: Int = 9) -> [MACDPoint?] {
        let f = ema(values, period: fast), s = ema(values, period: slow)
        var line: [Double] = []
        var firstIndex: Int?
        var out = [MACDPoint?](repeating: nil, count: values.count)
        for i in values.indices {
            guard let a = f[i], let b = s[i] else { continue }
            if firstIndex == nil { firstIndex = i }
            line.append(a - b)
        }
        guard let start = firstIndex else { return out }
        let sig = ema(line, period: signal)
        for (k, value) in line.enumerated() { out[start + k] = MACDPoint(macd: value, signal: sig[k]) }
        return out
    }

    /// Whether the MACD line crossed below its signal line on the last value (bearish crossover).
    public static func macdBearishCrossover(_ values: [Double]) -> Bool {
        let m = macd(values)
        guard m.count >= 2, let last = m[m.count - 1], let previous = m[m.count - 2],
              let hl = last.histogram, let hp = previous.histogram else { return false }
        return hp >= 0 && hl < 0
    }

    /// Wilder's RSI(n): the first average gain/loss is the simple average of the first n changes,
    /// then avg = (avg·(n−1) + x)/n. Aligned with `values`; nil before index n.
    public static func rsi(_ values: [Double], period n: Int = 14) -> [Double?] {
        var out = [Double?](repeating: nil, count: values.count)
        guard n >= 1, values.count > n else { return out }
        var gain = 0.0, loss = 0.0
        for i in 1...n {
            let change = values[i] - values[i - 1]
            if change > 0 { gain += change } else { loss -= change }
        }
        gain /= Double(n)
        loss /= Double(n)
        func value() -> Double { loss == 0 ? (gain == 0 ? 50 : 100) : 100 - 100 / (1 + gain / loss) }
        out[n] = value()
        if values.count > n + 1 {
            for i in (n + 1)..<values.count {
                let change = values[i] - values[i - 1]
                gain = (gain * Double(n - 1) + max(change, 0)) / Double(n)
                loss = (loss * Double(n - 1) + max(-change, 0)) / Double(n)
                out[i] = value()
            }
        }
        return out
    }

    /// The share of `lookback` values (the last ones, the current included) at or below the current
    /// value, in percent.
    public static func percentile(_ values: [Double], lookback: Int) -> Double? {
        guard let current = values.last, lookback >= 1 else { return nil }
        let window = values.suffix(lookback)
        return 100 * Double(window.filter { $0 <= current }.count) / Double(window.count)
    }
}

/// The VIX futures term structure: front versus third future.
public struct TermStructure: Sendable, Codable, Equatable {
    /// Third minus front future, VIX points (positive: contango).
    public var slopePoints: Double
    /// Third / front.
    public var ratio: Double
    public var isBackwardation: Bool { slopePoints < 0 }

    /// From the curve's first and third futures (the last one if fewer than three).
    public init?(_ snapshot: MarketSnapshot) {
        guard let front = snapshot.vix.futures.first else { return nil }
        let third = snapshot.vix.futures[min(2, snapshot.vix.futures.count - 1)]
        slopePoints = third.price - front.price
        ratio = third.price / front.price
    }
}
