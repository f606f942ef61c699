import Foundation
import Synchronization
import GRDB
import ALVHSigning
import ALVHApproval
import ALVHEngine

/// The desk's ledger: genesis, the pending queue, commits, the book.
///
/// ```swift
/// let ledger = try Ledger.open(workspace: ".")
/// let report = try ledger.evaluate(id: proposalID, at: Date())
/// if report.commitReady { _ = try ledger.commit(id: proposalID, at: Date()) }
/// ```
public final class Ledger: Sendable {
    public let store: LedgerStore
    /// The workspace directory (key files for new policies are read from it).
    public let workspace: String
    /// What this object verified of the ledger (from genesis once, then from here): commits decide
    /// on this verified policy, book and head, never on the database's say-so.
    let verifiedHead = Mutex<LedgerVerifier.Checkpoint?>(nil)
    /// The ledger id and head this object must find (see ``pin(_:)``).
    let pins = Mutex<Pins>(Pins())

    init(store: LedgerStore, workspace: String) {
        self.store = store
        self.workspace = workspace
    }

    /// The ledger file of a workspace.
    public static func path(workspace: String) -> String {
        workspace.isEmpty || workspace == "." ? LedgerStore.fileName : "\(workspace)/\(LedgerStore.fileName)"
    }

    /// Opens the workspace's ledger.
    public static func open(workspace: String, readOnly: Bool = false) throws -> Ledger {
        let store = try LedgerStore.open(path: path(workspace: workspace), create: false, readOnly: readOnly)
        let ledger = Ledger(store: store, workspace: workspace)
        _ = try ledger.head() // a file without a genesis entry is not a ledger
        let format = try ledger.read { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'format'") }
        guard format == LedgerEntry.format else {
            throw LedgerError(.invalidInput,
                "this ledger is format '\(format ?? "none")'; this alvh reads \(LedgerEntry.format) (committer-signed entries) — see docs/ledger.md, 'Migrating a format-1 ledger'",
                path: store.path)
        }
        return ledger
    }

    // MARK: - Genesis

    /// Creates the ledger: a genesis entry binding the policy bytes (and its key files) and the book.
    /// Refuses when the workspace already has a ledger.
    public static func initialize(workspace: String, policyPath: String, book: Book, committer: PrivateKey, at now: Date) throws -> Ledger {
        let file = path(workspace: workspace)
        if FileManager.default.fileExists(atPath: file) {
            throw LedgerError(.alreadyInitialized, "a ledger already exists here; it is never re-initialized (use another --workspace)", path: file)
        }
        let policy = try Policy.load(path: policyPath, workspace: workspace)
        guard policy.committer(for: committer.keyID) != nil else {
            throw LedgerError(.invalidInput,
                "key \(committer.keyID.fingerprint) is not a committer of policy '\(policy.name)'; list it under 'committers:' or give that committer's key",
                path: "--committer-key")
        }
        let attachments = try EntryAttachments(keys: try KeyAttachments(for: policy, workspace: workspace))
        let genesis = try GenesisDocument(created: now, policyBytes: policy.bytes, book: book)
        var entry = LedgerEntry(sequence: 0, previousHash: LedgerEntry.zeroHash, kind: .genesis, envelope: try genesis.encoded(),
                                attachments: try attachments.encoded(), policyHash: policy.hash, committedAt: RFC3339.format(now))
        entry.committerSignature = try committer.signature(for: entry.signingMessage)
        // Build the file under a temporary name and rename it into place: no half-made ledger.
        let temp = file + ".init-\(Hex.encode(try SecureRandom.bytes(6)))"
        do {
            let store = try LedgerStore.open(path: temp, create: true)
            try store.queue.write { db in
                try Ledger.insert(entry, db)
                try db.cachedStatement(sql: "INSERT INTO meta (key, value) VALUES ('ledger_id', ?), ('format', ?)").execute(arguments: [entry.hash, LedgerEntry.format])
                try Ledger.storeBook(book, seq: 0, db)
            }
            try store.queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try store.queue.close()
        } catch {
            Ledger.removeDatabase(temp)
            if let error = error as? LedgerError { throw error }
            throw LedgerError(.database, LedgerStore.describe(error), path: file)
        }
        guard link(temp, file) == 0 else {
            let err = errno
            Ledger.removeDatabase(temp)
            if err == EEXIST { throw LedgerError(.alreadyInitialized, "a ledger was created here meanwhile", path: file) }
            throw LedgerError(.fileError, "cannot move the new ledger into place: \(String(cString: strerror(err)))", path: file)
        }
        Ledger.removeDatabase(temp)
        return try open(workspace: workspace)
    }

    static func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
    }

