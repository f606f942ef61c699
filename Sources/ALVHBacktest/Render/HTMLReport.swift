import Foundation
import ALVHEngine

/// A ``BacktestReport`` as one self-contained HTML5 page: no scripts, no external styles, fonts or
/// images (inline CSS and two inline SVG charts), so the file can be mailed or archived as it is.
///
/// In order: the title and a summary; the verdicts on each extra layer; the figures of every
/// strategy; the equity curves (log scale) and drawdowns; P&L by source; the stress episodes; the
/// calibration against the published indices; the sweep, when there is one; and the notes.
/// Every piece of text from the report is HTML-escaped, and the output is deterministic: the same
/// report renders to the same bytes.
///
/// ```swift
/// let history = try MarketHistory.load(vix: "VIX_History.csv", spx: "SPX_History.csv")
/// let report = try Backtest.run(history: history)
/// try HTMLReport.render(report).write(toFile: "backtest.html", atomically: true, encoding: .utf8)
/// ```
public enum HTMLReport {
    public static func render(_ report: BacktestReport) -> String {
        let colours = report.strategies.indices.map(colour)
        var h = ""
        h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<title>ALVH backtest \(escape(report.from)) … \(escape(report.to))</title>\n"
        h += "<style>\n\(style)</style>\n</head>\n<body>\n"
        summary(report, into: &h)
        verdicts(report, into: &h)
        figures(report, into: &h)
        charts(report, colours: colours, into: &h)
        pnl(report, into: &h)
        episodes(report, into: &h)
        calibration(report, into: &h)
        sweep(report, into: &h)
        notes(report, into: &h)
        h += "</body>\n</html>\n"
        return h
    }

    /// Text made safe for HTML element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    // MARK: - Sections

    static func summary(_ r: BacktestReport, into h: inout String) {
        h += "<h1>ALVH backtest \(escape(r.from)) … \(escape(r.to))</h1>\n"
        let names = r.strategies.map { "<b>\(escape($0.name))</b>" }.joined(separator: ", ")
        h += "<p class=\"summary\">\(r.tradingDays) trading days on a $\(grouped(r.startingEquity)) account; each condor's max loss is "
        h += "\(escape(pct(r.condorRisk, 0))) of the account at each roll."
        h += names.isEmpty ? "</p>\n" : " Strategies: \(names).</p>\n"
    }

    static func verdicts(_ r: BacktestReport, into h: inout String) {
        h += "<h2>Does each extra layer pay for itself?</h2>\n"
        guard !r.verdicts.isEmpty else { h += "<p class=\"empty\">No verdicts.</p>\n"; return }
        h += "<ul class=\"verdicts\">\n"
        for v in r.verdicts {
            let outcome = v.outcome.rawValue
            h += "<li class=\"verdict \(escape(outcome))\"><span class=\"badge \(escape(outcome))\">"
            h += "\(escape(outcome.replacingOccurrences(of: "-", with: " ")))</span> \(escape(v.sentence))</li>\n"
        }
        h += "</ul>\n"
    }

    static func figures(_ r: BacktestReport, into h: inout String) {
        h += "<h2>Figures</h2>\n<table class=\"figures\">\n"
        header(["Strategy", "CAGR", "Volatility", "Sharpe", "Sortino", "Max drawdown", "CVaR95 (month)", "CVaR99 (month)", "Alpha", "Beta",
                "Hedge cost / credit"], into: &h)
        h += "<tbody>\n"
        for s in r.strategies {
            let p = s.performance
            row(name: s.name, [pct(p.cagr), pct(p.volatility), num(p.sharpe), num(p.sortino), pct(-p.maxDrawdown), pct(p.monthlyCVaR95),
                               pct(p.monthlyCVaR99), p.alpha.map { pct($0) } ?? "—", num(p.beta),
                               s.hedgeCostShareOfCredit.map { pct($0, 0) } ?? "—"], into: &h)
        }
        h += "</tbody>\n</table>\n"
        h += "<p class=\"foot\">Monthly returns; Sharpe and Sortino over 3-month Treasury bills; alpha and beta: CAPM against the S&amp;P 500 "
        h += "with dividends; CVaR: the mean of the worst 5 % / 1 % of months; max drawdown from the daily marks.</p>\n"
    }

