import Foundation
import Synchronization

/// Wall-clock time in New York (America/New_York), where every US equity and volatility option
/// opens, settles and closes.
///
/// The source is the system tz database (`TimeZone(identifier: "America/New_York")`). The UTC offsets
/// at the start and at the end of each UTC day are cached behind a `Mutex` (the verifier dates
/// thousands of legs); only the two days a year on which the offset changes ask the zone again for
/// the exact instant.
///
/// When the tz database lacks the zone (a container without `tzdata`), the offsets come from the
/// statutory US daylight-saving rule by arithmetic (15 U.S.C. §260a as amended by the Energy Policy
/// Act of 2005, §110): EST is UTC−5, EDT is UTC−4, and daylight time runs
/// - from 2007: the second Sunday of March 2:00 a.m. local to the first Sunday of November 2:00 a.m. local;
/// - 1987–2006: the first Sunday of April to the last Sunday of October (Pub. L. 99-359);
/// - 1967–1986: the last Sunday of April to the last Sunday of October (Uniform Time Act of 1966),
///   with the 1974 (January 6) and 1975 (February 23) energy-crisis starts;
/// - before 1967: standard time all year (New York's local observance before 1967 is not modelled).
/// The calendar tests check both sources agree on every day 1990–2035 at 09:30 and 16:00.
///
/// ```swift
/// NewYorkTime.instant(CalendarDay("2026-12-16")!, hour: 9, minute: 30)   // 2026-12-16T14:30:00Z
/// NewYorkTime.day(of: Date(timeIntervalSince1970: 0))                      // 1969-12-31
/// ```
public enum NewYorkTime {
    /// Where the offsets come from.
    enum Source: Sendable {
        /// The system tz database's America/New_York.
        case tzDatabase
        /// The statutory US rule by arithmetic.
        case statutory
    }

    /// The system zone, nil when the tz database lacks it.
    static let zone: TimeZone? = TimeZone(identifier: "America/New_York")

    /// True when the system tz database provides America/New_York (else the statutory rule is used).
    public static var usesTimeZoneDatabase: Bool { zone != nil }

    /// The UTC offsets (seconds) at the first and the last second of a UTC day.
    struct DayOffsets: Sendable {
        var start: Int32
        var end: Int32
    }

    /// Per UTC day (days since 1970-01-01), the tz database's offsets.
    private static let cache = Mutex<[Int: DayOffsets]>([:])

    /// The instant of a New York wall-clock time on `day`. A time skipped by the spring-forward
    /// (02:00–02:59) is read in standard time (02:30 is 03:30 EDT); a time repeated by the fall-back
    /// (01:00–01:59) is its first occurrence (EDT).
    public static func instant(_ day: CalendarDay, hour: Int, minute: Int) -> Date {
        instant(day, hour: hour, minute: minute, source: zone == nil ? .statutory : .tzDatabase)
    }

    /// The New York calendar day of an instant.
    public static func day(of date: Date) -> CalendarDay {
        day(of: date, source: zone == nil ? .statutory : .tzDatabase)
    }

    /// ``instant(_:hour:minute:)`` from a chosen source (the tests compare the two).
    static func instant(_ day: CalendarDay, hour: Int, minute: Int, source: Source) -> Date {
        let wall = day.daysSinceEpoch * 86400 + hour * 3600 + minute * 60
        // The instant if the wall time were standard time, and if it were daylight time.
        let asStandard = wall + 18000
        let asDaylight = wall + 14400
        let standardValid = offset(at: asStandard, source: source) == -18000
        let daylightValid = offset(at: asDaylight, source: source) == -14400
        let seconds: Int
        if daylightValid { seconds = asDaylight }          // also the first of a repeated hour
        else if standardValid { seconds = asStandard }
        else { seconds = asStandard }                        // skipped hour: read in standard time
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// ``day(of:)`` from a chosen source.
    static func day(of date: Date, source: Source) -> CalendarDay {
        let t = Int(date.timeIntervalSince1970.rounded(.down))
        let local = t + offset(at: t, source: source)
        return CalendarDay(daysSinceEpoch: floorDiv(local, 86400))
    }

    /// The UTC offset (seconds, negative west of Greenwich) in New York at `t` seconds since the epoch.
    static func offset(at t: Int, source: Source) -> Int {
        switch source {
        case .statutory:
            return statutoryOffset(at: t)
        case .tzDatabase:
            guard let zone else { return statutoryOffset(at: t) }
            let key = floorDiv(t, 86400)
            let offsets: DayOffsets
            if let cached = cache.withLock({ $0[key] }) {
                offsets = cached
            } else {
                let start = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(key * 86400)))
                let end = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(key * 86400 + 86399)))
                offsets = DayOffsets(start: Int32(start), end: Int32(end))
                cache.withLock { $0[key] = offsets }
            }
            if offsets.start == offsets.end { return Int(offsets.start) }
            return zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))
        }
    }

    /// The statutory US rule (see the type's documentation): −14400 in daylight time, else −18000.
    static func statutoryOffset(at t: Int) -> Int {
        let year = CalendarDay(daysSinceEpoch: floorDiv(t, 86400)).year
        guard let (start, end) = daylightPeriod(year: year) else { return -18000 }
        // Daylight time begins at 02:00 EST (07:00Z) and ends at 02:00 EDT (06:00Z).
        let begins = start.daysSinceEpoch * 86400 + 7 * 3600
        let ends = end.daysSinceEpoch * 86400 + 6 * 3600
        return t >= begins && t < ends ? -14400 : -18000
    }

    /// The first and last Sundays of daylight time in `year` by statute; nil before 1967.
    static func daylightPeriod(year: Int) -> (start: CalendarDay, end: CalendarDay)? {
        let sunday = 7
        switch year {
        case 2007...:
            return (CalendarDay.nth(2, weekday: sunday, year: year, month: 3), CalendarDay.nth(1, weekday: sunday, year: year, month: 11))
        case 1987...2006:
            return (CalendarDay.nth(1, weekday: sunday, year: year, month: 4), CalendarDay.last(weekday: sunday, year: year, month: 10))
        case 1974:
            return (CalendarDay(year: 1974, month: 1, day: 6), CalendarDay.last(weekday: sunday, year: year, month: 10))
        case 1975:
            return (CalendarDay(year: 1975, month: 2, day: 23), CalendarDay.last(weekday: sunday, year: year, month: 10))
        case 1967...1986:
            return (CalendarDay.last(weekday: sunday, year: year, month: 4), CalendarDay.last(weekday: sunday, year: year, month: 10))
        default:
            return nil
        }
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
