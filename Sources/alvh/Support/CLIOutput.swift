import ArgumentParser
import Foundation
import ALVHSigning
import ALVHApproval
import ALVHLedger

/// `--json` for every command that prints a result.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON on stdout instead of text.")
    var json = false
}

/// Where results and diagnostics go: results on stdout, diagnostics on stderr.
enum Console {
    /// A result line on stdout.
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// A diagnostic line on stderr.
    static func err(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Pretty, key-sorted JSON on stdout.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
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
