import Foundation
import ALVHEngine
import ALVHSigning

/// `alvh backtest` as one call: parses the command's values, loads the files, runs, and writes the
/// HTML report atomically when asked. Every bad value is refused before anything runs or is written.
public enum BacktestRun {
    public static func run(vix: String, spx: String, from: String? = nil, to: String? = nil, strategy: String? = nil,
                           sweep: String? = nil, html: String? = nil) throws -> BacktestReport {
        func day(_ text: String?, _ option: String) throws -> CalendarDay? {
            guard let text else { return nil }
            guard let day = CalendarDay(text) else { throw BacktestError(.invalidArgument, "'\(text)' is not a date; give YYYY-MM-DD", path: option) }
            return day
        }
        let first = try day(from, "--from"), last = try day(to, "--to")
        if let first, let last, last < first { throw BacktestError(.invalidArgument, "--to \(last) is before --from \(first)", path: "--to") }
        let parsedSweep = try sweep.map(Backtest.Sweep.parse)
        let rules: Strategy
        do { rules = try strategy.map(Strategy.load) ?? .standard } catch let error as EngineError { throw BacktestError(error) }
        if let html {
            // Refuse an unwritable destination before hours of work, not after.
            let folder = (html as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw BacktestError(.invalidArgument, "the folder \(folder) does not exist; create it or write the report elsewhere", path: "-o")
            }
        }
        let history = try MarketHistory.load(vix: vix, spx: spx)
        let report = try Backtest.run(history: history, configuration: BacktestConfiguration(from: first, to: last), strategy: rules, sweep: parsedSweep)
        if let html {
            do {
                try SecureFile.writeAtomically(Data(HTMLReport.render(report).utf8), to: html, mode: 0o644)
            } catch let error as SigningError {
                throw BacktestError(.invalidArgument, error.reason, path: error.path ?? html)
            }
        }
        return report
    }
}
