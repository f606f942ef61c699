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

/// Calendar dates (YYYY-MM-DD, UTC) and day counts.
public enum EngineDate {
    /// Midnight UTC of a YYYY-MM-DD date; nil when the text is not a real date.
    public static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1900...2200).contains(y), (1...12).contains(m), (1...31).contains(d) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: y, month: m, day: d)),
              calendar.component(.day, from: date) == d else { return nil }
        return date
    }

    /// YYYY-MM-DD of a date in UTC.
    public static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}
