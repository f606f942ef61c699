/// A strict, allocation-light JSON reader (RFC 8259) for the fixed schemas alvh signs: the
/// proposal document and the DSSE envelope.
///
/// It pulls values straight into the caller's structs instead of building a tree, so a schema
/// is read in one pass with no `Codable` machinery (Foundation's `JSONDecoder` was a sixth of
/// `ledger verify`'s time). It is stricter than Foundation where strictness is safer: duplicate
/// keys, invalid UTF-8, lone surrogates, non-finite numbers and trailing bytes are refused, and
/// integers must be written as integers. Failures carry the field path (`change.layer.legs[0]`).
///
/// ```swift
/// var leg: (strike: Double?, quantity: Int?) = (nil, nil)
/// try StrictJSONReader.read(bytes) { r in
///     try r.readObject { r, key in
///         switch key {
///         case "strike": leg.strike = try r.readDouble()
///         case "quantity": leg.quantity = try r.readInt()
///         default: throw StrictJSONReader.unknownField(key)
///         }
///     }
/// }
/// ```
struct StrictJSONReader {
    /// A failure: its reason, the byte offset, and the path from the top (filled in on the way out).
    struct Failure: Error {
        var reason: String
        /// Path segments, innermost first (`legs`, `[0]`, `strike` is stored as strike, [0], legs).
        var reversedPath: [String] = []
        /// True for a syntax error (the bytes are not JSON at all).
        var isSyntax: Bool
        /// The error code to report, when not the caller's default.
        var code: ApprovalError.Code? = nil

        /// `change.layer.legs[0].strike`, or nil at the top level.
        var path: String? {
            guard !reversedPath.isEmpty else { return nil }
            var text = ""
            for segment in reversedPath.reversed() {
                if segment.hasPrefix("[") { text += segment } else { text += (text.isEmpty ? "" : ".") + segment }
            }
            return text
        }

        /// The failure as the approval module's error (its own ``code`` if it has one): for a syntax
        /// error `not JSON: …`, or `not JSON (…); <expected>` when the caller says what JSON it
        /// expected; else the reason at `path: field.path`.
        func approvalError(_ code: ApprovalError.Code, path: String, expected: String? = nil) -> ApprovalError {
            if isSyntax {
                return ApprovalError(code, expected.map { "not JSON (\(reason)); \($0)" } ?? "not JSON: \(reason)", path: path)
            }
            return ApprovalError(self.code ?? code, reason, path: self.path.map { "\(path): \($0)" } ?? path)
        }
    }

    /// Nesting deeper than this is refused (only skipped values can nest freely).
    static let maxDepth = 64
    /// Objects with more keys than this check duplicates through a set.
    static let smallObject = 16

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Reads one JSON text: `body` reads the top-level value; only whitespace may follow it.
    static func read<T>(_ bytes: [UInt8], _ body: (inout StrictJSONReader) throws -> T) throws -> T {
        try bytes.withUnsafeBufferPointer { buffer in
            var reader = StrictJSONReader(buffer)
            reader.skipWhitespace()
            let value = try body(&reader)
            reader.skipWhitespace()
            guard reader.index == buffer.count else { throw reader.syntax("unexpected bytes after the JSON value") }
            return value
        }
    }

    static func unknownField(_ key: String, _ context: String = "") -> Failure {
        Failure(reason: "unknown field '\(key)'" + (context.isEmpty ? "" : " " + context), isSyntax: false)
    }

    static func missingField(_ key: String) -> Failure { missing(key, "missing field '\(key)'") }

    static func invalid(_ reason: String) -> Failure { Failure(reason: reason, isSyntax: false) }

    /// A required field that is absent, with the caller's wording.
    static func missing(_ key: String, _ reason: String) -> Failure {
        Failure(reason: reason, reversedPath: [key], isSyntax: false)
    }

    /// `read`'s value; a type mismatch (not a syntax error) is reported as `reason` instead.
    mutating func reading<V>(or reason: String, _ read: (inout StrictJSONReader) throws -> V) throws -> V {
        do { return try read(&self) } catch var failure as Failure where !failure.isSyntax {
            failure.reason = reason
            throw failure
        }
    }

    /// Whether the next value is an object / an array (without consuming it).
    var nextIsObject: Bool { peek == UInt8(ascii: "{") }
    var nextIsArray: Bool { peek == UInt8(ascii: "[") }

    // MARK: - Structure

