import Foundation
import ALVHSigning

/// A civil calendar day (proleptic Gregorian), with no time of day and no time zone: an exchange
/// holiday, an expiry, a release date.
///
/// The arithmetic is ``CivilDate``'s (days since 1970-01-01), the same the engine's ``EngineDate``
/// uses — no `Calendar` or `DateFormatter` per call.
///
/// ```swift
/// let day = CalendarDay("2026-12-16")!
/// day.weekday            // 3 (Wednesday, ISO numbering)
/// day.adding(days: 30)   // 2027-01-15
/// ```
public struct CalendarDay: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A day from its parts; the parts must name a real date (checked with a precondition).
    public init(year: Int, month: Int, day: Int) {
        precondition((1...12).contains(month) && (1...CivilDate.daysIn(month: month, year: year)).contains(day),
                     "CalendarDay: \(year)-\(month)-\(day) is not a date")
        self.year = year
        self.month = month
        self.day = day
    }

    /// A `YYYY-MM-DD` date (years 1900…2200, as ``EngineDate/parse(_:)``); nil when the text is not a real date.
    public init?(_ text: String) {
        guard let date = EngineDate.parse(text) else { return nil }
        self.init(daysSinceEpoch: Int((date.timeIntervalSince1970 / 86400).rounded(.down)))
    }

    /// The day that is `daysSinceEpoch` days after 1970-01-01.
    public init(daysSinceEpoch: Int) {
        let (y, m, d) = CivilDate.civilFromDays(daysSinceEpoch)
        self.year = y
        self.month = m
        self.day = d
    }

    /// Days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int { CivilDate.daysFromCivil(year: year, month: month, day: day) }

    /// ISO weekday: 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday).
    public var weekday: Int {
        let r = (daysSinceEpoch + 3) % 7   // 0 = Monday
        return (r < 0 ? r + 7 : r) + 1
    }

    /// Saturday or Sunday.
    public var isWeekend: Bool { weekday >= 6 }

    /// The day `days` days later (earlier when negative).
    public func adding(days: Int) -> CalendarDay { CalendarDay(daysSinceEpoch: daysSinceEpoch + days) }

    /// The `n`th (1-based) `weekday` (ISO, 1 = Monday) of a month: `nth(3, weekday: 5, …)` is the third Friday.
    public static func nth(_ n: Int, weekday: Int, year: Int, month: Int) -> CalendarDay {
        let first = CalendarDay(year: year, month: month, day: 1)
        let shift = (weekday - first.weekday + 7) % 7
        return first.adding(days: shift + 7 * (n - 1))
    }

    /// The last `weekday` (ISO, 1 = Monday) of a month.
    public static func last(weekday: Int, year: Int, month: Int) -> CalendarDay {
        let end = CalendarDay(year: year, month: month, day: CivilDate.daysIn(month: month, year: year))
        return end.adding(days: -((end.weekday - weekday + 7) % 7))
    }

    /// `YYYY-MM-DD`.
    public var text: String {
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public var description: String { text }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Encoded as its `YYYY-MM-DD` text.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let day = CalendarDay(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not a YYYY-MM-DD date")
        }
        self = day
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
