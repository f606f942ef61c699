import Foundation
import Testing
import ALVHTestSupport
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHStorage
@testable import ALVHLedger

/// The ledger's two backends, for the tests that run on each.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    /// Runs `body` with a fixture whose ledger is on this backend (PostgreSQL: a fresh database,
    /// dropped after; skipped without a server outside CI, failed under CI).
    func withFixture(_ body: (LedgerFixture) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            try await body(try await LedgerFixture())
        case .postgres:
            try await PostgresTestServer.withFreshDatabase { database in
                try await body(try await LedgerFixture(location: .postgres(database.location)))
            }
        }
    }
}

/// Real OS processes against one ledger (a SQLite file, or a PostgreSQL database).
@Suite("Ledger with real processes", .serialized)
struct LedgerProcessTests {
    /// 200 kills per backend in the suite; `scripts/crash-stress` sets ALVH_CRASH_KILLS for a longer run.
    static let killCount = ProcessInfo.processInfo.environment["ALVH_CRASH_KILLS"].flatMap(Int.init) ?? 200

    /// The child that commits in a loop, printing `committed SEQ HASH` after each acknowledged commit.
    static func stressCommit(_ fx: LedgerFixture, count: Int = 0) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.alvh)
        process.arguments = ["ledger", "stress-commit", "--workspace", fx.root, "--layer", "backstop",
                             "--expiry", "2027-03-17", "--strike", "35",
                             "--key", "\(fx.root)/Keys/private/tom.key.pem", "--key", "\(fx.root)/Keys/private/alice.key.pem",
                             "--key", "\(fx.root)/Keys/private/carol.key.pem",
                             "--market", TestProcess.packageRoot.appendingPathComponent("Examples/market/calm.json").path,
                             "--committer-key", "\(fx.root)/Keys/private/committer.key.pem", "--count", "\(count)"] + fx.ledgerArguments
        process.environment = TestProcess.environment(fx.ledgerEnvironment.merging(["ALVH_PG_TIMEOUT_S": "5"]) { $1 })
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        return process
    }

    /// The `committed SEQ HASH` lines of a child's output.
    static func acknowledged(_ text: String) -> [UInt64: String] {
        var out: [UInt64: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("committed ") {
            let parts = line.split(separator: " ")
            if parts.count == 3, let seq = UInt64(parts[1]) { out[seq] = String(parts[2]) }
        }
        return out
    }

    /// After a crash: the chain verifies from genesis and holds every acknowledged commit.
    static func checkDurable(_ fx: LedgerFixture, _ acknowledged: [UInt64: String], after what: String) async throws {
        let report = try await fx.verify()
        #expect(report.ok, "after \(what): \(report.firstBad?.problem ?? "")")
        try await fx.withLedger { ledger async throws in
            for (seq, hash) in acknowledged.sorted(by: { $0.key < $1.key }) {
                #expect(try await ledger.entry(seq).hash == hash, "acknowledged entry \(seq) lost after \(what)")
            }
        }
    }

    @Test("SIGKILL at random moments never loses an acknowledged commit and never breaks the chain (200 kills)", arguments: Backend.allCases)
    func crashSafety(_ backend: Backend) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Tools.alvh), "the alvh binary is not built: \(Tools.alvh)")
        try await backend.withFixture { fx in
            var acknowledged: [UInt64: String] = [:]
            var generator = SystemRandomNumberGenerator()
            var kills = 0
            for _ in 0..<Self.killCount {
                let process = Self.stressCommit(fx)
                let out = Pipe()
                process.standardOutput = out
                try process.run()
                // A PostgreSQL child connects and verifies before its first commit: give it longer.
                let window = backend == .sqlite ? 20_000...250_000 : 50_000...400_000
                usleep(UInt32.random(in: UInt32(window.lowerBound)...UInt32(window.upperBound), using: &generator))
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                kills += 1
                acknowledged.merge(Self.acknowledged(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))) { $1 }
                try await Self.checkDurable(fx, acknowledged, after: "kill \(kills)")
            }
            #expect(kills >= min(200, Self.killCount))
            #expect(acknowledged.count > 0, "the child never got a commit in; the test proved nothing")
        }
    }

    @Test("two processes committing different proposals on the same base: exactly one wins, the other is stale (10 rounds)",
          arguments: Backend.allCases)
    func racingCommitters(_ backend: Backend) async throws {
        let alvh = Tools.alvh
        try #require(FileManager.default.isExecutableFile(atPath: alvh), "the alvh binary is not built: \(alvh)")
        for round in 0..<10 {
            try await backend.withFixture { fx in
                let now = Date()
                let (a, b) = try await fx.withLedger { ledger in
                    (try await ledger.enqueue(try fx.envelope(try await fx.layerProposal(layer: "short-term", at: now), signedBy: ["tom", "alice", "carol"]), at: now).pending.id,
                     try await ledger.enqueue(try fx.envelope(try await fx.layerProposal(layer: "event", at: now), signedBy: ["tom", "bob", "limits"]), at: now).pending.id)
                }
                let processes = [a, b].map { id -> (Process, Pipe) in
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: alvh)
                    process.arguments = ["commit", id, "--workspace", fx.root, "--committer-key", "\(fx.root)/Keys/private/committer.key.pem"] + fx.ledgerArguments
                    process.environment = TestProcess.environment(fx.ledgerEnvironment)
                    let err = Pipe()
                    process.standardError = err
                    process.standardOutput = FileHandle.nullDevice
                    process.standardInput = FileHandle.nullDevice
                    return (process, err)
                }
                for (process, _) in processes { try process.run() }
                var statuses: [Int32] = []
                var errors: [String] = []
                for (process, err) in processes {
                    errors.append(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
                    process.waitUntilExit()
                    statuses.append(process.terminationStatus)
                }
                #expect(statuses.sorted() == [0, 1], "round \(round): \(statuses) \(errors)")
                #expect(errors.contains { $0.contains("stale proposal") && $0.contains("[stale-proposal]") }, "round \(round): \(errors)")
                #expect(try await fx.withLedger { try await $0.head().sequence } == 1)
                #expect(try await fx.verify().ok)
            }
        }
    }

    /// The server itself crashes (`pg_ctl stop -m immediate`: no shutdown checkpoint, clients'
    /// connections dropped) while a child commits in a loop, and is started again: every commit
    /// the child acknowledged is there and the chain verifies, 5 times over. A server of the
    /// test's own (never the shared one).
    @Test("PostgreSQL crashed mid-commit and restarted: every acknowledged commit present, the chain verifies (5 crashes)",
          .enabled(if: ThrowawayServers.available || PostgresTestServer.isCI, "PostgreSQL's initdb is not installed (apt-get install postgresql)"),
          .timeLimit(.minutes(5)))
    func serverCrashMidCommit() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Tools.alvh), "the alvh binary is not built: \(Tools.alvh)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("alvh-pg-midcommit-\(UUID().uuidString.prefix(8))").path
        defer { _ = try? ThrowawayServers.runBlocking(["stop", dir, "--remove"]) }
        let url = try await ThrowawayServers.run(["start", dir])
        guard case .postgres(let server) = try LedgerLocation.parse(url) else { Issue.record("not a postgres URL: \(url)"); return }
        let fx = try await LedgerFixture(location: .postgres(server))
        var acknowledged: [UInt64: String] = [:]
        var generator = SystemRandomNumberGenerator()
        for crash in 1...5 {
            let process = Self.stressCommit(fx)
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            usleep(UInt32.random(in: 400_000...1_200_000, using: &generator))
            _ = try await ThrowawayServers.run(["stop", dir, "--immediate"])
            // The child's next call fails within its bound (ALVH_PG_TIMEOUT_S=5) and it exits; a
            // child still there after the bound is stopped.
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            #expect(process.terminationStatus != 0 || process.terminationReason == .uncaughtSignal, "the child saw the server go")
            acknowledged.merge(Self.acknowledged(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))) { $1 }
            let restarted = try await ThrowawayServers.run(["start", dir])
            #expect(restarted == url)
            try await Self.checkDurable(fx, acknowledged, after: "server crash \(crash)")
        }
        #expect(acknowledged.count >= 5, "the child got too few commits in before the crashes (\(acknowledged.count)); the test proved little")
    }
}
