import Foundation
import Testing
import ALVHSigning
import ALVHStorage
import ALVHStorageSQLite
import ALVHStoragePostgres
import ALVHTestSupport

/// The storages the conformance suite runs against: the same test bodies for each.
///
/// To add one: a case, its `isEnabled`, and its `make()` giving a fresh empty ledger storage and
/// what to do after the test.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory
    /// A real SQLite file (WAL, synchronous=FULL), fresh in a temporary directory for each test.
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// Whether its tests run here (PostgreSQL: a server is given, or this is CI, where a missing
    /// server fails the tests instead of skipping them).
    var isEnabled: Bool {
        switch self {
        case .memory, .sqlite: true
        case .postgres: PostgresTestServer.isEnabled
        }
    }

    /// The backends of this run.
    static var enabled: [Backend] { allCases.filter(\.isEnabled) }

    /// A fresh, empty storage (schema in place, no entry) and its clean-up.
    func make() async throws -> Harness {
        switch self {
        case .memory:
            return Harness(storage: MemoryLedgerStorage(), cleanup: {})
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("alvh-storage-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            do {
                let storage = try SQLiteLedgerStorage.open(path: directory.appendingPathComponent(SQLiteLedgerStorage.fileName).path, create: true)
                return Harness(storage: storage, cleanup: {
                    try? await storage.close()
                    try? FileManager.default.removeItem(at: directory)
                })
            } catch {
                try? FileManager.default.removeItem(at: directory)
                throw error
            }
        case .postgres:
            let database = try await PostgresTestServer.freshDatabase()
            do {
                let storage = try await PostgresLedgerStorage.open(database.location, create: true)
                return Harness(storage: storage, cleanup: {
                    try? await storage.close()
                    await database.drop()
                })
            } catch {
                await database.drop()
                throw error
            }
        }
    }

    /// Runs `body` on a fresh storage, cleaned up after.
    func with(_ body: (any LedgerStorage) async throws -> Void) async throws {
        let harness = try await make()
        do {
            try await body(harness.storage)
            await harness.cleanup()
        } catch {
            await harness.cleanup()
            throw error
        }
    }
}

struct Harness: Sendable {
    var storage: any LedgerStorage
    var cleanup: @Sendable () async -> Void
}

/// The PostgreSQL conformance run is absent when there is no server: this test says so (skipped,
/// with how to get one) instead of the run passing in silence.
@Test("PostgreSQL backend of the conformance suite", .enabled(if: PostgresTestServer.isEnabled, "no PostgreSQL server: \(PostgresTestServer.howToFix)"))
func postgresBackendIsInTheSuite() {
    #expect(Backend.enabled.contains(.postgres))
}

// MARK: Fixtures

/// Entries, proposals and signatures of a made-up ledger: the storage checks linkage and keys,
/// never meaning, so any consistent bytes do.
enum Fixture {
    static func hash(_ text: String) -> String { SHA256.hexDigest(Array(text.utf8)) }
    static let zeroHash = String(repeating: "0", count: 64)

    static func genesis(_ tag: String = "") -> StoredEntry {
        StoredEntry(sequence: 0, previousHash: zeroHash, kind: "genesis", envelope: Array("genesis\(tag)".utf8), attachments: [1, 2],
                    policyHash: hash("policy-0"), committedAt: "2026-01-01T00:00:00Z", hash: hash("entry-0\(tag)"), committerSignature: [9, 9])
    }

    static func entry(after previous: HeadRef, kind: String = "layer-change", tag: String = "") -> StoredEntry {
        let sequence = previous.sequence + 1
        return StoredEntry(sequence: sequence, previousHash: previous.hash, kind: kind, envelope: Array("entry-\(sequence)\(tag)".utf8),
                           attachments: [], policyHash: hash("policy-0"), committedAt: "2026-01-01T00:00:\(String(format: "%02d", sequence % 60))Z",
                           hash: hash("entry-\(sequence)\(tag)-\(previous.hash)"), committerSignature: [UInt8(sequence % 256)])
    }

    static func proposal(_ id: String, sequence: UInt64 = 1, queuedAt: String = "2026-01-01T00:00:00Z", expires: String = "2026-01-02T00:00:00Z",
                         attachments: [UInt8]? = nil) -> NewPending {
        NewPending(id: id, payload: Array("payload-\(id)".utf8), payloadType: "application/vnd.alvh.proposal+json", kind: "layer-change",
                   sequence: sequence, base: hash("entry-0"), created: "2026-01-01T00:00:00Z", expires: expires, proposer: "proposer-\(id)",
                   queuedAt: queuedAt, attachments: attachments)
    }

    static func signature(_ key: String, keyid: String? = nil) -> NewSignature {
        NewSignature(keyid: keyid, sig: Array("sig-by-\(key)".utf8), signerKey: key, addedAt: "2026-01-01T00:00:01Z")
    }

    static let never: SlotConflictRule = { _ in false }
    static let always: SlotConflictRule = { _ in true }

    /// A created ledger: genesis, meta, book, one blob; returns its head.
    @discardableResult
    static func create(_ storage: any LedgerStorage) async throws -> HeadRef {
        let genesis = genesis()
        try await storage.create(genesis: genesis, meta: ["ledger_id": "L-test", "format": "2"], book: Array("{\"book\":0}".utf8),
                                 blobs: [Array("snapshot-0".utf8)])
        return genesis.ref
    }

    /// Appends `count` layer changes on `head`; returns the new head.
    static func appendLayers(_ storage: any LedgerStorage, on head: HeadRef, count: Int) async throws -> HeadRef {
        var entries: [StoredEntry] = []
        var previous = head
        for _ in 0..<count {
            let entry = entry(after: previous)
            entries.append(entry)
            previous = entry.ref
        }
        let outcome = try await storage.append(entries, book: Array("{\"book\":\(previous.sequence)}".utf8), blobs: [], removing: nil, decidedOn: head)
        guard case .done(let ref) = outcome else { throw StorageError(.refused, "append on \(head) did not go through: \(outcome)") }
        return ref
    }
}

extension EnqueueOutcome {
    var queued: StoredPending? { if case .queued(_, _, let pending) = self { pending } else { nil } }
}

extension WriteOutcome {
    var value: Value? { if case .done(let value) = self { value } else { nil } }
    var isHeadMoved: Bool { if case .headMoved = self { true } else { false } }
    var isQueueChanged: Bool { if case .queueChanged = self { true } else { false } }
}
