import Foundation
import Synchronization
import ALVHStorage

/// A `LedgerStorage` that forwards every call to another and counts, per method, the calls and the
/// seconds spent in them (awaiting included): `commit-latency --breakdown` puts it under the ledger
/// to show how much of a commit is the storage, and in how many calls, on each backend.
final class CountingStorage: LedgerStorage, Sendable {
    let inner: any LedgerStorage
    private let stats = Mutex<[String: (calls: Int, seconds: Double)]>([:])

    init(_ inner: any LedgerStorage) { self.inner = inner }

    var location: String { inner.location }

    /// The counts so far, and zero them.
    func take() -> [String: (calls: Int, seconds: Double)] {
        stats.withLock { stats in
            defer { stats = [:] }
            return stats
        }
    }

    private func timed<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
        let start = now()
        defer {
            let spent = now() - start
            stats.withLock { stats in
                let old = stats[name] ?? (0, 0)
                stats[name] = (old.calls + 1, old.seconds + spent)
            }
        }
        return try await body()
    }

    func meta(_ key: String) async throws -> String? { try await timed("meta") { try await inner.meta(key) } }
    func head() async throws -> StoredEntry? { try await timed("head") { try await inner.head() } }
    func entry(at sequence: UInt64) async throws -> StoredEntry? { try await timed("entry") { try await inner.entry(at: sequence) } }
    func entries(from sequence: UInt64, limit: Int) async throws -> [StoredEntry] {
        try await timed("entries") { try await inner.entries(from: sequence, limit: limit) }
    }
    func lastPolicyEntry(before sequence: UInt64?) async throws -> StoredEntry? {
        try await timed("lastPolicyEntry") { try await inner.lastPolicyEntry(before: sequence) }
    }
    func blob(_ hash: String) async throws -> [UInt8]? { try await timed("blob") { try await inner.blob(hash) } }
    func blobs(after hash: String?, limit: Int) async throws -> [(hash: String, bytes: [UInt8])] {
        try await timed("blobs") { try await inner.blobs(after: hash, limit: limit) }
    }
    func book() async throws -> (sequence: UInt64, json: [UInt8])? { try await timed("book") { try await inner.book() } }
    func pending(id: String) async throws -> StoredPending? { try await timed("pending") { try await inner.pending(id: id) } }
    func allPending() async throws -> [StoredPending] { try await timed("allPending") { try await inner.allPending() } }
    func openPending() async throws -> [StoredPending] { try await timed("openPending") { try await inner.openPending() } }
    func pendingIDs(prefix: String, limit: Int) async throws -> [String] {
        try await timed("pendingIDs") { try await inner.pendingIDs(prefix: prefix, limit: limit) }
    }
    func signatures(pendingID: String) async throws -> [StoredSignature] {
        try await timed("signatures") { try await inner.signatures(pendingID: pendingID) }
    }
    func rejections(pendingID: String) async throws -> [[UInt8]] {
        try await timed("rejections") { try await inner.rejections(pendingID: pendingID) }
    }
    func slotRejections(sequence: UInt64) async throws -> [[UInt8]] {
        try await timed("slotRejections") { try await inner.slotRejections(sequence: sequence) }
    }
    func create(genesis: StoredEntry, meta: [String: String], book: [UInt8], blobs: [[UInt8]]) async throws {
        try await timed("create") { try await inner.create(genesis: genesis, meta: meta, book: book, blobs: blobs) }
    }
    func enqueue(_ proposal: NewPending?, id: String, blobs: [[UInt8]], signatures: [NewSignature], maxSignatures: Int,
                 conflicts: @escaping SlotConflictRule, decidedOn head: HeadRef) async throws -> WriteOutcome<EnqueueOutcome> {
        try await timed("enqueue") {
            try await inner.enqueue(proposal, id: id, blobs: blobs, signatures: signatures, maxSignatures: maxSignatures,
                                    conflicts: conflicts, decidedOn: head)
        }
    }
    func addRejection(pendingID: String, envelope: [UInt8], signerKey: String, addedAt: String, veto: Bool,
                      decidedOn head: HeadRef) async throws -> WriteOutcome<RejectionOutcome> {
        try await timed("addRejection") {
            try await inner.addRejection(pendingID: pendingID, envelope: envelope, signerKey: signerKey, addedAt: addedAt, veto: veto, decidedOn: head)
        }
    }
    func append(_ entries: [StoredEntry], book: [UInt8], blobs: [[UInt8]], removing pending: PendingRemoval?,
                decidedOn head: HeadRef) async throws -> WriteOutcome<HeadRef> {
        try await timed("append") { try await inner.append(entries, book: book, blobs: blobs, removing: pending, decidedOn: head) }
    }
    func setStatus(_ changes: [(id: String, status: PendingStatus)], decidedOn head: HeadRef?) async throws -> WriteOutcome<[StatusChange]> {
        try await timed("setStatus") { try await inner.setStatus(changes, decidedOn: head) }
    }
    func close() async throws { try await inner.close() }
}
