import Foundation
import GRDB

/// The SQLite file behind a ledger: schema, pragmas, and the single connection of this process.
///
/// WAL journal, `synchronous=FULL` (set again after GRDB's WAL setup, which lowers it to NORMAL,
/// and checked), a busy timeout so several processes on one host can share the file, and foreign
/// keys. Entries are append-only: triggers refuse UPDATE and DELETE.
///
/// ```swift
/// let store = try LedgerStore.open(path: "alvh.sqlite", create: false)
/// let head = try store.queue.read { try LedgerStore.head($0) }
/// ```
public final class LedgerStore: Sendable {
    public let path: String
    let queue: DatabaseQueue

    /// The file name of the ledger inside a workspace.
    public static let fileName = "alvh.sqlite"

    /// How long a writer waits for another process's transaction (milliseconds).
    public static var busyTimeoutMilliseconds: Int {
        // ALVH_BUSY_TIMEOUT_MS (1…600000) lets an operator wait longer, or a test shorter, for a lock.
        if let text = ProcessInfo.processInfo.environment["ALVH_BUSY_TIMEOUT_MS"], let value = Int(text), (1...600_000).contains(value) {
            return value
        }
        return 15_000
    }

    private init(path: String, queue: DatabaseQueue) {
        self.path = path
        self.queue = queue
    }

    /// Opens the ledger at `path`. With `create: false`, a missing file is ``LedgerError/Code/noLedger``.
    public static func open(path: String, create: Bool = false, readOnly: Bool = false) throws -> LedgerStore {
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists && !create {
            throw LedgerError(.noLedger, "no ledger here; create one with `alvh init --policy Policies/desk.yaml --book BOOK.json` (or give --workspace)", path: path)
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw LedgerError(.fileError, "is a directory, not a ledger file", path: path)
        }
        var config = Configuration()
        config.journalMode = .wal
        config.busyMode = .timeout(Double(busyTimeoutMilliseconds) / 1000)
        config.foreignKeysEnabled = true
        config.readonly = readOnly
        config.label = "alvh-ledger"
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
            if !readOnly {
                try queue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                    let level = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
                    guard level == 2 else {
                        throw LedgerError(.database, "could not set synchronous=FULL (got \(level))", path: path)
                    }
                }
                try migrator.migrate(queue)
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.database, describe(error), path: path)
        }
        return LedgerStore(path: path, queue: queue)
    }

    /// The `synchronous` level in force on this connection (2 = FULL).
    public func synchronousLevel() throws -> Int {
        try queue.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The journal mode in force ("wal").
    public func journalMode() throws -> String {
        try queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") ?? "" }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (
                    key   TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                CREATE TABLE entries (
                    seq          INTEGER PRIMARY KEY CHECK (seq >= 0),
                    prev_hash    TEXT NOT NULL UNIQUE,
                    kind         TEXT NOT NULL CHECK (kind IN ('genesis', 'layer-change', 'policy-change')),
                    envelope     BLOB NOT NULL,
                    attachments  BLOB NOT NULL,
                    policy_hash  TEXT NOT NULL,
                    committed_at TEXT NOT NULL,
                    entry_hash   TEXT NOT NULL UNIQUE
                );
                CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
                BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
                CREATE TRIGGER entries_append_only_delete BEFORE DELETE ON entries
                BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
                CREATE TABLE pending (
                    id           TEXT PRIMARY KEY,
                    payload      BLOB NOT NULL,
                    payload_type TEXT NOT NULL,
                    kind         TEXT NOT NULL,
                    sequence     INTEGER NOT NULL,
                    base         TEXT NOT NULL,
                    created      TEXT NOT NULL,
                    expires      TEXT NOT NULL,
                    proposer     TEXT NOT NULL,
                    queued_at    TEXT NOT NULL,
                    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'expired', 'stale', 'vetoed'))
                );
                CREATE TABLE signatures (
                    pending_id TEXT NOT NULL REFERENCES pending(id) ON DELETE CASCADE,
                    keyid      TEXT,
                    sig        BLOB NOT NULL,
                    added_at   TEXT NOT NULL,
                    UNIQUE (pending_id, sig)
                );
                CREATE TABLE rejections (
                    pending_id TEXT NOT NULL REFERENCES pending(id) ON DELETE CASCADE,
                    envelope   BLOB NOT NULL,
                    added_at   TEXT NOT NULL,
                    UNIQUE (pending_id, envelope)
                );
                CREATE TABLE book (
                    id   INTEGER PRIMARY KEY CHECK (id = 1),
                    seq  INTEGER NOT NULL,
                    json BLOB NOT NULL
                );
                """)
        }
        // The policy in force is the last genesis / policy-change entry: found through this index in
        // O(log n), not by scanning every layer change back to genesis on each enqueue and commit.
        migrator.registerMigration("v2-entries-kind-index") { db in
            try db.execute(sql: "CREATE INDEX entries_kind_seq ON entries (kind, seq)")
        }
        // A proposal's signatures and rejections are read in the order they came (rowid): an index
        // on the proposal alone keeps that order, where the (pending_id, sig) one needed a sort in a
        // temporary B-tree on every commit.
        migrator.registerMigration("v3-pending-order-indexes") { db in
            try db.execute(sql: "CREATE INDEX signatures_pending ON signatures (pending_id)")
            try db.execute(sql: "CREATE INDEX rejections_pending ON rejections (pending_id)")
        }
        // Format 2 (docs/ledger.md): entries signed by a committer; signatures and rejections stored
        // only once verified, one per key; the blobs (market snapshots) proposals cite; a policy
        // change's key files queued with it (no file is read while the write lock is held).
        migrator.registerMigration("v4-format-2") { db in
            try db.execute(sql: """
                ALTER TABLE entries ADD COLUMN committer_sig BLOB NOT NULL DEFAULT x'';
                ALTER TABLE pending ADD COLUMN attachments BLOB;
                ALTER TABLE signatures ADD COLUMN signer_key TEXT;
                ALTER TABLE rejections ADD COLUMN signer_key TEXT;
                CREATE UNIQUE INDEX signatures_one_per_key ON signatures (pending_id, signer_key);
                CREATE UNIQUE INDEX rejections_one_per_key ON rejections (pending_id, signer_key);
                CREATE INDEX signatures_signer ON signatures (signer_key);
                CREATE INDEX pending_sequence ON pending (sequence);
                CREATE TABLE blobs (
                    hash  TEXT PRIMARY KEY CHECK (length(hash) = 64),
                    bytes BLOB NOT NULL
                );
                CREATE TRIGGER blobs_append_only_update BEFORE UPDATE ON blobs
                BEGIN SELECT RAISE(ABORT, 'ledger blobs are append-only'); END;
                CREATE TRIGGER blobs_append_only_delete BEFORE DELETE ON blobs
                BEGIN SELECT RAISE(ABORT, 'ledger blobs are append-only'); END;
                """)
        }
        return migrator
    }

    static func describe(_ error: any Error) -> String {
        if let db = error as? DatabaseError {
            var text = db.message ?? "\(db.resultCode)"
            switch db.resultCode.primaryResultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED: text += " (another process holds the ledger; retry)"
            case .SQLITE_READONLY: text += " (the workspace or ledger file is read-only)"
            case .SQLITE_FULL: text += " (the disk is full)"
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: text += " (not an alvh ledger, or damaged)"
            case .SQLITE_CANTOPEN: text += " (check the path and permissions)"
            default: break
            }
            return "SQLite: " + text
        }
        return "\(error)"
    }
}
