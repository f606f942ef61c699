import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHEngine
@testable import ALVHLedger

/// Tampering with the SQLite file through the real `sqlite3` CLI, triggers dropped first.
@Suite("Ledger tamper evidence")
struct LedgerTamperTests {
    static let dropTriggers = "DROP TRIGGER entries_append_only_update; DROP TRIGGER entries_append_only_delete;"

    /// A ledger with genesis and three layer changes.
    func fixture() async throws -> LedgerFixture {
        let fx = try await LedgerFixture()
        try await fx.commitLayer(try await fx.layerProposal(layer: "short-term"))
        try await fx.commitLayer(try await fx.layerProposal(kind: .resizeLayer, layer: "short-term", quantity: 5))
        try await fx.commitLayer(try await fx.layerProposal(layer: "event", strike: 22))
        #expect(try await fx.verify().ok)
        return fx
    }

    static func flip(_ text: String) -> String {
        var chars = Array(text)
        chars[chars.count / 2] = chars[chars.count / 2] == "a" ? "b" : "a"
        return String(chars)
    }

    @Test("flipping a byte in any column of any entry is detected and the entry named",
          arguments: ["prev_hash", "kind", "envelope", "attachments", "policy_hash", "committed_at", "entry_hash"], [0, 1, 2, 3])
    func flipByte(column: String, sequence: Int) async throws {
        let fx = try await fixture()
        let db = "\(fx.root)/alvh.sqlite"
        let entry = try await fx.ledger().entry(UInt64(sequence))
        var sql = Self.dropTriggers
        switch column {
        case "envelope", "attachments":
            var bytes = column == "envelope" ? entry.envelope : entry.attachments
            if bytes.isEmpty { bytes = [0x20] } else { bytes[bytes.count / 2] ^= 0x01 }
            let file = "\(fx.root)/blob.bin"
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            sql += "UPDATE entries SET \(column) = readfile('\(file)') WHERE seq = \(sequence);"
        case "kind":
            let other = entry.kind == .layerChange ? "policy-change" : "layer-change"
            sql += "UPDATE entries SET kind = '\(other)' WHERE seq = \(sequence);"
        case "prev_hash":
            sql += "UPDATE entries SET prev_hash = '\(Self.flip(entry.previousHash))' WHERE seq = \(sequence);"
        case "policy_hash":
            sql += "UPDATE entries SET policy_hash = '\(Self.flip(entry.policyHash))' WHERE seq = \(sequence);"
        case "committed_at":
            sql += "UPDATE entries SET committed_at = '\(entry.committedAt.replacingOccurrences(of: "14:", with: "15:"))' WHERE seq = \(sequence);"
        default:
            sql += "UPDATE entries SET entry_hash = '\(Self.flip(entry.hash))' WHERE seq = \(sequence);"
        }
        let result = try Tools.sqlite(db, sql)
        try #require(result.status == 0, "\(result.stderr)")
        let report = try await fx.verify()
        #expect(!report.ok)
        // A changed stored hash breaks the next entry's link when the entry itself still hashes right.
        let named = report.firstBad?.sequence
        #expect(named == UInt64(sequence) || (column == "entry_hash" && named == UInt64(sequence + 1)) || (column == "entry_hash" && sequence == 3 && named == 3),
                "\(column) @ \(sequence): \(report.firstBad.map { "\($0.sequence): \($0.problem)" } ?? "ok")")
    }

    @Test("two entries swapped are detected")
    func reorder() async throws {
        let fx = try await fixture()
        let result = try Tools.sqlite("\(fx.root)/alvh.sqlite",
            Self.dropTriggers + "UPDATE entries SET seq = 1000 WHERE seq = 1; UPDATE entries SET seq = 1 WHERE seq = 2; UPDATE entries SET seq = 2 WHERE seq = 1000;")
        try #require(result.status == 0, "\(result.stderr)")
        let report = try await fx.verify()
        #expect(report.firstBad?.sequence == 1)
        #expect(report.firstBad?.problem.contains("link broken") == true)
    }

    @Test("deleted last entries are detected against a head the auditor saw earlier")
    func truncation() async throws {
        let fx = try await fixture()
        let seen = try await fx.ledger().head()
        let result = try Tools.sqlite("\(fx.root)/alvh.sqlite", Self.dropTriggers + "DELETE FROM entries WHERE seq >= 2; UPDATE book SET json = (SELECT json FROM book) WHERE id = 1;")
        try #require(result.status == 0, "\(result.stderr)")
        // Export what is left (as an attacker would hand it over) and verify it offline.
        let export = "\(fx.root)/ledger.jsonl"
        try await LedgerExporter.export(try await fx.ledger(), to: export)
        var plain = try ExportEntrySource(path: export)
        #expect(try await LedgerVerifier(jobs: 2).verify(&plain).ok) // a prefix of a ledger is self-consistent…
        var source = try ExportEntrySource(path: export)
        let report = try await LedgerVerifier(jobs: 2).verify(&source, expectHead: .init(sequence: seen.sequence, hash: seen.hash))
        #expect(!report.ok) // …but not with the head the auditor kept
        #expect(report.firstBad?.sequence == 3)
        #expect(report.firstBad?.problem.contains("missing") == true)
    }

    @Test("a wrong expected head is named")
    func wrongExpectedHead() async throws {
        let fx = try await fixture()
        let report = try await fx.verify(expectHead: .init(sequence: 2, hash: String(repeating: "f", count: 64)))
        #expect(report.firstBad?.sequence == 2)
    }

    @Test("the materialized book must equal the replay")
    func bookTamper() async throws {
        let fx = try await fixture()
        let result = try Tools.sqlite("\(fx.root)/alvh.sqlite", "UPDATE book SET json = replace(json, '\"quantity\":15', '\"quantity\":150');")
        try #require(result.status == 0, "\(result.stderr)")
        let report = try await fx.verify()
        #expect(!report.ok)
        #expect(report.firstBad?.problem.contains("materialized book") == true)
    }

    /// The book row is read before the entries are streamed; a commit by another process in
    /// between (a killed committer's COMMIT that PostgreSQL finishes after the kill, a live desk)
    /// moves the chain past it. Found by the PostgreSQL crash test under load: it was reported as
    /// a mismatch at the new head.
    @Test("a commit between reading the book and reading the entries is not a mismatch: the book is compared at its own entry")
    func bookReadBeforeACommit() async throws {
        let fx = try await fixture()
        let materialized = try await fx.withLedger { try await $0.materializedBook() }
        #expect(materialized.sequence == 3)
        try await fx.commitLayer(try await fx.layerProposal(kind: .resizeLayer, layer: "event", quantity: 7))
        let report = try await fx.withLedger { ledger in
            var source = StorageEntrySource(ledger: ledger)
            return try await LedgerVerifier(jobs: 2).verify(&source, materializedBook: materialized)
        }
        #expect(report.ok, "\(report.firstBad?.problem ?? "")")
        #expect(report.headSequence == 4 && report.bookMatches == true)
        #expect(report.replayedBook != materialized.book, "the fourth change must move the book, or the test proves nothing")
    }

    @Test("a book row that claims an entry the chain does not reach, or an earlier entry than its own, is refused",
          arguments: [("99", "the chain ends at entry 3"), ("1", "differs from the book replayed")])
    func bookSequenceTamper(_ sequence: String, _ problem: String) async throws {
        let fx = try await fixture()
        let result = try Tools.sqlite("\(fx.root)/alvh.sqlite", "UPDATE book SET seq = \(sequence);")
        try #require(result.status == 0, "\(result.stderr)")
        let report = try await fx.verify()
        #expect(!report.ok)
        #expect(report.firstBad?.problem.contains(problem) == true, "\(report.firstBad?.problem ?? "")")
    }

    @Test("export → offline verify passes; a tampered export line is named")
    func exportRoundTrip() async throws {
        let fx = try await fixture()
        let path = "\(fx.root)/ledger.jsonl"
        #expect(try await LedgerExporter.export(try await fx.ledger(), to: path) == 4)
        var source = try ExportEntrySource(path: path)
        let ok = try await LedgerVerifier(jobs: 1).verify(&source)
        #expect(ok.ok)
        #expect(ok.signatureChecks == 9)

        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        // The blobs come first (the snapshot the entries cite, once; the policy text and key files
        // genesis keeps), then the four entries.
        let isBlob = { (line: String) in line.hasPrefix("{\"blob\":") }
        let firstEntry = try #require(lines.firstIndex { !isBlob($0) })
        #expect(firstEntry > 0 && lines.count == firstEntry + 4 && !lines[firstEntry...].contains(where: isBlob))
        let snapshotHash = SHA256.hexDigest(fx.snapshotBytes)
        #expect(lines[..<firstEntry].filter { $0.hasPrefix("{\"blob\":\"\(snapshotHash)\"") }.count == 1)
        let entry2 = firstEntry + 2
        #expect(lines[entry2].contains("\"sequence\":2"))
        lines[entry2] = lines[entry2].replacingOccurrences(of: "\"committedAt\":\"2026-11-25T14", with: "\"committedAt\":\"2026-11-25T13")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var tampered = try ExportEntrySource(path: path)
        let bad = try await LedgerVerifier(jobs: 1).verify(&tampered)
        #expect(bad.firstBad?.sequence == 2)
    }

    @Test("signature verification gives the same verdict on 1 and 2 threads")
    func jobsAgree() async throws {
        let fx = try await fixture()
        let one = try await fx.verify(jobs: 1)
        let two = try await fx.verify(jobs: 2)
        #expect(one.ok && two.ok)
        #expect(one.signatureChecks == two.signatureChecks)
    }
}
