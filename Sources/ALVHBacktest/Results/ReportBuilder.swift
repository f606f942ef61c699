import Foundation
import ALVHEngine

/// Turns strategy runs into the ``BacktestReport``.
struct ReportBuilder {
    let backtester: Backtester
    let calculator: PerformanceCalculator
    let days: [CalendarDay]

    init(backtester: Backtester) {
        self.backtester = backtester
        let traded = backtester.range.map { backtester.history.days[$0] }
        days = traded.map(\.day)
        calculator = PerformanceCalculator(days: days, spxCloses: traded.map(\.spxClose), dividendYield: backtester.configuration.proxy.dividendYield,
                                           rates: backtester.configuration.rates, startEquity: backtester.configuration.startingEquity)
    }

    static let mainStrategies = ["naked", "one-layer", "alvh"]

    func report(runs: [StrategyRun], sweep: Backtest.Sweep?) -> BacktestReport {
        let reported = runs.filter { $0.plan.sweepValue == nil }
        let results = reported.map(result)
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0) })
        var verdicts: [LayerVerdict] = []
        for (base, with) in [("naked", "one-layer"), ("naked", "alvh"), ("one-layer", "alvh")] {
            if let a = byName[base], let b = byName[with] { verdicts.append(Self.verdict(a, b)) }
        }
        let sweepRows: [SweepRow]? = sweep.map { sweep in
            runs.compactMap { run -> SweepRow? in
                guard let value = run.plan.sweepValue else { return nil }
                let r = result(run)
                return SweepRow(parameter: sweep.parameter.rawValue, value: value, performance: r.performance,
                                hedgeCostShareOfCredit: r.hedgeCostShareOfCredit, hedgeNetDollars: r.hedgeNetDollars)
            }
        }
        let configuration = backtester.configuration
        return BacktestReport(from: days.first!.text, to: days.last!.text, tradingDays: days.count, startingEquity: configuration.startingEquity,
                              condorRisk: configuration.condorRisk, proxy: configuration.proxy, strategies: results,
                              calibration: calibration(runs), episodes: episodes(reported),
                              verdicts: verdicts, sweep: sweepRows, notes: notes())
    }

    func result(_ run: StrategyRun) -> StrategyResult {
        let performance = calculator.performance(run.equity)
        var pnl: [String: Double] = [:]
        for (k, v) in run.pnl { pnl[k] = Money.round(v.last ?? 0) }
        let hedgeNet = pnl.filter { !["condor", "interest", "sp500"].contains($0.key) }.sumInKeyOrder
        var curve: [CurvePoint] = []
        var peak = backtester.configuration.startingEquity
        for (i, e) in run.equity.enumerated() {
            peak = max(peak, e)
            let lastOfWeek = i == run.equity.count - 1 || days[i + 1].weekday <= days[i].weekday
            if lastOfWeek { curve.append(CurvePoint(date: days[i].text, equity: Money.round(e), drawdown: ((1 - e / peak) * 1e6).rounded() / 1e6)) }
        }
        return StrategyResult(name: run.name, performance: performance, pnlBySource: pnl, condorsSold: run.condorsSold,
                              creditDollars: Money.round(run.creditDollars), hedgeBoughtDollars: Money.round(run.hedgeBoughtDollars),
                              hedgeCostShareOfCredit: run.creditDollars > 0 && run.plan.holding == .condor ? run.hedgeBoughtDollars / run.creditDollars : nil,
                              hedgeNetDollars: Money.round(hedgeNet), proposalsApplied: run.proposalsApplied, proposalsRefused: run.proposalsRefused,
                              proposalsByRule: run.proposalsByRule, heldByReason: run.heldByReason, curve: curve)
    }

    // MARK: - Calibration

    func calibration(_ runs: [StrategyRun]) -> [CalibrationRow] {
        PublishedFigure.all.compactMap { figure in
            guard let run = runs.first(where: { $0.name == figure.strategy }),
                  let from = CalendarDay(figure.from), let to = CalendarDay(figure.to) else { return nil }
            let start = max(from, days.first!), end = min(to, days.last!)
            var row = CalibrationRow(published: figure, backtest: nil, measuredFrom: nil, measuredTo: nil, difference: nil, matches: nil)
            // Measured only when the run covers at least 80 % of the published period.
            let covered = Double(end.daysSinceEpoch - start.daysSinceEpoch), whole = Double(max(1, to.daysSinceEpoch - from.daysSinceEpoch))
            guard start <= end, covered >= 0.8 * whole else { return row }
            if start != from || end != to { row.measuredFrom = start.text; row.measuredTo = end.text }
            let value: Double?
            let tolerance: Double
            switch figure.measure {
            case .cagr:
                value = calculator.periodCAGR(run.equity, from: start, to: end); tolerance = 0.02
            case .periodReturn:
                value = calculator.periodReturn(run.equity, from: start, to: end); tolerance = 0.05
            case .volatility:
                value = sub(run.equity, from: start, to: end).map { calculator(for: $0.days, start: $0.start).performance($0.equity).volatility }; tolerance = 0.02
            case .maxDrawdown:
                value = calculator.periodDrawdown(run.equity, from: start, to: end); tolerance = 0.05
            }
            row.backtest = value
            if let value {
                row.difference = value - figure.value
                row.matches = figure.isLowerBound ? value >= figure.value : abs(value - figure.value) <= tolerance
            }
            return row
        }
    }

    /// The part of a run between two days, rebased (for a volatility over a sub-period).
    func sub(_ equity: [Double], from: CalendarDay, to: CalendarDay) -> (days: [CalendarDay], equity: [Double], start: Double)? {
        let indices = days.indices.filter { days[$0] >= from && days[$0] <= to }
        guard let first = indices.first, let last = indices.last, last > first else { return nil }
        return (Array(days[first...last]), Array(equity[first...last]), first > 0 ? equity[first - 1] : backtester.configuration.startingEquity)
    }

    func calculator(for sub: [CalendarDay], start: Double) -> PerformanceCalculator {
        let traded = backtester.range.map { backtester.history.days[$0] }.filter { $0.day >= sub.first! && $0.day <= sub.last! }
        return PerformanceCalculator(days: sub, spxCloses: traded.map(\.spxClose), dividendYield: backtester.configuration.proxy.dividendYield,
                                     rates: backtester.configuration.rates, startEquity: start)
    }

    // MARK: - Episodes

    func episodes(_ runs: [StrategyRun]) -> [EpisodeResult] {
        StressEpisode.all.filter { !$0.hypothetical }.compactMap { episode in
            guard let from = CalendarDay(episode.from), let peak = CalendarDay(episode.to),
                  let start = days.firstIndex(where: { $0 >= from }), days[start] == from, start > 0,
                  let peakIndex = days.firstIndex(where: { $0 >= peak }) else { return nil }
            let endIndex = min(days.count - 1, start + 63)
            let rows = runs.map { run -> EpisodeResult.Row in
                var pnl: [String: Double] = [:]
                for (k, v) in run.pnl { pnl[k] = Money.round(v[endIndex] - v[start]) }
                return EpisodeResult.Row(strategy: run.name, toPeak: run.equity[peakIndex] / run.equity[start] - 1,
                                         threeMonths: run.equity[endIndex] / run.equity[start] - 1,
                                         maxDrawdown: calculator.periodDrawdown(run.equity, from: days[start + 1], to: days[endIndex]) ?? 0,
                                         pnlBySource: pnl)
            }
            return EpisodeResult(name: episode.name, from: episode.from, peak: episode.to, threeMonthsTo: days[endIndex].text,
                                 spxToPeak: episode.spxMovePercent / 100, vixFrom: episode.vixFrom, vixPeak: episode.vixTo, rows: rows)
        }
    }

    // MARK: - Verdicts

    static func verdict(_ a: StrategyResult, _ b: StrategyResult) -> LayerVerdict {
        let pa = a.performance, pb = b.performance
        let dSharpe = (pb.sharpe ?? 0) - (pa.sharpe ?? 0), dSortino = (pb.sortino ?? 0) - (pa.sortino ?? 0)
        let dDrawdown = pb.maxDrawdown - pa.maxDrawdown, dTail = pb.monthlyCVaR99 - pa.monthlyCVaR99
        let riskAdjusted = dSharpe > 0 && dSortino > 0
        // Safer: neither the drawdown nor the monthly tail is worse, and one of them is better.
        let safer = dDrawdown <= 0 && dTail >= 0 && (dDrawdown < 0 || dTail > 0)
        let outcome: LayerVerdict.Outcome = riskAdjusted ? (safer ? .paysForItself : .mixed) : (safer ? .buysProtection : .overkill)
        let verb: String
        switch outcome {
        case .paysForItself: verb = "pays for itself"
        case .buysProtection: verb = "buys protection at a cost in risk-adjusted return"
        case .overkill: verb = "is overkill: it costs risk-adjusted return and leaves the drawdown or the tail worse"
        case .mixed: verb = "improves risk-adjusted return but leaves the drawdown or the tail worse"
        }
        let cost = b.hedgeCostShareOfCredit.map { String(format: "; hedges cost %.0f%% of the condor credit", $0 * 100) } ?? ""
        let sentence = String(format: "%@ over %@ %@: CAGR %+.2f pts, Sharpe %+.2f, Sortino %+.2f, max drawdown %+.1f pts, monthly CVaR99 %+.1f pts",
                              b.name, a.name, verb, (pb.cagr - pa.cagr) * 100, dSharpe, dSortino, dDrawdown * 100, dTail * 100) + cost
        return LayerVerdict(base: a.name, with: b.name, outcome: outcome, cagrChange: pb.cagr - pa.cagr, sharpeChange: dSharpe, sortinoChange: dSortino,
                            maxDrawdownChange: dDrawdown, cvar99Change: dTail, hedgeCostShareOfCredit: b.hedgeCostShareOfCredit, sentence: sentence)
    }

    func notes() -> [String] {
        var notes = [
            "Prices are model prices from the closes (docs/backtest.md): SPX smile from VIX, VIX futures mean-reverting to the running VIX mean, VIX option vols from VIX's realised vol of vol.",
            "Fills: the desk's strategies pay half the spread on the tick grid and $1 a contract; cndr-replica fills at mid (CNDR's rule), vxth-replica buys at the ask (VXTH's).",
            "Settlement: SPX monthlies on the SPX open of expiry day, VIX options on the VIX open of their Wednesday (proxies for SET and the SOQ).",
        ]
        if days.first! < CalendarDay(year: 2006, month: 2, day: 24) {
            notes.append("VIX options were listed on 2006-02-24 (VIX futures 2004-03-26): the layers before then are priced on instruments that did not trade.")
        }
        if backtester.configuration.releases.releases.isEmpty {
            notes.append("No release history: the event layer acts only on the engine's shipped calendar.")
        }
        return notes
    }
}

enum Money {
    static func round(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
