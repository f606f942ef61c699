import Foundation
// libyaml, as vendored and built by Yams (the same parser Yams composes with). Yams does not
// expose its event stream, so the guard walks libyaml's events itself.
internal import CYaml

/// Checks every YAML input of alvh (policies, signer limits, strategies) passes before Yams composes it.
///
/// Yams shares aliased nodes while composing, but hashing a mapping key, comparing keys for
/// duplicates, or decoding walks them again and again: a few hundred bytes of anchors and aliases
/// (one as a mapping key) run for minutes. So alvh refuses anchors and aliases outright. The check
/// walks libyaml's own event stream — the parser's view of the text, which quoting, comments and
/// block scalars cannot fool — and stops at the first anchor, alias, syntax error, or nesting deeper
/// than ``maxDepth``, without building any node. Input over the caller's size limit is refused first.
///
/// ```swift
/// do { try YAMLGuard.check(text, maxBytes: 256 * 1024, what: "policy") }
/// catch let refusal as YAMLGuard.Refusal { throw ApprovalError(.invalidPolicy, refusal.reason, path: path) }
/// ```
public enum YAMLGuard {
    /// Why a YAML text was refused: one human sentence, every piece of the user's text in it clipped.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    /// The deepest nesting of mappings and sequences accepted (alvh's files need fewer than 8).
    public static let maxDepth = 64
    /// The most characters of the user's text an error message repeats.
    public static let excerptLimit = 120

    /// `text`'s first line, clipped to `limit` characters with "…" (for echoing user text in errors).
    public static func excerpt(_ text: String, limit: Int = excerptLimit) -> String {
        var line = Substring(text)
        var clipped = false
        if let newline = line.firstIndex(where: { $0 == "\n" || $0 == "\r" }) {
            line = line[..<newline]
            clipped = true
        }
        if line.count > limit {
            line = line.prefix(limit)
            clipped = true
        }
        return clipped ? line + "…" : String(line)
    }

    /// Refuses `text` if it is over `maxBytes`, not valid YAML, nested deeper than ``maxDepth``, or
    /// uses an anchor (`&a`) or alias (`*a`) anywhere; `what` names the file kind in the reason.
    public static func check(_ text: String, maxBytes: Int, what: String) throws {
        let size = text.utf8.count
        guard size <= maxBytes else {
            throw Refusal("is \(size) bytes, over the \(maxBytes)-byte limit for a \(what)")
        }
        guard size > 0 else { return }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw Refusal("cannot start the YAML parser (out of memory)") }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var depth = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { throw syntaxError(parser) }
                defer { yaml_event_delete(&event) }
                let line = event.start_mark.line + 1
                func refuseAnchor(_ anchor: UnsafeMutablePointer<yaml_char_t>?) throws {
                    guard let anchor else { return }
                    throw Refusal("YAML anchors and aliases are not allowed in a \(what); write the value out (anchor '&\(name(anchor))' at line \(line))")
                }
                switch event.type {
                case YAML_ALIAS_EVENT:
                    throw Refusal("YAML anchors and aliases are not allowed in a \(what); write the value out (alias '*\(name(event.data.alias.anchor))' at line \(line))")
                case YAML_SCALAR_EVENT:
                    try refuseAnchor(event.data.scalar.anchor)
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    try refuseAnchor(event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor : event.data.mapping_start.anchor)
                    depth += 1
                    guard depth <= maxDepth else {
                        throw Refusal("nested deeper than \(maxDepth) levels at line \(line); a \(what) needs only a few")
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    depth -= 1
                case YAML_STREAM_END_EVENT:
                    return
                default:
                    break
                }
            }
        }
    }

    private static func name(_ anchor: UnsafeMutablePointer<yaml_char_t>?) -> String {
        guard let anchor else { return "" }
        return excerpt(String(cString: UnsafeRawPointer(anchor).assumingMemoryBound(to: CChar.self)), limit: 40)
    }

    private static func syntaxError(_ parser: yaml_parser_t) -> Refusal {
        let problem = parser.problem.map { String(cString: $0) } ?? "syntax error"
        var text = "not valid YAML: line \(parser.problem_mark.line + 1), column \(parser.problem_mark.column + 1): \(excerpt(problem))"
        if parser.error == YAML_READER_ERROR {
            text = "not valid YAML: \(excerpt(problem)) at byte \(parser.problem_offset)"
        }
        if let context = parser.context {
            text += " (\(excerpt(String(cString: context))) at line \(parser.context_mark.line + 1))"
        }
        return Refusal(text)
    }
}
