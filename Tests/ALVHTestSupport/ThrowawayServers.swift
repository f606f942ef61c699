import Foundation
import ALVHStorage

/// PostgreSQL servers of a test's own (scripts/pg-throwaway): for tests that crash or stop a
/// server, which must never be the shared one of ALVH_TEST_POSTGRES_URL.
public enum ThrowawayServers {
    /// Whether initdb is installed (scripts/pg-throwaway can start servers).
    public static var available: Bool {
        if let path = ProcessInfo.processInfo.environment["PATH"],
           path.split(separator: ":").contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }) { return true }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.contains { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb") }
    }

    /// Runs scripts/pg-throwaway (`start DIR` prints the URL; `stop DIR [--immediate] [--remove]`)
    /// off the concurrency threads (it blocks for a second or so); returns its last output line.
    public static func run(_ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try runBlocking(arguments) }) }
        }
    }

    /// ``run(_:)`` on the calling thread (for a `defer`). Uses `system` (Foundation's Process was
    /// seen to miss the exit of a script whose grandchild, the server, lives on), its output
    /// through a file.
    public static func runBlocking(_ arguments: [String]) throws -> String {
        let script = TestProcess.packageRoot.appendingPathComponent("scripts/pg-throwaway").path
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("pg-throwaway-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let quoted = ([script] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let status = system("/bin/bash \(quoted) </dev/null >'\(output)' 2>&1")
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else { throw StorageError(.database, "pg-throwaway \(arguments.joined(separator: " ")) failed (\(status)): \(text)") }
        // The URL is the last line (pg_ctl's progress goes to stderr, before it).
        return text.split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
    }
}
