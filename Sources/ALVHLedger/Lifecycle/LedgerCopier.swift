import Foundation
import ALVHSigning
import ALVHStorage
import ALVHStorageSQLite
import ALVHStoragePostgres

/// `alvh ledger copy --from URL --to URL`: moves a ledger to another store (a desk outgrowing its
/// SQLite file for a shared PostgreSQL server, or an auditor taking a local copy).
///
/// Entries are copied in batches, each verified before it is written — hashes, links, committer
/// signatures, thresholds, recomputed figures, the book replayed — so the target only ever holds
/// a verified prefix of the source, written with the book the replay gives (never the source's
/// say-so). Every blob is copied, checked against its hash. The pending queue is not copied
/// (proposals in flight are re-queued on the target: they bind the same ledger id).
/// A target that holds any entry is refused. A SQLite target is built under a temporary name and
/// linked into place at the end (all or nothing); a PostgreSQL target that fails midway keeps the
/// verified prefix written so far, and the error says so (drop and recreate the database first).
public enum LedgerCopier {
    public struct Report: Sendable, Codable, Equatable {
        public var from: String
        public var to: String
        public var ledgerID: String
        public var entries: Int
        public var blobs: Int
        public var headSequence: UInt64
        public var headHash: String
        public var seconds: Double
    }

    /// Copies `source` to `target`. `progress` gets (entries copied, entries in all).
    public static func copy(from source: Ledger, to target: LedgerLocation, batchSize: Int = 500, jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                            progress: ((Int, Int) -> Void)? = nil) async throws -> Report {
        let started = Date()
        let total = Int(try await source.head().sequence) + 1
        let format = try await source.io { try await source.storage.meta("format") } ?? LedgerEntry.format
        if case .sqlite(let path) = target, FileManager.default.fileExists(atPath: path) {
            throw LedgerError(.alreadyInitialized, "the target exists; a copy goes to a new file (or an empty PostgreSQL database), never over a ledger", path: path)
        }
        var report = try await Ledger.writingNew(target) { storage in
            if let head = try await storage.head() {
                throw LedgerError(.alreadyInitialized, "the target database already holds a ledger (head entry \(head.sequence)); copy into an empty database", path: target.description)
            }
            do {
                return try await copyEntries(from: source, into: storage, format: format, total: total, batchSize: batchSize, jobs: jobs, progress: progress)
            } catch {
                // A SQLite target is thrown away whole; a PostgreSQL one keeps what was written.
                guard target.isPostgres, let written = try? await storage.head() else { throw error }
                var failure = (error as? StorageError).map(LedgerError.init(storage:)) ?? (error as? LedgerError)
                    ?? LedgerError(.database, "\(error)", path: target.description)
                failure.reason += " — the target holds entries 0…\(written.sequence), a verified prefix: drop and recreate that database before copying again"
                throw failure
            }
        }
        report.to = target.description
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// A batch of entries, with the source's blobs for the snapshots they cite.
    struct BatchSource: EntrySource {
        var batch: [LedgerEntry]
        let ledger: Ledger
        mutating func next(max: Int) async throws -> [LedgerEntry] {
            defer { batch = [] }
            return batch
        }
        func blob(_ hash: String) async throws -> [UInt8]? { try await ledger.blob(hash) }
    }

    static func copyEntries(from source: Ledger, into storage: any LedgerStorage, format: String, total: Int, batchSize: Int, jobs: Int,
                            progress: ((Int, Int) -> Void)?) async throws -> Report {
        let verifier = LedgerVerifier(jobs: jobs)
        var checkpoint: LedgerVerifier.Checkpoint?
        var next: UInt64 = 0
        var copied = 0
        var blobCount = 0
        // Read before the entries, and compared with the replay at its own entry (in the batch
        // that holds it), so that a source someone commits to during the copy is not a mismatch.
        let materialized = try await source.materializedBook()
        while true {
            let batch = try await source.entries(from: next, limit: batchSize)
            guard let first = batch.first, let last = batch.last else { break }
            var entries = BatchSource(batch: batch, ledger: source)
            let holdsBook = (first.sequence...last.sequence).contains(materialized.sequence)
            let report = try await verifier.verify(&entries, resumingFrom: checkpoint, materializedBook: holdsBook ? materialized : nil)
            guard report.ok, let verified = report.checkpoint else {
                throw LedgerError(.verificationFailed, "the source does not verify: "
                                  + (report.firstBad.map { "entry \($0.sequence): \($0.problem)" } ?? "no entries") + "; nothing past the last verified entry was copied",
                                  path: source.location)
            }
            let book = try Ledger.encodeBook(verified.book)
            var toAppend = batch[...]
            if let previous = checkpoint {
                try await append(Array(toAppend), book: book, blobs: [], to: storage, after: previous.ref)
            } else {
                let genesis = toAppend.removeFirst()
                let genesisBook = try Ledger.encodeBook(try GenesisDocument.decode(genesis.envelope).book.book())
                try await storage.create(genesis: genesis.stored, meta: ["ledger_id": genesis.hash, "format": format], book: genesisBook, blobs: [])
                // Every blob, page by page, each checked against its hash as it is read.
                var after: String?
                while true {
                    let page = try await source.blobs(after: after, limit: 64)
                    guard let last = page.last else { break }
                    try await append([], book: genesisBook, blobs: page.map(\.bytes), to: storage, after: genesis.stored.ref)
                    blobCount += page.count
                    after = last.hash
                }
                if !toAppend.isEmpty {
                    try await append(Array(toAppend), book: book, blobs: [], to: storage, after: genesis.stored.ref)
                }
            }
            checkpoint = verified
            copied += batch.count
            next = verified.sequence + 1
            progress?(copied, total)
        }
        guard let checkpoint else {
            throw LedgerError(.noLedger, "the source ledger has no entries", path: source.location)
        }
        guard materialized.sequence <= checkpoint.sequence else {
            throw LedgerError(.verificationFailed, "the source's materialized book is the book after entry \(materialized.sequence), but its chain ends at entry \(checkpoint.sequence) (the source database was altered); the copy holds entries 0…\(checkpoint.sequence)",
                              path: source.location)
        }
        return Report(from: source.location, to: "", ledgerID: checkpoint.ledgerID, entries: copied, blobs: blobCount,
                      headSequence: checkpoint.sequence, headHash: checkpoint.hash, seconds: 0)
    }

    static func append(_ entries: [LedgerEntry], book: [UInt8], blobs: [[UInt8]], to storage: any LedgerStorage, after head: HeadRef) async throws {
        switch try await storage.append(entries.map(\.stored), book: book, blobs: blobs, removing: nil, decidedOn: head) {
        case .done: return
        case .queueChanged:
            throw LedgerError(.database, "the target's queue changed during the copy; copy into a database no one else uses")
        case .headMoved(let current):
            throw LedgerError(.database, "another writer appended to the target during the copy (its head is \(current.map(\.description) ?? "gone")); copy into a database no one else uses")
        }
    }
}

extension Ledger {
    /// What `alvh ledger setup` did.
    public struct SetupReport: Sendable, Codable, Equatable {
        public var ledger: String
        public var applicationRole: String?
        public var roleCanLogIn: Bool
    }

