import Foundation
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ALVH_") }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(Data(input))
            try inPipe.fileHandleForWriting.close()
        }
        // Read both pipes concurrently-safe enough for small outputs: stderr after stdout.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessOutput(status: process.terminationStatus, stdout: Array(outData), stderr: String(decoding: errData, as: UTF8.self))
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

    /// The `alvh` executable built beside the test bundle.
    static var alvh: String {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<6 {
            url = url.deletingLastPathComponent()
            let candidate = url.appendingPathComponent("alvh").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return packageRoot.appendingPathComponent(".build/debug/alvh").path
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

extension Array where Element == UInt8 {
    init(hex: String) { self = Hex.decode(hex)! }
}
