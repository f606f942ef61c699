import ArgumentParser
import ALVHBacktest
import ALVHEngine
import Foundation

struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Naked condor vs one VIX layer vs the full ALVH over the daily history, through the real rules; calibrated against Cboe's CNDR and VXTH.",
        discussion: """
        Strategies: naked (a CNDR-style monthly SPX iron condor), one-layer (the same with VXTH-style one-month \
        VIX calls) and alvh (the same with the three ALVH layers, every change proposed by the engine's rules on \
        the day's synthesised market). The calibration replicas (cndr-replica, vxth-replica, sp500) run beside them. \
        Pricing proxies and their sources: docs/backtest.md.
        """
    )

    @Option(name: .long, help: "CBOE's VIX daily history (DATE,OPEN,HIGH,LOW,CLOSE).", completion: .file())
    var vix: String

    @Option(name: .long, help: "S&P 500 daily history (DATE,OPEN,HIGH,LOW,CLOSE).", completion: .file())
    var spx: String

    @Option(name: .long, help: "First day traded, YYYY-MM-DD (default: after the 252-day warm-up).")
    var from: String?

    @Option(name: .long, help: "Last day traded, YYYY-MM-DD (default: the files' last day).")
    var to: String?

    @Option(name: .long, help: "A strategy YAML for the alvh run (default: the standard strategy).", completion: .file())
    var strategy: String?

    @Option(name: .long, help: "One alvh run per value: budget=0,0.1,0.2,0.35 | stress-cap=0,1,2,4 | layers=short-term,short-term+backstop,…")
    var sweep: String?

    @Option(name: [.customShort("o"), .long], help: "Also write a self-contained HTML report (SVG equity and drawdown curves) to this file.", completion: .file())
    var output: String?

    @OptionGroup var json: OutputOptions

    func run() async throws {
        try reportingErrors(json: json.json) {
            let report = try BacktestRun.run(vix: vix, spx: spx, from: from, to: to, strategy: strategy, sweep: sweep, html: output)
            if json.json { try Console.json(report) } else { TextReport.lines(report).forEach(Console.out) }
        }
    }
}
