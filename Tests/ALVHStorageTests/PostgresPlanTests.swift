import Foundation
import Testing
import ALVHStorage
@_spi(Testing) @testable import ALVHStoragePostgres
import ALVHTestSupport

/// Every hot statement finds its rows by an index on a filled ledger: EXPLAIN shows no sequential
/// scan of a table that grows (entries, signatures, pending, rejections, blobs).
@Suite("PostgreSQL query plans", PostgresTestServer.enabled)
struct PostgresPlanTests {
    static let growing: Set<String> = ["entries", "signatures", "pending", "rejections", "blobs"]

    /// Sample parameters for each hot statement (as SQL literals, typed by the planner).
    static let samples: [String: [String]] = [
        PostgresSQL.lockHead: [], PostgresSQL.headRef: [], PostgresSQL.headEntry: [],
        PostgresSQL.entryAt: ["10000"], PostgresSQL.entriesFrom: ["10000", "100"],
        PostgresSQL.policyEntryBefore: ["15500"], PostgresSQL.policyEntryLast: [],
        PostgresSQL.meta: ["ledger_id"], PostgresSQL.book: [],
        PostgresSQL.blob: [String(repeating: "a", count: 64)], PostgresSQL.blobsFirst: ["100"],
        PostgresSQL.blobsAfter: [String(repeating: "8", count: 64), "100"],
        PostgresSQL.pendingByID: ["p-1500"], PostgresSQL.pendingIDsPrefix: ["p-15", "p-16", "20"],
        PostgresSQL.pendingStatusForUpdate: ["p-1500"], PostgresSQL.setPendingStatus: ["p-1500", "stale"],
        PostgresSQL.deletePending: ["p-1500"],
        PostgresSQL.signatures: ["p-1500"], PostgresSQL.signatureCount: ["p-1500"], PostgresSQL.signatureByKey: ["p-1500", "k17"],
        PostgresSQL.otherSignaturesForSlot: ["k17", "20100", "p-1500"],
        PostgresSQL.rejections: ["p-1500"], PostgresSQL.rejectionByKey: ["p-1500", "k17"], PostgresSQL.slotRejections: ["20100"],
        PostgresSQL.lockSlot: ["20100"], PostgresSQL.slotRejectionCount: ["20100"],
    ]

    @Test("every hot statement has sample parameters")
    func samplesCoverHot() {
        for sql in PostgresSQL.hot { #expect(Self.samples[sql] != nil, "\(sql)") }
    }

    @Test("no hot statement scans a growing table (20k entries, thousands of proposals and signatures)")
    func noSequentialScans() async throws {
        try await PostgresTestServer.withFreshDatabase { db async throws in
            let s = try await PostgresLedgerStorage.open(db.location, create: true)
            defer { Task { try? await s.close() } }
            _ = try await Fixture.create(s)
            try await s.rawExecute(
                """
                INSERT INTO entries (seq, prev_hash, kind, envelope, attachments, policy_hash, committed_at, entry_hash, committer_sig)
                SELECT g, CASE WHEN g = 1 THEN (SELECT entry_hash FROM entries WHERE seq = 0) ELSE md5('e' || (g - 1)) || md5('f' || (g - 1)) END,
                       CASE WHEN g % 1000 = 0 THEN 'policy-change' ELSE 'layer-change' END, '\\x00', '\\x', 'p', 't',
                       md5('e' || g) || md5('f' || g), '\\x'
                FROM generate_series(1, 20000) g
                """,
                "UPDATE ledger_head SET seq = 20000, entry_hash = md5('e20000') || md5('f20000')",
                """
                INSERT INTO pending (id, payload, payload_type, kind, sequence, base, created, expires, proposer, queued_at)
                SELECT 'p-' || g, '\\x00', 't', 'layer-change', 20001 + g % 500, 'b', 'c', 'e', 'pr', lpad(g::text, 8, '0')
                FROM generate_series(1, 3000) g
                """,
                """
                INSERT INTO signatures (pending_id, keyid, sig, signer_key, added_at)
                SELECT 'p-' || g, NULL, '\\x00'::bytea, 'k' || (g % 300), 't' FROM generate_series(1, 3000) g
                UNION ALL
                SELECT 'p-' || g, NULL, '\\x00', 'k' || ((g + 7) % 300), 't' FROM generate_series(1, 3000) g
                """,
                """
                INSERT INTO rejections (pending_id, envelope, signer_key, added_at)
                SELECT 'p-' || g, '\\x00', 'k' || (g % 300), 't' FROM generate_series(1, 3000) g
                """,
                "INSERT INTO blobs (hash, bytes) SELECT encode(sha256(('b' || g)::bytea), 'hex'), ('b' || g)::bytea FROM generate_series(1, 5000) g"
            )
            try await s.rawExecute("ANALYZE")
            #expect(try await s.head()?.sequence == 20000)
            // The check sees a scan where there is one (an unindexed column).
            let unindexed = try await s.rawQuery("EXPLAIN (FORMAT JSON) SELECT seq FROM entries WHERE committed_at = 'x'")
            #expect(try Self.sequentialScans(try #require(unindexed.first?.first ?? nil)).contains("entries"))
            for sql in PostgresSQL.hot {
                let literals = try #require(Self.samples[sql], "\(sql)")
                let rows = try await s.rawQuery("EXPLAIN (FORMAT JSON) " + Self.substitute(sql, literals))
                let json = try #require(rows.first?.first ?? nil)
                let scans = try Self.sequentialScans(json)
                #expect(scans.intersection(Self.growing).isEmpty, "\(sql)\n\(json)")
            }
            // The readers agree with the filled tables.
            #expect(try await s.lastPolicyEntry(before: 15500)?.sequence == 15000)
            #expect(try await s.lastPolicyEntry(before: nil)?.sequence == 20000)
            #expect(try await s.pendingIDs(prefix: "p-150", limit: 20) == ["p-150", "p-1500", "p-1501", "p-1502", "p-1503", "p-1504", "p-1505", "p-1506", "p-1507", "p-1508", "p-1509"])
            #expect(try await s.signatures(pendingID: "p-1500").count == 2)
        }
    }

    /// `$n` replaced by the n-th literal, quoted (the planner types it as for a bound parameter).
    static func substitute(_ sql: String, _ literals: [String]) -> String {
        var text = sql
        for (index, literal) in literals.enumerated().reversed() {
            text = text.replacingOccurrences(of: "$\(index + 1)", with: "'" + literal.replacingOccurrences(of: "'", with: "''") + "'")
        }
        return text
    }

    /// The relations a JSON plan reads by a sequential scan.
    static func sequentialScans(_ json: String) throws -> Set<String> {
        let root = try JSONSerialization.jsonObject(with: Data(json.utf8))
        var found: Set<String> = []
        func walk(_ node: Any) {
            if let list = node as? [Any] { list.forEach(walk); return }
            guard let object = node as? [String: Any] else { return }
            if object["Node Type"] as? String == "Seq Scan", let relation = object["Relation Name"] as? String { found.insert(relation) }
            object.values.forEach(walk)
        }
        walk(root)
        return found
    }
}
