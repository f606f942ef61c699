import Foundation

/// Scheduled macro releases (FOMC statements, CPI) shipped with the engine in
/// `Calendar/releases.csv`, embedded in the binary with SwiftPM's `.embedInCode` rule (no bundle
/// lookup at run time). The file names its sources in `#` comment lines; see `docs/calendar.md`.
///
/// The CSV's header is `kind,date,time_et,projections,name`; `time_et` is New York wall-clock time
/// and must be the kind's standard time (``releaseInstant(kind:date:)``). A malformed row is a
/// programming error: ``shipped`` stops the program, and the calendar tests parse the file first.
///
/// ```swift
/// let week = EventCalendar.releases(from: now, through: now.addingTimeInterval(7 * 86400))
/// week.contains { $0.kind == "FOMC" }
/// ```
public enum EventCalendar {
    /// Every release in the shipped file, in file order (parsed once).
    public static let shipped: [Release] = {
        do {
            return try parse(String(decoding: PackageResources.releases_csv, as: UTF8.self))
        } catch {
            preconditionFailure("Calendar/releases.csv: \(error)")
        }
    }()

    /// The release instant of a kind on a New York day: FOMC 14:00 ET, CPI 08:30 ET; nil for
    /// another kind (a snapshot built in code may carry one; validation refuses it in a file).
    public static func releaseInstant(kind: String, date: CalendarDay) -> Date? {
        guard let (hour, minute) = standardTime(kind) else { return nil }
        return NewYorkTime.instant(date, hour: hour, minute: minute)
    }

    /// The shipped releases whose instant is within `from…through` (inclusive), by instant.
    public static func releases(from: Date, through: Date) -> [Release] {
        shipped.filter { $0.instant >= from && $0.instant <= through }.sorted { $0.instant < $1.instant }
    }

    /// The (hour, minute) New York of a release kind; nil when the kind is unknown.
    static func standardTime(_ kind: String) -> (Int, Int)? {
        switch kind {
        case "FOMC": return (14, 0)
        case "CPI": return (8, 30)
        default: return nil
        }
    }

    static let header = "kind,date,time_et,projections,name"

    /// Parses a releases file; throws ``EngineError`` (`invalid-csv`) naming the line of the first bad row.
    static func parse(_ text: String) throws -> [Release] {
        var out: [Release] = []
        var sawHeader = false
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            let number = index + 1
            func fail(_ why: String) -> EngineError { EngineError(.invalidCSV, "line \(number): \(why)", path: "Calendar/releases.csv") }
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            if !sawHeader {
                guard line == header else { throw fail("the header must be \(header)") }
                sawHeader = true
                continue
            }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5 else { throw fail("expected 5 fields, found \(fields.count)") }
            let kind = fields[0]
            guard let (hour, minute) = standardTime(kind) else { throw fail("kind must be FOMC or CPI, not \(kind)") }
            guard let date = CalendarDay(fields[1]) else { throw fail("\(fields[1]) is not a YYYY-MM-DD date") }
            let time = String(format: "%02d:%02d", hour, minute)
            guard fields[2] == time else { throw fail("\(kind) releases are at \(time) ET, not \(fields[2])") }
            let projections: Bool
            switch fields[3] {
            case "yes": projections = true
            case "no": projections = false
            default: throw fail("projections must be yes or no, not \(fields[3])")
            }
            guard !(projections && kind != "FOMC") else { throw fail("only FOMC meetings have projections") }
            let name = fields[4].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw fail("the name is empty") }
            out.append(Release(kind: kind, date: date, instant: NewYorkTime.instant(date, hour: hour, minute: minute),
                               projections: projections, name: name))
        }
        guard sawHeader else { throw EngineError(.invalidCSV, "no header line", path: "Calendar/releases.csv") }
        return out
    }
}
