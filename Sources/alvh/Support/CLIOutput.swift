import ArgumentParser
import Foundation
import ALVHSigning
import ALVHApproval
import ALVHLedger
import ALVHBacktest

/// `--json` for every command that prints a result.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON on stdout instead of text.")
    var json = false
}

/// Where results and diagnostics go: results on stdout, diagnostics on stderr.
///
/// Every human line goes through ``TerminalText/escaped(_:)``: proposals, policies, envelopes and
/// rejections are untrusted, and their text (notes, names, reasons, key ids) must not carry escape
/// sequences or bidi overrides to the terminal of the person reading it.
enum Console {
    /// A result line on stdout.
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((TerminalText.escaped(text) + "\n").utf8))
    }

    /// A diagnostic line on stderr.
    static func err(_ text: String) {
        FileHandle.standardError.write(Data((TerminalText.escaped(text) + "\n").utf8))
    }

    /// Pretty, key-sorted JSON on stdout. JSONEncoder escapes U+0000–U+001F; DEL, the C1 controls
    /// and the bidi controls, which JSON allows raw, are written as `\uXXXX` too.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(TerminalText.jsonEscaped(data) + Data("\n".utf8))
    }
}

/// Untrusted text made safe to show on a terminal.
///
/// ```swift
/// TerminalText.escaped("note\u{1B}[2J\u{202E}")   // "note\\e[2J\\u{202E}"
/// ```
enum TerminalText {
    /// True for a scalar a terminal would act on rather than show: C0 controls (but newline), DEL,
    /// C1 controls, and the bidi embeddings, overrides, isolates and marks.
    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A: return false
        case 0x00...0x1F, 0x7F, 0x80...0x9F: return true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// `text` with every unsafe scalar written visibly: `\e` (ESC), `\r`, `\t`, `\xHH` (other C0 and
    /// DEL), `\u{HHHH}` (C1 and bidi controls). Newlines are kept.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isUnsafe(scalar) else { out.append(scalar); continue }
            let shown: String
            switch scalar.value {
            case 0x1B: shown = "\\e"
            case 0x0D: shown = "\\r"
            case 0x09: shown = "\\t"
            case 0x00...0x1F, 0x7F: shown = "\\x" + hex(scalar.value, width: 2)
            default: shown = "\\u{" + hex(scalar.value, width: 4) + "}"
            }
            out.append(contentsOf: shown.unicodeScalars)
        }
        return String(out)
    }

    /// JSON text with any unsafe scalar left raw by the encoder written as `\uXXXX` (they only
    /// occur inside strings, where that escape means the same character).
    static func jsonEscaped(_ data: Data) -> Data {
        let text = String(decoding: data, as: UTF8.self)
        guard text.unicodeScalars.contains(where: isUnsafe) else { return data }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar), scalar.value != 0x0A {
                out.append(contentsOf: ("\\u" + hex(scalar.value, width: 4)).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return Data(String(out).utf8)
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// An error that knows its code, reason and offending path: every module's error type is one.
protocol ReportableError: Error {
    var reportCode: String { get }
    var reportReason: String { get }
    var reportPath: String? { get }
    var reportDetail: String? { get }
}

extension SigningError: ReportableError {
    var reportCode: String { code.rawValue }
    var reportReason: String { reason }
    var reportPath: String? { path }
    var reportDetail: String? { openSSLDetail }
}

/// A failure of the command line itself (bad combination of inputs found after parsing).
struct CLIError: Error, ReportableError {
    var reportCode: String
    var reportReason: String
    var reportPath: String?
    var reportDetail: String? { nil }

    init(_ code: String, _ reason: String, path: String? = nil) {
        reportCode = code
        reportReason = reason
        reportPath = path
    }
}

/// The JSON shape of an error, printed on stdout under `--json`.
struct ErrorReport: Encodable {
    struct Body: Encodable {
        let code: String
        let reason: String
        let path: String?
        let detail: String?
    }
    let error: Body
}

extension ParsableCommand {
    /// Runs `body`; a module error becomes "error: PATH: REASON (code)" on stderr, a JSON
    /// error on stdout when `json`, and exit status 1. Usage errors keep ArgumentParser's 64.
    func reportingErrors(json: Bool, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ReportableError {
            report(error, json: json)
            throw ExitCode.failure
        }
    }

    func reportingErrors(json: Bool, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ReportableError {
            report(error, json: json)
            throw ExitCode.failure
        }
    }

    private func report(_ error: ReportableError, json: Bool) {
        var line = "error: "
        if let path = error.reportPath { line += "\(path): " }
        line += error.reportReason
        line += " [\(error.reportCode)]"
        if let detail = error.reportDetail, !detail.isEmpty { line += "\n  OpenSSL: \(detail)" }
        Console.err(line)
        if json {
            try? Console.json(ErrorReport(error: .init(code: error.reportCode, reason: error.reportReason,
                                                       path: error.reportPath, detail: error.reportDetail)))
        }
    }
}

extension ApprovalError: ReportableError {
    var reportCode: String { code.rawValue }
    var reportReason: String { reason }
    var reportPath: String? { path }
    var reportDetail: String? { nil }
}

extension LedgerError: ReportableError {
    var reportCode: String { code.rawValue }
    var reportReason: String { reason }
    var reportPath: String? { path }
    var reportDetail: String? { nil }
}

extension BacktestError: ReportableError {
    var reportCode: String { code.rawValue }
    var reportReason: String { reason }
    var reportPath: String? { path }
    var reportDetail: String? { nil }
}
