import Foundation
import ALVHSigning

/// RFC 3339 timestamps, parsed and formatted without Foundation's formatters (which build an ICU
/// formatter per call — the top cost of a commit before this): a strict hand parser.
///
/// ```swift
/// RFC3339.parse("2026-11-25T14:30:00Z")          // a Date
/// RFC3339.parse("2026-11-25T15:30:00.25+01:00")  // the same instant + 0.25 s
/// RFC3339.format(date)                           // "2026-11-25T14:30:00Z" (UTC, whole seconds)
/// ```
public enum RFC3339 {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`T`/`t`, `Z`/`z`); nil when malformed
    /// or out of range (month 13, February 30, hour 24, second 60, offset beyond ±23:59).
    public static func parse(_ text: String) -> Date? {
        let utf8 = text.utf8
        return utf8.withContiguousStorageIfAvailable { parse(bytes: $0) } ?? {
            let copy = Array(text.utf8)
            return copy.withUnsafeBufferPointer { parse(bytes: $0) }
        }()
    }

    static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> Date? {
        let n = b.count
        guard n >= 20, n <= 64 else { return nil }
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= n else { return nil }
            var value = 0
            for i in at..<(at + count) {
                let c = b[i]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                value = value * 10 + Int(c - 0x30)
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D, let day = digits(8, 2),
              b[10] == 0x54 || b[10] == 0x74, let hour = digits(11, 2), b[13] == 0x3A, let minute = digits(14, 2),
              b[16] == 0x3A, let second = digits(17, 2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60 else { return nil }
        var index = 19
        var fraction = 0.0
        if b[index] == 0x2E { // '.'
            index += 1
            var scale = 0.1
            let start = index
            while index < n, b[index] >= 0x30 && b[index] <= 0x39 {
                fraction += Double(b[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start, index < n else { return nil }
        }
        var offset = 0
        switch b[index] {
        case 0x5A, 0x7A: // Z z
            guard index + 1 == n else { return nil }
        case 0x2B, 0x2D: // + -
            guard index + 6 == n, let oh = digits(index + 1, 2), b[index + 3] == 0x3A, let om = digits(index + 4, 2),
                  oh < 24, om < 60 else { return nil }
            offset = (oh * 60 + om) * 60 * (b[index] == 0x2D ? -1 : 1)
        default:
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Formats in UTC with whole seconds (rounded down): `2026-11-25T14:30:00Z`.
    public static func format(_ date: Date) -> String {
        let total = Int(date.timeIntervalSince1970.rounded(.down))
        var days = total / 86_400
        var rest = total % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        let (y, m, d) = civilFromDays(days)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let year = y >= 0 && y < 10_000 ? String(repeating: "0", count: 4 - String(y).count) + String(y) : String(y)
        return "\(year)-\(two(m))-\(two(d))T\(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))Z"
    }

    static func daysIn(month: Int, year: Int) -> Int { CivilDate.daysIn(month: month, year: year) }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int { CivilDate.daysFromCivil(year: year, month: month, day: day) }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) { CivilDate.civilFromDays(z0) }
}
