import Foundation
import Testing
@testable import ALVHEngine

@Suite("Scenarios, stress, book")
struct StressAndBookTests {
    @Test("named historical stresses carry the closes of the shared CBOE VIX and S&P 500 files", .enabled(if: Fixtures.sharedDataPresent))
    func historicalNumbers() throws {
        let vix = try DailyHistory.load(path: Fixtures.shared.appendingPathComponent("vix-daily.csv").path)
        let spx = try DailyHistory.load(path: Fixtures.shared.appendingPathComponent("spx-daily.csv").path)
        for episode in HistoricalStress.episodes where !episode.hypothetical {
            #expect(spx.close(on: episode.from) == episode.spxFrom, "\(episode.name)")
            #expect(spx.close(on: episode.to) == episode.spxTo, "\(episode.name)")
            #expect(vix.close(on: episode.from) == episode.vixFrom, "\(episode.name)")
            #expect(vix.close(on: episode.to) == episode.vixTo, "\(episode.name)")
        }
        // Stored as changes, applied from the snapshot's own level as an instantaneous shock.
        let covid = try #require(HistoricalStress.scenarios.first { $0.name == "covid-2020" })
        #expect(covid.vixLevel == nil)
        #expect(abs(covid.vixLogChange! - log(82.69 / 14.38)) < 1e-12)
        #expect(abs(covid.spxMovePercent - (2386.13 / 3386.15 - 1) * 100) < 1e-9)
        #expect(covid.days == 0 && covid.horizonDays == 26)
    }

    @Test("the front VIX future moves most; a VIX call gains and the condor loses in a spike")
    func scenarioModel() throws {
        let market = try Fixtures.snapshot("calm")
        let model = ScenarioModel.standard
        let front = model.beta(days: market.years(to: "2026-12-16") * 365)
        let back = model.beta(days: market.years(to: "2027-05-18") * 365)
        #expect(front > back && front < 1 && back > 0)
        let book = try Fixtures.book()
        let valuer = try BookValuer(book: book, market: market)
        let spike = valuer.pnl(Scenario(name: "spike", spxMovePercent: -8, vixLevel: 35, days: 1))
        #expect(spike.byLayer["condor"]! < 0)
        #expect(spike.byLayer["backstop"]! > 0)
        let nothing = valuer.pnl(Scenario(name: "flat", spxMovePercent: 0, vixLevel: market.vix.spot, days: 0))
        #expect(abs(nothing.total) < 1e-6)
    }

    @Test("the grid agrees with single scenarios and is zero at the origin")
    func grid() throws {
        let market = try Fixtures.snapshot("calm")
        let valuer = try BookValuer(book: try Fixtures.book(), market: market)
        let grid = valuer.grid(spxMoves: [-10, 0], vixLevels: [market.vix.spot, 40])
        #expect(abs(grid[1][0]) < 1e-6)
        #expect(abs(grid[0][1] - valuer.pnl(Scenario(name: "x", spxMovePercent: -10, vixLevel: 40)).total) < 1e-6)
    }

    @Test("risk report: per-layer Greeks sum to the total; credit share and carry are filled in")
    func riskReport() throws {
        let book = try Fixtures.book()
        let report = try BookValuer(book: book, market: try Fixtures.snapshot("calm")).report(book: book, scenarios: Engine.reportScenarios)
        #expect(report.layers.map(\.name) == ["condor", "backstop"])
        #expect(abs(report.layers.map(\.greeks.vega).reduce(0, +) - report.total.vega) < 0.05)
        #expect(abs(report.layers[1].shareOfCredit - 1050.0 / 43400) < 1e-4)
        #expect(report.layers[0].greeks.theta > 0)    // the short condor earns carry
        #expect(report.layers[1].carryPerDay < 0)      // the hedge costs carry
        #expect(report.stressPnL.count == HistoricalStress.episodes.count)
        // One basis: the VIX layer has its SPX-equivalent gamma (no longer forced to 0) and a vol-of-vol vega.
        #expect(report.layers[1].greeks.gamma != 0)
        #expect(report.layers[1].greeks.volOfVolVega > 0)
        #expect(abs(report.layers.map(\.greeks.gamma).reduce(0, +) - report.total.gamma) < 0.0005)
        #expect(abs(report.layers.map(\.greeks.delta).reduce(0, +) - report.total.delta) < 0.05)
    }

