import Foundation
import ALVHEngine

/// The human table of a ``BacktestReport``: one line per string, for a terminal.
public enum TextReport {
    public static func lines(_ r: BacktestReport) -> [String] {
        var out: [String] = []
        out.append("backtest \(r.from) … \(r.to): \(r.tradingDays) trading days, $\(grouped(r.startingEquity)) account, condor max loss \(pct(r.condorRisk, 0)) of the account at each roll")
        out.append("")
        out.append("STRATEGY".padded(14) + ["CAGR", "VOL", "SHARPE", "SORTINO", "MAX DD", "CVaR95", "CVaR99", "ALPHA", "BETA", "HEDGE/CREDIT"].map { $0.leftPadded(9) }.joined())
        for s in r.strategies {
            let p = s.performance
            out.append(s.name.padded(14) + [pct(p.cagr), pct(p.volatility), num(p.sharpe), num(p.sortino), pct(-p.maxDrawdown), pct(p.monthlyCVaR95),
                                             pct(p.monthlyCVaR99), p.alpha.map { pct($0) } ?? "—", num(p.beta),
                                             s.hedgeCostShareOfCredit.map { pct($0, 0) } ?? "—"].map { $0.leftPadded(9) }.joined())
        }
        out.append("  (monthly returns; Sharpe/Sortino over 3-month T-bills; alpha/beta: CAPM against the S&P 500 with dividends; CVaR: mean of the worst 5 %/1 % of months)")
        out.append("")
        out.append("does each extra layer pay for itself?")
        for v in r.verdicts { out.append("  " + v.sentence) }
        out.append("")
        out.append("P&L by source, dollars")
        let sources = Array(Set(r.strategies.flatMap { $0.pnlBySource.keys })).sorted { order($0) < order($1) }
        out.append("STRATEGY".padded(14) + sources.map { $0.leftPadded(13) }.joined() + "TOTAL".leftPadded(14))
        for s in r.strategies {
            out.append(s.name.padded(14) + sources.map { (s.pnlBySource[$0].map(grouped) ?? "—").leftPadded(13) }.joined()
                       + grouped(s.pnlBySource.sumInKeyOrder).leftPadded(14))
        }
        for s in r.strategies where s.name == "alvh" {
            out.append("  alvh: \(s.proposalsApplied) proposals applied (" + s.proposalsByRule.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                       + ")\(s.proposalsRefused > 0 ? ", \(s.proposalsRefused) stale (refused)" : "")")
            let held = s.heldByReason.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(6).map { "\($0.key) ×\($0.value)" }
            if !held.isEmpty { out.append("  held back: " + held.joined(separator: ", ")) }
        }
        out.append("")
        out.append("worst months")
        for s in r.strategies {
            out.append(s.name.padded(14) + s.performance.worstMonths.map { "\($0.month) \(pct($0.ret))" }.joined(separator: "  "))
        }
        out.append("")
        out.append("episodes (calm close → VIX peak; → three months on; max drawdown in the three months)")
        for e in r.episodes {
            out.append("  \(e.name): \(e.from) → \(e.peak) (S&P \(pct(e.spxToPeak)), VIX \(num(e.vixFrom)) → \(num(e.vixPeak))) → \(e.threeMonthsTo)")
            for row in e.rows {
                let hedges = row.pnlBySource.filter { !["condor", "interest", "sp500"].contains($0.key) }.sorted { $0.key < $1.key }
                    .map { "\($0.key) \(grouped($0.value))" }.joined(separator: ", ")
                out.append("    " + row.strategy.padded(14) + pct(row.toPeak).leftPadded(9) + pct(row.threeMonths).leftPadded(9) + pct(-row.maxDrawdown).leftPadded(9)
                           + (hedges.isEmpty ? "" : "   hedges: " + hedges))
            }
        }
        out.append("")
        out.append("calibration: each replica beside the published figure it is checked against")
        out.append("INDEX".padded(10) + "MEASURE".padded(15) + "PERIOD".padded(25) + "BACKTEST".leftPadded(10) + "PUBLISHED".leftPadded(11) + "  CHECK")
        for c in r.calibration {
            let f = c.published
            let period = c.measuredFrom.map { "\($0)…\(c.measuredTo ?? "")*" } ?? "\(f.from)…\(f.to)"
            let published = (f.isLowerBound ? "≥ " : "") + pct(f.value)
            let check = c.matches.map { $0 ? "ok" : "differs by \(pct(c.difference ?? 0))" } ?? "outside the run"
            out.append((f.index).padded(10) + f.measure.rawValue.padded(15) + period.padded(25) + (c.backtest.map { pct($0) } ?? "—").leftPadded(10)
                       + published.leftPadded(11) + "  " + check)
        }
        out.append("  * the run covers only this part of the published period. Sources: docs/backtest.md")
        if let sweep = r.sweep, !sweep.isEmpty {
            out.append("")
            out.append("sweep of alvh: \(sweep[0].parameter)")
            out.append("VALUE".padded(28) + ["CAGR", "SHARPE", "SORTINO", "MAX DD", "CVaR99", "ALPHA", "HEDGE/CREDIT", "HEDGE NET $"].map { $0.leftPadded(11) }.joined())
            for row in sweep {
                let p = row.performance
                out.append(row.value.padded(28) + [pct(p.cagr), num(p.sharpe), num(p.sortino), pct(-p.maxDrawdown), pct(p.monthlyCVaR99),
                                                   p.alpha.map { pct($0) } ?? "—", row.hedgeCostShareOfCredit.map { pct($0, 0) } ?? "—",
                                                   grouped(row.hedgeNetDollars)].map { $0.leftPadded(11) }.joined())
            }
        }
        out.append("")
        for note in r.notes { out.append("note: " + note) }
        return out
    }

    static func order(_ source: String) -> (Int, String) {
        (["condor", "sp500", "interest", "short-term", "event", "backstop", "vxth"].firstIndex(of: source) ?? 99, source)
    }

    static func pct(_ v: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f%%", v * 100) }
    static func num(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "—" }

    /// Whole dollars with thousands separators.
    static func grouped(_ v: Double) -> String {
        guard v.isFinite, v.magnitude < 1e15 else { return "\(v)" }
        let digits = String(Int(v.magnitude.rounded()))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (v < 0 && digits != "0" ? "-" : "") + out
    }
}

extension String {
    func padded(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
    func leftPadded(_ width: Int) -> String { count >= width ? " " + self : String(repeating: " ", count: width - count) + self }
}