    /// Reads an object, calling `body` once per member with the reader at the member's value.
    /// `body` must consume the value (read or skip it). Duplicate keys are refused.
    mutating func readObject(_ body: (inout StrictJSONReader, String) throws -> Void) throws {
        defer { depth -= 1 }
        if try enter(UInt8(ascii: "{"), UInt8(ascii: "}"), "an object") { return }
        // Keys seen so far: a short list for the schemas' small objects, a set once an object is
        // large (a list would make duplicate checks quadratic in an object of many keys).
        var seen: [String] = []
        var seenSet: Set<String> = []
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw syntax("expected a quoted key") }
            let key = try readStringToken()
            let duplicate: Bool
            if seen.count < Self.smallObject {
                duplicate = seen.contains(key)
                if !duplicate { seen.append(key) }
                if seen.count == Self.smallObject { seenSet = Set(seen) }
            } else {
                duplicate = !seenSet.insert(key).inserted
            }
            if duplicate {
                throw Failure(reason: "duplicate key '\(key)'", reversedPath: [key], isSyntax: false)
            }
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw syntax("expected ':' after key '\(key)'") }
            index += 1
            skipWhitespace()
            do { try body(&self, key) } catch var failure as Failure {
                failure.reversedPath.append(key)
                throw failure
            }
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return
            default: throw syntax("expected ',' or '}' in an object")
            }
        }
    }

    /// Reads an array, calling `body` once per element with its index.
    mutating func readArray(_ body: (inout StrictJSONReader, Int) throws -> Void) throws {
        defer { depth -= 1 }
        if try enter(UInt8(ascii: "["), UInt8(ascii: "]"), "an array") { return }
        var count = 0
        while true {
            skipWhitespace()
            do { try body(&self, count) } catch var failure as Failure {
                failure.reversedPath.append("[\(count)]")
                throw failure
            }
            count += 1
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return
            default: throw syntax("expected ',' or ']' in an array")
            }
        }
    }

    /// Reads an object of string keys to values read by `value`.
    mutating func readDictionary<V>(_ value: (inout StrictJSONReader) throws -> V) throws -> [String: V] {
        var result: [String: V] = [:]
        try readObject { r, key in result[key] = try value(&r) }
        return result
    }

    /// nil for `null` (consumed), else `read`'s value.
    mutating func readOptional<V>(_ read: (inout StrictJSONReader) throws -> V) throws -> V? {
        if try readNullIfPresent() { return nil }
        return try read(&self)
    }

    // MARK: - Scalars

    mutating func readString() throws -> String {
        guard peek == UInt8(ascii: "\"") else { throw typeMismatch("a string") }
        return try readStringToken()
    }

    /// A string holding base64 (``Base64/decode(_:)``'s rules), decoded straight from the input
    /// when it has no escapes; nil when the string is not valid base64.
    mutating func readBase64() throws -> [UInt8]? {
        guard peek == UInt8(ascii: "\"") else { throw typeMismatch("a string") }
        if let (contents, _) = try plainString() { return Base64.decode(contents) }
        return Base64.decode(try readStringToken())
    }

    mutating func readBool() throws -> Bool {
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw typeMismatch("true or false")
    }

    /// A number, parsed exactly as `strtod` rounds it; non-finite results are refused.
    mutating func readDouble() throws -> Double {
        let (text, _) = try readNumberText()
        guard let value = Double(text), value.isFinite else {
            throw Failure(reason: "number \(text) is out of range", isSyntax: false)
        }
        return value
    }

    /// An integer written as one (no fraction, no exponent) that fits in `Int`.
    mutating func readInt() throws -> Int {
        let (text, integral) = try readNumberText()
        guard integral else { throw Failure(reason: "expected an integer, found \(text)", isSyntax: false) }
        guard let value = Int(text) else { throw Failure(reason: "integer \(text) is out of range", isSyntax: false) }
        return value
    }

    /// A non-negative integer that fits in `UInt64`.
    mutating func readUInt64() throws -> UInt64 {
        let (text, integral) = try readNumberText()
        guard integral, let value = UInt64(text) else {
            throw Failure(reason: "expected a non-negative integer, found \(text)", isSyntax: false)
        }
        return value
    }

    /// Skips any value (for fields a schema ignores, e.g. unknown DSSE fields), checking its syntax.
    mutating func skipValue() throws {
        switch peek {
        case UInt8(ascii: "{"): try readObject { r, _ in try r.skipValue() }
        case UInt8(ascii: "["): try readArray { r, _ in try r.skipValue() }
        case UInt8(ascii: "\""): _ = try readStringToken()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try readBool()
        case UInt8(ascii: "n"): guard matchLiteral("null") else { throw syntax("invalid literal") }
        default: _ = try scanNumber()
        }
    }

    // MARK: - Tokens

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func readNullIfPresent() throws -> Bool {
        guard peek == UInt8(ascii: "n") else { return false }
        guard matchLiteral("null") else { throw syntax("invalid literal") }
        return true
    }

    private mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let base = literal.utf8Start
        for k in 0..<count where bytes[index + k] != base[k] { return false }
        index += count
        return true
    }

    /// Consumes `open` and counts one more nesting level (the caller's `defer` uncounts it);
    /// true when the container is empty, its `close` consumed too.
    private mutating func enter(_ open: UInt8, _ close: UInt8, _ what: String) throws -> Bool {
        depth += 1
        guard peek == open else { throw typeMismatch(what) }
        index += 1
        guard depth <= Self.maxDepth else { throw syntax("nested deeper than \(Self.maxDepth) levels") }
        skipWhitespace()
        guard peek == close else { return false }
        index += 1
        return true
    }

    /// The number at the cursor as its text (grammar checked), and whether it is integral.
    private mutating func readNumberText() throws -> (text: String, integral: Bool) {
        let (start, integral) = try scanNumber()
        return (String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self), integral)
    }

    /// Validates the number grammar at the cursor; returns its start and whether it is integral.
    private mutating func scanNumber() throws -> (start: Int, integral: Bool) {
        let start = index
        func digit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if peek == UInt8(ascii: "-") { index += 1 }
        guard digit(index) else {
            index = start
            throw peek == nil ? syntax("unexpected end of input") : typeMismatch("a number")
        }
        if bytes[index] == 0x30 {
            index += 1
            if digit(index) { throw syntax("leading zeros are not allowed in numbers") }
        } else {
            while digit(index) { index += 1 }
        }
        var integral = true
        if peek == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard digit(index) else { throw syntax("expected a digit after '.'") }
            while digit(index) { index += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            integral = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard digit(index) else { throw syntax("expected a digit in the exponent") }
            while digit(index) { index += 1 }
        }
        return (start, integral)
    }

    /// The contents of the string at the cursor (its opening quote) when it holds no escape, and
    /// whether they are ASCII; the cursor then stands past the closing quote. Nil, cursor unmoved,
    /// when the string holds an escape.
    private mutating func plainString() throws -> (contents: UnsafeBufferPointer<UInt8>, ascii: Bool)? {
        var end = index + 1
        var ascii = true
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                let contents = UnsafeBufferPointer(rebasing: bytes[(index + 1)..<end])
                index = end + 1
                return (contents, ascii)
            }
            if byte == UInt8(ascii: "\\") { return nil }
            if byte < 0x20 { index = end; throw syntax("unescaped control character in a string") }
            if byte >= 0x80 { ascii = false }
            end += 1
        }
        index = end
        throw syntax("unterminated string")
    }

    /// Reads a string token (cursor at its opening quote): escapes decoded, UTF-8 validated.
    private mutating func readStringToken() throws -> String {
        if let (contents, ascii) = try plainString() {
            if ascii { return String(decoding: contents, as: UTF8.self) }
            guard let text = String(validating: contents, as: UTF8.self) else { throw syntax("invalid UTF-8 in a string") }
            return text
        }
        // An escape: decode byte by byte.
        index += 1
        var out: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: out, as: UTF8.self) else { throw syntax("invalid UTF-8 in a string") }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard let escaped = peek else { throw syntax("unterminated string") }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard matchLiteral("\\u") else { throw syntax("lone high surrogate \\u\(String(scalar, radix: 16))") }
                        let low = try readHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw syntax("invalid surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw syntax("lone low surrogate \\u\(String(scalar, radix: 16))")
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default:
                    throw syntax("invalid escape '\\\(Character(Unicode.Scalar(escaped)))'")
                }
            default:
                if byte < 0x20 { throw syntax("unescaped control character in a string") }
                out.append(byte)
                index += 1
            }
        }
        throw syntax("unterminated string")
    }

    private mutating func readHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw syntax("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let nibble: UInt8
            switch byte {
            case 0x30...0x39: nibble = byte - 0x30
            case 0x41...0x46: nibble = byte - 0x41 + 10
            case 0x61...0x66: nibble = byte - 0x61 + 10
            default: throw syntax("invalid \\u escape")
            }
            value = value << 4 | UInt32(nibble)
            index += 1
        }
        return value
    }

    // MARK: - Errors

    private func syntax(_ reason: String) -> Failure {
        Failure(reason: "\(reason) at byte \(index)", isSyntax: true)
    }

    private func typeMismatch(_ expected: String) -> Failure {
        let found: String
        switch peek {
        case nil: return syntax("unexpected end of input")
        case UInt8(ascii: "{"): found = "an object"
        case UInt8(ascii: "["): found = "an array"
        case UInt8(ascii: "\""): found = "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): found = "a boolean"
        case UInt8(ascii: "n"): found = "null"
        case UInt8(ascii: "-"), .some(0x30...0x39): found = "a number"
        default: return syntax("unexpected character")
        }
        return Failure(reason: "expected \(expected), found \(found)", isSyntax: false)
    }
}
