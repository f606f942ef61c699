import ALVHEngine

/// The daily SPX and VIX history a backtest runs over: the days both files have, in order.
///
/// ```swift
/// let history = try MarketHistory.load(vix: "../shared/data/vix-daily.csv", spx: "../shared/data/spx-daily.csv")
/// history.days.first?.date   // 1990-01-02
/// ```
public struct MarketHistory: Sendable, Equatable {
    /// One trading day: SPX and VIX open and close (index points, VIX points).
    public struct Day: Sendable, Equatable {
        public var day: CalendarDay
        /// YYYY-MM-DD.
        public let date: String
        public var spxOpen: Double
        public var spxClose: Double
        public var vixOpen: Double
        public var vixClose: Double

        public init(day: CalendarDay, spxOpen: Double, spxClose: Double, vixOpen: Double, vixClose: Double) {
            self.day = day
            self.date = day.text
            self.spxOpen = spxOpen
            self.spxClose = spxClose
            self.vixOpen = vixOpen
            self.vixClose = vixClose
        }
    }

    public let days: [Day]
    /// Dates in one file only (left out), for the report.
    public let unmatchedDates: Int
    /// The same days as the engine's histories, built once (``engineHistories(through:window:)`` slices them).
    let spxEngineDays: [DailyHistory.Day]
    let vixEngineDays: [DailyHistory.Day]

    public init(days: [Day], unmatchedDates: Int = 0) {
        self.days = days
        self.unmatchedDates = unmatchedDates
        spxEngineDays = days.map { DailyHistory.Day(date: $0.date, open: $0.spxOpen, high: $0.spxClose, low: $0.spxClose, close: $0.spxClose) }
        vixEngineDays = days.map { DailyHistory.Day(date: $0.date, open: $0.vixOpen, high: $0.vixClose, low: $0.vixClose, close: $0.vixClose) }
    }

    public static func == (a: MarketHistory, b: MarketHistory) -> Bool { a.days == b.days && a.unmatchedDates == b.unmatchedDates }

    /// Reads both CSV files (`DATE,OPEN,HIGH,LOW,CLOSE`) and keeps the dates present in both.
    public static func load(vix: String, spx: String) throws -> MarketHistory {
        do {
            return try align(vix: DailyHistory.load(path: vix), spx: DailyHistory.load(path: spx), vixPath: vix, spxPath: spx)
        } catch let error as EngineError {
            throw BacktestError(error)
        }
    }

    /// The dates present in both histories. Refuses histories that share fewer than 300 days.
    public static func align(vix: DailyHistory, spx: DailyHistory, vixPath: String = "vix", spxPath: String = "spx") throws -> MarketHistory {
        var days: [Day] = []
        days.reserveCapacity(min(vix.days.count, spx.days.count))
        var i = 0, j = 0
        while i < vix.days.count, j < spx.days.count {
            let v = vix.days[i], s = spx.days[j]
            if v.date == s.date {
                guard let day = CalendarDay(v.date) else {
                    throw BacktestError(.invalidArgument, "'\(v.date)' is not a date", path: vixPath)
                }
                days.append(Day(day: day, spxOpen: s.open, spxClose: s.close, vixOpen: v.open, vixClose: v.close))
                i += 1; j += 1
            } else if v.date < s.date { i += 1 } else { j += 1 }
        }
        let unmatched = vix.days.count + spx.days.count - 2 * days.count
        guard days.count >= 300 else {
            throw BacktestError(.notEnoughHistory,
                                "\(vixPath) and \(spxPath) share only \(days.count) trading days; a backtest needs at least 300 (a year of warm-up and a few months to trade) — give the two files over the same years",
                                path: "\(vixPath), \(spxPath)")
        }
        return MarketHistory(days: days, unmatchedDates: unmatched)
    }

    /// The index of the first day on or after `date` (nil: none).
    public func index(onOrAfter date: CalendarDay) -> Int? {
        var low = 0, high = days.count
        while low < high {
            let mid = (low + high) / 2
            if days[mid].day < date { low = mid + 1 } else { high = mid }
        }
        return low < days.count ? low : nil
    }

    /// The index of the last day on or before `date` (nil: none).
    public func index(onOrBefore date: CalendarDay) -> Int? {
        guard let after = index(onOrAfter: date) else { return days.isEmpty ? nil : days.count - 1 }
        if days[after].day == date { return after }
        return after > 0 ? after - 1 : nil
    }

    /// The engine's view of the history up to and including day `index`, the last `window` days
    /// (MACD, RSI and the one-year percentile need at most a year; EMAs seeded further back than
    /// this agree to far below a cent).
    func engineHistories(through index: Int, window: Int) -> (spx: DailyHistory, vix: DailyHistory) {
        let start = max(0, index - window + 1)
        return (DailyHistory(days: Array(spxEngineDays[start...index])), DailyHistory(days: Array(vixEngineDays[start...index])))
    }
}
