/// Every statement the SQLite backend runs, beside its schema (``SQLiteSchema``), so that the
/// query-plan test checks the very text the code runs: each hot one searches by an index and
/// sorts nothing (a table scan grows with the ledger; a temporary B-tree cost 30 µs per commit).
enum SQLiteSQL {
    /// The columns ``SQLiteLedgerStorage/entry(from:)`` reads, in its order.
    static let entryColumns = "seq, prev_hash, kind, envelope, attachments, policy_hash, committed_at, entry_hash, committer_sig"

    static let meta = "SELECT value FROM meta WHERE key = ?"
    static let insertMeta = "INSERT INTO meta (key, value) VALUES (?, ?)"
    static let entriesFrom = "SELECT \(entryColumns) FROM entries WHERE seq >= ? ORDER BY seq LIMIT ?"
    static let head = "SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1"
    static let headEntry = "SELECT \(entryColumns) FROM entries ORDER BY seq DESC LIMIT 1"
    static let entryAt = "SELECT \(entryColumns) FROM entries WHERE seq = ?"
    /// The last genesis or policy-change entry: max() over the (kind, seq) index.
    static let policyHead = """
        SELECT \(entryColumns) FROM entries WHERE seq = (SELECT max(seq) FROM entries WHERE kind IN ('genesis', 'policy-change'))
        """
    /// The last genesis or policy-change entry before a sequence number.
    static let policyEntryBefore = """
        SELECT \(entryColumns) FROM entries
        WHERE seq = (SELECT max(seq) FROM entries WHERE kind IN ('genesis', 'policy-change') AND seq < ?)
        """
    static let insertEntry = """
        INSERT INTO entries (seq, prev_hash, kind, envelope, attachments, policy_hash, committed_at, entry_hash, committer_sig)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let blob = "SELECT bytes FROM blobs WHERE hash = ?"
    static let blobsAfter = "SELECT hash, bytes FROM blobs WHERE hash > ? ORDER BY hash LIMIT ?"
    /// A blob is stored under the hash of its bytes; a row already there whose bytes do not hash to
    /// its name (poison) is replaced, one whose bytes do is kept (the same bytes).
    static let insertBlob = """
        INSERT INTO blobs (hash, bytes) VALUES (?, ?)
        ON CONFLICT (hash) DO UPDATE SET bytes = excluded.bytes WHERE NOT alvh_blob_ok(blobs.hash, blobs.bytes)
        """
    static let book = "SELECT seq, json FROM book WHERE id = 1"
    static let upsertBook = "INSERT INTO book (id, seq, json) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, json = excluded.json"

    static let pendingRow = """
        SELECT p.id, p.payload, p.payload_type, p.kind, p.sequence, p.base, p.created, p.expires, p.proposer, p.queued_at,
               p.attachments, p.status,
               (SELECT COUNT(*) FROM signatures s WHERE s.pending_id = p.id) AS sigs,
               (SELECT COUNT(*) FROM rejections r WHERE r.pending_id = p.id) AS rejs
        FROM pending p WHERE p.id = ?
        """
    /// The queue in queue order (the (queued_at, id) index walks it in that order). Not in ``hot``:
    /// it lists the whole queue by design (`alvh pending`); the passes read ``openQueue``.
    static let queueOrder = "SELECT id FROM pending ORDER BY queued_at, id"
    /// The open proposals, in the order they can be decided (a partial index holds only these).
    static let openQueue = "SELECT id FROM pending WHERE status = 'pending' ORDER BY sequence, queued_at, id"
    /// Ids in [prefix, prefix + "~"): a range of the primary key.
    static let idsInRange = "SELECT id FROM pending WHERE id >= ? AND id < ? ORDER BY id LIMIT ?"
    static let pendingStatus = "SELECT status FROM pending WHERE id = ?"
    /// A proposal's status and the entry it is for (enqueue, reject, and a commit's queue check).
    static let pendingState = "SELECT status, sequence FROM pending WHERE id = ?"
    static let insertPending = """
        INSERT OR IGNORE INTO pending (id, payload, payload_type, kind, sequence, base, created, expires, proposer, queued_at, attachments)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let markStatus = "UPDATE pending SET status = ? WHERE id = ? AND status = 'pending'"
    static let deletePending = "DELETE FROM pending WHERE id = ?"

    static let pendingSignatures = "SELECT keyid, sig, signer_key FROM signatures WHERE pending_id = ? ORDER BY rowid"
    static let signatureByKey = "SELECT EXISTS(SELECT 1 FROM signatures WHERE pending_id = ? AND signer_key = ?)"
    static let signatureCount = "SELECT COUNT(*) FROM signatures WHERE pending_id = ?"
    /// A key's signatures on other proposals for the same entry, whatever their status column
    /// says (the double-sign rule decides on their signed payload and rejections).
    static let otherSignatureForSlot = """
        SELECT p.id, p.expires, p.proposer, p.payload, p.payload_type FROM signatures s JOIN pending p ON p.id = s.pending_id
        WHERE s.signer_key = ? AND p.sequence = ? AND p.id != ?
        """
    static let insertSignature = "INSERT INTO signatures (pending_id, keyid, sig, added_at, signer_key) VALUES (?, ?, ?, ?, ?)"

    static let pendingRejections = "SELECT envelope FROM rejections WHERE pending_id = ? ORDER BY rowid"
    static let rejectionByKey = "SELECT EXISTS(SELECT 1 FROM rejections WHERE pending_id = ? AND signer_key = ?)"
    /// The rejections of every proposal for one entry (recorded in that entry when it is committed).
    static let slotRejections = """
        SELECT r.envelope FROM rejections r JOIN pending p ON p.id = r.pending_id WHERE p.sequence = ? ORDER BY r.rowid
        """
    /// How many rejections ``slotRejections`` reads: a commit checks it is still what it decided on.
    static let slotRejectionCount = """
        SELECT COUNT(*) FROM rejections r JOIN pending p ON p.id = r.pending_id WHERE p.sequence = ?
        """
    static let insertRejection = "INSERT INTO rejections (pending_id, envelope, added_at, signer_key) VALUES (?, ?, ?, ?)"

    /// The statements of enqueue, sign, commit and verification (the query-plan test's list).
    static let hot = [meta, entriesFrom, head, headEntry, entryAt, policyHead, policyEntryBefore, blob, blobsAfter, book,
                      pendingRow, openQueue, idsInRange, pendingStatus, pendingState, markStatus, deletePending,
                      pendingSignatures, signatureByKey, signatureCount, otherSignatureForSlot,
                      pendingRejections, rejectionByKey, slotRejections, slotRejectionCount]

    /// Every statement the backend runs (the query-plan test checks each one's plan).
    static let all = hot + [queueOrder, insertMeta, insertEntry, insertBlob, upsertBook, insertPending, insertSignature, insertRejection]
}
