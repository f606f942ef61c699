import Foundation
import Synchronization
import Logging
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHStorage
import ALVHStorageSQLite
import ALVHStoragePostgres
import ALVHStorageRemote

/// The desk's ledger: genesis, the pending queue, commits, the book — the ledger's rules above the
/// storage seam (``LedgerStorage``: SQLite by default, or PostgreSQL for a desk on several hosts).
///
/// ```swift
/// let ledger = try await Ledger.open(workspace: ".")                       // the workspace's alvh.sqlite
/// let shared = try await Ledger.open(workspace: ".", at: .parse("postgres://alvh@db/desk"))
/// let report = try await ledger.evaluate(id: proposalID, at: Date())
/// if report.commitReady { _ = try await ledger.commit(id: proposalID, committer: key, at: Date()) }
/// try await ledger.close()
/// ```
public final class Ledger: Sendable {
    /// Where the entries, the queue and the blobs are kept.
    public let storage: any LedgerStorage
    /// The workspace directory (a proposer's new policy's key files and cited snapshot are read
    /// from it when queued; nothing a verifier or signer needs is read from it).
    public let workspace: String
    /// What this object verified of the ledger (from genesis once, then from here): commits decide
    /// on this verified policy, book and head, never on the database's say-so.
    let verifiedHead = Mutex<LedgerVerifier.Checkpoint?>(nil)
    /// The ledger id and head this object must find (see ``pin(_:)``).
    let pins = Mutex<Pins>(Pins())
    /// The leaf hashes of the entries this object read for its tree (see ``leafHashes(size:verified:)``),
    /// so a witness that cosigns each new head reads only the new entries.
    let treeLeaves = Mutex<(leaves: [[UInt8]], lastHash: String)>(([], LedgerEntry.zeroHash))

    public init(storage: any LedgerStorage, workspace: String) {
        self.storage = storage
        self.workspace = workspace
    }

    /// Where the ledger is, for messages (a path, or a URL without its password).
    public var location: String { storage.location }

    /// The ledger file of a workspace.
    public static func path(workspace: String) -> String {
        workspace.isEmpty || workspace == "." ? SQLiteLedgerStorage.fileName : "\(workspace)/\(SQLiteLedgerStorage.fileName)"
    }

    /// The workspace's own ledger: `alvh.sqlite` in it.
    public static func defaultLocation(workspace: String) -> LedgerLocation { .sqlite(path: path(workspace: workspace)) }

    /// Opens a ledger: `location`, or the workspace's `alvh.sqlite` when nil.
    public static func open(workspace: String, at location: LedgerLocation? = nil, readOnly: Bool = false) async throws -> Ledger {
        let storage = try await openStorage(location ?? defaultLocation(workspace: workspace), create: false, readOnly: readOnly)
        let ledger = Ledger(storage: storage, workspace: workspace)
        do {
            _ = try await ledger.head() // a database without a genesis entry is not a ledger
            let format = try await ledger.io { try await storage.meta("format") }
            guard format == LedgerEntry.format else {
                throw LedgerError(.invalidInput,
                    "this ledger is format '\(format ?? "none")'; this alvh reads \(LedgerEntry.format) (committer-signed entries) — see docs/ledger.md, 'Migrating a format-1 ledger'",
                    path: storage.location)
            }
        } catch {
            try? await storage.close()
            throw error
        }
        return ledger
    }

    /// Opens a ledger, runs `body` on it and closes it (its connections released) however `body` ends.
    public static func withOpened<T>(workspace: String, at location: LedgerLocation? = nil, readOnly: Bool = false, pins: Pins? = nil,
                                     _ body: (Ledger) async throws -> T) async throws -> T {
        let ledger = try await open(workspace: workspace, at: location, readOnly: readOnly)
        if let pins { ledger.pin(pins) }
        do {
            let result = try await body(ledger)
            try await ledger.close()
            return result
        } catch {
            try? await ledger.close()
            throw error
        }
    }

    /// The storage behind a location (SQLite file, or PostgreSQL server).
    public static func openStorage(_ location: LedgerLocation, create: Bool, readOnly: Bool = false) async throws -> any LedgerStorage {
        do {
            switch location {
            case .sqlite(let path):
                return try SQLiteLedgerStorage.open(path: path, create: create, readOnly: readOnly)
            case .postgres(let server):
                return try await PostgresLedgerStorage.open(server, create: create)
            case .service(let service):
                if create {
                    throw StorageError(.refused, "a ledger is created on the service's own host (`alvh init --ledger sqlite:…|postgres://…` there), not through `alvh serve`",
                                       path: service.url)
                }
                return try RemoteLedgerStorage.open(service)
            }
        } catch let error as StorageError {
            throw LedgerError(storage: error)
        }
    }

    /// Releases the ledger's connections (the object is unusable after).
    public func close() async throws {
        try await io { try await storage.close() }
    }