    static func pnl(_ r: BacktestReport, into h: inout String) {
        h += "<h2>P&amp;L by source, dollars</h2>\n<table class=\"pnl\">\n"
        let sources = Array(Set(r.strategies.flatMap { $0.pnlBySource.keys })).sorted { TextReport.order($0) < TextReport.order($1) }
        header(["Strategy"] + sources + ["Total"], into: &h)
        h += "<tbody>\n"
        for s in r.strategies {
            // Summed in key order so the total is the same bytes on every run.
            let total = s.pnlBySource.sorted { $0.key < $1.key }.reduce(0) { $0 + $1.value }
            row(name: s.name, sources.map { s.pnlBySource[$0].map(grouped) ?? "—" } + [grouped(total)], into: &h)
        }
        h += "</tbody>\n</table>\n"
        for s in r.strategies where s.name == "alvh" {
            let rules = s.proposalsByRule.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            var line = "alvh: \(s.proposalsApplied) proposals applied" + (rules.isEmpty ? "" : " (\(rules))")
            if s.proposalsRefused > 0 { line += ", \(s.proposalsRefused) stale (refused)" }
            let held = s.heldByReason.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(6).map { "\($0.key) ×\($0.value)" }
            if !held.isEmpty { line += "; held back: " + held.joined(separator: ", ") }
            h += "<p class=\"foot\">\(escape(line)).</p>\n"
        }
    }

    static func episodes(_ r: BacktestReport, into h: inout String) {
        h += "<h2>Stress episodes</h2>\n"
        guard !r.episodes.isEmpty else { h += "<p class=\"empty\">No stress episode inside the run.</p>\n"; return }
        h += "<table class=\"episodes\">\n"
        header(["Strategy", "Calm close → VIX peak", "Three months on", "Max drawdown", "Hedge P&L, dollars"], into: &h)
        for e in r.episodes {
            h += "<tbody>\n<tr class=\"episode\"><th colspan=\"5\">\(escape(e.name)): \(escape(e.from)) → \(escape(e.peak)) "
            h += "(S&amp;P \(escape(pct(e.spxToPeak))), VIX \(escape(num(e.vixFrom))) → \(escape(num(e.vixPeak)))) "
            h += "→ \(escape(e.threeMonthsTo))</th></tr>\n"
            for row in e.rows {
                let hedges = row.pnlBySource.filter { !["condor", "interest", "sp500"].contains($0.key) }.sorted { $0.key < $1.key }
                    .map { "\($0.key) \(grouped($0.value))" }.joined(separator: ", ")
                self.row(name: row.strategy, [pct(row.toPeak), pct(row.threeMonths), pct(-row.maxDrawdown), hedges.isEmpty ? "—" : hedges],
                         into: &h)
            }
            h += "</tbody>\n"
        }
        h += "</table>\n"
    }

    static func calibration(_ r: BacktestReport, into h: inout String) {
        h += "<h2>Calibration</h2>\n<p>Each replica beside the published figure it is checked against.</p>\n"
        guard !r.calibration.isEmpty else { h += "<p class=\"empty\">No calibration rows.</p>\n"; return }
        h += "<table class=\"calibration\">\n"
        header(["Index", "Measure", "Period", "Backtest", "Published", "Check", "Source"], into: &h)
        h += "<tbody>\n"
        for c in r.calibration {
            let f = c.published
            let period = c.measuredFrom.map { "\($0) … \(c.measuredTo ?? "")*" } ?? "\(f.from) … \(f.to)"
            let published = (f.isLowerBound ? "≥ " : "") + pct(f.value)
            let (check, kind) = c.matches.map { $0 ? ("ok", "ok") : ("differs by \(pct(c.difference ?? 0))", "differs") }
                ?? ("outside the run", "outside")
            h += "<tr><td>\(escape(f.index))</td><td>\(escape(f.measure.rawValue))</td><td class=\"date\">\(escape(period))</td>"
            h += "<td class=\"n\">\(escape(c.backtest.map { pct($0) } ?? "—"))</td><td class=\"n\">\(escape(published))</td>"
            h += "<td class=\"check \(kind)\">\(escape(check))</td><td class=\"source\">\(escape(f.source))</td></tr>\n"
        }
        h += "</tbody>\n</table>\n"
        h += "<p class=\"foot\">* the run covers only this part of the published period. Sources: docs/backtest.md.</p>\n"
    }

