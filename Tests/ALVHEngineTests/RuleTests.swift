import Foundation
import Testing
@testable import ALVHEngine

@Suite("ALVH rules")
struct RuleTests {
    static func book(adding layers: [HedgeLayer] = []) throws -> Book {
        var book = try Fixtures.book()
        book.layers += layers
        return book
    }

    static func layer(_ name: String, _ kind: HedgeLayer.Kind, expiry: String, strike: Double, quantity: Int, entry: Double, target: Double? = nil) -> HedgeLayer {
        HedgeLayer(name: name, kind: kind, positions: [Position(expiry: expiry, strike: strike, quantity: quantity, entryPrice: entry)], targetCoverageDollars: target)
    }

    @Test("coverage: a missing short-term layer is added, sized to meet its target in its design scenario")
    func coverageAdds() throws {
        let market = try Fixtures.snapshot("calm")
        let book = try Self.book()
        var uncapped = Strategy.standard
        uncapped.maxHedgeStressMultiple = 0  // the stress cap binds first with the standard strategy (below)
        let proposals = try Engine.propose(book: book, market: market, strategy: uncapped)
        let first = try #require(proposals.first)
        #expect(first.rule == "coverage")
        #expect(first.change.kind == .addLayer && first.change.layer == "short-term")
        // Recompute the claim: the new layer's P&L in the design scenario meets the target.
        let design = Strategy.standard.layers["short-term"]!
        let after = try book.applying(first.change)
        let pnl = try BookValuer(book: after, market: market).pnl(design.designScenario).byLayer["short-term"]!
        let target = design.targetCoverageFraction * book.condor.maxLossDollars
        #expect(pnl >= target, "layer P&L \(pnl) below target \(target)")
        #expect(first.costDollars > 0 && first.costDollars <= Strategy.standard.budgetFractionOfCredit * book.condor.creditDollars)
        #expect(first.rationale.contains { $0.name == "short-term-coverage" && $0.threshold == target })
        #expect(first.riskAfter.stressPnL["covid-2020"]! > first.riskBefore.stressPnL["covid-2020"]!)

        // With the standard cap the layer is cut to its share of it and says so.
        let capped = try #require(try Engine.propose(book: book, market: market).first { $0.change.layer == "short-term" })
        #expect(capped.rationale.contains { $0.name == "stress-cap-limited" })
        #expect(capped.change.trades[0].quantity < first.change.trades[0].quantity)
    }

    @Test("coverage: a layer that already meets its target is left alone")
    func coverageQuiet() throws {
        let market = try Fixtures.snapshot("calm")
        let book = try Self.book(adding: [Self.layer("short-term", .shortTerm, expiry: "2026-12-16", strike: 17, quantity: 300, entry: 0.8)])
        let proposals = try Engine.propose(book: book, market: market)
        #expect(!proposals.contains { $0.rule == "coverage" && $0.change.layer == "short-term" })
    }

    @Test("coverage: a tight budget sizes to the budget and says so")
    func budgetLimited() throws {
        var strategy = Strategy.standard
        strategy.budgetFractionOfCredit = 0.03 // $1,302 less the backstop's $1,050: $252 left
        let proposals = try Engine.propose(book: try Self.book(), market: try Fixtures.snapshot("calm"), strategy: strategy)
        let first = try #require(proposals.first)
        #expect(first.rationale.contains { $0.name == "budget-limited" })
        #expect(first.costDollars > 0 && first.costDollars <= 0.03 * 43400 - 1050 + 0.01)
        #expect(first.change.trades[0].quantity > 0)
    }

    @Test("event: 8 days before FOMC with no event layer → add one expiring after it; 21 days before → nothing")
    func event() throws {
        let shortTerm = Self.layer("short-term", .shortTerm, expiry: "2027-01-20", strike: 20, quantity: 100, entry: 0.5)
        let pre = try Engine.propose(book: try Self.book(adding: [shortTerm]), market: try Fixtures.snapshot("pre-fomc"))
        let event = try #require(pre.first { $0.rule == "event" })
        #expect(event.change.kind == .addLayer && event.change.layer == "event")
        #expect(event.change.trades.allSatisfy { $0.expiry >= "2026-12-09" })
        #expect(event.rationale.first?.name == "days-to-next-release" && event.rationale.first?.value == 8)

        let calm = try Engine.propose(book: try Self.book(adding: [shortTerm]), market: try Fixtures.snapshot("calm"))
        #expect(!calm.contains { $0.rule == "event" })

        let spanned = try Engine.propose(book: try Self.book(adding: [shortTerm, Self.layer("event", .event, expiry: "2026-12-16", strike: 19, quantity: 50, entry: 1)]),
                                         market: try Fixtures.snapshot("pre-fomc"))
        #expect(!spanned.contains { $0.rule == "event" })
    }

