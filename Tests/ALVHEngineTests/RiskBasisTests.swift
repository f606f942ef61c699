import Foundation
import Testing
@testable import ALVHEngine

@Suite("Risk basis, contributions, attribution")
struct RiskBasisTests {
    static let snapshots = ["calm", "pre-fomc", "spike", "recovery"]

    /// The shipped book split in two: the condor alone, and the VIX layers alone (a condor of size 0).
    static func split() throws -> (book: Book, condorOnly: Book, layersOnly: Book) {
        let book = try Fixtures.book()
        var empty = book.condor
        empty.quantity = 0
        return (book, Book(condor: book.condor), Book(condor: empty, layers: book.layers))
    }

    @Test("one basis: the condor-only and VIX-only books' Greeks sum to the combined book's", arguments: snapshots)
    func greeksAdd(snapshot: String) throws {
        let market = try Fixtures.snapshot(snapshot)
        let (book, condorOnly, layersOnly) = try Self.split()
        let all = try BookValuer(book: book, market: market).layerGreeks()
        let a = try BookValuer(book: condorOnly, market: market).layerGreeks()
        let b = try BookValuer(book: layersOnly, market: market).layerGreeks()
        #expect(all["condor"] == a["condor"])
        #expect(all["backstop"] == b["backstop"])
        #expect(b["condor"]?.delta == 0)
        let reports = try [book, condorOnly, layersOnly].map { try BookValuer(book: $0, market: market).report(book: $0, scenarios: []) }
        #expect(abs(reports[1].total.delta + reports[2].total.delta - reports[0].total.delta) <= 0.011)
        #expect(abs(reports[1].total.gamma + reports[2].total.gamma - reports[0].total.gamma) <= 0.00011)
        #expect(abs(reports[1].total.vega + reports[2].total.vega - reports[0].total.vega) <= 0.011)
        #expect(reports[0].basis.contains("along the model path"))
    }

    @Test("the condor's delta and gamma are a bump-and-reprice along the model's path (SPX ±0.1 %, VIX ∓0.1)", arguments: snapshots)
    func condorAlongPath(snapshot: String) throws {
        let market = try Fixtures.snapshot(snapshot)
        let (_, condorOnly, _) = try Self.split()
        let valuer = try BookValuer(book: condorOnly, market: market)
        let g = try #require(valuer.layerGreeks()["condor"])
        let up = valuer.pnl(Scenario(name: "up", spxMovePercent: 0.1)).total
        let down = valuer.pnl(Scenario(name: "down", spxMovePercent: -0.1)).total
        let dS = 0.001 * market.spx.spot
        #expect(abs((up - down) / (2 * dS) - g.delta) < 1e-6)
        #expect(abs((up + down) / (dS * dS) - g.gamma) < 1e-8)
        // Not the fixed-vol delta: the path moves the SPX vols too.
        let fixedVol = valuer.legs.reduce(0) { $0 + valuer.value($1, nil).delta }
        #expect(abs(fixedVol - g.delta) > 1)
    }

    @Test("the 0.1 % step agrees with a 0.01 % step (delta, gamma, vega); 0.5 % would not", arguments: snapshots)
    func stepSize(snapshot: String) throws {
        let valuer = try BookValuer(book: try Fixtures.book(), market: try Fixtures.snapshot(snapshot))
        let coarse = valuer.layerGreeks()
        let fine = valuer.layerGreeks(spotStep: 0.0001, vixStep: 0.01)
        for name in ["condor", "backstop"] {
            let c = try #require(coarse[name]), f = try #require(fine[name])
            #expect(abs(c.delta - f.delta) <= 0.002 * abs(f.delta) + 0.03, "\(name) delta \(c.delta) vs \(f.delta)")
            #expect(abs(c.gamma - f.gamma) <= 0.001 * abs(f.gamma) + 1e-4, "\(name) gamma \(c.gamma) vs \(f.gamma)")
            #expect(abs(c.vega - f.vega) <= 0.001 * abs(f.vega) + 0.01, "\(name) vega \(c.vega) vs \(f.vega)")
        }
        if snapshot == "calm" {  // the 0.5 % step's truncation error on a near-neutral condor: ~2 % of its delta
            let wide = try #require(valuer.layerGreeks(spotStep: 0.005, vixStep: 0.5)["condor"]), f = try #require(fine["condor"])
            #expect(abs(wide.delta - f.delta) > 0.01 * abs(f.delta))
        }
    }

