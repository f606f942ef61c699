import Foundation

/// Daily history loaded from CSV: CBOE's VIX file (`DATE,OPEN,HIGH,LOW,CLOSE`) or SPX closes
/// (`DATE,CLOSE`, or the same OHLC layout, of which CLOSE is taken).
///
/// ```swift
/// let vix = try DailyHistory.load(path: "../shared/data/vix-daily.csv")
/// vix.close(on: "2020-03-16")   // 82.69
/// ```
public struct DailyHistory: Sendable, Equatable {
    public struct Day: Sendable, Equatable {
        /// YYYY-MM-DD.
        public var date: String
        public var open: Double
        public var high: Double
        public var low: Double
        public var close: Double

        public init(date: String, open: Double, high: Double, low: Double, close: Double) {
            self.date = date
            self.open = open
            self.high = high
            self.low = low
            self.close = close
        }
    }

    public var days: [Day]

    /// The largest history file read (32 MiB).
    public static let maxBytes = 32 << 20

    /// `days` in increasing date order, as ``parse`` requires of a file.
    public init(days: [Day]) { self.days = days }

    public var closes: [Double] { days.map(\.close) }

    /// The close on `date`, if it was a trading day.
    public func close(on date: String) -> Double? { day(on: date)?.close }

    public func day(on date: String) -> Day? {
        var low = 0, high = days.count - 1
        while low <= high {
            let mid = (low + high) / 2
            if days[mid].date == date { return days[mid] }
            if days[mid].date < date { low = mid + 1 } else { high = mid - 1 }
        }
        return nil
    }

    /// The days up to and including `date`.
    public func upTo(_ date: String) -> DailyHistory {
        // Dates increase (``parse`` checks it): the days up to `date` are a prefix.
        if let last = days.last, last.date <= date { return self }
        var low = 0, high = days.count
        while low < high {
            let mid = (low + high) / 2
            if days[mid].date <= date { low = mid + 1 } else { high = mid }
        }
        return DailyHistory(days: Array(days[..<low]))
    }

    public static func load(path: String) throws -> DailyHistory {
        try parse(EngineFiles.read(path, limit: maxBytes), path: path)
    }

    /// Parses CSV; errors name `path:line:column`. Dates must be real and strictly increasing.
    public static func parse(_ data: Data, path: String = "history.csv") throws -> DailyHistory {
        guard data.count <= maxBytes else {
            throw EngineError(.invalidCSV, "over the \(maxBytes)-byte limit", path: path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EngineError(.invalidCSV, "not UTF-8 text", path: path)
        }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\r")) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let header = lines.first else { throw EngineError(.invalidCSV, "empty file; expected a header DATE,…,CLOSE", path: path) }
        let columns = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
        guard let dateIndex = columns.firstIndex(of: "DATE"), let closeIndex = columns.firstIndex(of: "CLOSE") else {
            throw EngineError(.invalidCSV, "header must name DATE and CLOSE columns (got \(header))", path: "\(path):1")
        }
        let openIndex = columns.firstIndex(of: "OPEN"), highIndex = columns.firstIndex(of: "HIGH"), lowIndex = columns.firstIndex(of: "LOW")
        var days: [Day] = []
        days.reserveCapacity(lines.count)
        for (offset, line) in lines.enumerated().dropFirst() {
            let lineNumber = offset + 1
            if line.isEmpty { throw EngineError(.invalidCSV, "empty line", path: "\(path):\(lineNumber)") }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == columns.count else {
                throw EngineError(.invalidCSV, "expected \(columns.count) fields, found \(fields.count)", path: "\(path):\(lineNumber)")
            }
            let date = fields[dateIndex]
            guard EngineDate.parse(date) != nil else {
                throw EngineError(.invalidCSV, "'\(date)' is not a date YYYY-MM-DD", path: "\(path):\(lineNumber):\(dateIndex + 1)")
            }
            if let last = days.last, date <= last.date {
                throw EngineError(.invalidCSV, "dates must increase (\(date) after \(last.date))", path: "\(path):\(lineNumber):\(dateIndex + 1)")
            }
            func field(_ index: Int?, fallback: Double?) throws -> Double {
                guard let index else { return fallback ?? 0 }
                guard let value = Double(fields[index]), value.isFinite, value > 0 else {
                    throw EngineError(.invalidCSV, "'\(fields[index])' is not a positive number", path: "\(path):\(lineNumber):\(index + 1)")
                }
                return value
            }
            let close = try field(closeIndex, fallback: nil)
            days.append(Day(date: date, open: try field(openIndex, fallback: close), high: try field(highIndex, fallback: close),
                            low: try field(lowIndex, fallback: close), close: close))
        }
        guard !days.isEmpty else { throw EngineError(.invalidCSV, "no rows after the header", path: path) }
        return DailyHistory(days: days)
    }
}
