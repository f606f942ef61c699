import Foundation
import Testing
import ALVHTestSupport
import ALVHSigning
import ALVHApproval
import ALVHEngine
@testable import ALVHLedger

/// Real OS processes against one SQLite file.
@Suite("Ledger with real processes", .serialized)
struct LedgerProcessTests {
    /// 60 kills in the suite; `scripts/crash-stress` sets ALVH_CRASH_KILLS for a longer run.
    static let killCount = ProcessInfo.processInfo.environment["ALVH_CRASH_KILLS"].flatMap(Int.init) ?? 60

    @Test("SIGKILL at random moments never loses an acknowledged commit and never breaks the chain (60 kills)")
    func crashSafety() async throws {
        let fx = try await LedgerFixture()
        let alvh = Tools.alvh
        try #require(FileManager.default.isExecutableFile(atPath: alvh), "the alvh binary is not built: \(alvh)")
        var acknowledged: [UInt64: String] = [:]
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<Self.killCount {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: alvh)
            process.arguments = ["ledger", "stress-commit", "--workspace", fx.root, "--layer", "backstop",
                                 "--expiry", "2027-03-17", "--strike", "35",
                                 "--key", "\(fx.root)/Keys/private/tom.key.pem", "--key", "\(fx.root)/Keys/private/alice.key.pem",
                                 "--key", "\(fx.root)/Keys/private/carol.key.pem",
                                 "--market", TestProcess.packageRoot.appendingPathComponent("Examples/market/calm.json").path,
                                 "--committer-key", "\(fx.root)/Keys/private/committer.key.pem"]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 20_000...250_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            for line in text.split(separator: "\n") where line.hasPrefix("committed ") {
                let parts = line.split(separator: " ")
                if parts.count == 3, let seq = UInt64(parts[1]) { acknowledged[seq] = String(parts[2]) }
            }
            let report = try await fx.verify()
            #expect(report.ok, "after kill \(kills): \(report.firstBad?.problem ?? "")")
            let ledger = try await fx.ledger()
            for (seq, hash) in acknowledged {
                #expect(try await ledger.entry(seq).hash == hash, "acknowledged entry \(seq) lost after kill \(kills)")
            }
        }
        #expect(kills >= min(50, Self.killCount))
        #expect(acknowledged.count > 0, "the child never got a commit in; the test proved nothing")
    }

    @Test("two processes committing different proposals on the same base: exactly one wins, the other is stale")
    func racingCommitters() async throws {
        let alvh = Tools.alvh
        try #require(FileManager.default.isExecutableFile(atPath: alvh), "the alvh binary is not built: \(alvh)")
        for round in 0..<5 {
            let fx = try await LedgerFixture()
            let ledger = try await fx.ledger()
            let now = Date()
            let a = try await ledger.enqueue(try fx.envelope(try await fx.layerProposal(layer: "short-term", at: now), signedBy: ["tom", "alice", "carol"]), at: now).pending.id
            let b = try await ledger.enqueue(try fx.envelope(try await fx.layerProposal(layer: "event", at: now), signedBy: ["tom", "bob", "limits"]), at: now).pending.id
            let processes = [a, b].map { id -> (Process, Pipe) in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: alvh)
                process.arguments = ["commit", id, "--workspace", fx.root, "--committer-key", "\(fx.root)/Keys/private/committer.key.pem"]
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
            #expect(errors.contains { $0.contains("stale proposal") }, "round \(round): \(errors)")
            #expect(try await ledger.head().sequence == 1)
            #expect(try await fx.verify().ok)
        }
    }
}