    static func sweep(_ r: BacktestReport, into h: inout String) {
        guard let sweep = r.sweep, !sweep.isEmpty else { return }
        h += "<h2>Sweep of alvh: \(escape(sweep[0].parameter))</h2>\n<table class=\"sweep\">\n"
        header(["Value", "CAGR", "Sharpe", "Sortino", "Max drawdown", "CVaR99 (month)", "Alpha", "Hedge cost / credit", "Hedge net, dollars"],
               into: &h)
        h += "<tbody>\n"
        for s in sweep {
            let p = s.performance
            row(name: s.value, [pct(p.cagr), num(p.sharpe), num(p.sortino), pct(-p.maxDrawdown), pct(p.monthlyCVaR99),
                                p.alpha.map { pct($0) } ?? "—", s.hedgeCostShareOfCredit.map { pct($0, 0) } ?? "—", grouped(s.hedgeNetDollars)],
                into: &h)
        }
        h += "</tbody>\n</table>\n"
    }

    static func notes(_ r: BacktestReport, into h: inout String) {
        guard !r.notes.isEmpty else { return }
        h += "<h2>Notes</h2>\n<ul class=\"notes\">\n"
        for note in r.notes { h += "<li>\(escape(note))</li>\n" }
        h += "</ul>\n"
    }

    static func header(_ titles: [String], into h: inout String) {
        h += "<thead><tr>" + titles.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead>\n"
    }

    /// A row: the name as a row header, then right-aligned figures.
    static func row(name: String, _ cells: [String], into h: inout String) {
        h += "<tr><th scope=\"row\">\(escape(name))</th>" + cells.map { "<td class=\"n\">\(escape($0))</td>" }.joined() + "</tr>\n"
    }

    // MARK: - Charts

    /// The plot area inside the fixed viewBox.
    static let width = 900.0, height = 320.0
    static let left = 72.0, right = 16.0, top = 14.0, bottom = 30.0

    /// One strategy's curve with each point's day number; points without a date are left out.
    struct Series {
        var name: String
        var colour: String
        var points: [(day: Int, equity: Double, drawdown: Double)]
    }

    static func charts(_ r: BacktestReport, colours: [String], into h: inout String) {
        let series = zip(r.strategies, colours).map { s, colour in
            Series(name: s.name, colour: colour, points: s.curve.compactMap { p in
                CalendarDay(p.date).map { (day: $0.daysSinceEpoch, equity: p.equity, drawdown: p.drawdown) }
            })
        }
        let days = series.flatMap { $0.points.map(\.day) }
        guard let first = days.min() ?? CalendarDay(r.from)?.daysSinceEpoch, let last = days.max() ?? CalendarDay(r.to)?.daysSinceEpoch else {
            return
        }
        let span = Double(max(1, last - first))
        let x = { (day: Int) in left + (width - left - right) * Double(day - first) / span }

        // Equity, log scale.
        let equities = series.flatMap { $0.points.map(\.equity) }.filter { $0.isFinite && $0 > 0 }
        var low = equities.min() ?? r.startingEquity, high = equities.max() ?? r.startingEquity
        if !(low > 0 && high.isFinite) { low = 1; high = 10 }
        if high / low < 1.02 { low /= 1.01; high *= 1.01 }
        let logLow = log10(low), logHigh = log10(high), pad = (logHigh - logLow) * 0.03
        let (yLow, yHigh) = (logLow - pad, logHigh + pad)
        let yEquity = { (v: Double) in top + (height - top - bottom) * (yHigh - log10(v)) / (yHigh - yLow) }
        h += "<h2>Equity</h2>\n<figure class=\"chart\">\n"
        h += "<svg class=\"equity\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Equity curves, log scale\">\n"
        frame(xTicks: yearTicks(first: first, last: last), x: x, yTicks: logTicks(low: low, high: high).map { (yEquity($0), money($0)) }, into: &h)
        for s in series {
            let points = s.points.filter { $0.equity.isFinite && $0.equity > 0 }.map { (x($0.day), yEquity($0.equity)) }
            polyline(points, name: s.name, colour: s.colour, into: &h)
        }
        h += "</svg>\n"
        legend(series, into: &h)
        h += "<figcaption>Account equity at each week's last close, dollars, on a log scale.</figcaption>\n</figure>\n"

        // Drawdown below the running peak: 0 at the top.
        let deepest = series.flatMap { $0.points.map(\.drawdown) }.filter(\.isFinite).max() ?? 0
        let step = niceStep(max(deepest, 0.01) / 5)
        let depth = max(step, (max(deepest, 0) / step).rounded(.up) * step)
        let yDrawdown = { (v: Double) in top + (height - top - bottom) * min(max(v, 0), depth) / depth }
        let decimals = step * 100 < 1 ? 1 : 0
        let levels = stride(from: 0, through: Int((depth / step).rounded()), by: 1).map { Double($0) * step }
        h += "<h2>Drawdown</h2>\n<figure class=\"chart\">\n"
        h += "<svg class=\"drawdown\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Drawdowns below the running peak\">\n"
        frame(xTicks: yearTicks(first: first, last: last), x: x, yTicks: levels.map { (yDrawdown($0), pct(-$0, decimals)) }, into: &h)
        for s in series {
            let points = s.points.filter { $0.drawdown.isFinite }.map { (x($0.day), yDrawdown($0.drawdown)) }
            polyline(points, name: s.name, colour: s.colour, into: &h)
        }
        h += "</svg>\n"
        legend(series, into: &h)
        h += "<figcaption>Fall below the running peak of each week's equity, percent.</figcaption>\n</figure>\n"
    }