    @Test("book changes: add, resize, roll, close; refusals for an existing add, a missing layer, an oversell")
    func bookChanges() throws {
        let book = try Fixtures.book()
        let added = try book.applying(LayerChange(kind: .addLayer, layer: "short-term", trades: [Trade(expiry: "2026-12-16", strike: 20, quantity: 10, price: 1.0)]))
        #expect(added.layer(named: "short-term")?.kind == .shortTerm)
        let resized = try added.applying(LayerChange(kind: .resizeLayer, layer: "short-term", trades: [Trade(expiry: "2026-12-16", strike: 20, quantity: 10, price: 2.0)]))
        #expect(resized.layer(named: "short-term")?.positions.first?.quantity == 20)
        #expect(resized.layer(named: "short-term")?.positions.first?.entryPrice == 1.5)
        let rolled = try resized.applying(LayerChange(kind: .rollLayer, layer: "short-term", trades: [
            Trade(expiry: "2026-12-16", strike: 20, quantity: -20, price: 3), Trade(expiry: "2027-01-20", strike: 21, quantity: 20, price: 2)]))
        #expect(rolled.layer(named: "short-term")?.positions.map(\.expiry) == ["2027-01-20"])
        let closed = try rolled.applying(LayerChange(kind: .closeLayer, layer: "short-term", trades: [Trade(expiry: "2027-01-20", strike: 21, quantity: -20, price: 2)]))
        #expect(closed.layer(named: "short-term") == nil)
        // Sold 20 at 3 bought at 1.5 on average, then 20 at 2 bought at 2: $3,000 realised.
        #expect(closed.realizedHedgeDollars == 3000)
        var unrealised = closed
        unrealised.realizedHedgeDollars = 0
        #expect(unrealised == book)

        #expect { try added.applying(LayerChange(kind: .addLayer, layer: "short-term", trades: [Trade(expiry: "2026-12-16", strike: 20, quantity: 1, price: 1)])) } throws: { ($0 as? EngineError)?.code == .invalidChange }
        #expect { try book.applying(LayerChange(kind: .resizeLayer, layer: "event", trades: [Trade(expiry: "2026-12-16", strike: 20, quantity: 1, price: 1)])) } throws: { ($0 as? EngineError)?.code == .invalidChange }
        #expect { try added.applying(LayerChange(kind: .closeLayer, layer: "short-term", trades: [Trade(expiry: "2026-12-16", strike: 20, quantity: -11, price: 1)])) } throws: { ($0 as? EngineError)?.reason.contains("long options only") == true }
    }

    @Test("snapshot validation names the field", arguments: [
        ("\"spot\": 6040.0", "\"spot\": -1", "spx.spot"),
        ("\"price\": 15.0", "\"price\": 0", "vix.futures[0].price"),
        ("\"expiry\": \"2026-12-16\",\n        \"price\"", "\"expiry\": \"2026-11-01\",\n        \"price\"", "vix.futures[0].expiry"),
        ("\"asOf\": \"2026-11-18T21:00:00Z\"", "\"asOf\": \"yesterday\"", "asOf"),
        ("\"kind\": \"FOMC\"", "\"kind\": \"NFP\"", "events[0].kind"),
        ("\"dividendYield\": 0.013", "\"dividendYield\": \"x\"", "spx.dividendYield"),
    ])
    func snapshotValidation(find: String, replace: String, field: String) throws {
        let path = Fixtures.root.appendingPathComponent("Examples/market/calm.json").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(find), "fixture text changed: \(find)")
        let broken = text.replacingOccurrences(of: find, with: replace)
        #expect { try MarketSnapshot.decode(Data(broken.utf8), path: "calm.json") } throws: { error in
            guard let error = error as? EngineError else { return false }
            return error.code == .invalidSnapshot && (error.path ?? "").hasSuffix(field)
        }
    }

    @Test("the shipped snapshots load, with futures and vols on every expiry", arguments: ["calm", "pre-fomc", "spike", "recovery"])
    func shippedSnapshots(name: String) throws {
        let market = try Fixtures.snapshot(name)
        #expect(market.vix.futures.count >= 4)
        for future in market.vix.futures { #expect(try market.vixFuture(expiry: future.expiry) == future.price) }
        #expect(market.spxVol(expiry: "2027-01-15", strike: 5700) > market.spxVol(expiry: "2027-01-15", strike: 6300)) // put skew
    }
}
