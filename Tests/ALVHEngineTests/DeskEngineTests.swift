import Foundation
import Testing
@testable import ALVHEngine

/// What a vol desk checks before it signs: settlement times, release times, the VIX smile, ticks
/// and costs, regime-relative stresses and the rules' budget, cap and signal guards.
@Suite("Desk engine")
struct DeskEngineTests {
    static func snapshot(_ name: String, asOf: String? = nil) throws -> MarketSnapshot {
        var market = try Fixtures.snapshot(name)
        if let asOf { market.asOf = asOf }
        return market
    }

    static func layer(_ name: String, _ kind: HedgeLayer.Kind, expiry: String, strike: Double, quantity: Int, entry: Double, target: Double? = nil) -> HedgeLayer {
        RuleTests.layer(name, kind, expiry: expiry, strike: strike, quantity: quantity, entry: entry, target: target)
    }

    // MARK: - Settlement and last trade

    @Test("time to expiry runs to the settlement instant: VIX at the Wednesday 09:30 New York SOQ, SPX monthly AM, SPX weekly PM")
    func settlementInstants() throws {
        let market = try Self.snapshot("calm")  // 2026-11-18T21:00:00Z = 16:00 New York
        // 2026-12-16 09:30 EST = 14:30Z: 27 days 17.5 hours after asOf.
        #expect(abs(market.years(to: "2026-12-16") - (27 * 24 + 17.5) / (365 * 24)) < 1e-12)
        // SPX January monthly (third Friday 2027-01-15) is AM-settled: 09:30 EST = 14:30Z.
        #expect(abs(market.spxYears(to: "2027-01-15") - (57 * 24 + 17.5) / (365 * 24)) < 1e-12)
        // A Thursday SPXW settles at the 16:00 close: 21:00Z.
        #expect(abs(market.spxYears(to: "2027-01-14") - (56 * 24 + 24) / (365 * 24)) < 1e-12)
        // Summer time: 09:30 EDT is 13:30Z (2027-06-16 is the June VIX expiry).
        let summer = ExchangeCalendar.settlementInstant(.vixOption, expiry: CalendarDay("2027-06-16")!)
        #expect(EngineDate.formatInstant(summer) == "2027-06-16T13:30:00Z")
    }