    /// The plot's border, gridlines and tick labels.
    static func frame(xTicks: [(day: Int, label: String)], x: (Int) -> Double, yTicks: [(y: Double, label: String)], into h: inout String) {
        let plotBottom = height - bottom
        h += "<g class=\"grid\">\n"
        for t in yTicks {
            let y = coordinate(t.y)
            h += "<line x1=\"\(coordinate(left))\" y1=\"\(y)\" x2=\"\(coordinate(width - right))\" y2=\"\(y)\"/>"
            h += "<text class=\"y\" x=\"\(coordinate(left - 6))\" y=\"\(coordinate(t.y + 4))\">\(escape(t.label))</text>\n"
        }
        for t in xTicks {
            let px = coordinate(x(t.day))
            h += "<line x1=\"\(px)\" y1=\"\(coordinate(top))\" x2=\"\(px)\" y2=\"\(coordinate(plotBottom))\"/>"
            h += "<text class=\"x\" x=\"\(px)\" y=\"\(coordinate(plotBottom + 18))\">\(escape(t.label))</text>\n"
        }
        h += "<rect class=\"plot\" x=\"\(coordinate(left))\" y=\"\(coordinate(top))\" width=\"\(coordinate(width - left - right))\" "
        h += "height=\"\(coordinate(plotBottom - top))\"/>\n</g>\n"
    }

    /// One strategy's line, with its name as the tooltip. Points that round to the previous one are dropped.
    static func polyline(_ points: [(Double, Double)], name: String, colour: String, into h: inout String) {
        var coordinates: [String] = []
        for (px, py) in points {
            let pair = "\(coordinate(px)),\(coordinate(py))"
            if pair != coordinates.last { coordinates.append(pair) }
        }
        h += "<polyline class=\"series\" stroke=\"\(colour)\" points=\"\(coordinates.joined(separator: " "))\">"
        h += "<title>\(escape(name))</title></polyline>\n"
    }

    static func legend(_ series: [Series], into h: inout String) {
        h += "<ul class=\"legend\">"
        for s in series { h += "<li><span class=\"swatch\" style=\"background:\(s.colour)\"></span>\(escape(s.name))</li>" }
        h += "</ul>\n"
    }

    /// 1 January of every year (every 2nd or 5th over long runs) inside the range; the two ends when none is.
    static func yearTicks(first: Int, last: Int) -> [(day: Int, label: String)] {
        let a = CalendarDay(daysSinceEpoch: first), b = CalendarDay(daysSinceEpoch: last)
        let years = b.year - a.year
        let every = years > 24 ? 5 : years > 12 ? 2 : 1
        var ticks: [(day: Int, label: String)] = []
        for year in a.year...b.year where year % every == 0 {
            let day = CalendarDay(year: year, month: 1, day: 1).daysSinceEpoch
            if day >= first && day <= last { ticks.append((day, String(year))) }
        }
        if ticks.isEmpty { ticks = first == last ? [(first, a.text)] : [(first, a.text), (last, b.text)] }
        return ticks
    }

