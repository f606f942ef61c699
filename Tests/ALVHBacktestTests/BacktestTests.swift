import Foundation
import Testing
@testable import ALVHBacktest
import ALVHEngine

enum BacktestFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = root.deletingLastPathComponent().appendingPathComponent("shared/data")
    static var sharedDataPresent: Bool { FileManager.default.fileExists(atPath: shared.appendingPathComponent("vix-daily.csv").path) }
    static var vixPath: String { shared.appendingPathComponent("vix-daily.csv").path }
    static var spxPath: String { shared.appendingPathComponent("spx-daily.csv").path }

    /// Trading days from 2019-01-02 to 2020-04-30, SPX 1000 and VIX 20 at every open and close,
    /// except the overrides (date → (spxOpen, vixOpen)).
    static func flatHistory(opens: [String: (spx: Double?, vix: Double?)] = [:]) -> MarketHistory {
        var days: [MarketHistory.Day] = []
        var day = CalendarDay(year: 2019, month: 1, day: 2)
        while day <= CalendarDay(year: 2020, month: 4, day: 30) {
            if ExchangeCalendar.isTradingDay(day) {
                let o = opens[day.text]
                days.append(MarketHistory.Day(day: day, spxOpen: o?.spx ?? 1000, spxClose: 1000, vixOpen: o?.vix ?? 20, vixClose: 20))
            }
            day = day.adding(days: 1)
        }
        return MarketHistory(days: days)
    }

    static let flatConfiguration = BacktestConfiguration(from: CalendarDay("2020-02-03"), to: CalendarDay("2020-03-20"),
                                                         proxy: ProxyModel(dividendYield: 0), rates: .constant(percent: 0), releases: .none)
}

@Suite("Backtest: accounting by hand, settlement on the open, no look-ahead, determinism")
struct BacktestTests {
    /// One condor (sold 2020-02-21, settled on the 2020-03-20 open at 940) and one layer of VXTH-style
    /// calls (bought 2020-02-19, settled on the 2020-03-18 open at VIX 35): every cash flow checked by
    /// hand from the strikes, prices and sizes, and the last close reconciled to the cent.
    @Test("a hand-computed condor and one call layer, to the cent")
    func handComputed() throws {
        let history = BacktestFixtures.flatHistory(opens: ["2020-03-20": (940, nil), "2020-03-18": (nil, 35)])
        let backtester = try Backtester(history: history, configuration: BacktestFixtures.flatConfiguration)
        let run = try #require(try backtester.run([.oneLayer]).first)
        let trades = run.trades

        // The condor: SPX 1000, VIX 20, no rates or dividends; 20/5-delta strikes on the 5-point grid.
        let sale = try #require(trades.first { $0.kind == .sellCondor && $0.date == "2020-02-21" })
        // Pinned model output (the prices themselves are checked against QuantLib in PricingTests and the bench):
        // the 5-delta put sits far out on the proxy's skew, so the put wing (95 points) is the wider one.
        #expect(sale.detail == "SPX 2020-03-20 850.0/945.0/1035.0/1060.0 condor")
        #expect(sale.price == 9.3)
        // Max loss is the wider wing, 95 points × $100 = $9,500 a condor; 10 % of the account at the close
        // (just under $10,000,000: the calls bought two days earlier are marked below their ask) buys 104.
        #expect(sale.quantity == 104)
        let before = try #require(backtester.range.last { history.days[$0].date < "2020-02-21" }) - backtester.range.lowerBound
        #expect(Int(run.equity[before] * 0.10 / 9_500) == 104)
        // Credit 9.30 × $100 × 104 = $96,720, less $1 × 4 legs × 104 = $416.
        #expect(abs(sale.dollars - 96_304) < 0.005)

        // Settlement on the 2020-03-20 open, 940: the 945 put pays 5 points, the 850 put nothing.
        let settle = try #require(trades.first { $0.kind == .settleCondor })
        #expect(settle.date == "2020-03-20")
        #expect(settle.price == 940)
        #expect(settle.dollars == -(945 - 940) * 100 * 104)

        // The calls: 1 % of the account on 2020-02-19 (the March future is 20: weight 1 %). VIX never moved
        // in this history, so the vol of vol is the scenario model's floor (20 %) and the calls are cheap.
        let buy = try #require(trades.first { $0.kind == .buyCalls })
        #expect(buy.date == "2020-02-19")
        #expect(buy.detail == "VIX 2020-03-18 21.0 calls")
        #expect(buy.price == 0.16)
        // Equity on 2020-02-19 is still $10,000,000 (no condor yet): ⌊100,000 ÷ (0.16 × 100 + 1)⌋ = 5,882 calls.
        #expect(buy.quantity == 5_882)
        #expect(buy.dollars == -5_882 * (16 + 1))
        // Settled on the 2020-03-18 VIX open of 35: (35 − 21) × $100 × 5,882.
        let calls = try #require(trades.first { $0.kind == .settleCalls })
        #expect(calls.date == "2020-03-18")
        #expect(calls.dollars == 14 * 100 * 5_882)

        // The last close: $10,000,000 + every cash flow + the marks of what is still open, to the cent.
        let last = backtester.range.upperBound
        let market = backtester.synthesizer.snapshot(at: last)
        var marks = 0.0
        let newCondor = try #require(trades.last { $0.kind == .sellCondor })
        #expect(newCondor.date == "2020-03-20")
        let strikes = newCondor.detail.split(separator: " ")[2].split(separator: "/").compactMap { Double($0) }
        let expiry = String(newCondor.detail.split(separator: " ")[1])
        for (right, strike, sign) in [(OptionRight.put, strikes[0], 1.0), (.put, strikes[1], -1), (.call, strikes[2], -1), (.call, strikes[3], 1)] {
            marks += sign * Double(newCondor.quantity) * CondorRule.mid(right, strike: strike, expiry: expiry, market: market) * 100
        }
        for t in trades where t.kind == .buyCalls && t.date == "2020-03-18" {
            let parts = t.detail.split(separator: " ")
            marks += Double(t.quantity) * (try Engine.vixMid(market: market, expiry: String(parts[1]), strike: Double(parts[2])!)) * 100
        }
        let flows = trades.reduce(0) { $0 + $1.dollars }
        #expect(abs(run.equity.last! - (10_000_000 + flows + marks)) < 0.005)
    }

