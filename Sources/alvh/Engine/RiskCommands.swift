import ArgumentParser
import ALVHEngine
import ALVHLedger
import Foundation

/// Where a command gets its book: --book FILE, else the workspace ledger's book.
struct BookSource: ParsableArguments {
    @Option(name: .long, help: "The book JSON (default: the ledger's book).", completion: .file())
    var book: String?

    func load(workspace: WorkspaceOptions) async throws -> Book {
        if let book { return try Book.load(path: book) }
        return try await workspace.withLedger(readOnly: true) { try await $0.bookToShow() }
    }
}

struct RiskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "risk",
        abstract: "Per-layer Greeks in one risk basis, each layer's contribution, carry and credit share, and the named stress table."
    )

    @Option(name: .long, help: "The market snapshot JSON.", completion: .file())
    var market: String

    @Option(name: .long, help: "An earlier snapshot: also attribute the book's P&L from it to --market (delta, gamma, vega, theta, residual).",
            completion: .file())
    var since: String?

    @OptionGroup var bookSource: BookSource
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    struct WithAttribution: Encodable {
        let risk: RiskReport
        let attribution: Attribution
    }

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let snapshot = try MarketSnapshot.load(path: market)
            let book = try await bookSource.load(workspace: workspace)
            let report = try BookValuer(book: book, market: snapshot).report(book: book, scenarios: Engine.reportScenarios)
            let attribution = try since.map { try BookValuer(book: book, market: try MarketSnapshot.load(path: $0)).attribution(to: snapshot, book: book) }
            if output.json {
                if let attribution { try Console.json(WithAttribution(risk: report, attribution: attribution)) } else { try Console.json(report) }
                return
            }
            RiskPrinter.print(report)
            if let attribution {
                Console.out("")
                Console.out("P&L since \(since ?? ""): delta Δ·dS, gamma ½Γ·dS², vega vega·dVIX beyond the path, theta θ·days, residual = actual − the rest")
                RiskPrinter.print(attribution)
            }
        }
    }
}

enum RiskPrinter {
    static func print(_ report: RiskReport) {
        Console.out("risk as of \(report.asOf)")
        Console.out(report.basis)
        Console.out("LAYER".padding(14) + "VALUE $".leftPad(13) + "DELTA".leftPad(10) + "GAMMA".leftPad(9) + "VEGA".leftPad(10) + "VOLVEGA".leftPad(10)
                    + "THETA".leftPad(10) + "COST $".leftPad(11) + "CREDIT%".leftPad(9))
        for layer in report.layers {
            let g = layer.greeks
            Console.out(layer.name.padding(14) + f(layer.valueDollars).leftPad(13) + f(g.delta).leftPad(10) + g4(g.gamma).leftPad(9) + f(g.vega).leftPad(10)
                        + f(g.volOfVolVega).leftPad(10) + f(g.theta).leftPad(10) + f(layer.costDollars).leftPad(11)
                        + (layer.name == "condor" ? "" : String(format: "%.1f", layer.shareOfCredit * 100)).leftPad(9))
        }
        let t = report.total
        Console.out("total".padding(14) + "".leftPad(13) + f(t.delta).leftPad(10) + g4(t.gamma).leftPad(9) + f(t.vega).leftPad(10)
                    + f(t.volOfVolVega).leftPad(10) + f(t.theta).leftPad(10))
        if !report.contributions.isEmpty {
            Console.out("")
            Console.out("contribution".padding(14) + "DELTA".leftPad(10) + "GAMMA".leftPad(9) + "VEGA".leftPad(10) + "VOLVEGA".leftPad(10) + "THETA".leftPad(10)
                        + "Δ OFFSET%".leftPad(11) + "Γ OFFSET%".leftPad(11))
            for c in report.contributions {
                Console.out(c.name.padding(14) + f(c.delta).leftPad(10) + g4(c.gamma).leftPad(9) + f(c.vega).leftPad(10) + f(c.volOfVolVega).leftPad(10)
                            + f(c.theta).leftPad(10) + percent(c.deltaOffsetShare).leftPad(11) + percent(c.gammaOffsetShare).leftPad(11))
            }
            Console.out("  (offset: the share of the condor's delta / gamma the layer cancels, −layer ÷ condor; — when the condor's is ~0)")
        }
        Console.out("")
        Console.out("stress P&L $".padding(28) + (["total"] + report.layers.map(\.name)).map { $0.leftPad(12) }.joined())
        for name in report.stressPnL.keys.sorted() {
            let byLayer = report.stressByLayer[name] ?? [:]
            Console.out(name.padding(28) + ([report.stressPnL[name] ?? 0] + report.layers.map { byLayer[$0.name] ?? 0 }).map { f($0).leftPad(12) }.joined())
        }
    }

    /// Gamma at its report precision (4 decimals).
    static func g4(_ v: Double) -> String { String(format: "%.4f", v) }

    static func percent(_ share: Double?) -> String { share.map { String(format: "%.1f", $0 * 100) } ?? "—" }

