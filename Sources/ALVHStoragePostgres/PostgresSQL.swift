/// Every SQL statement of the PostgreSQL backend, beside the schema it runs on: what `QueryPlanTests`
/// (ALVHStorageTests' `PostgresPlanTests`) explains is the very text the code runs.
///
/// ## One database, one ledger
/// A database holds exactly one ledger: the database is the ledger's namespace. The ledger's
/// "(ledger, sequence) is unique" is the `entries.seq` primary key of a database dedicated to it;
/// a second ledger is a second database (`CREATE DATABASE`), never a second set of rows.
///
/// ## Schema (mirrors the SQLite schema of ALVHLedger's LedgerStore, v1…v4)
/// - `meta(key, value)`; `book(id = 1, seq, json)`; `blobs(hash, bytes)` (a snapshot a proposal
///   cites, named by its SHA-256: append-only).
/// - `entries(seq bigint PK ≥ 0, prev_hash UNIQUE, kind, envelope, attachments, policy_hash,
///   committed_at, entry_hash UNIQUE, committer_sig)`: append-only (triggers refuse UPDATE, DELETE
///   and TRUNCATE, whoever asks). The unique `seq` and `prev_hash` are the last defence against two
///   entries continuing the same head.
/// - `pending(id PK, …, sequence, status)`; `signatures` and `rejections` (one per key per proposal,
///   `ON DELETE CASCADE` with their proposal, an identity `arrival` column for SQLite's rowid order).
/// - `ledger_head(id = 1, seq, entry_hash)`: the one row every writing transaction locks first
///   (see ``PostgresLedgerStorage``); created with the genesis, updated on each append.
/// - `schema_version(version, applied_at)`: one row per applied migration.
///
/// Text columns that are compared or ordered (hashes, ids, keys, queue times) are `COLLATE "C"`:
/// byte order, as SQLite and the in-memory storage order them, and prefix searches by the index.
enum PostgresSQL {
    // MARK: Migrations

