import Foundation
import Testing
import ALVHSigning
import ALVHStorage
@_spi(Testing) import ALVHStorageSQLite
@_spi(Testing) import ALVHStoragePostgres

/// Blobs verified on write (issue 25, point 5): a keyless database writer who inserts bytes under
/// the hash of a snapshot not yet stored must not block, forever, every commit citing it — the
/// append-only trigger used to protect the poison. On both backends with a schema: a row whose bytes
/// do not hash to its name is refused at insert, and one that got in anyway is replaced by the real
/// bytes the next time they are stored.
@Suite("Blobs verified on write")
struct BlobVerificationTests {
    typealias F = Fixture

    static let real = Array(#"{"asOf":"2026-12-07T15:00:00Z","vix":{"spot":38.5}}"#.utf8)
    static let poison = Array("garbage".utf8)
    static var hash: String { SHA256.hexDigest(real) }
    static let databases: [Backend] = Backend.enabled.filter { $0 != .memory }

    enum Arg { case text(String), bytes([UInt8]) }

    /// Runs raw SQL as a writer without the ledger's keys would: the SQLite file's own connection,
    /// or PostgreSQL's owner (`asRole` nil) or a given role. `?` marks the arguments, in order.
    static func raw(_ s: any LedgerStorage, _ sql: String, _ arguments: [Arg] = [], asRole role: String? = nil) async throws {
        switch s {
        case let sqlite as SQLiteLedgerStorage:
            try await sqlite.rawExecute(sql, arguments.map { switch $0 { case .text(let t): .text(t); case .bytes(let b): .bytes(b) } })
        case let postgres as PostgresLedgerStorage:
            var filled = sql
            for argument in arguments {
                let literal = switch argument {
                case .text(let t): "'\(t)'"
                case .bytes(let b): "'\\x\(b.map { String(format: "%02x", $0) }.joined())'::bytea"
                }
                filled = filled.replacingOccurrences(of: "?", with: literal, options: [], range: filled.range(of: "?"))
            }
            try await postgres.rawExecute((role.map { ["SET LOCAL ROLE \($0)"] } ?? []) + [filled])
        default:
            Issue.record("no raw SQL on \(type(of: s))")
        }
    }

    @Test("a row whose bytes do not hash to its name is refused at insert, whoever inserts it", arguments: databases)
    func poisonRefusedAtInsert(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            _ = try await F.create(s)
            let error = await #expect(throws: StorageError.self) {
                try await Self.raw(s, "INSERT INTO blobs (hash, bytes) VALUES (?, ?)", [.text(Self.hash), .bytes(Self.poison)])
            }
            #expect(error?.reason.contains("must hash") == true, "\(error?.reason ?? "")")
            if let postgres = s as? PostgresLedgerStorage {
                // The application role, which may INSERT blobs, is refused the same way.
                let role = "alvh_app_" + UUID().uuidString.lowercased().prefix(8)
                try await postgres.grantApplicationRole(role)
                let asApp = await #expect(throws: StorageError.self) {
                    try await Self.raw(s, "INSERT INTO blobs (hash, bytes) VALUES (?, ?)", [.text(Self.hash), .bytes(Self.poison)], asRole: role)
                }
                #expect(asApp?.reason.contains("must hash") == true, "\(asApp?.reason ?? "")")
                // It may store real bytes, and replace nothing that is real.
                try await Self.raw(s, "SELECT alvh_store_blob(?, ?)", [.text(Self.hash), .bytes(Self.real)], asRole: role)
                try await postgres.rawExecute(["DROP OWNED BY \(role)", "DROP ROLE \(role)"])
            }
            // Nothing was kept under the hash but real bytes.
            let kept = try await s.blob(Self.hash)
            #expect(kept == nil || kept == Self.real)
        }
    }

    @Test("a poisoned row that got in anyway is replaced by the real bytes on the next commit citing them; real bytes stay append-only",
          arguments: databases)
    func poisonReplacedOnWrite(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            // The poison as it would be after a writer bypassed the checks (an old schema, the
            // trigger dropped or disabled by the file's or database's owner).
            switch s {
            case is SQLiteLedgerStorage:
                try await Self.raw(s, "DROP TRIGGER IF EXISTS blobs_verified_insert")
                try await Self.raw(s, "INSERT INTO blobs (hash, bytes) VALUES (?, ?)", [.text(Self.hash), .bytes(Self.poison)])
            case let postgres as PostgresLedgerStorage:
                try await postgres.rawExecute(["ALTER TABLE blobs DISABLE TRIGGER USER"])
                try await Self.raw(s, "INSERT INTO blobs (hash, bytes) VALUES (?, ?)", [.text(Self.hash), .bytes(Self.poison)])
                try await postgres.rawExecute(["ALTER TABLE blobs ENABLE TRIGGER USER"])
            default: Issue.record("unexpected backend")
            }
            #expect(try await s.blob(Self.hash) == Self.poison)
            // The honest commit citing the snapshot stores its bytes: the poison goes, the commit lands.
            let appended = try await s.append([F.entry(after: g)], book: [], blobs: [Self.real], removing: nil, decidedOn: g)
            guard case .done = appended else { Issue.record("the commit did not land: \(appended)"); return }
            #expect(try await s.blob(Self.hash) == Self.real)
            // Real bytes are append-only: neither another write nor raw SQL changes them.
            let head = try #require(try await s.head()).ref
            _ = try await s.append([F.entry(after: head)], book: [], blobs: [Self.real], removing: nil, decidedOn: head)
            let update = await #expect(throws: StorageError.self) {
                try await Self.raw(s, "UPDATE blobs SET bytes = ? WHERE hash = ?", [.bytes(Self.poison), .text(Self.hash)])
            }
            #expect(update?.reason.contains("append-only") == true, "\(update?.reason ?? "")")
            #expect(try await s.blob(Self.hash) == Self.real)
        }
    }
}