    // MARK: - Genesis

    /// Creates the ledger: a genesis entry binding the policy bytes (and its key files) and the book.
    /// Refuses when a ledger is there already. The policy text and its key files are also stored
    /// as content-addressed blobs.
    public static func initialize(workspace: String, location: LedgerLocation? = nil, policyPath: String, book: Book,
                                  committer: PrivateKey, at now: Date) async throws -> Ledger {
        let location = location ?? defaultLocation(workspace: workspace)
        if case .sqlite(let file) = location, FileManager.default.fileExists(atPath: file) {
            throw LedgerError(.alreadyInitialized, "a ledger already exists here; it is never re-initialized (use another --workspace or --ledger)", path: file)
        }
        let policy = try Policy.load(path: policyPath, workspace: workspace)
        guard policy.committer(for: committer.keyID) != nil else {
            throw LedgerError(.invalidInput,
                "key \(committer.keyID.fingerprint) is not a committer of policy '\(policy.name)'; list it under 'committers:' or give that committer's key",
                path: "--committer-key")
        }
        let keys = try KeyAttachments(for: policy, workspace: workspace)
        let attachments = try EntryAttachments(keys: keys)
        let genesis = try GenesisDocument(created: now, policyBytes: policy.bytes, book: book)
        var entry = LedgerEntry(sequence: 0, previousHash: LedgerEntry.zeroHash, kind: .genesis, envelope: try genesis.encoded(),
                                attachments: try attachments.encoded(), policyHash: policy.hash, committedAt: RFC3339.format(now))
        entry.committerSignature = try committer.signature(for: entry.signingMessage)
        let meta = ["ledger_id": entry.hash, "format": LedgerEntry.format]
        let bookBytes = try encodeBook(book)
        let blobs = [policy.bytes] + keys.blobs
        try await writingNew(location) { storage in
            try await storage.create(genesis: entry.stored, meta: meta, book: bookBytes, blobs: blobs)
        }
        return try await open(workspace: workspace, at: location)
    }

    /// Writes a new ledger at `location` through `body`, then closes its storage (however `body`
    /// ends; storage errors come back as ``LedgerError`` with their code). A SQLite file is built
    /// under a temporary name and linked into place only once `body` succeeded — nothing half-made
    /// is ever visible, and a file that appeared there meanwhile is `already-initialized`. A
    /// PostgreSQL database gets its schema (migrated if needed) and is written in place.
    static func writingNew<T>(_ location: LedgerLocation, _ body: (any LedgerStorage) async throws -> T) async throws -> T {
        switch location {
        case .sqlite(let file):
            let temp = file + ".new-\(Hex.encode(try SecureRandom.bytes(6)))"
            defer { removeDatabase(temp) }
            let result: T
            do {
                let storage = try SQLiteLedgerStorage.open(path: temp, create: true)
                result = try await body(storage)
                try storage.checkpointAndClose()
            } catch let error as StorageError {
                throw LedgerError(storage: error)
            }
            guard link(temp, file) == 0 else {
                let err = errno
                if err == EEXIST { throw LedgerError(.alreadyInitialized, "a ledger was created here meanwhile", path: file) }
                throw LedgerError(.fileError, "cannot move the new ledger into place: \(String(cString: strerror(err)))", path: file)
            }
            return result
        case .postgres, .service:
            let storage = try await openStorage(location, create: true)
            do {
                let result = try await body(storage)
                try await storage.close()
                return result
            } catch {
                try? await storage.close()
                if let error = error as? StorageError { throw LedgerError(storage: error) }
                throw error
            }
        }
    }

