import Foundation
import GRDB
import ALVHSigning
import ALVHStorage

/// A ledger in a SQLite file, through GRDB, over any `DatabaseWriter` (a `DatabaseQueue` for the
/// file: one connection per process; several processes share the file under WAL with a busy timeout).
///
/// Deciding writes run in one `BEGIN IMMEDIATE` transaction: the write lock is taken first, then the
/// head is compared with the one the write was decided on. `synchronous=FULL` (set again after
/// GRDB's WAL setup, which lowers it to NORMAL, and checked): an acknowledged commit survives a crash.
///
/// ```swift
/// let storage = try SQLiteLedgerStorage.open(path: "alvh.sqlite", create: false)
/// let head = try await storage.head()
/// ```
public final class SQLiteLedgerStorage: LedgerStorage {
    public let path: String
    let writer: any DatabaseWriter

    /// The file name of the ledger inside a workspace.
    public static let fileName = "alvh.sqlite"

    public var location: String { "sqlite:\(path)" }

    /// How long a writer waits for another process's transaction (milliseconds).
    public static var busyTimeoutMilliseconds: Int {
        // ALVH_BUSY_TIMEOUT_MS (1…600000) lets an operator wait longer, or a test shorter, for a lock.
        if let text = ProcessInfo.processInfo.environment["ALVH_BUSY_TIMEOUT_MS"], let value = Int(text), (1...600_000).contains(value) {
            return value
        }
        return 15_000
    }

    /// Wraps a writer already open (a test's in-memory queue, say); migrates it.
    public init(writer: any DatabaseWriter, path: String) throws {
        self.path = path
        self.writer = writer
        do { try SQLiteSchema.migrator.migrate(writer) } catch { throw SQLiteSchema.storageError(error, path: path) }
    }

    private init(path: String, opened writer: any DatabaseWriter) {
        self.path = path
        self.writer = writer
    }