    @Test("an option past its last trade cannot be traded: the Tuesday close before the Wednesday settlement")
    func lastTrade() throws {
        let book = try Fixtures.book()
        let change = LayerChange(kind: .addLayer, layer: "short-term", trades: [Trade(expiry: "2026-12-16", strike: 20, quantity: 1, price: 0.5)])
        // 15:59 New York on Tuesday 2026-12-15: still trading (the close is 16:15).
        _ = try Engine.evaluate(book: book, change: change, market: try Self.snapshot("recovery", asOf: "2026-12-15T20:59:00Z"))
        // 16:30 New York: stopped.
        #expect { try Engine.evaluate(book: book, change: change, market: try Self.snapshot("recovery", asOf: "2026-12-15T21:30:00Z")) } throws: { error in
            let e = error as? EngineError
            return e?.code == .invalidChange && e?.path == "change.legs[0].expiry" && e?.reason.contains("stopped trading") == true
        }
        // The rules never sell an option that stopped trading: the short-term layer on 2026-12-16 is
        // left to settle, and the roll buys nothing of it.
        let held = try RuleTests.book(adding: [Self.layer("short-term", .shortTerm, expiry: "2026-12-16", strike: 20, quantity: 10, entry: 0.9, target: 1)])
        let proposals = try Engine.propose(book: held, market: try Self.snapshot("recovery", asOf: "2026-12-15T21:30:00Z"))
        #expect(!proposals.flatMap(\.change.trades).contains { $0.expiry == "2026-12-16" })
    }

    @Test("a snapshot's expiries are checked against the exchange calendar, naming the right date")
    func snapshotExpiriesChecked() throws {
        let path = Fixtures.root.appendingPathComponent("Examples/market/calm.json").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let wrongVIX = text.replacingOccurrences(of: "\"expiry\": \"2026-12-16\",\n        \"price\": 15.0", with: "\"expiry\": \"2026-12-18\",\n        \"price\": 15.0")
        #expect(wrongVIX != text)
        #expect { try MarketSnapshot.decode(Data(wrongVIX.utf8), path: "calm.json") } throws: { error in
            let e = error as? EngineError
            return e?.path == "calm.json: vix.futures[0].expiry" && e?.reason.contains("2026-12-16") == true
        }
        let settled = text.replacingOccurrences(of: "\"asOf\": \"2026-11-18T21:00:00Z\"", with: "\"asOf\": \"2026-12-16T15:00:00Z\"")
        #expect(settled != text)
        #expect { try MarketSnapshot.decode(Data(settled.utf8), path: "calm.json") } throws: { error in
            (error as? EngineError)?.path == "calm.json: vix.futures[0].expiry"
        }
    }

    // MARK: - Release times

    @Test("a CPI out at 08:30 is no longer upcoming at the 16:00 close; an FOMC at 14:00 on a VIX expiry Wednesday is spanned only by a later expiry")
    func releaseTimes() throws {
        // The spike snapshot is the 16:00 close of 2026-12-10, the day its CPI came out at 08:30.
        let spike = try Self.snapshot("spike")
        #expect(!spike.upcomingReleases(kinds: ["CPI"]).contains { $0.date == "2026-12-10" })
        let morning = try Self.snapshot("spike", asOf: "2026-12-10T13:00:00Z")  // 08:00 New York
        #expect(morning.nextRelease(kinds: ["CPI"])?.date == "2026-12-10")

        // An FOMC statement at 14:00 on Wednesday 2026-12-16, the December VIX expiry: the
        // December options settle at 09:30 that morning, before it; the layer goes to January.
        // (After the shipped 2026-12-09 FOMC, so the next FOMC is this one.)
        var market = try Self.snapshot("pre-fomc", asOf: "2026-12-10T21:00:00Z")
        market.events = [.init(date: "2026-12-16", kind: "FOMC", name: "FOMC on expiry day")]
        #expect(market.nextRelease(kinds: ["FOMC"])?.date == "2026-12-16")
        var strategy = Strategy.standard
        strategy.eventKinds = ["FOMC"]
        strategy.layers["event"]!.minExpiryDays = 0
        let shortTerm = Self.layer("short-term", .shortTerm, expiry: "2027-01-20", strike: 20, quantity: 100, entry: 0.5)
        let proposals = try Engine.propose(book: try RuleTests.book(adding: [shortTerm]), market: market, strategy: strategy)
        let event = try #require(proposals.first { $0.rule == "event" })
        #expect(event.change.trades.allSatisfy { $0.expiry == "2027-01-20" })

        // A release time that falls on another New York day than the event's date is refused.
        let path = Fixtures.root.appendingPathComponent("Examples/market/calm.json").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let bad = text.replacingOccurrences(of: "\"name\": \"December FOMC decision\"", with: "\"name\": \"December FOMC decision\", \"time\": \"2026-12-10T15:00:00Z\"")
        #expect(bad != text)
        #expect { try MarketSnapshot.decode(Data(bad.utf8), path: "calm.json") } throws: { ($0 as? EngineError)?.path == "calm.json: events[0].time" }
    }

    @Test("the shipped calendar's FOMC statements are upcoming releases of every snapshot")
    func shippedReleases() throws {
        var market = try Self.snapshot("calm")
        market.events = []
        let next = try #require(market.nextRelease(kinds: ["FOMC"]))
        #expect(next.date == "2026-12-09" && next.source == .shipped && next.projections)
        #expect(EngineDate.formatInstant(next.instant) == "2026-12-09T19:00:00Z")
    }

    // MARK: - VIX smile, ticks and costs

    @Test("VIX calls have an upward skew: an ATM-only expiry gets the documented default; given points are used as they are")
    func vixSkew() throws {
        let market = try Self.snapshot("calm")
        let future = try market.vixFuture(expiry: "2027-01-20")
        let atm = market.vixOptionVol(expiry: "2027-01-20", strike: future)
        #expect(abs(atm - 0.80) < 1e-12)
        let otm = market.vixOptionVol(expiry: "2027-01-20", strike: 30)
        #expect(abs(otm - 0.80 * (1 + log(30 / future))) < 1e-12)
        #expect(market.vixOptionVol(expiry: "2027-01-20", strike: 12) < atm)
        var quoted = market
        quoted.vix.optionVols[1] = .init(expiry: "2027-01-20", points: [.init(strike: 15, vol: 0.7), .init(strike: 30, vol: 1.4)])
        #expect(abs(quoted.vixOptionVol(expiry: "2027-01-20", strike: 30) - 1.4) < 1e-12)
    }

    @Test("limit prices sit on the tick grid at the half-spread from mid; costs are what a fill costs, commissions included")
    func ticksAndCosts() throws {
        let market = try Self.snapshot("calm")
        for strike in stride(from: 14.0, through: 40, by: 1) {
            let mid = try Engine.vixMid(market: market, expiry: "2027-01-20", strike: strike)
            let buy = try Engine.vixLimitPrice(market: market, expiry: "2027-01-20", strike: strike, buying: true)
            let sell = try Engine.vixLimitPrice(market: market, expiry: "2027-01-20", strike: strike, buying: false)
            #expect(TickSchedule.isOnGrid(.vix, price: buy) && TickSchedule.isOnGrid(.vix, price: sell), "\(strike): \(buy) \(sell)")
            #expect(buy >= mid + market.costs.halfSpread(mid: mid) - 1e-12)
            #expect(sell <= max(TickSchedule.tick(.vix, price: sell), mid - market.costs.halfSpread(mid: mid)) + 1e-12)
        }
        let change = LayerChange(kind: .addLayer, layer: "short-term", trades: [Trade(expiry: "2027-01-20", strike: 20, quantity: 10, price: 1.25)])
        #expect(Engine.cost(of: change, market: market) == 1250 + 10 * Execution.standard.commissionPerContract)
        var dear = market
        dear.execution = Execution(commissionPerContract: 2.5, halfSpreadPoints: 0.05, halfSpreadFraction: 0.05)
        #expect(Engine.cost(of: change, market: dear) == 1250 + 25)
    }

    @Test("the rules buy no lottery tickets: every bought leg is on the grid, at or above the minimum price, sized in the hundreds at most")
    func noLotteryTickets() throws {
        for name in ["calm", "pre-fomc", "spike", "recovery"] {
            for proposal in try Engine.propose(book: try Fixtures.book(), market: try Fixtures.snapshot(name)) {
                for trade in proposal.change.trades {
                    #expect(TickSchedule.isOnGrid(.vix, price: trade.price), "\(name) \(proposal.rule) \(trade)")
                    if trade.quantity > 0 {
                        #expect(trade.price >= Strategy.standard.minLimitPrice, "\(name) \(proposal.rule) \(trade)")
                        #expect(trade.quantity < 500, "\(name) \(proposal.rule) \(trade)")
                    }
                }
            }
        }
    }

    // MARK: - Regime-relative stresses

    @Test("stresses are changes applied from the snapshot's own VIX: never a fall in an episode where VIX rose, capped at the history's extremes",
          arguments: [9.5, 13.6, 20.0, 38.5, 60.0, 85.0])
    func regimeRelative(startVIX: Double) throws {
        let model = ScenarioModel.standard
        for scenario in HistoricalStress.scenarios {
            let after = scenario.vixAfter(spot: startVIX, model: model)
            #expect(after >= startVIX, "\(scenario.name) from \(startVIX) → \(after)")
            #expect(after <= max(startVIX, StressCalibration.maxVIXClose.value) + 1e-9, "\(scenario.name)")
            if scenario.hypothetical != true {
                let horizon = scenario.horizonDays ?? 0
                #expect(after - startVIX <= StressCalibration.maxPointsRise(days: horizon) + 1e-9, "\(scenario.name)")
            }
        }
        // From calm, the 4-day volmageddon is no longer +24 points regardless of the start.
        let volmageddon = try #require(HistoricalStress.scenarios.first { $0.name == "volmageddon-2018" })
        #expect(abs(volmageddon.vixAfter(spot: 13.6, model: model) - min(13.6 * 37.32 / 13.47, 13.6 + StressCalibration.maxPointsRise(days: 4),
                                                                          13.6 * exp(StressCalibration.maxLogRise(days: 4)))) < 1e-9)
    }

    @Test("long VIX calls gain in every named stress from every regime; the condor loses", arguments: ["calm", "pre-fomc", "spike", "recovery"])
    func longCallsGain(name: String) throws {
        let market = try Fixtures.snapshot(name)
        var book = try Fixtures.book()
        book.layers = [HedgeLayer(name: "all", kind: .backstop, positions: market.vix.futures.flatMap { future in
            [0.0, 5, 15].map { Position(expiry: future.expiry, strike: (future.price + $0).rounded(), quantity: 10, entryPrice: 1) }
        })]
        let valuer = try BookValuer(book: book, market: market)
        for scenario in HistoricalStress.scenarios {
            let result = valuer.pnl(scenario)
            #expect(result.byLayer["all"]! > 0, "\(name) \(scenario.name): \(result.byLayer["all"]!)")
            #expect(result.byLayer["condor"]! < 0, "\(name) \(scenario.name)")
        }
    }

    @Test("crash-state term structure: a VIX spike to crash levels moves the 4-month future far less than exp(−T/120) says")
    func crashTermStructure() throws {
        let model = ScenarioModel.standard
        #expect(model.futuresResponse(days: 30, vixAfter: 20) == model.beta(days: 30))
        let crash30 = model.futuresResponse(days: 30, vixAfter: 70)
        #expect(abs(crash30 - StressCalibration.persistence(days: 30, vixAfterShock: 70)) < 1e-12)
        #expect(abs(crash30 - 0.34) < 0.05)
        #expect(model.futuresResponse(days: 60, vixAfter: 70) < 0.4 * model.beta(days: 60))
        #expect(model.futuresResponse(days: 120, vixAfter: 70) < 0.6 * model.beta(days: 120))
        // Between the calm and crash states the response blends.
        let mid = model.futuresResponse(days: 60, vixAfter: 37.5)
        #expect(abs(mid - (model.beta(days: 60) + StressCalibration.persistence(days: 60, vixAfterShock: 70)) / 2) < 1e-12)
    }

    @Test("sticky moneyness moves the SPX smile with spot; the SPX vol response falls with tenor")
    func smileDynamics() throws {
        let market = try Self.snapshot("calm")
        let book = try Fixtures.book()
        let down = Scenario(name: "down", spxMovePercent: -8, vixLevel: market.vix.spot, days: 0)
        let strike = try BookValuer(book: book, market: market, model: ScenarioModel()).pnl(down).byLayer["condor"]!
        let moneyness = try BookValuer(book: book, market: market, model: ScenarioModel(spxSmile: .stickyMoneyness)).pnl(down).byLayer["condor"]!
        #expect(strike != moneyness)
        // With no move the two agree.
        let flat = Scenario(name: "flat", spxMovePercent: 0, vixLevel: market.vix.spot + 5, days: 0)
        #expect(try BookValuer(book: book, market: market, model: ScenarioModel()).pnl(flat).total
                == (try BookValuer(book: book, market: market, model: ScenarioModel(spxSmile: .stickyMoneyness)).pnl(flat).total))
        let model = ScenarioModel.standard
        #expect(model.spxVolTenorFactor(days: 30) == 1 && model.spxVolTenorFactor(days: 10) == 1)
        #expect(abs(model.spxVolTenorFactor(days: 120) - 0.5) < 1e-12)
    }

    // MARK: - Rule discipline

    @Test("the stress cap: no proposal leaves the hedge making more than 2 × the condor's max loss in any named stress; a tight cap cuts the size and says so")
    func stressCap() throws {
        for name in ["calm", "pre-fomc", "spike", "recovery"] {
            let market = try Fixtures.snapshot(name)
            let book = try Fixtures.book()
            for proposal in try Engine.propose(book: book, market: market) {
                for (scenario, byLayer) in proposal.riskAfter.stressByLayer {
                    let hedge = byLayer.filter { $0.key != "condor" }.values.reduce(0, +)
                    let before = proposal.riskBefore.stressByLayer[scenario]!.filter { $0.key != "condor" }.values.reduce(0, +)
                    #expect(hedge <= max(before, 2 * book.condor.maxLossDollars) + 0.01, "\(name) \(proposal.rule) \(scenario): \(hedge)")
                }
            }
        }
        var strategy = Strategy.standard
        strategy.maxHedgeStressMultiple = 0.3
        let market = try Fixtures.snapshot("calm")
        let book = try Fixtures.book()
        let capped = try #require(try Engine.propose(book: book, market: market, strategy: strategy).first { $0.rule == "coverage" })
        #expect(capped.rationale.contains { $0.name == "stress-cap-limited" })
        for (_, byLayer) in capped.riskAfter.stressByLayer {
            #expect(byLayer.filter { $0.key != "condor" }.values.reduce(0, +) <= 0.3 * book.condor.maxLossDollars + 0.01)
        }
    }

    @Test("rolls in backwardation go up and out of the money; with no budget left they close instead")
    func backwardationRoll() throws {
        // The spike: an in-the-money short-term 17C 5 days from expiry.
        let held = Self.layer("short-term", .shortTerm, expiry: "2026-12-16", strike: 17, quantity: 40, entry: 0.6, target: 1)
        let spike = try Fixtures.snapshot("spike")
        var strategy = Strategy.standard
        strategy.takeProfitIntrinsicMultiple = 1000  // leave the roll alone
        let roll = try #require(try Engine.propose(book: try RuleTests.book(adding: [held]), market: spike, strategy: strategy).first { $0.rule == "roll" })
        let newFuture = try spike.vixFuture(expiry: "2027-01-20")
        for buy in roll.change.trades where buy.quantity > 0 {
            #expect(buy.expiry == "2027-01-20" && buy.strike >= newFuture + strategy.rollOTMPoints, "\(buy)")
        }
        // Moneyness kept would have bought the 13C in the money (17 − 34 + 29.5 = 12.5): not any more.
        #expect(!roll.change.trades.contains { $0.quantity > 0 && $0.strike < newFuture })

        strategy.budgetFractionOfCredit = 0
        let closing = try #require(try Engine.propose(book: try RuleTests.book(adding: [held]), market: spike, strategy: strategy).first { $0.rule == "roll" })
        #expect(closing.change.kind == .closeLayer && closing.change.trades.allSatisfy { $0.quantity < 0 })
        #expect(closing.summary.contains("instead of rolling"))
    }

    @Test("realised take-profits are credited back to the budget; every buy is charged gross")
    func budgetCredits() throws {
        var strategy = Strategy.standard
        strategy.budgetFractionOfCredit = 0.03  // $1,302 less the backstop's $1,050
        let market = try Fixtures.snapshot("calm")
        var book = try Fixtures.book()
        let small = try #require(try Engine.propose(book: book, market: market, strategy: strategy).first { $0.rule == "coverage" })
        book.realizedHedgeDollars = 5000
        let credited = try #require(try Engine.propose(book: book, market: market, strategy: strategy).first { $0.rule == "coverage" })
        #expect(credited.change.trades[0].quantity > small.change.trades[0].quantity)
        #expect(credited.costDollars <= 0.03 * 43_400 - 1050 + 5000 + 0.01)
        // A loss realised is not a credit.
        book.realizedHedgeDollars = -5000
        let debited = try #require(try Engine.propose(book: book, market: market, strategy: strategy).first { $0.rule == "coverage" })
        #expect(debited.change.trades[0].quantity == small.change.trades[0].quantity)
    }

    @Test("RSI: no new short-term layer bought into an oversold SPX sell-off")
    func rsiGuard() throws {
        let market = try Fixtures.snapshot("calm")
        func history(_ closes: [Double]) -> DailyHistory {
            DailyHistory(days: closes.enumerated().map { i, close in
                .init(date: EngineDate.format(EngineDate.parse("2026-09-01")!.addingTimeInterval(Double(i) * 86400)), open: close, high: close, low: close, close: close)
            })
        }
        let falling = history((0..<40).map { 6600 - 15 * Double($0) })
        let rising = history((0..<40).map { 5900 + 4 * Double($0) + 10 * sin(Double($0)) })
        #expect((Indicators.rsi(falling.closes).last ?? nil)! < 30)
        let held = try Engine.run(book: try Fixtures.book(), market: market, spxHistory: falling)
        #expect(!held.proposals.contains { $0.rule == "coverage" && $0.change.layer == "short-term" })
        #expect(held.held.contains { if case .oversoldSPX(let rsi, 30) = $0.reason { return $0.layer == "short-term" && rsi < 30 }; return false })
        let bought = try Engine.propose(book: try Fixtures.book(), market: market, spxHistory: rising)
        let coverage = try #require(bought.first { $0.rule == "coverage" && $0.change.layer == "short-term" })
        #expect(coverage.rationale.contains { $0.name == "spx-rsi-14" && $0.value >= 30 })
    }

    @Test("trim: a hedge over the stress cap sells the calls that make the most in the worst stress, back to the layer's share")
    func trimOverCap() throws {
        let market = try Fixtures.snapshot("calm")
        let big = Self.layer("short-term", .shortTerm, expiry: "2026-12-16", strike: 15, quantity: 400, entry: 0.9)
        let book = try RuleTests.book(adding: [big])
        let cap = 2 * book.condor.maxLossDollars
        let before = try BookValuer(book: book, market: market)
        let worst = HistoricalStress.scenarios.max { a, b in
            before.pnl(a).byLayer.filter { $0.key != "condor" }.values.reduce(0, +) < before.pnl(b).byLayer.filter { $0.key != "condor" }.values.reduce(0, +)
        }!
        #expect(before.pnl(worst).byLayer["short-term"]! > cap * 1.1)
        let trim = try #require(try Engine.propose(book: book, market: market).first { $0.rule == "trim" })
        #expect(trim.change.layer == "short-term" && trim.change.kind == .resizeLayer && trim.change.trades.allSatisfy { $0.quantity < 0 })
        #expect(trim.rationale.contains { $0.name == "hedge-stress-pnl" && $0.threshold == cap })
        let share = cap * 0.35 / (0.35 + 0.15 + 0.5)
        let after = try BookValuer(book: try book.applying(trim.change), market: market).pnl(worst).byLayer["short-term"]!
        #expect(after <= share + 1 && after > share * 0.9, "\(after) against its share \(share)")
        // Within the tolerance nothing is trimmed.
        var loose = Strategy.standard
        loose.trimToleranceFraction = 10
        #expect(!(try Engine.propose(book: book, market: market, strategy: loose)).contains { $0.rule == "trim" })
    }

    @Test("held rules say why, as typed reasons: the budget spent, the cap reached, SPX oversold")
    func heldReasons() throws {
        let market = try Fixtures.snapshot("calm")
        var broke = Strategy.standard
        broke.budgetFractionOfCredit = 0
        let spent = try Engine.run(book: try Fixtures.book(), market: market, strategy: broke)
        #expect(spent.proposals.allSatisfy { $0.rule != "coverage" })
        #expect(spent.held.contains { $0.rule == "coverage" && $0.layer == "short-term" && { if case .budgetSpent = $0.reason { return true }; return false }($0) })
        let full = try RuleTests.book(adding: [Self.layer("short-term", .shortTerm, expiry: "2026-12-16", strike: 15, quantity: 60, entry: 0.9, target: 200_000)])
        let capped = try Engine.run(book: full, market: market)
        let held = try #require(capped.held.first { $0.layer == "short-term" })
        guard case let .stressCap(scenario, hedge, limit) = held.reason else { Issue.record("\(held)"); return }
        #expect(hedge >= limit - 1 && HistoricalStress.episodes.contains { $0.name == scenario })
        #expect(held.description.contains("held — it already makes"))
    }

    @Test("regressions (FuzzSnapshot): an absurd VIX future and a snapshot without VIX option vols are refused naming the field; the tick grid never traps on a price out of range")
    func absurdPrices() throws {
        let path = Fixtures.root.appendingPathComponent("Examples/market/spike.json").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let huge = text.replacingOccurrences(of: "\"price\": 24.6", with: "\"price\": 247777777777777777777777777.6")
        #expect(huge != text)
        #expect { try MarketSnapshot.decode(Data(huge.utf8), path: "spike.json") } throws: { error in
            let e = error as? EngineError
            return e?.path == "spike.json: vix.futures[4].price" && e?.reason.contains("at most 1000") == true
        }
        for price in [2.5e26, -2.5e26, .infinity, -.infinity, .nan, 9.3e12] {
            let up = TickSchedule.roundUp(.vix, price: price), down = TickSchedule.roundDown(.vix, price: price)
            #expect(up.isNaN == price.isNaN && down.isNaN == price.isNaN)
            #expect(!TickSchedule.isOnGrid(.vix, price: price))
            #expect(TickSchedule.tick(.vix, price: price) == 0.05)
        }
        // No VIX option vols at all: nothing to price the hedge layers with (vol 0 made every mid NaN).
        var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var vix = try #require(object["vix"] as? [String: Any])
        vix["optionVols"] = [Any]()
        object["vix"] = vix
        #expect { try MarketSnapshot.decode(try JSONSerialization.data(withJSONObject: object), path: "spike.json") } throws: {
            ($0 as? EngineError)?.path == "spike.json: vix.optionVols"
        }
        // A snapshot built in code, never validated: a price out of range comes back as it is, not a trap.
        var unchecked = try Fixtures.snapshot("spike")
        unchecked.vix.futures[4].price = 2.5e26
        let limit = try Engine.vixLimitPrice(market: unchecked, expiry: "2027-04-21", strike: 30, buying: true)
        #expect(limit > Trade.maxPrice)
    }

    @Test("a hedge buys only calls its design scenario puts in the money: far backstop strikes are held, not bought for their vol")
    func inTheMoneyInDesign() throws {
        let book = Book(condor: try Fixtures.book().condor)
        for name in ["calm", "pre-fomc", "spike", "recovery"] {
            let market = try Fixtures.snapshot(name)
            let valuer = try BookValuer(book: book, market: market)
            for proposal in try Engine.propose(book: book, market: market) where proposal.rule == "coverage" || proposal.rule == "event" {
                let design = Strategy.standard.layers[proposal.change.layer]!
                let shock = valuer.shock(design.designScenario)
                for buy in proposal.change.trades where buy.quantity > 0 {
                    let after = try market.vixFuture(expiry: buy.expiry)
                        + shock.vixMove * ScenarioModel.standard.futuresResponse(days: market.years(to: buy.expiry) * 365, vixAfter: shock.vixAfter)
                    #expect(buy.strike < after, "\(name) \(proposal.change.layer): \(buy.strike) vs future after \(after)")
                }
            }
        }
        // The old backstop offsets, 10–25 points: in the crash design the May future rises ~7, so none qualifies.
        var old = Strategy.standard
        old.layers["backstop"]!.strikeOffsets = [10, 15, 20, 25]
        let run = try Engine.run(book: book, market: try Fixtures.snapshot("calm"), strategy: old)
        #expect(!run.proposals.contains { $0.change.layer == "backstop" })
        #expect(run.held.contains { $0.layer == "backstop" && $0.reason == .noCandidate(minLimitPrice: 0.10) })
    }
}
