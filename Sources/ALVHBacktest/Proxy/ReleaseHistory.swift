import Foundation
import ALVHEngine

/// Scheduled FOMC statements (and CPI releases where known) through history, for the event layer
/// of a backtest (`releases-history.csv`, sources in docs/backtest.md). The engine's own calendar
/// (``EventCalendar``) covers today's years; this one reaches back.
public struct ReleaseHistory: Sendable, Equatable {
    public struct Release: Sendable, Equatable {
        public var date: CalendarDay
        public var kind: String
        public var instant: Date
        public var name: String
    }

    public var releases: [Release]

    public init(releases: [Release]) { self.releases = releases.sorted { $0.instant < $1.instant } }

    public static let none = ReleaseHistory(releases: [])

    public static let shipped: ReleaseHistory = {
        // The file is part of the build: a parse error is a build defect, caught by BacktestDataTests.
        (try? parse(Data(PackageResources.releases_history_csv), path: "releases-history.csv")) ?? .none
    }()

    /// `date,kind` rows (YYYY-MM-DD, FOMC or CPI): released at the kind's standard New York time.
    public static func parse(_ data: Data, path: String) throws -> ReleaseHistory {
        let text = String(decoding: data, as: UTF8.self)
        var releases: [Release] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where n > 0 && !line.isEmpty {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 2, let day = CalendarDay(fields[0]), let instant = EventCalendar.releaseInstant(kind: fields[1], date: day) else {
                throw BacktestError(.invalidArgument, "expected YYYY-MM-DD,FOMC|CPI (got \(line))", path: "\(path):\(n + 1)")
            }
            releases.append(Release(date: day, kind: fields[1], instant: instant, name: "\(fields[1]) \(day.text)"))
        }
        return ReleaseHistory(releases: releases)
    }

    /// The releases after `instant` and within `days` calendar days of it.
    public func upcoming(after instant: Date, within days: Double) -> ArraySlice<Release> {
        var low = 0, high = releases.count
        while low < high {
            let mid = (low + high) / 2
            if releases[mid].instant <= instant { low = mid + 1 } else { high = mid }
        }
        let end = instant.addingTimeInterval(days * 86400)
        var stop = low
        while stop < releases.count, releases[stop].instant <= end { stop += 1 }
        return releases[low..<stop]
    }
}
