import Foundation

/// Real OS processes for the test suites: the built `alvh`, `openssl`, `sqlite3`.
///
/// ```swift
/// let out = try TestProcess.run(TestProcess.alvh, ["keys", "id", "Keys/alice.pub.pem"])
/// #expect(out.status == 0)
/// ```
public enum TestProcess {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: String
        /// Whether the run was killed (SIGKILL) at its `timeout`.
        public var timedOut = false
        public var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// The package root (beside `Package.swift`).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The `alvh` executable built beside the test bundle (or in the package's .build).
    public static var alvh: String {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<6 {
            url = url.deletingLastPathComponent()
            let candidate = url.appendingPathComponent("alvh").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        for scratch in [".build/debug/alvh", ".build/release/alvh"] {
            let candidate = packageRoot.appendingPathComponent(scratch).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "alvh-not-built"
    }

    /// The environment children get: the test's own, without ALVH_* variables, plus `extra`.
    public static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ALVH_") }
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Runs a program to completion with stdin from /dev/null (or `input`); with `timeout`, a child
    /// still running after that many seconds is killed (SIGKILL) and the output says `timedOut`.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:],
                           input: [UInt8]? = nil, timeout: TimeInterval? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment(extra)
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        let killed = DataBox()
        if let timeout {
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if process.isRunning { killed.flag = true; kill(pid, SIGKILL) }
            }
        }
        if let input {
            inPipe.fileHandleForWriting.write(Data(input))
            try inPipe.fileHandleForWriting.close()
        }
        // stderr is read on another thread so that neither pipe can fill up and block the child.
        let errBox = DataBox()
        let reader = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); errBox.done.signal() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errBox.done.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: Array(outData), stderr: String(decoding: errBox.data, as: UTF8.self),
                      timedOut: killed.flag)
    }

    /// Starts a long-running program with stdout and stderr going to `log`.
    public static func spawn(_ executable: String, _ arguments: [String], log: String, environment extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment(extra)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)!
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass; returns whether it held.
    public static func waitUntil(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    /// Polls an async `condition` (a ledger read) every 50 ms until it holds or `seconds` pass;
    /// returns whether it held.
    public static func eventually(seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        return try await condition()
    }

    private final class DataBox: @unchecked Sendable {
        var data = Data()
        var flag = false
        let done = DispatchSemaphore(value: 0)
    }
}