    /// Serializes migrators of one database (two `alvh ledger setup` at once): a transaction-level
    /// advisory lock, taken first in each migration's transaction.
    static let migrationLock = "SELECT pg_advisory_xact_lock(7415926535)"
    static let createSchemaVersion = """
        CREATE TABLE IF NOT EXISTS schema_version (
            version    integer PRIMARY KEY CHECK (version > 0),
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    /// Whether the schema is there at all (without create: no table, no ledger).
    static let schemaVersionExists = "SELECT to_regclass('schema_version') IS NOT NULL"
    static let schemaVersion = "SELECT coalesce(max(version), 0) FROM schema_version"
    static let recordVersion = "INSERT INTO schema_version (version) VALUES ($1)"

    /// The migrations, in order: migration `n` (1-based) brings the schema to version `n`. Each runs
    /// in one transaction with its `schema_version` row; a database at a higher version than
    /// `migrations.count` belongs to a newer alvh and is refused. Append only: never edit one that
    /// has shipped.
    static let migrations: [[String]] = [
        // v1: the format-2 ledger (SQLite's v1…v4 in one step), the head row, the append-only triggers.
        [
            """
            CREATE TABLE meta (
                key   text COLLATE "C" PRIMARY KEY,
                value text NOT NULL
            )
            """,
            """
            CREATE TABLE entries (
                seq           bigint PRIMARY KEY CHECK (seq >= 0),
                prev_hash     text COLLATE "C" NOT NULL UNIQUE,
                kind          text NOT NULL CHECK (kind IN ('genesis', 'layer-change', 'policy-change')),
                envelope      bytea NOT NULL,
                attachments   bytea NOT NULL,
                policy_hash   text NOT NULL,
                committed_at  text NOT NULL,
                entry_hash    text COLLATE "C" NOT NULL UNIQUE,
                committer_sig bytea NOT NULL
            )
            """,
            // The policy in force is the last genesis / policy-change entry: a backward scan of this
            // partial index, not of every layer change back to genesis.
            "CREATE INDEX entries_policy_seq ON entries (seq) WHERE kind IN ('genesis', 'policy-change')",
            """
            CREATE TABLE ledger_head (
                id         integer PRIMARY KEY CHECK (id = 1),
                seq        bigint NOT NULL CHECK (seq >= 0),
                entry_hash text COLLATE "C" NOT NULL
            )
            """,
            """
            CREATE TABLE pending (
                id           text COLLATE "C" PRIMARY KEY,
                payload      bytea NOT NULL,
                payload_type text NOT NULL,
                kind         text NOT NULL,
                sequence     bigint NOT NULL CHECK (sequence >= 0),
                base         text NOT NULL,
                created      text NOT NULL,
                expires      text NOT NULL,
                proposer     text NOT NULL,
                queued_at    text COLLATE "C" NOT NULL,
                attachments  bytea,
                status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'expired', 'stale', 'vetoed'))
            )
            """,
            "CREATE INDEX pending_sequence ON pending (sequence)",
            "CREATE INDEX pending_queue_order ON pending (queued_at, id)",
            // The open proposals every signer and coordinator pass reads, in decision order.
            "CREATE INDEX pending_open ON pending (sequence, queued_at, id) WHERE status = 'pending'",
            """
            CREATE TABLE signatures (
                arrival    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                pending_id text COLLATE "C" NOT NULL REFERENCES pending (id) ON DELETE CASCADE,
                keyid      text,
                sig        bytea NOT NULL,
                signer_key text COLLATE "C" NOT NULL,
                added_at   text NOT NULL,
                CONSTRAINT signatures_one_per_key UNIQUE (pending_id, signer_key)
            )
            """,
            "CREATE INDEX signatures_pending_arrival ON signatures (pending_id, arrival)",
            "CREATE INDEX signatures_signer ON signatures (signer_key)",
            """
            CREATE TABLE rejections (
                arrival    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                pending_id text COLLATE "C" NOT NULL REFERENCES pending (id) ON DELETE CASCADE,
                envelope   bytea NOT NULL,
                signer_key text COLLATE "C" NOT NULL,
                added_at   text NOT NULL,
                CONSTRAINT rejections_one_per_key UNIQUE (pending_id, signer_key)
            )
            """,
            "CREATE INDEX rejections_pending_arrival ON rejections (pending_id, arrival)",
            """
            CREATE TABLE book (
                id   integer PRIMARY KEY CHECK (id = 1),
                seq  bigint NOT NULL CHECK (seq >= 0),
                json bytea NOT NULL
            )
            """,
            """
            CREATE TABLE blobs (
                hash  text COLLATE "C" PRIMARY KEY CHECK (length(hash) = 64),
                bytes bytea NOT NULL
            )
            """,
            """
            CREATE FUNCTION alvh_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                RAISE EXCEPTION 'ledger % are append-only (% refused)', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END
            $body$
            """,
            "CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries FOR EACH ROW EXECUTE FUNCTION alvh_append_only()",
            "CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries FOR EACH STATEMENT EXECUTE FUNCTION alvh_append_only()",
            "CREATE TRIGGER blobs_append_only BEFORE UPDATE OR DELETE ON blobs FOR EACH ROW EXECUTE FUNCTION alvh_append_only()",
            "CREATE TRIGGER blobs_no_truncate BEFORE TRUNCATE ON blobs FOR EACH STATEMENT EXECUTE FUNCTION alvh_append_only()",
        ],
        // v2: blobs verified on write (docs/storage.md). A row whose bytes do not hash to its name is
        // refused at insert, whoever inserts it (the application role included); one that got in
        // anyway (before this version, or by the owner with the trigger disabled) is replaced by the
        // real bytes the next time they are stored, through `alvh_store_blob` — it can no longer
        // block every commit citing that hash. A row whose bytes match stays append-only.
        [
            """
            CREATE FUNCTION alvh_blob_verified() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (NEW.hash <> OLD.hash OR encode(sha256(OLD.bytes), 'hex') = OLD.hash)) THEN
                    RAISE EXCEPTION 'ledger blobs are append-only (% refused): only bytes that do not hash to their name may be replaced, by bytes that do', TG_OP
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                IF encode(sha256(NEW.bytes), 'hex') <> NEW.hash THEN
                    RAISE EXCEPTION 'a ledger blob''s bytes must hash (SHA-256, lowercase hex) to its name: % refused', NEW.hash
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                RETURN NEW;
            END
            $body$
            """,
            "DROP TRIGGER blobs_append_only ON blobs",
            "CREATE TRIGGER blobs_verified BEFORE INSERT OR UPDATE OR DELETE ON blobs FOR EACH ROW EXECUTE FUNCTION alvh_blob_verified()",
            // The application role may INSERT blobs, not UPDATE them: replacing poison runs as the
            // owner, and only ever stores bytes that hash to the name (the trigger above).
            """
            CREATE FUNCTION alvh_store_blob(blob_hash text, blob_bytes bytea) RETURNS void
            LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $body$
                INSERT INTO public.blobs (hash, bytes) VALUES (blob_hash, blob_bytes)
                ON CONFLICT (hash) DO UPDATE SET bytes = EXCLUDED.bytes
                WHERE encode(sha256(public.blobs.bytes), 'hex') <> public.blobs.hash
            $body$
            """,
        ],
    ]

    // MARK: Transactions

    static let begin = "BEGIN ISOLATION LEVEL READ COMMITTED"
    static let commit = "COMMIT"
    static let rollback = "ROLLBACK"

    // MARK: The head and its lock

    /// The write lock: every writing transaction takes it first (no row before the genesis).
    static let lockHead = "SELECT seq FROM ledger_head WHERE id = 1 FOR UPDATE"
    /// The real head, read after the lock, by a backward scan of the primary key.
    static let headRef = "SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1"
    static let insertHead = "INSERT INTO ledger_head (id, seq, entry_hash) VALUES (1, $1, $2)"
    static let updateHead = "UPDATE ledger_head SET seq = $1, entry_hash = $2 WHERE id = 1"

    // MARK: Entries

    /// The columns ``PostgresLedgerStorage`` decodes an entry from, in its order.
    static let entryColumns = "seq, prev_hash, kind, envelope, attachments, policy_hash, committed_at, entry_hash, committer_sig"
    static let headEntry = "SELECT \(entryColumns) FROM entries ORDER BY seq DESC LIMIT 1"
    static let entryAt = "SELECT \(entryColumns) FROM entries WHERE seq = $1"
    static let entriesFrom = "SELECT \(entryColumns) FROM entries WHERE seq >= $1 ORDER BY seq LIMIT $2"
    static let anyEntry = "SELECT EXISTS (SELECT 1 FROM entries)"
    /// The last genesis or policy-change entry below a sequence: the partial index, backwards.
    static let policyEntryBefore = """
        SELECT \(entryColumns) FROM entries
        WHERE kind IN ('genesis', 'policy-change') AND seq < $1 ORDER BY seq DESC LIMIT 1
        """
    /// The last genesis or policy-change entry.
    static let policyEntryLast = """
        SELECT \(entryColumns) FROM entries
        WHERE kind IN ('genesis', 'policy-change') ORDER BY seq DESC LIMIT 1
        """
    static let insertEntry = """
        INSERT INTO entries (\(entryColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """

    // MARK: Meta, book, blobs

    static let meta = "SELECT value FROM meta WHERE key = $1"
    static let upsertMeta = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    static let book = "SELECT seq, json FROM book WHERE id = 1"
    static let upsertBook = "INSERT INTO book (id, seq, json) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, json = excluded.json"
    static let blob = "SELECT bytes FROM blobs WHERE hash = $1"
    /// Stores a blob under the hash of its bytes, replacing a row whose bytes do not (schema v2).
    static let insertBlob = "SELECT alvh_store_blob($1, $2)"
    static let blobsFirst = "SELECT hash, bytes FROM blobs ORDER BY hash LIMIT $1"
    static let blobsAfter = "SELECT hash, bytes FROM blobs WHERE hash > $1 ORDER BY hash LIMIT $2"

    // MARK: The queue

    static let pendingColumns = """
        p.id, p.payload, p.payload_type, p.kind, p.sequence, p.base, p.created, p.expires, p.proposer, p.queued_at, \
        p.attachments, p.status, \
        (SELECT count(*) FROM signatures s WHERE s.pending_id = p.id), \
        (SELECT count(*) FROM rejections r WHERE r.pending_id = p.id)
        """
    static let pendingByID = "SELECT \(pendingColumns) FROM pending p WHERE p.id = $1"
    /// The whole queue, oldest first. Not in ``hot``: it reads every row by design (the planner may
    /// rightly prefer a scan and a sort to the (queued_at, id) index for the whole table).
    static let allPending = "SELECT \(pendingColumns) FROM pending p ORDER BY p.queued_at, p.id"
    /// The open proposals in decision order. Not in ``hot``: it reads every open proposal by design;
    /// the partial index of open proposals serves it once the finished ones outnumber them enough
    /// (with 3,000 queued of which 60 open the planner rightly prefers a scan and a sort of 60).
    static let openPending = "SELECT \(pendingColumns) FROM pending p WHERE p.status = 'pending' ORDER BY p.sequence, p.queued_at, p.id"
    /// Ids starting with a prefix: `[prefix, upper)` on the primary key (C collation), the prefix
    /// checked again for exactness.
    static let pendingIDsPrefix = """
        SELECT id FROM pending WHERE id >= $1 AND id < $2 AND left(id, length($1)) = $1 ORDER BY id LIMIT $3
        """
    static let pendingIDsAll = "SELECT id FROM pending ORDER BY id LIMIT $1"
    /// The status, locked for this transaction (the head lock serializes writers already; the row
    /// lock keeps a hand-written UPDATE from slipping in between).
    static let pendingStatusForUpdate = "SELECT status, sequence FROM pending WHERE id = $1 FOR UPDATE"
    static let insertPending = """
        INSERT INTO pending (id, payload, payload_type, kind, sequence, base, created, expires, proposer, queued_at, attachments, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending')
        """
    static let setPendingStatus = "UPDATE pending SET status = $2 WHERE id = $1 AND status = 'pending'"
    static let deletePending = "DELETE FROM pending WHERE id = $1"

    // MARK: Signatures and rejections

    static let signatures = "SELECT keyid, sig, signer_key FROM signatures WHERE pending_id = $1 ORDER BY arrival"
    static let signatureCount = "SELECT count(*) FROM signatures WHERE pending_id = $1"
    static let signatureByKey = "SELECT EXISTS (SELECT 1 FROM signatures WHERE pending_id = $1 AND signer_key = $2)"
    /// A key's signatures on the other proposals for the same entry, whatever their status column
    /// says (the double-sign rule decides on their signed payload and rejections), in proposal id order.
    static let otherSignaturesForSlot = """
        SELECT p.id, p.expires, p.proposer, p.payload, p.payload_type FROM signatures s JOIN pending p ON p.id = s.pending_id
        WHERE s.signer_key = $1 AND p.sequence = $2 AND p.id <> $3
        ORDER BY p.id
        """
    static let insertSignature = """
        INSERT INTO signatures (pending_id, keyid, sig, signer_key, added_at) VALUES ($1, $2, $3, $4, $5)
        """
    static let rejections = "SELECT envelope FROM rejections WHERE pending_id = $1 ORDER BY arrival"
    static let rejectionByKey = "SELECT EXISTS (SELECT 1 FROM rejections WHERE pending_id = $1 AND signer_key = $2)"
    /// The rejections of every proposal for one entry, in arrival order.
    static let slotRejections = """
        SELECT r.envelope FROM rejections r JOIN pending p ON p.id = r.pending_id WHERE p.sequence = $1 ORDER BY r.arrival
        """
    /// Locks the queued proposals for one entry (a commit's queue check): an insert of a rejection
    /// of any of them (its foreign key takes a KEY SHARE lock on the proposal) waits until the
    /// commit is over, and then finds its proposal gone or the count it was decided on changed.
    static let lockSlot = "SELECT id FROM pending WHERE sequence = $1 ORDER BY id FOR UPDATE"
    /// How many rejections ``slotRejections`` reads: a commit checks it is still what it decided on.
    static let slotRejectionCount = """
        SELECT count(*) FROM rejections r JOIN pending p ON p.id = r.pending_id WHERE p.sequence = $1
        """
    static let insertRejection = """
        INSERT INTO rejections (pending_id, envelope, signer_key, added_at) VALUES ($1, $2, $3, $4)
        """

    // MARK: The application role

    /// The statements that make and grant the application role (see
    /// ``PostgresLedgerStorage/setupSQL(appRole:password:)``): the name quoted as an identifier, the
    /// name and password as literals (inside the DO blocks' own literal), so any text is safe.
    static func applicationRole(_ name: String, password: String?) -> [String] {
        let role = quoteIdentifier(name)
        let create = password.map { "CREATE ROLE \(role) LOGIN PASSWORD \(quoteLiteral($0))" } ?? "CREATE ROLE \(role) NOLOGIN"
        var ensure = "BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = \(quoteLiteral(name))) THEN \(create); "
        if let password { ensure += "ELSE ALTER ROLE \(role) LOGIN PASSWORD \(quoteLiteral(password)); " }
        ensure += "END IF; END"
        let grantConnect = "BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), \(quoteLiteral(name))); END"
        return [
            "DO \(quoteLiteral(ensure))",
            "DO \(quoteLiteral(grantConnect))",
            "GRANT USAGE ON SCHEMA public TO \(role)",
            "REVOKE ALL ON entries, blobs, pending, signatures, rejections, book, meta, ledger_head, schema_version FROM \(role)",
            "GRANT SELECT, INSERT ON entries, blobs TO \(role)",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON pending, signatures, rejections, book, meta, ledger_head TO \(role)",
            "GRANT SELECT ON schema_version TO \(role)",
        ]
    }

    static func quoteIdentifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    static func quoteLiteral(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    /// The statements of the hot paths (reads of a stream, enqueue, sign, reject, commit): each
    /// must find its rows by an index, never by scanning a table that grows with the ledger
    /// (checked by EXPLAIN on a filled database).
    static let hot: [String] = [
        lockHead, headRef, headEntry, entryAt, entriesFrom, policyEntryBefore, policyEntryLast,
        meta, book, blob, blobsFirst, blobsAfter,
        pendingByID, pendingIDsPrefix, pendingStatusForUpdate, setPendingStatus, deletePending,
        signatures, signatureCount, signatureByKey, otherSignaturesForSlot,
        rejections, rejectionByKey, slotRejections, lockSlot, slotRejectionCount,
    ]
}
