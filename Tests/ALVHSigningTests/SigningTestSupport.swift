import Foundation
import ALVHTestSupport
import Testing
@testable import ALVHSigning

/// A fresh temporary directory, removed when the value goes away.
final class TempDir: @unchecked Sendable {
    let path: String

    init() {
        var template = Array("/tmp/alvh-signing-XXXXXX".utf8CString)
        path = String(cString: mkdtemp(&template)!)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        chmod(target, mode)
        return target
    }

    func read(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: file(name)))) }
}

struct ProcessOutput {
    var status: Int32
    var stdout: [UInt8]
    var stderr: String
    var text: String { String(decoding: stdout, as: UTF8.self) }
}

enum Run {
    static let openssl = "/usr/bin/openssl"

    /// Runs a program with stdin from /dev/null (or `input`), no ALVH_* variables unless given.
    @discardableResult
    static func process(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: [UInt8]? = nil) throws -> ProcessOutput {
        let out = try TestProcess.run(executable, arguments, environment: environment, input: input)
        return ProcessOutput(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }

    /// `openssl ARGS`, which must succeed.
    @discardableResult
    static func openssl(_ arguments: [String], input: [UInt8]? = nil) throws -> ProcessOutput {
        let result = try process(openssl, arguments, input: input)
        guard result.status == 0 else {
            throw SigningError(.openSSLFailure, "openssl \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result
    }

    static var opensslAvailable: Bool { FileManager.default.isExecutableFile(atPath: openssl) }

    static var alvh: String { TestProcess.alvh }
    static var packageRoot: URL { TestProcess.packageRoot }
}

extension Array where Element == UInt8 {
    init(hex: String) { self = Hex.decode(hex)! }
}
