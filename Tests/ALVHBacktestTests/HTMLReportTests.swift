import Foundation
import Testing
@testable import ALVHBacktest
import ALVHEngine

@Suite struct HTMLReportTests {
    static let hostile = "evil <script>&\"'"

    static func performance(cagr: Double, maxDrawdown: Double) -> Performance {
        Performance(from: "2007-01-03", to: "2009-12-31", years: 3, startEquity: 100_000, endEquity: 110_000, totalReturn: 0.1, cagr: cagr,
                    volatility: 0.12, sharpe: 0.5, sortino: nil, maxDrawdown: maxDrawdown, maxDrawdownPeak: "2007-10-09",
                    maxDrawdownTrough: "2009-03-09", monthlyCVaR95: -0.06, monthlyCVaR99: -0.11,
                    worstMonths: [MonthReturn(month: "2008-10", ret: -0.12)], alpha: 0.01, beta: 0.4, months: 36)
    }

    static func strategy(_ name: String, curve: [(String, Double, Double)]) -> StrategyResult {
        StrategyResult(name: name, performance: performance(cagr: 0.03, maxDrawdown: 0.2),
                       pnlBySource: ["condor": 12_000, "interest": 3_000, "short-term": -1_500], condorsSold: 36, creditDollars: 40_000,
                       hedgeBoughtDollars: 4_000, hedgeCostShareOfCredit: 0.1, hedgeNetDollars: -1_500, proposalsApplied: 4,
                       proposalsRefused: 1, proposalsByRule: ["roll": 3, "open": 1], heldByReason: ["cooldown": 2, "budget": 2],
                       curve: curve.map { CurvePoint(date: $0.0, equity: $0.1, drawdown: $0.2) })
    }

    static let report = BacktestReport(
        from: "2007-01-03", to: "2009-12-31", tradingDays: 755, startingEquity: 100_000, condorRisk: 0.1, proxy: .standard,
        strategies: [
            strategy("naked", curve: [("2007-01-05", 100_500, 0), ("2008-06-27", 104_000, 0.01), ("2008-11-21", 88_000, 0.16),
                                      ("2009-12-31", 110_000, 0)]),
            strategy(hostile, curve: [("2007-01-05", 100_200, 0), ("2008-06-27", 101_000, 0.02), ("2008-11-21", 97_000, 0.05),
                                      ("2009-12-31", 106_000, 0)]),
        ],
        calibration: [
            CalibrationRow(published: PublishedFigure.all[3], backtest: -0.03, measuredFrom: nil, measuredTo: nil, difference: 0.01, matches: true),
        ],
        episodes: [
            EpisodeResult(name: "2008 <crash>", from: "2008-09-12", peak: "2008-11-20", threeMonthsTo: "2008-12-11", spxToPeak: -0.4,
                          vixFrom: 25, vixPeak: 80.86,
                          rows: [.init(strategy: hostile, toPeak: -0.1, threeMonths: -0.05, maxDrawdown: 0.12,
                                       pnlBySource: ["condor": -9_000, "short-term": 4_000])]),
        ],
        verdicts: [
            LayerVerdict(base: "naked", with: hostile, outcome: .buysProtection, cagrChange: -0.01, sharpeChange: -0.1, sortinoChange: -0.1,
                         maxDrawdownChange: -0.05, cvar99Change: 0.02, hedgeCostShareOfCredit: 0.1,
                         sentence: "\(hostile) buys protection over naked & costs 10 % of the credit"),
        ],
        sweep: nil,
        notes: ["A note with <b>markup</b> & an ampersand."])

    static func occurrences(of needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// The text of the `<svg class="…">` element of one chart.
    static func chart(_ kind: String, in html: String) -> String? {
        guard let start = html.range(of: "<svg class=\"\(kind)\"") else { return nil }
        guard let end = html.range(of: "</svg>", range: start.upperBound..<html.endIndex) else { return nil }
        return String(html[start.lowerBound..<end.upperBound])
    }

    @Test func isSelfContained() {
        let html = HTMLReport.render(Self.report)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("http://"))
        #expect(!html.contains("https://"))
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.lowercased().contains("<link"))
        #expect(!html.lowercased().contains("<img"))
        #expect(!html.contains("url("))
        #expect(!html.contains("@import"))
    }

    @Test func escapesEveryTextFromTheReport() {
        let html = HTMLReport.render(Self.report)
        #expect(!html.contains(Self.hostile))
        #expect(!html.contains("<crash>"))
        #expect(!html.contains("<b>markup</b>"))
        let escaped = "evil &lt;script&gt;&amp;&quot;&#39;"
        // Figures, P&L, the episode row, the verdict and both charts' titles and legends.
        #expect(Self.occurrences(of: escaped, in: html) >= 8)
        #expect(html.contains("2008 &lt;crash&gt;"))
        #expect(html.contains("A note with &lt;b&gt;markup&lt;/b&gt; &amp; an ampersand."))
        #expect(HTMLReport.escape("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&#39;f")
    }

    @Test func drawsOneLinePerStrategyInEachChart() throws {
        let html = HTMLReport.render(Self.report)
        for kind in ["equity", "drawdown"] {
            let svg = try #require(Self.chart(kind, in: html))
            #expect(Self.occurrences(of: "<polyline", in: svg) == Self.report.strategies.count)
            #expect(svg.contains("viewBox=\"0 0 900 320\""))
            #expect(svg.contains(">2008</text>") && svg.contains(">2009</text>"))
        }
        #expect(Self.occurrences(of: "<svg", in: html) == 2)
    }

    @Test func rendersTheSectionsInOrder() {
        let html = HTMLReport.render(Self.report)
        let markers = ["<h1>ALVH backtest 2007-01-03 … 2009-12-31</h1>", "755 trading days", "class=\"verdict buys-protection\"",
                       "<table class=\"figures\">", "<svg class=\"equity\"", "<svg class=\"drawdown\"", "<table class=\"pnl\">",
                       "<table class=\"episodes\">", "<table class=\"calibration\">", "<ul class=\"notes\">"]
        var position = html.startIndex
        for marker in markers {
            let found = html.range(of: marker, range: position..<html.endIndex)
            #expect(found != nil, "missing or out of order: \(marker)")
            if let found { position = found.upperBound }
        }
        #expect(html.contains("≥ -4.0%"))
        #expect(html.contains("<td class=\"check ok\">ok</td>"))
        #expect(html.contains("-20.0%"))
        #expect(html.contains("<td class=\"n\">13,500</td></tr>"))
        #expect(!html.contains("Sweep of alvh"))
    }

    @Test func isDeterministic() {
        var withSweep = Self.report
        withSweep.sweep = [SweepRow(parameter: "budget", value: "0.05", performance: Self.performance(cagr: 0.02, maxDrawdown: 0.1),
                                    hedgeCostShareOfCredit: nil, hedgeNetDollars: 250)]
        for report in [Self.report, withSweep] {
            #expect(HTMLReport.render(report) == HTMLReport.render(report))
        }
        #expect(HTMLReport.render(withSweep).contains("Sweep of alvh: budget"))
    }
}