    /// Opens the ledger file at `path`. With `create: false`, a missing file is ``StorageError/Code/noLedger``.
    public static func open(path: String, create: Bool = false, readOnly: Bool = false) throws -> SQLiteLedgerStorage {
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists && !create {
            throw StorageError(.noLedger, "no ledger here; create one with `alvh init --policy Policies/desk.yaml --book BOOK.json` (or give --workspace or --ledger)", path: path)
        }
        var isDirectory: ObjCBool = false
        if exists, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw StorageError(.badLocation, "is a directory, not a ledger file", path: path)
        }
        var config = Configuration()
        config.journalMode = .wal
        config.busyMode = .timeout(Double(busyTimeoutMilliseconds) / 1000)
        config.foreignKeysEnabled = true
        config.readonly = readOnly
        config.label = "alvh-ledger"
        config.prepareDatabase { db in db.add(function: SQLiteSchema.blobCheck) }
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            if readOnly {
                let applied = try queue.read { try SQLiteSchema.migrator.appliedIdentifiers($0) }
                guard applied.isSubset(of: Set(SQLiteSchema.knownMigrations)) else { throw newerSchema(path) }
            } else {
                try queue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                    let level = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
                    guard level == 2 else { throw StorageError(.database, "could not set synchronous=FULL (got \(level))", path: path) }
                    guard try SQLiteSchema.migrator.appliedIdentifiers(db).isSubset(of: Set(SQLiteSchema.knownMigrations)) else { throw newerSchema(path) }
                }
                try SQLiteSchema.migrator.migrate(queue)
            }
            return SQLiteLedgerStorage(path: path, opened: queue)
        } catch {
            throw SQLiteSchema.storageError(error, path: path)
        }
    }

    static func newerSchema(_ path: String) -> StorageError {
        StorageError(.schema, "this ledger's schema was migrated by a newer alvh; upgrade alvh to read it", path: path)
    }

    /// The `synchronous` level in force on this connection (2 = FULL).
    public func synchronousLevel() throws -> Int {
        try writer.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The journal mode in force ("wal").
    public func journalMode() throws -> String {
        try writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Folds the WAL into the file and closes the connection (a ledger built under a temporary name
    /// is then complete in one file before it is moved into place).
    public func checkpointAndClose() throws {
        do {
            try writer.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try writer.close()
        } catch { throw SQLiteSchema.storageError(error, path: path) }
    }

    public func close() async throws {
        do { try writer.close() } catch { throw SQLiteSchema.storageError(error, path: path) }
    }

    // MARK: - Transactions

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await writer.read(body) } catch { throw SQLiteSchema.storageError(error, path: path) }
    }

    /// One `BEGIN IMMEDIATE` transaction: `body` answers a value and whether to commit it; without
    /// commit the transaction is rolled back and the value (a refusal's outcome) still answered.
    /// A thrown error rolls back too, and is answered as a ``StorageError``.
    func writeImmediate<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> (T, commit: Bool)) async throws -> T {
        let path = path
        do {
            return try await writer.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    let (value, commit) = try body(db)
                    result = value
                    return commit ? .commit : .rollback
                }
                guard let result else { throw StorageError(.database, "a write ended without an outcome", path: path) }
                return result
            }
        } catch { throw SQLiteSchema.storageError(error, path: path) }
    }

    /// How the body of a deciding write ends.
    enum Ending<T: Sendable>: Sendable {
        /// Commit: the answer is `.done(value)`.
        case write(T)
        /// Roll back (a refusal, or nothing to do): the answer is `.done(value)`, nothing written.
        case refuse(T)
        /// Roll back: the queue is not what the write was decided on (``WriteOutcome/queueChanged``).
        case queueChanged
    }

    /// A deciding write: nothing unless the head is still `head` (checked first, under the write lock).
    func decided<T: Sendable>(on head: HeadRef?, _ body: @escaping @Sendable (Database) throws -> Ending<T>) async throws -> WriteOutcome<T> {
        try await writeImmediate { db -> (WriteOutcome<T>, commit: Bool) in
            if let head {
                let current = try Self.headRef(db)
                guard current == head else { return (.headMoved(current: current), false) }
            }
            switch try body(db) {
            case .write(let value): return (.done(value), true)
            case .refuse(let value): return (.done(value), false)
            case .queueChanged: return (.queueChanged, false)
            }
        }
    }

    static func headRef(_ db: Database) throws -> HeadRef? {
        try Row.fetchOne(db.cachedStatement(sql: SQLiteSQL.head)).map { HeadRef(sequence: UInt64($0[0] as Int64), hash: $0[1]) }
    }

    // MARK: - Rows

    /// An entry from a row selected with ``SQLiteSQL/entryColumns`` (read by position, blobs copied once).
    static func entry(from row: Row) throws -> StoredEntry {
        func bytes(_ index: Int) throws -> [UInt8] {
            try row.withUnsafeData(atIndex: index) { data in data.map { Array($0) } ?? [] }
        }
        let seq: Int64 = row[0]
        guard seq >= 0 else { throw StorageError(.corrupt, "an entry has a negative sequence", path: "entries") }
        return StoredEntry(sequence: UInt64(seq), previousHash: row[1], kind: row[2], envelope: try bytes(3), attachments: try bytes(4),
                           policyHash: row[5], committedAt: row[6], hash: row[7], committerSignature: try bytes(8))
    }

    static func insert(_ entry: StoredEntry, _ db: Database) throws {
        try db.cachedStatement(sql: SQLiteSQL.insertEntry).execute(arguments: [
            Int64(entry.sequence), entry.previousHash, entry.kind, Data(entry.envelope), Data(entry.attachments),
            entry.policyHash, entry.committedAt, entry.hash, Data(entry.committerSignature)])
    }

    static func storeBlobs(_ blobs: [[UInt8]], _ db: Database) throws {
        for bytes in blobs {
            try db.cachedStatement(sql: SQLiteSQL.insertBlob).execute(arguments: [SHA256.hexDigest(bytes), Data(bytes)])
        }
    }

    static func pendingRow(id: String, _ db: Database) throws -> StoredPending? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: SQLiteSQL.pendingRow), arguments: [id]) else { return nil }
        let statusText: String = row["status"]
        guard let status = PendingStatus(rawValue: statusText) else {
            throw StorageError(.corrupt, "proposal \(id.prefix(16))… has unknown status '\(statusText)'", path: "pending.status")
        }
        let new = NewPending(id: row["id"], payload: Array(row["payload"] as Data), payloadType: row["payload_type"], kind: row["kind"],
                             sequence: UInt64(max(0, row["sequence"] as Int64)), base: row["base"], created: row["created"],
                             expires: row["expires"], proposer: row["proposer"], queuedAt: row["queued_at"],
                             attachments: (row["attachments"] as Data?).map { Array($0) })
        return StoredPending(new, status: status, signatureCount: row["sigs"], rejectionCount: row["rejs"])
    }

    /// A queued proposal's status and entry sequence (nil: not queued).
    struct PendingState: Sendable { let status: PendingStatus; let sequence: Int64 }

    static func pendingState(id: String, _ db: Database) throws -> PendingState? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: SQLiteSQL.pendingState), arguments: [id]) else { return nil }
        let statusText: String = row[0]
        guard let status = PendingStatus(rawValue: statusText) else {
            throw StorageError(.corrupt, "proposal \(id.prefix(16))… has unknown status '\(statusText)'", path: "pending.status")
        }
        return PendingState(status: status, sequence: row[1])
    }

    // MARK: - Reading

    public func meta(_ key: String) async throws -> String? {
        try await read { try String.fetchOne($0.cachedStatement(sql: SQLiteSQL.meta), arguments: [key]) }
    }

    public func head() async throws -> StoredEntry? {
        try await read { try Row.fetchOne($0.cachedStatement(sql: SQLiteSQL.headEntry)).map(Self.entry(from:)) }
    }

    public func entry(at sequence: UInt64) async throws -> StoredEntry? {
        guard sequence <= UInt64(Int64.max) else { return nil }
        return try await read { try Row.fetchOne($0.cachedStatement(sql: SQLiteSQL.entryAt), arguments: [Int64(sequence)]).map(Self.entry(from:)) }
    }

    public func entries(from sequence: UInt64, limit: Int) async throws -> [StoredEntry] {
        guard sequence <= UInt64(Int64.max), limit > 0 else { return [] }
        return try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: SQLiteSQL.entriesFrom), arguments: [Int64(sequence), Int64(limit)]).map(Self.entry(from:))
        }
    }

    public func lastPolicyEntry(before sequence: UInt64?) async throws -> StoredEntry? {
        try await read { db in
            if let sequence {
                return try Row.fetchOne(db.cachedStatement(sql: SQLiteSQL.policyEntryBefore), arguments: [Int64(min(sequence, UInt64(Int64.max)))])
                    .map(Self.entry(from:))
            }
            return try Row.fetchOne(db.cachedStatement(sql: SQLiteSQL.policyHead)).map(Self.entry(from:))
        }
    }

    public func blob(_ hash: String) async throws -> [UInt8]? {
        try await read { try Data.fetchOne($0.cachedStatement(sql: SQLiteSQL.blob), arguments: [hash]).map { Array($0) } }
    }

    public func blobs(after hash: String?, limit: Int) async throws -> [(hash: String, bytes: [UInt8])] {
        guard limit > 0 else { return [] }
        let rows: [BlobRow] = try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: SQLiteSQL.blobsAfter), arguments: [hash ?? "", Int64(limit)])
                .map { BlobRow(hash: $0[0], bytes: Array($0[1] as Data)) }
        }
        return rows.map { ($0.hash, $0.bytes) }
    }

    struct BlobRow: Sendable { let hash: String; let bytes: [UInt8] }
    struct BookRow: Sendable { let sequence: UInt64; let json: [UInt8] }

    public func book() async throws -> (sequence: UInt64, json: [UInt8])? {
        let row: BookRow? = try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: SQLiteSQL.book)).map { BookRow(sequence: UInt64(max(0, $0[0] as Int64)), json: Array($0[1] as Data)) }
        }
        return row.map { ($0.sequence, $0.json) }
    }

    public func pending(id: String) async throws -> StoredPending? {
        try await read { try Self.pendingRow(id: id, $0) }
    }

    public func allPending() async throws -> [StoredPending] {
        try await read { db in
            try String.fetchAll(db.cachedStatement(sql: SQLiteSQL.queueOrder)).compactMap { try Self.pendingRow(id: $0, db) }
        }
    }

    public func openPending() async throws -> [StoredPending] {
        try await read { db in
            try String.fetchAll(db.cachedStatement(sql: SQLiteSQL.openQueue)).compactMap { try Self.pendingRow(id: $0, db) }
        }
    }

    public func pendingIDs(prefix: String, limit: Int) async throws -> [String] {
        guard limit > 0 else { return [] }
        return try await read { try String.fetchAll($0.cachedStatement(sql: SQLiteSQL.idsInRange), arguments: [prefix, prefix + "~", Int64(limit)]) }
    }

    public func signatures(pendingID: String) async throws -> [StoredSignature] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: SQLiteSQL.pendingSignatures), arguments: [pendingID])
                .map { StoredSignature(keyid: $0[0], sig: Array($0[1] as Data), signerKey: ($0[2] as String?) ?? "") }
        }
    }

    public func rejections(pendingID: String) async throws -> [[UInt8]] {
        try await read { try Data.fetchAll($0.cachedStatement(sql: SQLiteSQL.pendingRejections), arguments: [pendingID]).map { Array($0) } }
    }

    public func slotRejections(sequence: UInt64) async throws -> [[UInt8]] {
        try await read { try Data.fetchAll($0.cachedStatement(sql: SQLiteSQL.slotRejections), arguments: [Int64(min(sequence, UInt64(Int64.max)))]).map { Array($0) } }
    }

    // MARK: - Writing

    public func create(genesis: StoredEntry, meta: [String: String], book: [UInt8], blobs: [[UInt8]]) async throws {
        let path = location
        try await writeImmediate { db -> ((), commit: Bool) in
            // As the reference: an existing ledger first, then the genesis itself.
            guard try Self.headRef(db) == nil else { throw StorageError(.alreadyInitialized, "a ledger already exists here; it is never re-initialized", path: path) }
            guard genesis.sequence == 0, genesis.kind == "genesis" else {
                throw StorageError(.refused, "the first entry must be a genesis entry at sequence 0", path: path)
            }
            try Self.insert(genesis, db)
            for (key, value) in meta.sorted(by: { $0.key < $1.key }) {
                try db.cachedStatement(sql: SQLiteSQL.insertMeta).execute(arguments: [key, value])
            }
            try db.cachedStatement(sql: SQLiteSQL.upsertBook).execute(arguments: [0, Data(book)])
            try Self.storeBlobs(blobs, db)
            return ((), true)
        }
    }

    public func enqueue(_ proposal: NewPending?, id: String, blobs: [[UInt8]], signatures: [NewSignature], maxSignatures: Int,
                        conflicts: @escaping SlotConflictRule, decidedOn head: HeadRef) async throws -> WriteOutcome<EnqueueOutcome> {
        // A refusal rolls the transaction back; its outcome is carried out of it.
        try await decided(on: head) { db -> Ending<EnqueueOutcome> in
            var isNew = false
            if let p = proposal {
                try db.cachedStatement(sql: SQLiteSQL.insertPending).execute(arguments: [
                    p.id, Data(p.payload), p.payloadType, p.kind, Int64(p.sequence), p.base, p.created, p.expires, p.proposer,
                    p.queuedAt, p.attachments.map { Data($0) }])
                isNew = db.changesCount > 0
            }
            guard let state = try Self.pendingState(id: id, db) else { return .refuse(.notQueued) }
            guard state.status == .pending else { return .refuse(.notOpen(state.status)) }
            let sequence = state.sequence
            var outcomes: [SignatureOutcome] = []
            for (index, signature) in signatures.enumerated() {
                if try Bool.fetchOne(db.cachedStatement(sql: SQLiteSQL.signatureByKey), arguments: [id, signature.signerKey]) == true {
                    outcomes.append(.alreadyThere)
                    continue
                }
                let count = try Int.fetchOne(db.cachedStatement(sql: SQLiteSQL.signatureCount), arguments: [id]) ?? 0
                guard count < maxSignatures else { return .refuse(.refused(index: index, .tooMany(count: count))) }
                let others = try Row.fetchAll(db.cachedStatement(sql: SQLiteSQL.otherSignatureForSlot), arguments: [signature.signerKey, sequence, id])
                    .map { (row: Row) -> SlotSignature in
                        let other: String = row[0]
                        let payload: Data = row[3]
                        let rejections = try Data.fetchAll(db.cachedStatement(sql: SQLiteSQL.pendingRejections), arguments: [other]).map { Array($0) }
                        return SlotSignature(pendingID: other, expires: row[1], proposer: row[2], signerKey: signature.signerKey,
                                             payload: Array(payload), payloadType: row[4], rejections: rejections)
                    }
                    .sorted { $0.pendingID < $1.pendingID }
                if let blocking = others.first(where: conflicts) {
                    return .refuse(.refused(index: index, .doubleSign(blocking)))
                }
                try db.cachedStatement(sql: SQLiteSQL.insertSignature).execute(arguments: [
                    id, signature.keyid, Data(signature.sig), signature.addedAt, signature.signerKey])
                outcomes.append(.added)
            }
            try Self.storeBlobs(blobs, db)
            guard let row = try Self.pendingRow(id: id, db) else { return .refuse(.notQueued) }
            return .write(.queued(isNew: isNew, signatures: outcomes, pending: row))
        }
    }

    public func addRejection(pendingID: String, envelope: [UInt8], signerKey: String, addedAt: String, veto: Bool,
                             decidedOn head: HeadRef) async throws -> WriteOutcome<RejectionOutcome> {
        try await decided(on: head) { db -> Ending<RejectionOutcome> in
            guard let state = try Self.pendingState(id: pendingID, db) else { return .refuse(.notQueued) }
            if try Bool.fetchOne(db.cachedStatement(sql: SQLiteSQL.rejectionByKey), arguments: [pendingID, signerKey]) == true { return .refuse(.alreadyThere) }
            try db.cachedStatement(sql: SQLiteSQL.insertRejection).execute(arguments: [pendingID, Data(envelope), addedAt, signerKey])
            var vetoed = false
            if veto && state.status == .pending {
                try db.cachedStatement(sql: SQLiteSQL.markStatus).execute(arguments: [PendingStatus.vetoed.rawValue, pendingID])
                vetoed = db.changesCount > 0
            }
            return .write(.added(vetoed: vetoed))
        }
    }

    public func append(_ entries: [StoredEntry], book: [UInt8], blobs: [[UInt8]], removing pending: PendingRemoval?,
                       decidedOn head: HeadRef) async throws -> WriteOutcome<HeadRef> {
        let location = location
        return try await decided(on: head) { db -> Ending<HeadRef> in
            // As the reference: the head first (decided), then the linkage, then the queue.
            let previous = try StoredEntry.head(after: head, appending: entries, location: location)
            if let pending {
                // The queue state the commit was decided on, under the same write lock as the head check.
                guard let state = try Self.pendingState(id: pending.id, db), state.status == .pending,
                      try Int.fetchOne(db.cachedStatement(sql: SQLiteSQL.slotRejectionCount), arguments: [state.sequence]) == pending.slotRejections
                else { return .queueChanged }
            }
            for entry in entries { try Self.insert(entry, db) }
            try db.cachedStatement(sql: SQLiteSQL.upsertBook).execute(arguments: [Int64(previous.sequence), Data(book)])
            try Self.storeBlobs(blobs, db)
            if let pending { try db.cachedStatement(sql: SQLiteSQL.deletePending).execute(arguments: [pending.id]) }
            return .write(previous)
        }
    }

    public func setStatus(_ changes: [(id: String, status: PendingStatus)], decidedOn head: HeadRef?) async throws -> WriteOutcome<[StatusChange]> {
        let list = changes.map { StatusRequest(id: $0.id, status: $0.status) }
        return try await decided(on: head) { db -> Ending<[StatusChange]> in
            .write(try list.map { change in
                try db.cachedStatement(sql: SQLiteSQL.markStatus).execute(arguments: [change.status.rawValue, change.id])
                if db.changesCount > 0 { return .marked(id: change.id, to: change.status) }
                let now = try String.fetchOne(db.cachedStatement(sql: SQLiteSQL.pendingStatus), arguments: [change.id])
                return .unchanged(id: change.id, status: now.flatMap(PendingStatus.init(rawValue:)))
            })
        }
    }

    struct StatusRequest: Sendable { let id: String; let status: PendingStatus }
}