    // MARK: - Reading

    /// The head entry.
    public func head() throws -> LedgerEntry {
        try read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.headEntry)) else {
                throw LedgerError(.noLedger, "the ledger has no genesis entry", path: self.store.path)
            }
            return try Ledger.entry(from: row)
        }
    }

    /// The ledger id: the genesis entry's hash.
    public func ledgerID() throws -> String {
        try read { db in
            guard let hash = try String.fetchOne(db.cachedStatement(sql: LedgerSQL.genesisHash)) else {
                throw LedgerError(.noLedger, "the ledger has no genesis entry", path: self.store.path)
            }
            return hash
        }
    }

    /// The ledger context for evaluating a proposal against the current head.
    public func context() throws -> LedgerContext {
        let head = try head()
        return LedgerContext(ledgerID: try ledgerID(), head: head.hash, nextSequence: head.sequence + 1)
    }

    /// The policy in force at the head: genesis's, or the last committed policy change's.
    public func policyInForce() throws -> Policy {
        try read { try Ledger.policyInForce($0) }
    }

    /// The materialized book.
    public func book() throws -> Book {
        try read { db in
            guard let data = try Data.fetchOne(db.cachedStatement(sql: "SELECT json FROM book WHERE id = 1")) else {
                throw LedgerError(.verificationFailed, "the materialized book is missing; run `alvh ledger verify`", path: self.store.path)
            }
            return try Ledger.decodeBook(Array(data))
        }
    }

    /// A blob (a market snapshot a proposal cites) by its hex SHA-256, checked against it.
    public func blob(_ hash: String) throws -> [UInt8]? {
        try read { try Ledger.blob(hash, $0) }
    }

    /// Every blob, by hash order (for the export), each checked against its hash.
    public func blobs() throws -> [(String, [UInt8])] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT hash, bytes FROM blobs ORDER BY hash").map { row in
                let hash: String = row["hash"], bytes = Array(row["bytes"] as Data)
                guard SHA256.hexDigest(bytes) == hash else {
                    throw LedgerError(.verificationFailed, "blob \(hash.prefix(16))… does not hash to its name (the database was altered)", path: "blobs")
                }
                return (hash, bytes)
            }
        }
    }

    static func blob(_ hash: String, _ db: Database) throws -> [UInt8]? {
        guard let data = try Data.fetchOne(db.cachedStatement(sql: LedgerSQL.blob), arguments: [hash]) else { return nil }
        let bytes = Array(data)
        guard SHA256.hexDigest(bytes) == hash else {
            throw LedgerError(.verificationFailed, "blob \(hash.prefix(16))… does not hash to its name (the database was altered)", path: "blobs")
        }
        return bytes
    }

    static func storeBlob(_ bytes: [UInt8], _ db: Database) throws -> String {
        let hash = SHA256.hexDigest(bytes)
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO blobs (hash, bytes) VALUES (?, ?)").execute(arguments: [hash, Data(bytes)])
        return hash
    }

    /// Entries from `from` on, in order, at most `limit`.
    public func entries(from: UInt64 = 0, limit: Int = .max) throws -> [LedgerEntry] {
        try read { db in
            try Row.fetchAll(db.cachedStatement(sql: LedgerSQL.entriesFrom),
                             arguments: [Int64(from), Int64(min(limit, Int(Int64.max)))]).map(Ledger.entry(from:))
        }
    }

    /// One entry by sequence.
    public func entry(_ sequence: UInt64) throws -> LedgerEntry {
        try read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.entryAt), arguments: [Int64(sequence)]) else {
                throw LedgerError(.notFound, "no entry \(sequence) in the ledger", path: self.store.path)
            }
            return try Ledger.entry(from: row)
        }
    }

    // MARK: - SQL helpers

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try store.queue.read(body) }
        catch let error as LedgerError { throw error }
        catch let error as ApprovalError { throw error }
        catch { throw LedgerError(.database, LedgerStore.describe(error), path: store.path) }
    }

    /// A write transaction that takes the write lock at once (BEGIN IMMEDIATE).
    func writeImmediate<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try store.queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as LedgerError { throw error }
        catch let error as ApprovalError { throw error }
        catch let error as EngineError { throw LedgerError(.invalidInput, error.description, path: store.path) }
        catch { throw LedgerError(.database, LedgerStore.describe(error), path: store.path) }
    }

    static func insert(_ entry: LedgerEntry, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO entries (seq, prev_hash, kind, envelope, attachments, policy_hash, committed_at, entry_hash, committer_sig)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [Int64(entry.sequence), entry.previousHash, entry.kind.rawValue, Data(entry.envelope),
                             Data(entry.attachments), entry.policyHash, entry.committedAt, entry.hash, Data(entry.committerSignature)])
    }

    /// An entry from a row selected with ``LedgerSQL/entryColumns`` (read by position: no name lookups,
    /// blobs copied once).
    static func entry(from row: Row) throws -> LedgerEntry {
        let kindText: String = row[2]
        guard let kind = LedgerEntry.Kind(rawValue: kindText) else {
            throw LedgerError(.verificationFailed, "entry \(row[0] as Int64? ?? -1) has unknown kind '\(kindText)'")
        }
        func bytes(_ index: Int) throws -> [UInt8] {
            try row.withUnsafeData(atIndex: index) { data in data.map { Array($0) } ?? [] }
        }
        let seq: Int64 = row[0]
        var entry = LedgerEntry(sequence: UInt64(max(0, seq)), previousHash: row[1], kind: kind,
                                envelope: try bytes(3), attachments: try bytes(4),
                                policyHash: row[5], committedAt: row[6])
        entry.hash = row[7] // the stored hash, as written — verify compares it with computeHash()
        entry.committerSignature = try bytes(8)
        return entry
    }

    /// Stores the materialized book; returns the JSON stored.
    @discardableResult
    static func storeBook(_ book: Book, seq: UInt64, _ db: Database) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(book)
        try db.cachedStatement(sql: "INSERT INTO book (id, seq, json) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, json = excluded.json")
            .execute(arguments: [Int64(seq), data])
        return data
    }

    static func decodeBook(_ bytes: [UInt8]) throws -> Book {
        do { return try JSONDecoder().decode(Book.self, from: Data(bytes)) }
        catch { throw LedgerError(.verificationFailed, "the stored book is not valid JSON: \(error)") }
    }

    /// The policy in force after the last genesis/policy-change entry.
    static func policyInForce(_ db: Database) throws -> Policy {
        guard let head = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.policyHead)) else {
            throw LedgerError(.noLedger, "the ledger has no genesis entry")
        }
        // The cache is keyed by content hash: a hit on the stored hash is the policy of the bytes
        // that hash to it, parsed earlier — without reading and hashing the entry again.
        let stored: String = head["entry_hash"]
        if let cached = policyCache.withLock({ $0[stored] }) { return cached }
        guard let row = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.entryAt), arguments: [head["seq"] as Int64]) else {
            throw LedgerError(.noLedger, "the ledger has no genesis entry")
        }
        return try adoptedPolicy(of: try entry(from: row))
    }

    /// Parsed policies by the hash of the entry content that adopts them (content-addressed, so a
    /// cache hit is the same bytes): parsing YAML and keys once, not on every enqueue and commit.
    static let policyCache = Mutex<[String: Policy]>([:])

    /// The policy a genesis or policy-change entry adopts, with its archived key files.
    static func adoptedPolicy(of entry: LedgerEntry) throws -> Policy {
        let key = entry.computeHash()
        if let cached = policyCache.withLock({ $0[key] }) { return cached }
        let policy = try parseAdoptedPolicy(of: entry)
        policyCache.withLock { cache in
            if cache.count >= 64 { cache.removeAll() }
            cache[key] = policy
        }
        return policy
    }

    static func parseAdoptedPolicy(of entry: LedgerEntry) throws -> Policy {
        let keys = try EntryAttachments.decode(entry.attachments).keyAttachments
        let bytes: [UInt8]
        switch entry.kind {
        case .genesis:
            bytes = try GenesisDocument.decode(entry.envelope).policyBytes()
        case .policyChange:
            let envelope = try Envelope.decode(entry.envelope, path: "entry \(entry.sequence)")
            let doc = try ProposalDocument.decode(envelope.payload, path: "entry \(entry.sequence)")
            guard let change = doc.change.policy else {
                throw LedgerError(.verificationFailed, "entry \(entry.sequence) is a policy-change without a policy")
            }
            bytes = try change.bytes()
        case .layerChange:
            throw LedgerError(.verificationFailed, "entry \(entry.sequence) adopts no policy")
        }
        return try Policy(bytes: bytes, keyLoader: keys.loader, path: "ledger entry \(entry.sequence) policy")
    }
}

extension Ledger {
    /// The policy in force for entry `sequence` (the one its signatures were counted under).
    public func policy(atEntry sequence: UInt64) throws -> Policy {
        try read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.policyEntryBefore), arguments: [Int64(max(sequence, 1))]) else {
                throw LedgerError(.noLedger, "the ledger has no genesis entry")
            }
            return try Ledger.adoptedPolicy(of: try Ledger.entry(from: row))
        }
    }
}