    /// Dollar gridlines for a log axis: 1, 2, 5 × 10ⁿ (only 10ⁿ over many decades; even steps over a narrow range).
    static func logTicks(low: Double, high: Double) -> [Double] {
        let from = Int(log10(low).rounded(.down)), to = Int(log10(high).rounded(.up))
        func ticks(_ multiples: [Double]) -> [Double] {
            (from...max(from, to)).flatMap { e in multiples.map { $0 * pow(10, Double(e)) } }.filter { $0 >= low && $0 <= high }
        }
        let fine = ticks([1, 2, 5])
        if fine.count >= 3 && fine.count <= 9 { return fine }
        if fine.count > 9 {
            let decades = ticks([1])
            let every = max(1, (decades.count + 7) / 8)
            return decades.enumerated().filter { $0.offset % every == 0 }.map(\.element)
        }
        let step = niceStep((high - low) / 4)
        return stride(from: (low / step).rounded(.up) * step, through: high, by: step).map { $0 }
    }

    /// The smallest of 1, 2, 5 × 10ⁿ at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, log10(raw).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw * (1 - 1e-9) } ?? 10 * magnitude
    }

    /// An axis label in dollars: $500, $20k, $1.5M.
    static func money(_ v: Double) -> String {
        func g(_ x: Double) -> String { String(format: "%g", x) }
        if v >= 1e9 { return "$" + g(v / 1e9) + "B" }
        if v >= 1e6 { return "$" + g(v / 1e6) + "M" }
        if v >= 1e3 { return "$" + g(v / 1e3) + "k" }
        return "$" + g(v)
    }

    /// A coordinate rounded to one decimal, never "-0.0".
    static func coordinate(_ v: Double) -> String {
        let text = String(format: "%.1f", v.isFinite ? v : 0)
        return text == "-0.0" ? "0.0" : text
    }

    /// Distinct colours: a fixed palette, then golden-angle hues for long sweeps.
    static func colour(_ index: Int) -> String {
        let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
        if index < palette.count { return palette[index] }
        return "hsl(\(Int((Double(index) * 137.508).truncatingRemainder(dividingBy: 360))),60%,42%)"
    }

    // MARK: - Numbers, as TextReport prints them (a zero is never "-0.0%")

    static func pct(_ v: Double, _ decimals: Int = 1) -> String { unsignedZero(TextReport.pct(v, decimals)) }
    static func num(_ v: Double?) -> String { unsignedZero(TextReport.num(v)) }
    static func grouped(_ v: Double) -> String { TextReport.grouped(v) }

    static func unsignedZero(_ text: String) -> String {
        text.hasPrefix("-") && text.dropFirst().allSatisfy({ "0.%".contains($0) }) ? String(text.dropFirst()) : text
    }

    static let style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1d1f; margin: 2em auto;
               max-width: 1100px; padding: 0 1em; line-height: 1.45; }
        h1 { font-size: 1.6em; margin-bottom: 0.3em; }
        h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
        table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
        th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
        thead th { border-bottom: 2px solid #bbb; font-weight: 600; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        td.date { white-space: nowrap; }
        td.source { color: #555; font-size: 0.9em; }
        tr.episode th { background: #f4f4f6; font-weight: 600; }
        .check.ok { color: #1a7f37; } .check.differs { color: #b3261e; } .check.outside { color: #777; }
        .foot, .empty, figcaption { color: #666; font-size: 0.85em; }
        ul.verdicts { list-style: none; padding: 0; }
        ul.verdicts li { margin: 0.4em 0; }
        .badge { display: inline-block; min-width: 9em; text-align: center; border-radius: 3px; padding: 0 0.5em; margin-right: 0.5em;
                 font-size: 0.85em; font-weight: 600; color: #fff; background: #777; }
        .badge.pays-for-itself { background: #1a7f37; } .badge.buys-protection { background: #1f6feb; }
        .badge.mixed { background: #bf8700; } .badge.overkill { background: #b3261e; }
        figure.chart { margin: 0.5em 0; }
        svg { width: 100%; height: auto; max-width: 900px; display: block; }
        svg .grid line { stroke: #e4e4e7; stroke-width: 1; }
        svg .grid rect.plot { fill: none; stroke: #999; stroke-width: 1; }
        svg text { font-size: 11px; fill: #555; }
        svg text.y { text-anchor: end; } svg text.x { text-anchor: middle; }
        svg polyline.series { fill: none; stroke-width: 1.4; stroke-linejoin: round; }
        ul.legend { list-style: none; padding: 0; margin: 0.3em 0; display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; font-size: 0.9em; }
        .swatch { display: inline-block; width: 1.4em; height: 0.3em; vertical-align: middle; margin-right: 0.4em; }

        """
}