    /// Sets up a PostgreSQL ledger's database (as its owner): creates or migrates the schema
    /// (idempotent), and with `appRole` creates or updates the application role day-to-day alvh
    /// processes connect as (INSERT/SELECT only on entries and blobs; see docs/storage.md).
    /// Then `alvh init --ledger URL` writes the genesis entry.
    public static func setUp(_ location: LedgerLocation, appRole: String?, appPassword: String?) async throws -> SetupReport {
        guard case .postgres(let server) = location else {
            throw LedgerError(.badLocation, "setup prepares a PostgreSQL database; a SQLite ledger needs none (`alvh init` creates the file)", path: "--ledger")
        }
        if let appRole {
            guard appRole.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
                throw LedgerError(.invalidInput, "'\(appRole)' is not a plain role name (lowercase letters, digits, _; at most 63)", path: "--app-role")
            }
            guard appRole != server.user else {
                throw LedgerError(.invalidInput, "the application role must not be the owner connecting now ('\(server.user)'): it would keep every right", path: "--app-role")
            }
        }
        let storage: PostgresLedgerStorage
        do { storage = try await PostgresLedgerStorage.open(server, create: true) }
        catch let error as StorageError { throw LedgerError(storage: error) }
        do {
            if let appRole { try await storage.grantApplicationRole(appRole, password: appPassword) }
            try await storage.close()
        } catch {
            try? await storage.close()
            if let error = error as? StorageError { throw LedgerError(storage: error) }
            throw error
        }
        return SetupReport(ledger: location.description, applicationRole: appRole, roleCanLogIn: appRole != nil && appPassword != nil)
    }
}