    @Test("a VIX layer's gamma is its model SPX-equivalent gamma: non-zero, a second difference of its P&L along the path", arguments: snapshots)
    func vixLayerGamma(snapshot: String) throws {
        let market = try Fixtures.snapshot(snapshot)
        let valuer = try BookValuer(book: try Fixtures.book(), market: market)
        let g = try #require(valuer.layerGreeks()["backstop"])
        #expect(g.gamma != 0)
        let h = 0.25
        let up = valuer.pnl(Scenario(name: "up", spxMovePercent: h)).byLayer["backstop"]!
        let down = valuer.pnl(Scenario(name: "down", spxMovePercent: -h)).byLayer["backstop"]!
        let dS = h / 100 * market.spx.spot
        let fd = (up + down) / (dS * dS)
        #expect(abs(fd - g.gamma) <= 0.02 * abs(g.gamma) + 1e-6, "fd \(fd) vs \(g.gamma)")
        #expect(abs((up - down) / (2 * dS) - g.delta) <= 0.01 * abs(g.delta) + 0.01)
    }

    @Test("vega is $ per VIX point: the condor's is its BSM vega × spxVolPerVixPoint × its tenor factor; a VIX layer's is Black-76 delta × β plus vol-of-vol response")
    func vega() throws {
        let market = try Fixtures.snapshot("calm")
        let model = ScenarioModel.standard
        let valuer = try BookValuer(book: try Fixtures.book(), market: market)
        let greeks = valuer.layerGreeks()
        var condor = 0.0, layer = 0.0
        for leg in valuer.legs {
            let v = valuer.value(leg, nil)
            if leg.model == .bsm { condor += v.vega * model.spxVolPerVixPoint * leg.spxVolResponse }
            else { layer += v.delta * leg.beta + v.vega * model.vixVolPerVixPoint * 100 }
        }
        #expect(abs(greeks["condor"]!.vega - condor) <= 0.005 * abs(condor) + 0.01)
        #expect(abs(greeks["backstop"]!.vega - layer) <= 0.005 * abs(layer) + 0.01)
        #expect(greeks["backstop"]!.vega > 0 && greeks["condor"]!.vega < 0)
    }

    @Test("volOfVolVega is the Black-76 vega × multiplier × quantity; 0 for the condor", arguments: snapshots)
    func volOfVolVega(snapshot: String) throws {
        let market = try Fixtures.snapshot(snapshot)
        let book = try Fixtures.book()
        let report = try BookValuer(book: book, market: market).report(book: book, scenarios: [])
        let p = try #require(book.layers.first?.positions.first)
        let spec = OptionSpec(model: .black76, right: p.right, underlying: try market.vixFuture(expiry: p.expiry), strike: p.strike,
                              years: market.years(to: p.expiry), rate: market.spx.rate, dividend: market.spx.dividendYield,
                              vol: market.vixOptionVol(expiry: p.expiry, strike: p.strike))
        let expected = Pricer.valueUnchecked(spec).vega * VIXOption.multiplier * Double(p.quantity)
        #expect(expected > 0)
        #expect(abs(report.layers[1].greeks.volOfVolVega - expected) <= 0.005 + 1e-9)
        #expect(report.layers[0].greeks.volOfVolVega == 0)
        #expect(report.total.volOfVolVega == report.layers[1].greeks.volOfVolVega)
    }