    @Test("take-profit: deep in the money in backwardation → sell half; not in contango, not when out of the money")
    func takeProfit() throws {
        let book = try Self.book(adding: [Self.layer("short-term", .shortTerm, expiry: "2026-12-16", strike: 17, quantity: 100, entry: 1.0)])
        let spike = try Engine.propose(book: book, market: try Fixtures.snapshot("spike"))
        let tp = try #require(spike.first)
        #expect(tp.rule == "take-profit")
        #expect(tp.change.kind == .closeLayer && tp.change.trades == [Trade(expiry: "2026-12-16", strike: 17, quantity: -50, price: tp.change.trades[0].price)])
        #expect(tp.costDollars < 0) // a credit
        #expect(tp.rationale.contains { $0.name == "vix-term-slope" && $0.value < 0 })

        var contango = try Fixtures.snapshot("spike")
        contango.vix.futures = contango.vix.futures.enumerated().map { .init(expiry: $1.expiry, price: 30 + Double($0)) }
        #expect(!(try Engine.propose(book: book, market: contango)).contains { $0.rule == "take-profit" })
        #expect(!(try Engine.propose(book: book, market: try Fixtures.snapshot("calm"))).contains { $0.rule == "take-profit" })
    }

    @Test("roll: a short-term layer 2 days from expiry rolls out to the next expiry in range; at 28 days it does not")
    func rollOnExpiry() throws {
        let book = try Self.book(adding: [Self.layer("short-term", .shortTerm, expiry: "2026-12-16", strike: 20, quantity: 100, entry: 0.9, target: 1)])
        var uncapped = Strategy.standard
        uncapped.maxHedgeStressMultiple = 0  // the budget alone binds here
        let recovery = try Engine.propose(book: book, market: try Fixtures.snapshot("recovery"), strategy: uncapped)
        let roll = try #require(recovery.first { $0.rule == "roll" })
        #expect(roll.change.kind == .rollLayer)
        #expect(roll.change.trades.count == 2)
        #expect(roll.change.trades[0] .quantity == -100 && roll.change.trades[0].expiry == "2026-12-16")
        // The new calls are charged in full against the budget (only the sold calls' $9,000 entry
        // premium is freed, never their sale proceeds): $15,190 − $1,050 (backstop) buys 63, not 100.
        #expect(roll.change.trades[1].expiry == "2027-01-20")
        #expect(roll.change.trades[1].quantity == 63)
        #expect(roll.rationale.contains { $0.name == "budget-limited" })
        let bought = Double(roll.change.trades[1].quantity) * (roll.change.trades[1].price * 100 + 1)
        #expect(bought <= 0.35 * 43_400 - 1050 && bought > 0.35 * 43_400 - 1050 - (roll.change.trades[1].price * 100 + 1))
        #expect(roll.rationale.first?.name == "days-to-expiry" && roll.rationale.first?.value == 2)
        #expect(!(try Engine.propose(book: book, market: try Fixtures.snapshot("calm"))).contains { $0.rule == "roll" })
    }

    @Test("roll: a bearish MACD crossover of SPX rolls the short-term layer early")
    func rollOnMACD() throws {
        let book = try Self.book(adding: [Self.layer("short-term", .shortTerm, expiry: "2026-12-16", strike: 20, quantity: 300, entry: 0.9, target: 1)])
        let wave = (0..<80).map { 6000 + 100 * sin(Double($0) / 5) }
        let day = try #require((30..<80).first { Indicators.macdBearishCrossover(Array(wave[0...$0])) })
        let history = DailyHistory(days: wave[0...day].enumerated().map { i, close in
            .init(date: EngineDate.format(EngineDate.parse("2026-08-01")!.addingTimeInterval(Double(i) * 86400)), open: close, high: close, low: close, close: close)
        })
        let withSignal = try Engine.propose(book: book, market: try Fixtures.snapshot("calm"), spxHistory: history)
        let roll = try #require(withSignal.first { $0.rule == "roll" })
        #expect(roll.rationale.first?.name == "spx-macd-bearish-crossover")
        let quiet = DailyHistory(days: Array(history.days.dropLast()))
        #expect(!(try Engine.propose(book: book, market: try Fixtures.snapshot("calm"), spxHistory: quiet)).contains { $0.rule == "roll" })
    }

