/// The seam between the ledger's rules and the database that keeps it.
///
/// Reads are plain queries. Every write that a decision stands on names the head it was decided
/// on (`decidedOn`): the implementation takes its write lock, checks in the same transaction that
/// the head is still that one, and otherwise writes nothing and answers
/// ``WriteOutcome/headMoved(current:)``; the ledger then verifies the new entries and decides again.
/// A commit is decided on the queue too (the proposal's status, the rejections for its entry): its
/// append names that state (``PendingRemoval``), and the storage checks it in the same transaction,
/// answering ``WriteOutcome/queueChanged`` when it changed (a veto stored meanwhile is never lost).
/// Structural rules are the storage's own and hold in the database itself (append-only entries
/// and blobs, one entry per sequence, one signature per key per proposal, the double-sign rule).
///
/// Implementations: `MemoryLedgerStorage` (the test double, here), `SQLiteLedgerStorage`
/// (ALVHStorageSQLite, GRDB) and `PostgresLedgerStorage` (ALVHStoragePostgres, PostgresNIO). One
/// conformance suite runs against each: same inputs, same outcomes, same error codes.
public protocol LedgerStorage: Sendable {
    /// Where the ledger is, for messages: a path or a URL **without** its password.
    var location: String { get }

    // MARK: Reading

    /// A value of the ledger's meta table (`ledger_id`, `format`), nil when absent.
    func meta(_ key: String) async throws -> String?
    /// The last entry; nil for an empty ledger.
    func head() async throws -> StoredEntry?
    /// The entry at `sequence`; nil when there is none.
    func entry(at sequence: UInt64) async throws -> StoredEntry?
    /// Entries from `sequence` on, in order, at most `limit` (a batch of a stream: memory stays flat).
    func entries(from sequence: UInt64, limit: Int) async throws -> [StoredEntry]
    /// The last genesis or policy-change entry with a sequence below `sequence` (nil: at the head).
    func lastPolicyEntry(before sequence: UInt64?) async throws -> StoredEntry?
    /// A blob by its hex SHA-256, as stored (the caller checks it hashes to its name).
    func blob(_ hash: String) async throws -> [UInt8]?
    /// Blobs in hash order after `hash` (nil: from the first), at most `limit`: for export and copy.
    func blobs(after hash: String?, limit: Int) async throws -> [(hash: String, bytes: [UInt8])]
    /// The materialized book: the sequence it is at and its JSON.
    func book() async throws -> (sequence: UInt64, json: [UInt8])?
    /// A queued proposal, with its status and counts.
    func pending(id: String) async throws -> StoredPending?
    /// The whole queue, oldest first (by queue time, then id).
    func allPending() async throws -> [StoredPending]
    /// The open proposals (status pending), by the entry they would become, then queue time, then
    /// id: what signers and coordinators read on every pass (the queue keeps expired, stale and
    /// vetoed proposals for the record; this does not read them).
    func openPending() async throws -> [StoredPending]
    /// The ids of queued proposals that start with `prefix` (lowercase hex), at most `limit`.
    func pendingIDs(prefix: String, limit: Int) async throws -> [String]
    /// A proposal's stored signatures in arrival order.
    func signatures(pendingID: String) async throws -> [StoredSignature]
    /// A proposal's signed rejections (envelope bytes) in arrival order.
    func rejections(pendingID: String) async throws -> [[UInt8]]
    /// The signed rejections of every proposal for entry `sequence`, in arrival order.
    func slotRejections(sequence: UInt64) async throws -> [[UInt8]]

    // MARK: Writing

    /// Creates the ledger: its genesis entry, meta values, book and blobs, in one transaction.
    /// Throws ``StorageError/Code/alreadyInitialized`` when the ledger has any entry already.
    func create(genesis: StoredEntry, meta: [String: String], book: [UInt8], blobs: [[UInt8]]) async throws

    /// Queues a proposal (when `proposal` is given and no proposal has its id) and stores
    /// `signatures` on it, one per key, all or nothing: a refused signature (double-sign, too
    /// many) rolls back the whole write, the proposal's insertion included. `blobs` (the snapshot
    /// it cites) are stored with it. `id` names the proposal when `proposal` is nil.
    func enqueue(_ proposal: NewPending?, id: String, blobs: [[UInt8]], signatures: [NewSignature], maxSignatures: Int,
                 conflicts: @escaping SlotConflictRule, decidedOn head: HeadRef) async throws -> WriteOutcome<EnqueueOutcome>

    /// Stores a signed rejection (one per key per proposal); with `veto`, marks the proposal vetoed
    /// in the same transaction.
    func addRejection(pendingID: String, envelope: [UInt8], signerKey: String, addedAt: String, veto: Bool,
                      decidedOn head: HeadRef) async throws -> WriteOutcome<RejectionOutcome>

    /// Appends entries (each links to the one before; the first to `head`), sets the book, stores
    /// blobs and removes the committed proposal (`pending`, nil for none) from the queue with its
    /// signatures and rejections, in one transaction.
    ///
    /// In that transaction, in this order: a head other than `head` answers
    /// ``WriteOutcome/headMoved(current:)``; entries that do not continue `head` in order throw
    /// ``StorageError/Code/refused``; then, with `pending`, the proposal must still be queued with
    /// status `pending`, and the rejections of all queued proposals for its entry (what
    /// ``slotRejections(sequence:)`` returns) must still number `pending.slotRejections`, or nothing
    /// is written and the answer is ``WriteOutcome/queueChanged``: a rejection or veto stored after
    /// the committer read the queue is never silently deleted by the commit.
    func append(_ entries: [StoredEntry], book: [UInt8], blobs: [[UInt8]], removing pending: PendingRemoval?,
                decidedOn head: HeadRef) async throws -> WriteOutcome<HeadRef>

    /// Moves open proposals to a new status (only those still pending). With `decidedOn`, only if
    /// the head is still that one (stale depends on the head).
    func setStatus(_ changes: [(id: String, status: PendingStatus)], decidedOn head: HeadRef?) async throws -> WriteOutcome<[StatusChange]>

    /// Releases the connections (the object is unusable after).
    func close() async throws

    /// Starts following the ledger's changes and returns the signal they bump, or nil when this
    /// storage is not told of changes (the caller polls). A default returns nil.
    func watchChanges() -> ChangeSignal?
}

/// What storing a rejection did.
public enum RejectionOutcome: Sendable, Equatable {
    /// Stored (and the proposal marked vetoed when it was a veto and the proposal still pending).
    case added(vetoed: Bool)
    /// This key's rejection of this proposal is there already.
    case alreadyThere
    /// No proposal with that id is queued.
    case notQueued
}
