import Foundation
import GRDB
import ALVHSigning
import ALVHStorage

/// The SQLite schema of a ledger, as versioned GRDB migrations (recorded in `grdb_migrations`;
/// a file migrated by a newer alvh is refused by ``SQLiteLedgerStorage/open(path:create:readOnly:)``).
///
/// WAL journal, `synchronous=FULL`, foreign keys. Entries and blobs are append-only in the file
/// itself: triggers refuse UPDATE and DELETE.
enum SQLiteSchema {
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
        // The storage seam (format 2, unchanged): the queue listed in queue order by an index.
        migrator.registerMigration("v5-queue-order") { db in
            try db.execute(sql: "CREATE INDEX pending_queue_order ON pending (queued_at, id)")
        }
        // The open proposals, which every signer and coordinator pass reads: a partial index of
        // them only, in decision order (the finished ones stay in the queue for the record).
        migrator.registerMigration("v6-open-queue") { db in
            try db.execute(sql: "CREATE INDEX pending_open ON pending (sequence, queued_at, id) WHERE status = 'pending'")
        }
        // Blobs verified on write (docs/storage.md): a row whose bytes do not hash to its name is
        // refused at insert, and one that got in anyway (written before this migration, or by a
        // writer who dropped the trigger) is replaced by the real bytes the next time they are
        // stored — it can no longer block, forever, every commit that cites that hash. A row whose
        // bytes match its name stays append-only. `alvh_blob_ok` is registered on every connection
        // alvh opens (``SQLiteSchema/blobCheck``); a tool without it cannot write blobs at all.
        migrator.registerMigration("v7-blobs-verified") { db in
            try db.execute(sql: """
                DROP TRIGGER blobs_append_only_update;
                CREATE TRIGGER blobs_append_only_update BEFORE UPDATE ON blobs
                WHEN alvh_blob_ok(OLD.hash, OLD.bytes) OR NEW.hash <> OLD.hash OR NOT alvh_blob_ok(NEW.hash, NEW.bytes)
                BEGIN SELECT RAISE(ABORT, 'ledger blobs are append-only: only bytes that do not hash to their name may be replaced, by bytes that do'); END;
                CREATE TRIGGER blobs_verified_insert BEFORE INSERT ON blobs
                WHEN NOT alvh_blob_ok(NEW.hash, NEW.bytes)
                BEGIN SELECT RAISE(ABORT, 'a ledger blob''s bytes must hash (SHA-256, lowercase hex) to its name'); END;
                """)
        }
        return migrator
    }


    /// `alvh_blob_ok(hash, bytes)`: whether `bytes` hash (SHA-256, lowercase hex) to `hash` — the
    /// check of the blob triggers (v7), registered on every connection before it migrates.
    static let blobCheck = DatabaseFunction("alvh_blob_ok", argumentCount: 2, pure: true) { values in
        guard let hash = String.fromDatabaseValue(values[0]), let bytes = Data.fromDatabaseValue(values[1]) else { return false }
        return SHA256.hexDigest(bytes) == hash
    }

    /// Every migration this alvh knows, in order.
    static var knownMigrations: [String] { migrator.migrations }

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

    /// A database error as the seam's one error type, with what it concerns.
    static func storageError(_ error: any Error, path: String) -> StorageError {
        if let error = error as? StorageError { return error }
        return StorageError(.database, describe(error), path: path)
    }
}
