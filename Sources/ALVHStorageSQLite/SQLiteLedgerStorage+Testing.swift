import Foundation
import GRDB
import ALVHStorage

/// What tests and the bench need of the SQLite file, without a GRDB type crossing the module:
/// a hostile database writer's raw SQL, the query plans of the hot statements, and a bare peer.
extension SQLiteLedgerStorage {
    /// The hot statements (``SQLiteSQL/hot``), for the query-plan test.
    @_spi(Testing) public static var hotStatements: [String] { SQLiteSQL.hot }

    /// Every statement the backend runs (``SQLiteSQL/all``), for the query-plan test.
    @_spi(Testing) public static var allStatements: [String] { SQLiteSQL.all }

    /// `EXPLAIN QUERY PLAN` of `sql` with every parameter NULL: one line per step.
    @_spi(Testing) public func queryPlan(_ sql: String) async throws -> [String] {
        try await read { db in
            let parameters = sql.filter { $0 == "?" }.count
            return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql,
                                    arguments: StatementArguments(Array(repeating: DatabaseValue.null, count: parameters)))
                .map { $0["detail"] as String }
        }
    }

    /// Runs raw SQL in one transaction, bypassing every rule of the ledger (a hostile writer, in tests).
    @_spi(Testing) public func rawExecute(_ sql: String, _ arguments: [RawValue] = []) async throws {
        let values = arguments
        do {
            try await writer.write { db in
                try db.execute(sql: sql, arguments: StatementArguments(values.map(\.databaseValue)))
            }
        } catch { throw SQLiteSchema.storageError(error, path: path) }
    }

    /// Appends entries without any check but SQLite's own constraints (the bench's fast fill, a
    /// hostile writer's forged rows).
    @_spi(Testing) public func rawInsert(_ entries: [StoredEntry], book: [UInt8]?) async throws {
        do {
            try await writer.write { db in
                for entry in entries { try Self.insert(entry, db) }
                if let book, let last = entries.last {
                    try db.cachedStatement(sql: SQLiteSQL.upsertBook).execute(arguments: [Int64(last.sequence), Data(book)])
                }
            }
        } catch { throw SQLiteSchema.storageError(error, path: path) }
    }

    /// A value for ``rawExecute(_:_:)``.
    @_spi(Testing) public enum RawValue: Sendable {
        case text(String), integer(Int64), bytes([UInt8]), null
        var databaseValue: DatabaseValue {
            switch self {
            case .text(let s): s.databaseValue
            case .integer(let i): i.databaseValue
            case .bytes(let b): Data(b).databaseValue
            case .null: .null
            }
        }
    }
}

/// The bench's peer: a bare SQLite table in its own file, same journal mode and durability as the
/// ledger (WAL, synchronous=FULL), one INSERT of an entry-sized row per transaction through a
/// reused prepared statement — the cheapest durable insert SQLite offers.
@_spi(Testing) public final class SQLiteBarePeer: Sendable {
    let queue: DatabaseQueue

    public init(path: String) throws {
        var config = Configuration()
        config.journalMode = .wal
        queue = try DatabaseQueue(path: path, configuration: config)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS t (seq INTEGER PRIMARY KEY, prev TEXT, body BLOB, hash TEXT)")
        }
        let level = try queue.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        guard level == 2 else { throw StorageError(.database, "bare SQLite must run with synchronous=FULL (got \(level ?? -1))", path: path) }
    }

    /// Inserts row `seq` with `body` in its own transaction.
    public func insert(_ seq: Int, body: [UInt8]) throws {
        try queue.write { db in
            try db.cachedStatement(sql: "INSERT INTO t (seq, prev, body, hash) VALUES (?, ?, ?, ?)")
                .execute(arguments: [seq, String(repeating: "a", count: 64), Data(body), String(repeating: "b", count: 64)])
        }
    }
}