    @Test("settlement uses the open of expiry day: the close does not move it, the open does, point for point")
    func settlesOnTheOpen() throws {
        func settlement(spxOpen: Double, spxCloseOnExpiry: Double) throws -> TradeRecord {
            var history = BacktestFixtures.flatHistory(opens: ["2020-03-20": (spxOpen, nil)])
            var days = history.days
            let i = days.firstIndex { $0.date == "2020-03-20" }!
            days[i].spxClose = spxCloseOnExpiry
            history = MarketHistory(days: days)
            let run = try Backtester(history: history, configuration: BacktestFixtures.flatConfiguration).run([.naked])[0]
            return run.trades.first { $0.kind == .settleCondor }!
        }
        let base = try settlement(spxOpen: 940, spxCloseOnExpiry: 1000)
        #expect(base.price == 940 && base.dollars < 0)
        #expect(try settlement(spxOpen: 940, spxCloseOnExpiry: 900).dollars == base.dollars)
        // One point lower on the open: the short 945 put pays $100 more on each condor.
        #expect(try settlement(spxOpen: 939, spxCloseOnExpiry: 1000).dollars == base.dollars - 100 * Double(base.quantity))
        // Above the short put: nothing to pay.
        #expect(try settlement(spxOpen: 1000, spxCloseOnExpiry: 800).dollars == 0)
    }

