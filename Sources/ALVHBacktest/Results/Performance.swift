import Foundation
import ALVHEngine

/// One month's return.
public struct MonthReturn: Sendable, Codable, Equatable {
    /// YYYY-MM.
    public var month: String
    public var ret: Double
}

/// The risk and return figures of one strategy run. Returns are fractions (0.05 = 5 %); volatility,
/// Sharpe, Sortino and CAPM come from monthly returns (as the published index studies do),
/// drawdown from the daily marks.
public struct Performance: Sendable, Codable, Equatable {
    public var from: String
    public var to: String
    public var years: Double
    public var startEquity: Double
    public var endEquity: Double
    public var totalReturn: Double
    public var cagr: Double
    /// Annualised standard deviation of monthly returns (× √12).
    public var volatility: Double
    /// Annualised mean monthly excess return over Treasury bills ÷ annualised volatility of excess returns.
    public var sharpe: Double?
    /// Annualised mean monthly excess return ÷ annualised downside deviation (below the bill rate).
    public var sortino: Double?
    /// The largest fall from a peak of the daily marks, as a positive fraction, and its dates.
    public var maxDrawdown: Double
    public var maxDrawdownPeak: String
    public var maxDrawdownTrough: String
    /// The mean of the worst 5 % (1 %) of monthly returns.
    public var monthlyCVaR95: Double
    public var monthlyCVaR99: Double
    public var worstMonths: [MonthReturn]
    /// CAPM against the S&P 500 with dividends: annualised α and β of monthly excess returns.
    public var alpha: Double?
    public var beta: Double?
    public var months: Int
}

/// Computes ``Performance`` and period returns from a run's daily equity.
public struct PerformanceCalculator: Sendable {
    public let days: [CalendarDay]
    public let spxTotalReturn: [Double]
    public let rates: RateHistory
    public let startEquity: Double
    /// Month-end indices into `days` (the last traded day of each month; the last day of the range).
    let monthEnds: [Int]

    public init(days: [CalendarDay], spxCloses: [Double], dividendYield: Double, rates: RateHistory, startEquity: Double) {
        self.days = days
        self.rates = rates
        self.startEquity = startEquity
        var tr: [Double] = []
        tr.reserveCapacity(spxCloses.count)
        var units = 1.0
        for i in spxCloses.indices {
            if i > 0 { units *= 1 + dividendYield * Double(days[i].daysSinceEpoch - days[i - 1].daysSinceEpoch) / 365 }
            tr.append(units * spxCloses[i])
        }
        spxTotalReturn = tr
        var ends: [Int] = []
        for i in days.indices where i == days.count - 1 || days[i + 1].month != days[i].month { ends.append(i) }
        monthEnds = ends
    }

    /// The bill return between two month ends (from index a to b; a = −1: the start).
    func billReturn(from a: Int, to b: Int) -> Double {
        let start = a < 0 ? days[0].adding(days: -1) : days[a]
        let rate = rates.rate(on: start)
        return exp(rate * Double(days[b].daysSinceEpoch - start.daysSinceEpoch) / 365) - 1
    }

    public func monthly(_ equity: [Double]) -> [MonthReturn] {
        var out: [MonthReturn] = []
        var previous = startEquity
        for e in monthEnds {
            out.append(MonthReturn(month: String(days[e].text.prefix(7)), ret: equity[e] / previous - 1))
            previous = equity[e]
        }
        return out
    }