    @Test("roll: a bearish MACD crossover of VIX rolls the short-term layer; history after the snapshot is not looked at; VIX percentile joins the rationale")
    func rollOnVIXMACD() throws {
        let book = try Self.book(adding: [Self.layer("short-term", .shortTerm, expiry: "2026-12-16", strike: 20, quantity: 300, entry: 0.9, target: 1)])
        let market = try Fixtures.snapshot("calm") // as of 2026-11-18
        let wave = (0..<80).map { (i: Int) -> Double in 20 + 4 * sin(Double(i) / 5) }
        let day = try #require((30..<80).first { Indicators.macdBearishCrossover(Array(wave[0...$0])) })
        // The crossover lands on 2026-11-18 exactly: the series ends there.
        let start = EngineDate.parse("2026-11-18")!.addingTimeInterval(-Double(day) * 86400)
        func history(_ count: Int) -> DailyHistory {
            DailyHistory(days: wave[0..<count].enumerated().map { i, close in
                .init(date: EngineDate.format(start.addingTimeInterval(Double(i) * 86400)), open: close, high: close, low: close, close: close)
            })
        }
        let proposals = try Engine.propose(book: book, market: market, vixHistory: history(day + 1))
        let roll = try #require(proposals.first { $0.rule == "roll" })
        #expect(roll.rationale.first?.name == "vix-macd-bearish-crossover")
        let percentile = try #require(roll.rationale.first { $0.name == "vix-percentile-1y" })
        #expect(abs(percentile.value - Indicators.percentile(Array(wave[0...day]), lookback: 252)!) < 1e-3) // readings are rounded to 4 decimals
        // Days after the snapshot (the crossover's aftermath) are ignored: the same proposals.
        let withFuture = try Engine.propose(book: book, market: market, vixHistory: history(80))
        #expect(withFuture.map(\.rationale) == proposals.map(\.rationale))
        // One day earlier there was no crossover yet.
        #expect(!(try Engine.propose(book: book, market: market, vixHistory: history(day))).contains { $0.rule == "roll" })
    }

    @Test("close: an event layer whose events have all passed is closed")
    func closeSpent() throws {
        let book = try Self.book(adding: [Self.layer("event", .event, expiry: "2026-12-16", strike: 19, quantity: 40, entry: 1.2)])
        let proposals = try Engine.propose(book: book, market: try Fixtures.snapshot("recovery"))
        let close = try #require(proposals.first { $0.rule == "close" })
        #expect(close.change.kind == .closeLayer && close.change.trades.first?.quantity == -40)
        #expect(try book.applying(close.change).layer(named: "event") == nil)
        #expect(!(try Engine.propose(book: book, market: try Fixtures.snapshot("pre-fomc"))).contains { $0.rule == "close" })
    }

    @Test("evaluate is deterministic, so an independent signer recomputes the same figures")
    func deterministic() throws {
        let market = try Fixtures.snapshot("calm")
        let book = try Self.book()
        let proposal = try #require(try Engine.propose(book: book, market: market).first)
        let again = try Engine.evaluate(book: book, change: proposal.change, market: market)
        #expect(again.before == proposal.riskBefore)
        #expect(again.after == proposal.riskAfter)
        #expect(again.costDollars == proposal.costDollars)
    }

    @Test("strategy YAML: defaults, overrides, and field-named errors")
    func strategyFile() throws {
        #expect(try Strategy.parse("") == Strategy.standard)
        let shipped = try Strategy.load(path: Fixtures.root.appendingPathComponent("Examples/strategy.yaml").path)
        #expect(shipped == Strategy.standard)
        #expect(try Strategy.parse("budget-fraction-of-credit: 0.1").budgetFractionOfCredit == 0.1)
        #expect { try Strategy.parse("budget-fraction-of-credit: lots", path: "s.yaml") } throws: { ($0 as? EngineError)?.path == "s.yaml: budget-fraction-of-credit" }
        #expect { try Strategy.parse("take-profit-close-fraction: 2", path: "s.yaml") } throws: { ($0 as? EngineError)?.path == "s.yaml: take-profit-close-fraction" }
    }
}