    @Test("no look-ahead: changing every price after a day changes nothing before it", .enabled(if: BacktestFixtures.sharedDataPresent))
    func noLookAhead() throws {
        let history = try MarketHistory.load(vix: BacktestFixtures.vixPath, spx: BacktestFixtures.spxPath)
        let configuration = BacktestConfiguration(from: CalendarDay("2007-06-01"), to: CalendarDay("2009-06-30"))
        let plans: [StrategyPlan] = [.naked, .oneLayer, .alvh(), .vxthReplica]
        let before = try Backtester(history: history, configuration: configuration).run(plans)
        let cut = CalendarDay(year: 2008, month: 10, day: 1)
        var days = history.days
        for i in days.indices where days[i].day >= cut {
            days[i].spxOpen *= 0.7; days[i].spxClose *= 0.7
            days[i].vixOpen *= 2; days[i].vixClose *= 2
        }
        let changed = try Backtester(history: MarketHistory(days: days), configuration: configuration).run(plans)
        let traded = history.days[try Backtester(history: history, configuration: configuration).range]
        let firstChanged = try #require(traded.firstIndex { $0.day >= cut }) - traded.startIndex
        for (a, b) in zip(before, changed) {
            #expect(Array(a.equity[..<firstChanged]) == Array(b.equity[..<firstChanged]), "\(a.name)")
            #expect(a.trades.filter { $0.date < cut.text } == b.trades.filter { $0.date < cut.text }, "\(a.name)")
            // And the change is real: the paths differ after the cut.
            #expect(a.equity.last != b.equity.last, "\(a.name)")
        }
    }