    public func performance(_ equity: [Double]) -> Performance {
        let months = monthly(equity)
        let r = months.map(\.ret)
        var rf: [Double] = [], market: [Double] = []
        var previous = -1
        var spxPrevious = spxTotalReturn[0]
        for e in monthEnds {
            rf.append(billReturn(from: previous, to: e))
            market.append(spxTotalReturn[e] / spxPrevious - 1)
            spxPrevious = spxTotalReturn[e]
            previous = e
        }
        let excess = zip(r, rf).map { $0 - $1 }
        let years = Double(days.last!.daysSinceEpoch - days[0].daysSinceEpoch + 1) / 365.25
        let end = equity.last ?? startEquity
        let sd = Self.standardDeviation(r)
        let sdExcess = Self.standardDeviation(excess)
        let meanExcess = excess.reduce(0, +) / Double(max(1, excess.count))
        let downside = (excess.reduce(0) { $0 + min(0, $1) * min(0, $1) } / Double(max(1, excess.count))).squareRoot()
        // Drawdown from the daily marks.
        var peak = startEquity, peakIndex = 0, worst = 0.0, worstPeak = 0, worstTrough = 0
        for (i, e) in equity.enumerated() {
            if e > peak { peak = e; peakIndex = i }
            let dd = 1 - e / peak
            if dd > worst { worst = dd; worstPeak = peakIndex; worstTrough = i }
        }
        let sorted = r.sorted()
        func cvar(_ level: Double) -> Double {
            let n = max(1, Int((Double(sorted.count) * level).rounded(.up)))
            return sorted.prefix(n).reduce(0, +) / Double(min(n, sorted.count))
        }
        var alpha: Double?, beta: Double?
        let x = zip(market, rf).map { $0 - $1 }
        if x.count >= 12 {
            let mx = x.reduce(0, +) / Double(x.count), my = meanExcess
            var cov = 0.0, varX = 0.0
            for (a, b) in zip(x, excess) { cov += (a - mx) * (b - my); varX += (a - mx) * (a - mx) }
            if varX > 0 {
                beta = cov / varX
                alpha = (my - beta! * mx) * 12
            }
        }
        return Performance(from: days[0].text, to: days.last!.text, years: years, startEquity: startEquity, endEquity: end,
                           totalReturn: end / startEquity - 1, cagr: end > 0 ? pow(end / startEquity, 1 / years) - 1 : -1,
                           volatility: sd * 12.0.squareRoot(),
                           sharpe: sdExcess > 0 ? meanExcess * 12 / (sdExcess * 12.0.squareRoot()) : nil,
                           sortino: downside > 0 ? meanExcess * 12 / (downside * 12.0.squareRoot()) : nil,
                           maxDrawdown: worst, maxDrawdownPeak: worstPeak == 0 && worst == 0 ? days[0].text : days[worstPeak].text,
                           maxDrawdownTrough: days[worstTrough].text, monthlyCVaR95: cvar(0.05), monthlyCVaR99: cvar(0.01),
                           worstMonths: Array(months.sorted { ($0.ret, $0.month) < ($1.ret, $1.month) }.prefix(5)),
                           alpha: alpha, beta: beta, months: months.count)
    }

    /// The return from the close before `from` (or the start) to the last close on or before `to`;
    /// nil when the period is not inside the run.
    public func periodReturn(_ equity: [Double], from: CalendarDay, to: CalendarDay) -> Double? {
        guard let first = days.first, let last = days.last, to >= first, from <= last, from >= first else { return nil }
        guard let endIndex = days.lastIndex(where: { $0 <= to }) else { return nil }
        let startIndex = days.lastIndex(where: { $0 < from })
        let start = startIndex.map { equity[$0] } ?? startEquity
        return equity[endIndex] / start - 1
    }

    /// The compound annual rate of `periodReturn` over the calendar span.
    public func periodCAGR(_ equity: [Double], from: CalendarDay, to: CalendarDay) -> Double? {
        guard let total = periodReturn(equity, from: from, to: to) else { return nil }
        let years = Double(to.daysSinceEpoch - from.daysSinceEpoch) / 365.25
        return years > 0 ? pow(1 + total, 1 / years) - 1 : nil
    }

    /// The largest drawdown of the daily marks within a period.
    public func periodDrawdown(_ equity: [Double], from: CalendarDay, to: CalendarDay) -> Double? {
        let indices = days.indices.filter { days[$0] >= from && days[$0] <= to }
        guard let first = indices.first else { return nil }
        var peak = first > 0 ? equity[first - 1] : startEquity, worst = 0.0
        for i in indices {
            peak = max(peak, equity[i])
            worst = max(worst, 1 - equity[i] / peak)
        }
        return worst
    }

    static func standardDeviation(_ values: [Double]) -> Double {
        guard values.count >= 2 else { return 0 }
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
    }
}