    static func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
    }

    // MARK: - Reading

    /// The head entry.
    public func head() async throws -> LedgerEntry {
        guard let stored = try await io({ try await storage.head() }) else {
            throw LedgerError(.noLedger, "the ledger has no genesis entry", path: location)
        }
        return try LedgerEntry(stored: stored)
    }

    /// The ledger id: the genesis entry's hash.
    public func ledgerID() async throws -> String {
        guard let genesis = try await io({ try await storage.entry(at: 0) }) else {
            throw LedgerError(.noLedger, "the ledger has no genesis entry", path: location)
        }
        return genesis.hash
    }

    /// The ledger context for evaluating a proposal against the current head (as stored; deciding
    /// operations use the verified head instead).
    public func context() async throws -> LedgerContext {
        let head = try await head()
        return LedgerContext(ledgerID: try await ledgerID(), head: head.hash, nextSequence: head.sequence + 1)
    }

    /// The policy in force at the head: genesis's, or the last committed policy change's.
    public func policyInForce() async throws -> Policy {
        guard let stored = try await io({ try await storage.lastPolicyEntry(before: nil) }) else {
            throw LedgerError(.noLedger, "the ledger has no genesis entry", path: location)
        }
        return try Ledger.adoptedPolicy(of: try LedgerEntry(stored: stored))
    }

    /// The policy in force for entry `sequence` (the one its signatures were counted under).
    public func policy(atEntry sequence: UInt64) async throws -> Policy {
        guard let stored = try await io({ try await storage.lastPolicyEntry(before: max(sequence, 1)) }) else {
            throw LedgerError(.noLedger, "the ledger has no genesis entry", path: location)
        }
        return try Ledger.adoptedPolicy(of: try LedgerEntry(stored: stored))
    }

    /// The materialized book.
    public func book() async throws -> Book {
        try await materializedBook().book
    }

    /// The materialized book with the entry it is the book after: what a verifier compares with
    /// its replay (read it before streaming the entries).
    public func materializedBook() async throws -> MaterializedBook {
        guard let row = try await io({ try await storage.book() }) else {
            throw LedgerError(.verificationFailed, "the materialized book is missing; run `alvh ledger verify`", path: location)
        }
        return MaterializedBook(sequence: row.sequence, book: try Ledger.decodeBook(row.json))
    }

    /// The book to show: the materialized one of this process's own database, or — when the ledger
    /// is reached through a service, which is trusted no more than a database it does not own — the
    /// book replayed from the chain this process verified.
    public func bookToShow() async throws -> Book {
        storage is RemoteLedgerStorage ? try await verified().book : try await book()
    }

    /// A blob (a market snapshot, a policy text, a key file) by its hex SHA-256, checked against it.
    public func blob(_ hash: String) async throws -> [UInt8]? {
        guard Hex.isLowercase(hash, count: 64) else { return nil }
        guard let bytes = try await io({ try await storage.blob(hash) }) else { return nil }
        guard SHA256.hexDigest(bytes) == hash else {
            throw LedgerError(.verificationFailed, "blob \(hash.prefix(16))… does not hash to its name (the database was altered)", path: "blobs")
        }
        return bytes
    }

    /// Blobs in hash order after `hash` (nil: from the first), at most `limit`, each checked against its hash.
    public func blobs(after hash: String?, limit: Int) async throws -> [(hash: String, bytes: [UInt8])] {
        let page = try await io { try await storage.blobs(after: hash, limit: limit) }
        for (hash, bytes) in page where SHA256.hexDigest(bytes) != hash {
            throw LedgerError(.verificationFailed, "blob \(hash.prefix(16))… does not hash to its name (the database was altered)", path: "blobs")
        }
        return page
    }

    /// Entries from `from` on, in order, at most `limit`.
    public func entries(from: UInt64 = 0, limit: Int = 1000) async throws -> [LedgerEntry] {
        try await io { try await storage.entries(from: from, limit: limit) }.map(LedgerEntry.init(stored:))
    }

    /// One entry by sequence.
    public func entry(_ sequence: UInt64) async throws -> LedgerEntry {
        guard let stored = try await io({ try await storage.entry(at: sequence) }) else {
            throw LedgerError(.notFound, "no entry \(sequence) in the ledger", path: location)
        }
        return try LedgerEntry(stored: stored)
    }

    // MARK: - Storage calls

    /// Runs a storage call, its errors as ``LedgerError`` with the storage's code kept.
    func io<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() }
        catch let error as StorageError { throw LedgerError(storage: error) }
    }

    static func encodeBook(_ book: Book) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(book))
    }

    static func decodeBook(_ bytes: [UInt8]) throws -> Book {
        do { return try JSONDecoder().decode(Book.self, from: Data(bytes)) }
        catch { throw LedgerError(.verificationFailed, "the stored book is not valid JSON: \(error)") }
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

extension KeyAttachments {
    /// The key files' PEM bytes, to keep as content-addressed blobs beside the entry that adopts them.
    var blobs: [[UInt8]] { keys.keys.sorted().map { Array(keys[$0]!.utf8) } }
}

extension LedgerEntry {
    /// An entry from its stored row (the stored hash kept as written: verification compares it).
    public init(stored: StoredEntry) throws {
        guard let kind = Kind(rawValue: stored.kind) else {
            throw LedgerError(.verificationFailed, "entry \(stored.sequence) has unknown kind '\(stored.kind)'")
        }
        self.init(sequence: stored.sequence, previousHash: stored.previousHash, kind: kind, envelope: stored.envelope,
                  attachments: stored.attachments, policyHash: stored.policyHash, committedAt: stored.committedAt)
        hash = stored.hash
        committerSignature = stored.committerSignature
    }

    /// The row to store.
    public var stored: StoredEntry {
        StoredEntry(sequence: sequence, previousHash: previousHash, kind: kind.rawValue, envelope: envelope, attachments: attachments,
                    policyHash: policyHash, committedAt: committedAt, hash: hash, committerSignature: committerSignature)
    }
}

extension LedgerError {
    /// A storage error as the ledger's, its code kept.
    public init(storage error: StorageError) {
        self.init(Code(error.code.rawValue), error.reason, path: error.path)
    }
}
