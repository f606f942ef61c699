import Foundation
import ALVHSigning

/// File reads for the engine: ``SecureFile/read(_:limit:checkMode:)`` (regular files only, no symbolic
/// link, size-checked on the opened descriptor), with the engine's error type.
enum EngineFiles {
    static func read(_ path: String, limit: Int) throws -> Data {
        do {
            return Data(try SecureFile.read(path, limit: limit))
        } catch let error as SigningError {
            throw EngineError(.fileUnreadable, error.reason, path: error.path ?? path)
        }
    }

    /// `a.b[2].c` for a DecodingError.
    static func codingPath(_ error: DecodingError) -> String {
        let context: DecodingError.Context
        var last: String?
        switch error {
        case .keyNotFound(let key, let c): context = c; last = key.stringValue
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
        @unknown default: return "?"
        }
        var text = ""
        for key in context.codingPath {
            if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
        if let last { text += (text.isEmpty ? "" : ".") + last }
        return text.isEmpty ? "(top level)" : text
    }

    /// Refuses a field `Keys` does not name (a typo in a strategy file must not fall back to a
    /// default without a word): a `dataCorrupted` error at the unknown key, naming the known ones.
    static func refuseUnknownFields<Keys: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: Keys.Type) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        let known = Keys.allCases.map(\.stringValue)
        if let unknown = container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }).first(where: { !known.contains($0.stringValue) }) {
            throw DecodingError.dataCorruptedError(forKey: unknown, in: container,
                                                   debugDescription: "unknown field; the known ones are \(known.joined(separator: ", "))")
        }
    }

    struct AnyCodingKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound: return "is required"
        case .typeMismatch(let type, _): return "must be \(type == String.self ? "a string" : type == Double.self || type == Int.self ? "a number" : "of type \(type)")"
        case .valueNotFound: return "must not be null"
        case .dataCorrupted(let c): return c.debugDescription
        @unknown default: return "\(error)"
        }
    }
}

/// Calendar dates (YYYY-MM-DD, UTC) and day counts, by arithmetic on the proleptic Gregorian
/// calendar (no `Calendar` or formatter per call: the engine dates every option it values, and
/// verification values every entry of a ledger).
public enum EngineDate {
    /// Midnight UTC of a YYYY-MM-DD date; nil when the text is not a real date.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let y = digits(bytes, 0, 4), let m = digits(bytes, 5, 2), let d = digits(bytes, 8, 2),
              (1900...2200).contains(y), (1...12).contains(m), (1...daysIn(month: m, year: y)).contains(d) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(daysFromCivil(y, m, d)) * 86400)
    }

    /// YYYY-MM-DD of a date in UTC.
    public static func format(_ date: Date) -> String {
        let days = Int((date.timeIntervalSince1970 / 86400).rounded(.down))
        let (y, m, d) = civilFromDays(days)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// An instant as RFC 3339 UTC, whole seconds (`2026-12-15T21:15:00Z`).
    public static func formatInstant(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let rest = seconds - days * 86400
        let (y, m, d) = civilFromDays(days)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, rest / 3600, rest % 3600 / 60, rest % 60)
    }

    /// An RFC 3339 time with a `Z` or `±HH:MM` offset and no fraction (what `ISO8601DateFormatter`
    /// reads by default), by hand; anything else goes to the formatter.
    public static func parseInstant(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[10] == UInt8(ascii: "T"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let day = parse(String(decoding: b[0..<10], as: UTF8.self)),
              let hh = digits(b, 11, 2), let mm = digits(b, 14, 2), let ss = digits(b, 17, 2), hh < 24, mm < 60, ss < 60 else {
            return ISO8601DateFormatter().date(from: text)
        }
        var seconds = TimeInterval(hh * 3600 + mm * 60 + ss)
        if b.count == 20, b[19] == UInt8(ascii: "Z") || b[19] == UInt8(ascii: "z") {
            return day.addingTimeInterval(seconds)
        }
        guard b.count == 25, b[19] == UInt8(ascii: "+") || b[19] == UInt8(ascii: "-"), b[22] == UInt8(ascii: ":"),
              let oh = digits(b, 20, 2), let om = digits(b, 23, 2), oh < 24, om < 60 else {
            return ISO8601DateFormatter().date(from: text)
        }
        let offset = TimeInterval(oh * 3600 + om * 60)
        seconds += b[19] == UInt8(ascii: "+") ? -offset : offset
        return day.addingTimeInterval(seconds)
    }

    static func digits(_ b: [UInt8], _ from: Int, _ count: Int) -> Int? {
        var value = 0
        for i in from..<(from + count) {
            guard b[i] >= 48, b[i] <= 57 else { return nil }
            value = value * 10 + Int(b[i] - 48)
        }
        return value
    }

    static func daysIn(month: Int, year: Int) -> Int { CivilDate.daysIn(month: month, year: year) }

    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int { CivilDate.daysFromCivil(year: year, month: month, day: day) }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) { CivilDate.civilFromDays(days) }
}
