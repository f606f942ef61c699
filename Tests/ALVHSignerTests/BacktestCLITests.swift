import Foundation
import Testing
import ALVHTestSupport

/// `alvh backtest` through the real binary: a short run with its JSON and HTML report, and bad input.
@Suite("Backtest command")
struct BacktestCLITests {
    static let shared = TestProcess.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    static var sharedDataPresent: Bool { FileManager.default.fileExists(atPath: shared.appendingPathComponent("vix-daily.csv").path) }
    var files: [String] { ["--vix", Self.shared.appendingPathComponent("vix-daily.csv").path, "--spx", Self.shared.appendingPathComponent("spx-daily.csv").path] }

    func alvh(_ arguments: [String]) throws -> TestProcess.Output { try TestProcess.run(TestProcess.alvh, arguments) }

    @Test("a year of 2020: the table, the same figures in --json, and a self-contained HTML report", .enabled(if: sharedDataPresent))
    func shortRun() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("alvh-backtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let html = folder.appendingPathComponent("report.html").path
        let range = ["--from", "2020-01-02", "--to", "2020-12-31"]
        let text = try alvh(["backtest"] + files + range + ["-o", html])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.text.contains("does each extra layer pay for itself?"))
        #expect(text.text.contains("covid-2020"))
        let json = try alvh(["backtest"] + files + range + ["--json", "--sweep", "budget=0,0.35"])
        #expect(json.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        let names = (report["strategies"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["naked", "one-layer", "alvh", "cndr-replica", "vxth-replica", "sp500"])
        #expect((report["sweep"] as? [[String: Any]])?.count == 2)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<svg") && !page.contains("<script"))
    }

    @Test("bad input: a clear error naming the option, exit 1, no report written", .enabled(if: sharedDataPresent))
    func badInput() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("alvh-backtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let html = folder.appendingPathComponent("report.html").path
        let early = try alvh(["backtest"] + files + ["--from", "1990-02-01", "-o", html])
        #expect(early.status == 1)
        #expect(early.stderr.contains("--from: ") && early.stderr.contains("first possible start") && early.stderr.contains("[not-enough-history]"))
        #expect(!FileManager.default.fileExists(atPath: html))
        let sweep = try alvh(["backtest"] + files + ["--sweep", "budgets=0,1"])
        #expect(sweep.status == 1 && sweep.stderr.contains("--sweep: ") && sweep.stderr.contains("budget, stress-cap, layers"))
        let strategy = folder.appendingPathComponent("strategy.yaml").path
        try "budget-fraction-of-credt: 0.2\n".write(toFile: strategy, atomically: true, encoding: .utf8)
        let typo = try alvh(["backtest"] + files + ["--strategy", strategy, "--json"])
        #expect(typo.status == 1 && typo.stderr.contains("budget-fraction-of-credt") && typo.stderr.contains("[invalid-strategy]"))
        let error = try #require(try JSONSerialization.jsonObject(with: Data(typo.stdout)) as? [String: Any])
        #expect((error["error"] as? [String: Any])?["code"] as? String == "invalid-strategy")
        let missing = try alvh(["backtest", "--vix", folder.appendingPathComponent("none.csv").path, "--spx", files[3]])
        #expect(missing.status == 1 && missing.stderr.contains("none.csv") && missing.stderr.contains("[file-unreadable]"))
    }
}