    /// Attribution rows (total first, then each layer) for one scenario.
    static func print(_ a: Attribution) {
        Console.out("  " + a.scenario + String(format: "   dSPX %+.1f pt, dVIX %+.2f pt (beyond the path %+.2f), %g days", a.spxMovePoints, a.vixMovePoints, a.vixSurprisePoints, a.days))
        for row in [a.total] + a.layers {
            Console.out("    " + row.name.padding(14) + [row.delta, row.gamma, row.vega, row.theta, row.residual, row.actual].map { f($0).leftPad(11) }.joined())
        }
    }

    static func f(_ v: Double) -> String { abs(v) >= 100 ? String(format: "%.0f", v) : String(format: "%.2f", v) }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? " " + self : String(repeating: " ", count: width - count) + self }
}

struct StressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Named historical stresses (1987-style, 2008, 2011, 2018, 2020, 2024, 2025) applied from this market's own levels, with their P&L attribution, the SPX ladder with the VIX response measured in the history, and an SPX × VIX grid."
    )

    @Option(name: .long, help: "The market snapshot JSON.", completion: .file())
    var market: String

    @Option(name: .long, help: "Grid points on the SPX axis (−30 % … +10 %).") var gridSpx = 9
    @Option(name: .long, help: "Grid points on the VIX axis (10 … 90).") var gridVix = 9
    @Option(name: .long, help: "Calendar days passing in the grid scenarios.") var days: Double = 0

    @OptionGroup var bookSource: BookSource
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (2...501).contains(gridSpx), (2...501).contains(gridVix) else { throw ValidationError("--grid-spx and --grid-vix must be between 2 and 501") }
        guard days >= 0, days <= 365 else { throw ValidationError("--days must be between 0 and 365") }
    }

    struct Output: Encodable {
        let scenarios: [Scenario]
        let named: [String: Double]
        let namedByLayer: [String: [String: Double]]
        let spxMovesPercent: [Double]
        let vixLevels: [Double]
        let gridPnL: [[Double]]
        let basis: String
        let attribution: [Attribution]
        let ladder: [LadderRung]
    }

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let snapshot = try MarketSnapshot.load(path: market)
            let book = try await bookSource.load(workspace: workspace)
            let valuer = try BookValuer(book: book, market: snapshot)
            let spx: [Double] = (0..<gridSpx).map { (i: Int) -> Double in -30 + 40 * Double(i) / Double(gridSpx - 1) }
            let vix: [Double] = (0..<gridVix).map { (i: Int) -> Double in 10 + 80 * Double(i) / Double(gridVix - 1) }
            let grid = valuer.grid(spxMoves: spx, vixLevels: vix, days: days)
            var named: [String: Double] = [:], byLayer: [String: [String: Double]] = [:]
            for scenario in Engine.reportScenarios {
                let result = valuer.pnl(scenario)
                named[scenario.name] = (result.total * 100).rounded() / 100
                byLayer[scenario.name] = result.byLayer.mapValues { ($0 * 100).rounded() / 100 }
            }
            let attribution = Engine.reportScenarios.map(valuer.attribution(to:))
            let ladder = valuer.ladder()
            let basis = RiskBasis.description(model: valuer.model)
            if output.json {
                try Console.json(Output(scenarios: Engine.reportScenarios, named: named, namedByLayer: byLayer, spxMovesPercent: spx, vixLevels: vix, gridPnL: grid,
                                        basis: basis, attribution: attribution, ladder: ladder))
                return
            }
            Console.out("named stresses (P&L $, whole book)")
            for scenario in Engine.reportScenarios {
                Console.out("  " + scenario.name.padding(26) + RiskPrinter.f(named[scenario.name] ?? 0).leftPad(12) + "   " + (scenario.source ?? ""))
            }
            Console.out("")
            Console.out("attribution (P&L $): delta Δ·dS, gamma ½Γ·dS², vega vega·dVIX beyond the path, theta θ·days, residual = actual − the rest")
            Console.out(basis)
            Console.out("    " + "".padding(14) + ["DELTA", "GAMMA", "VEGA", "THETA", "RESIDUAL", "ACTUAL"].map { $0.leftPad(11) }.joined())
            attribution.forEach(RiskPrinter.print)
            Console.out("")
            let layers = ["condor"] + book.layers.map(\.name)
            Console.out("ladder: P&L $ with VIX by its response measured in the history (ln VIX per SPX %, a month; from this market's VIX; no time passing)")
            Console.out("SPX %".leftPad(8) + "VIX".leftPad(8) + (["total"] + layers).map { $0.leftPad(12) }.joined())
            for rung in ladder {
                Console.out(String(format: "%+.0f", rung.spxMovePercent).leftPad(8) + String(format: "%.1f", rung.vixAfter).leftPad(8)
                            + ([rung.total] + layers.map { rung.byLayer[$0] ?? 0 }).map { RiskPrinter.f($0).leftPad(12) }.joined())
            }
            Console.out("")
            Console.out("grid: P&L $ by SPX move (rows) × VIX level (columns)\(days > 0 ? ", \(Int(days)) days later" : "")")
            Console.out("SPX %".leftPad(8) + vix.map { String(format: "%.0f", $0).leftPad(10) }.joined())
            for (i, move) in spx.enumerated() {
                Console.out(String(format: "%+.1f", move).leftPad(8) + grid[i].map { String(format: "%.0f", $0).leftPad(10) }.joined())
            }
        }
    }
}