    @Test("contributions: each hedge layer's Greeks and the share of the condor's delta and gamma it offsets; nil without a condor")
    func contributions() throws {
        let market = try Fixtures.snapshot("calm")
        let (book, _, layersOnly) = try Self.split()
        let report = try BookValuer(book: book, market: market).report(book: book, scenarios: [])
        #expect(report.contributions.map(\.name) == ["backstop"])
        let c = try #require(report.contribution(of: "backstop"))
        let condor = report.layers[0].greeks, layer = report.layers[1].greeks
        #expect(c.delta == layer.delta && c.gamma == layer.gamma && c.vega == layer.vega && c.theta == layer.theta && c.volOfVolVega == layer.volOfVolVega)
        #expect(abs(try #require(c.deltaOffsetShare) - (-layer.delta / condor.delta)) <= 5e-5)
        #expect(abs(try #require(c.gammaOffsetShare) - (-layer.gamma / condor.gamma)) <= 5e-5)
        let alone = try BookValuer(book: layersOnly, market: market).report(book: layersOnly, scenarios: [])
        #expect(alone.contributions.first?.deltaOffsetShare == nil)
        #expect(alone.contributions.first?.gammaOffsetShare == nil)
        let data = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode(RiskReport.self, from: data) == report)
    }

    @Test("the report is deterministic: same inputs, same bits")
    func deterministic() throws {
        let book = try Fixtures.book()
        let market = try Fixtures.snapshot("spike")
        let a = try BookValuer(book: book, market: market).report(book: book, scenarios: Engine.reportScenarios)
        let b = try BookValuer(book: book, market: market).report(book: book, scenarios: Engine.reportScenarios)
        #expect(a == b)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(a) == encoder.encode(b))
    }

    static func addsUp(_ a: Attribution) {
        for row in a.layers + [a.total] {
            #expect(abs(row.explained + row.residual - row.actual) < 1e-9, "\(a.scenario) \(row.name)")
        }
        for part in [\Attribution.Row.delta, \.gamma, \.vega, \.theta, \.residual, \.actual] {
            #expect(abs(a.layers.reduce(0) { $0 + $1[keyPath: part] } - a.total[keyPath: part]) < 1e-9)
        }
    }

    @Test("attribution: the parts add up exactly to the actual P&L; the total's actual is pnl(scenario)", arguments: snapshots)
    func attributionAddsUp(snapshot: String) throws {
        let valuer = try BookValuer(book: try Fixtures.book(), market: try Fixtures.snapshot(snapshot))
        let scenarios = Engine.reportScenarios + [Scenario(name: "spike", spxMovePercent: -8, vixLevel: 35, days: 1),
                                                  Scenario(name: "rally", spxMovePercent: 3, vixShockPoints: -2, days: 7)]
        for scenario in scenarios {
            let a = valuer.attribution(to: scenario)
            Self.addsUp(a)
            #expect(abs(a.total.actual - valuer.pnl(scenario).total) <= 0.01)
            #expect(a.layers.map(\.name) == ["condor", "backstop"])
        }
    }

    @Test("attribution: the residual is small for small moves (along the path, with a VIX surprise, with a day passing)", arguments: snapshots)
    func attributionSmallMoves(snapshot: String) throws {
        let valuer = try BookValuer(book: try Fixtures.book(), market: try Fixtures.snapshot(snapshot))
        for scenario in [Scenario(name: "down", spxMovePercent: -0.5), Scenario(name: "up", spxMovePercent: 0.5),
                         Scenario(name: "vix", spxMovePercent: 0, vixShockPoints: 0.5),
                         Scenario(name: "mixed", spxMovePercent: -0.3, vixShockPoints: 0.8, days: 1)] {
            let a = valuer.attribution(to: scenario)
            let scale = abs(a.total.delta) + abs(a.total.gamma) + abs(a.total.vega) + abs(a.total.theta)
            // The futures' response changes with the VIX level reached (calm → crash blend): a little
            // curvature beyond the second-order path expansion, largest in the spike.
            #expect(abs(a.total.residual) <= 0.08 * scale + 1, "\(scenario.name): residual \(a.total.residual) of \(a.total.actual)")
            for row in a.layers { #expect(abs(row.residual) <= 0.05 * (abs(row.explained) + abs(row.delta)) + 1, "\(scenario.name) \(row.name)") }
        }
        let path = valuer.attribution(to: Scenario(name: "path", spxMovePercent: -1))
        #expect(path.total.vega == 0)
        #expect(abs(path.vixSurprisePoints) < 1e-12)
    }

    @Test("attribution from one snapshot to a later one: full revaluation on each, parts add up")
    func attributionSnapshots() throws {
        let book = try Fixtures.book()
        let calm = try Fixtures.snapshot("calm"), spike = try Fixtures.snapshot("spike")
        let valuer = try BookValuer(book: book, market: calm)
        let a = try valuer.attribution(to: spike, book: book)
        Self.addsUp(a)
        let before = valuer.values(under: nil), after = try BookValuer(book: book, market: spike).values(under: nil)
        #expect(abs(a.total.actual - (after.values.reduce(0, +) - before.values.reduce(0, +))) <= 0.01)
        #expect(a.days == 22)
        #expect(a.spxMovePoints == spike.spx.spot - calm.spx.spot)
        #expect(throws: EngineError.self) { try BookValuer(book: book, market: spike).attribution(to: calm, book: book) }
    }

    @Test("ladder: SPX −30 % … +10 % by 5 %, VIX by the response fitted on the history from the snapshot's own level, equal to pnl per rung")
    func ladder() throws {
        let market = try Fixtures.snapshot("calm")
        let valuer = try BookValuer(book: try Fixtures.book(), market: market)
        let rungs = valuer.ladder()
        #expect(rungs.map(\.spxMovePercent) == [-30, -25, -20, -15, -10, -5, 0, 5, 10])
        for rung in rungs {
            let response = StressCalibration.vixLogResponse(spxMovePercent: rung.spxMovePercent, horizonTradingDays: 21)
            #expect(abs(rung.vixAfter - Scenario(name: "x", spxMovePercent: rung.spxMovePercent, vixLogChange: response, horizonDays: 30)
                .vixAfter(spot: market.vix.spot, model: valuer.model)) < 1e-12)
            #expect((rung.spxMovePercent < 0) == (rung.vixAfter > market.vix.spot) || rung.spxMovePercent == 0)
            let result = valuer.pnl(BookValuer.ladderScenario(spxMovePercent: rung.spxMovePercent))
            #expect(abs(rung.total - result.total) <= 0.005 + 1e-9)
            #expect(abs(rung.byLayer.values.reduce(0, +) - rung.total) <= 0.02)
        }
        #expect(rungs[6].total == 0)
        #expect(rungs[0].byLayer["backstop"]! > 0 && rungs[0].byLayer["condor"]! < 0)
    }
}