    @Test("the same inputs give the same report, byte for byte", .enabled(if: BacktestFixtures.sharedDataPresent))
    func deterministic() throws {
        let history = try MarketHistory.load(vix: BacktestFixtures.vixPath, spx: BacktestFixtures.spxPath)
        let configuration = BacktestConfiguration(from: CalendarDay("2019-06-01"), to: CalendarDay("2020-06-30"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let a = try encoder.encode(Backtest.run(history: history, configuration: configuration, sweep: .parse("budget=0,0.5")))
        let b = try encoder.encode(Backtest.run(history: history, configuration: configuration, sweep: .parse("budget=0,0.5")))
        #expect(a == b)
        let report = try Backtest.run(history: history, configuration: configuration)
        #expect(HTMLReport.render(report) == HTMLReport.render(report))
    }

    @Test("the S&P 500 replica matches the published 2008 and quarterly returns within a point", .enabled(if: BacktestFixtures.sharedDataPresent))
    func sp500Calibration() throws {
        let history = try MarketHistory.load(vix: BacktestFixtures.vixPath, spx: BacktestFixtures.spxPath)
        let report = try Backtest.run(history: history, configuration: BacktestConfiguration(from: CalendarDay("2007-01-02"), to: CalendarDay("2022-12-30")))
        let rows = report.calibration.filter { $0.published.strategy == "sp500" }
        #expect(rows.count == 5)
        for row in rows {
            let value = try #require(row.backtest, "\(row.published.from)")
            #expect(abs(value - row.published.value) <= 0.01, "\(row.published.from)…\(row.published.to): \(value) vs \(row.published.value)")
        }
    }
}

@Suite("Backtest rules: CNDR strikes, VXTH weights, sweeps")
struct BacktestRuleTests {
    @Test("VXTH's weight steps at 15, 30 and 50 on the future")
    func vxthWeights() {
        #expect(VXTHRule.weight(future: 15) == 0)
        #expect(VXTHRule.weight(future: 15.01) == 0.01)
        #expect(VXTHRule.weight(future: 30) == 0.01)
        #expect(VXTHRule.weight(future: 30.01) == 0.005)
        #expect(VXTHRule.weight(future: 50) == 0.005)
        #expect(VXTHRule.weight(future: 50.01) == 0)
    }

    @Test("each condor strike has the delta closest to its target among its grid neighbours")
    func cndrStrikes() throws {
        let history = BacktestFixtures.flatHistory()
        let synthesizer = MarketSynthesizer(history: history, proxy: ProxyModel(dividendYield: 0), rates: .constant(percent: 0), releases: .none)
        let market = synthesizer.snapshot(at: history.days.firstIndex { $0.date == "2020-02-21" }!)
        let expiry = "2020-03-20"
        for (right, target) in [(OptionRight.put, -0.05), (.put, -0.20), (.call, 0.20), (.call, 0.05)] {
            let k = CondorRule.strike(right, delta: target, expiry: expiry, market: market)
            let gap = abs(CondorRule.delta(right, strike: k, expiry: expiry, market: market) - target)
            for neighbour in [k - 5, k + 5] {
                #expect(gap <= abs(CondorRule.delta(right, strike: neighbour, expiry: expiry, market: market) - target), "\(right) \(target): \(k)")
            }
        }
    }

    @Test("a sweep names its parameter and values, and refuses what it cannot run")
    func sweepParsing() throws {
        #expect(try Backtest.Sweep.parse("budget=0,0.1") == Backtest.Sweep(parameter: .budget, values: ["0", "0.1"]))
        #expect(throws: BacktestError.self) { try Backtest.Sweep.parse("budgets=0,1") }
        #expect(throws: BacktestError.self) { try Backtest.Sweep.parse("budget=") }
        let bad = #expect(throws: BacktestError.self) { try Backtest.Sweep.parse("layers=short-term+moon").apply("short-term+moon", to: .standard) }
        #expect(bad?.path == "--sweep layers")
        let negative = #expect(throws: BacktestError.self) { try Backtest.Sweep.parse("budget=-1").apply("-1", to: .standard) }
        #expect(negative?.code.rawValue == "invalid-strategy")
        let layers = try Backtest.Sweep.parse("layers=short-term+backstop").apply("short-term+backstop", to: .standard)
        #expect(Set(layers.layers.keys) == ["short-term", "backstop"])
    }

    @Test("bad command values are refused before anything runs, naming the option", .enabled(if: BacktestFixtures.sharedDataPresent))
    func badValues() throws {
        let vix = BacktestFixtures.vixPath, spx = BacktestFixtures.spxPath
        let date = #expect(throws: BacktestError.self) { try BacktestRun.run(vix: vix, spx: spx, from: "2020-13-01") }
        #expect(date?.path == "--from")
        let order = #expect(throws: BacktestError.self) { try BacktestRun.run(vix: vix, spx: spx, from: "2020-01-01", to: "2019-01-01") }
        #expect(order?.path == "--to")
        let early = #expect(throws: BacktestError.self) { try BacktestRun.run(vix: vix, spx: spx, from: "1990-03-01") }
        #expect(early?.code == .notEnoughHistory)
        #expect(early?.reason.contains("first possible start") == true)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("alvh-bt-\(UUID().uuidString)")
        let html = folder.appendingPathComponent("no/such/folder/report.html").path
        let output = #expect(throws: BacktestError.self) { try BacktestRun.run(vix: vix, spx: spx, from: "2020-01-02", to: "2020-06-30", html: html) }
        #expect(output?.path == "-o")
        #expect(!FileManager.default.fileExists(atPath: html))
        let missing = #expect(throws: BacktestError.self) { try BacktestRun.run(vix: "/nonexistent/vix.csv", spx: spx) }
        #expect(missing?.code.rawValue == "file-unreadable")
    }
}

@Suite("Backtest verdicts")
struct VerdictTests {
    static func result(_ name: String, sharpe: Double, sortino: Double, drawdown: Double, cvar99: Double) -> StrategyResult {
        let p = Performance(from: "2020-01-02", to: "2020-12-31", years: 1, startEquity: 1, endEquity: 1, totalReturn: 0, cagr: 0, volatility: 0.1,
                            sharpe: sharpe, sortino: sortino, maxDrawdown: drawdown, maxDrawdownPeak: "2020-01-02", maxDrawdownTrough: "2020-01-02",
                            monthlyCVaR95: cvar99 / 2, monthlyCVaR99: cvar99, worstMonths: [], alpha: nil, beta: nil, months: 12)
        return StrategyResult(name: name, performance: p, pnlBySource: [:], condorsSold: 12, creditDollars: 1, hedgeBoughtDollars: 0.3,
                              hedgeCostShareOfCredit: 0.3, hedgeNetDollars: 0, proposalsApplied: 0, proposalsRefused: 0, proposalsByRule: [:],
                              heldByReason: [:], curve: [])
    }

    @Test("the outcome is decided on the figures: risk-adjusted return, and a drawdown and tail no worse with one better")
    func outcomes() {
        let base = Self.result("naked", sharpe: 0.8, sortino: 1.0, drawdown: 0.12, cvar99: -0.06)
        func outcome(_ sharpe: Double, _ sortino: Double, _ drawdown: Double, _ cvar99: Double) -> LayerVerdict.Outcome {
            ReportBuilder.verdict(base, Self.result("hedged", sharpe: sharpe, sortino: sortino, drawdown: drawdown, cvar99: cvar99)).outcome
        }
        #expect(outcome(0.9, 1.1, 0.10, -0.05) == .paysForItself)
        #expect(outcome(0.7, 0.9, 0.10, -0.05) == .buysProtection)
        // A better monthly tail does not make up for a deeper drawdown.
        #expect(outcome(0.7, 0.9, 0.26, -0.05) == .overkill)
        #expect(outcome(0.7, 0.9, 0.12, -0.06) == .overkill)
        #expect(outcome(0.9, 1.1, 0.14, -0.05) == .mixed)
        // Sharpe up but Sortino down is not a risk-adjusted gain.
        #expect(outcome(0.9, 0.9, 0.10, -0.05) == .buysProtection)
    }
}

@Suite("Backtest data: the shipped rate and release tables")
struct BacktestDataTests {
    @Test("the T-bill table parses strictly, month by month 1990-01 … 2026-06, and carries FRED's TB3MS values")
    func rates() throws {
        let table = try RateHistory.parse(Data(PackageResources.tbill_3m_csv), path: "tbill-3m.csv")
        #expect(table == RateHistory.shipped)
        #expect(table.months.count == 438)
        #expect(zip(table.months, table.months.dropFirst()).allSatisfy { $1.key == $0.key + 1 })
        #expect(table.percent(on: CalendarDay(year: 1990, month: 1, day: 15)) == 7.64)
        #expect(table.percent(on: CalendarDay(year: 2008, month: 10, day: 15)) == 0.67)
        #expect(table.percent(on: CalendarDay(year: 2020, month: 4, day: 1)) == 0.14)
        // Past the table: its last month.
        #expect(table.percent(on: CalendarDay(year: 2030, month: 1, day: 1)) == table.months.last!.percent)
        #expect(abs(table.rate(on: CalendarDay(year: 2008, month: 10, day: 15)) - log(1.0067)) < 1e-15)
        #expect(throws: BacktestError.self) { try RateHistory.parse(Data("month,rate_percent\n2008-13,1.0\n".utf8), path: "t.csv") }
        #expect(throws: BacktestError.self) { try RateHistory.parse(Data("month,rate_percent\n2008-02,1.0\n2008-01,1.0\n".utf8), path: "t.csv") }
    }

    @Test("the release table parses strictly: 255 scheduled FOMC statements from 1994, 239 CPI releases from 2006")
    func releases() throws {
        let table = try ReleaseHistory.parse(Data(PackageResources.releases_history_csv), path: "releases-history.csv")
        #expect(table == ReleaseHistory.shipped)
        #expect(table.releases.filter { $0.kind == "FOMC" }.count == 255)
        #expect(table.releases.filter { $0.kind == "CPI" }.count == 239)
        #expect(table.releases.first?.date == CalendarDay(year: 1994, month: 2, day: 4))
        // Both 2008-12-16 releases, each at its own time (CPI 08:30, FOMC 14:00 New York).
        let day = table.releases.filter { $0.date == CalendarDay(year: 2008, month: 12, day: 16) }
        #expect(day.map(\.kind) == ["CPI", "FOMC"])
        #expect(day.map { NewYorkTime.day(of: $0.instant) } == [day[0].date, day[0].date])
        let asOf = NewYorkTime.instant(CalendarDay(year: 2008, month: 12, day: 16), hour: 12, minute: 0)
        #expect(table.upcoming(after: asOf, within: 1).map(\.kind) == ["FOMC"])
        #expect(throws: BacktestError.self) { try ReleaseHistory.parse(Data("date,kind\n2008-12-16,GDP\n".utf8), path: "r.csv") }
    }
}
