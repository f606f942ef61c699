import Foundation
import ALVHEngine

/// The risk-free rate through history: the monthly average 3-month Treasury bill rate (FRED series
/// TB3MS, secondary market; `tbill-3m.csv`, source in docs/backtest.md), as a continuously
/// compounded rate. A month past the table takes its last month.
///
/// ```swift
/// RateHistory.shipped.rate(on: CalendarDay("2008-10-15")!)   // ln(1 + 0.0067)
/// ```
public struct RateHistory: Sendable, Equatable {
    /// (year·12 + month − 1, rate in percent), by month.
    public var months: [(key: Int, percent: Double)]

    public static func == (a: RateHistory, b: RateHistory) -> Bool {
        a.months.count == b.months.count && zip(a.months, b.months).allSatisfy { $0.key == $1.key && $0.percent == $1.percent }
    }

    public init(months: [(key: Int, percent: Double)]) { self.months = months }

    /// One rate for every day (tests, and `--rate`).
    public static func constant(percent: Double) -> RateHistory { RateHistory(months: [(0, percent)]) }

    /// The shipped table.
    public static let shipped: RateHistory = {
        // The file is part of the build: a parse error is a build defect, caught by BacktestDataTests.
        (try? parse(Data(PackageResources.tbill_3m_csv), path: "tbill-3m.csv")) ?? RateHistory(months: [])
    }()

    /// Parses `month,rate_percent` rows (YYYY-MM, percent), months increasing.
    public static func parse(_ data: Data, path: String) throws -> RateHistory {
        let text = String(decoding: data, as: UTF8.self)
        var months: [(key: Int, percent: Double)] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where n > 0 && !line.isEmpty {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 2, fields[0].count == 7, let year = Int(fields[0].prefix(4)), let month = Int(fields[0].suffix(2)),
                  (1...12).contains(month), let percent = Double(fields[1]), percent.isFinite, (-5...30).contains(percent) else {
                throw BacktestError(.invalidArgument, "expected YYYY-MM,percent (got \(line))", path: "\(path):\(n + 1)")
            }
            let key = year * 12 + month - 1
            if let last = months.last, key <= last.key { throw BacktestError(.invalidArgument, "months must increase", path: "\(path):\(n + 1)") }
            months.append((key, percent))
        }
        return RateHistory(months: months)
    }

    /// The percent rate in force on `day`: its month's, else the last month before it, else 0.
    public func percent(on day: CalendarDay) -> Double {
        let key = day.year * 12 + day.month - 1
        var low = 0, high = months.count
        while low < high {
            let mid = (low + high) / 2
            if months[mid].key <= key { low = mid + 1 } else { high = mid }
        }
        if low > 0 { return months[low - 1].percent }
        return months.first?.percent ?? 0
    }

    /// The continuously compounded rate on `day`.
    public func rate(on day: CalendarDay) -> Double { log(1 + percent(on: day) / 100) }
}
