import Foundation
import Testing
import ALVHEngine
import ALVHApproval
import ALVHLedger
import ALVHSigning
import ALVHStorage
import ALVHStorageSQLite

/// A ledger written by the alvh of 2026-12-05 (format alvh-ledger-2: the demo's walk, 7 entries,
/// 32 signatures, 12 blobs), exported as JSON Lines and committed. Today's code must verify it,
/// from the export and from a database loaded with it: a change to the engine's types or to the
/// ledger's code that breaks an old ledger fails here.
@Suite struct LedgerFixtureTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/demo-ledger-format2.jsonl").path
    static let ledgerID = "a72590dd547566e714a4f5669d92e6a0fd9b310ff623c8be9a02218f7d65080e"
    static let head = LedgerVerifier.ExpectedHead(sequence: 6, hash: "897c9c83e592a011d2166ef0362da37ce83ec1b5c6b828e9000ceb96249e7823")

    @Test func theExportVerifies() async throws {
        var source = try ExportEntrySource(path: Self.fixture)
        let report = try await LedgerVerifier(jobs: 2).verify(&source, expectHead: Self.head)
        #expect(report.ok, "\(report.firstBad.map { "entry \($0.sequence): \($0.problem)" } ?? "")")
        #expect(report.entries == 7)
        #expect(report.signatureChecks == 32)
        #expect(report.ledgerID == Self.ledgerID)
        #expect(report.headHash == Self.head.hash)
    }

    /// Loaded row by row into a fresh SQLite ledger (as `ledger copy` would, without its checks),
    /// the ledger opens, verifies from genesis and its materialized book is the replayed one.
    @Test func aDatabaseLoadedWithItVerifies() async throws {
        var template = Array((NSTemporaryDirectory() + "/alvh-fixture-XXXXXX").utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var source = try ExportEntrySource(path: Self.fixture)
        var entries: [LedgerEntry] = []
        while true {
            let batch = try await source.next(max: 100)
            if batch.isEmpty { break }
            entries += batch
        }
        let genesis = try GenesisDocument.decode(entries[0].envelope)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var replayed = try genesis.book.book()
        var blobs: [[UInt8]] = []
        for line in try String(contentsOfFile: Self.fixture, encoding: .utf8).split(separator: "\n") where line.hasPrefix(#"{"blob":"#) {
            let blob = try JSONDecoder().decode(ExportedBlob.self, from: Data(line.utf8))
            blobs.append(try #require(Base64.decode(blob.bytes)))
        }
        #expect(blobs.count == 12)
        let storage = try SQLiteLedgerStorage.open(path: "\(directory)/alvh.sqlite", create: true)
        try await storage.create(genesis: entries[0].stored, meta: ["ledger_id": entries[0].hash, "format": LedgerEntry.format],
                                 book: Array(try encoder.encode(replayed)), blobs: blobs)
        // The book the entries lead to, replayed by the verifier.
        var all = ExportArray(entries: entries, blobs: blobs)
        let report = try await LedgerVerifier(jobs: 1).verify(&all)
        replayed = try #require(report.replayedBook)
        let appended = try await storage.append(entries.dropFirst().map(\.stored), book: Array(try encoder.encode(replayed)), blobs: [],
                                                removing: nil, decidedOn: entries[0].stored.ref)
        #expect(appended == .done(Self.head.hashRef))
        try storage.checkpointAndClose()

        let ledger = try await Ledger.open(workspace: directory)
        let verified = try await ledger.verified(jobs: 1)
        #expect(verified.ledgerID == Self.ledgerID)
        #expect(verified.sequence == 6 && verified.hash == Self.head.hash)
        #expect(try await ledger.book() == verified.book)
        #expect(verified.policy.name == "demo-desk")
        try await ledger.close()
    }

    /// The genesis book's wire JSON is, byte for byte, what the engine's `Book` encodes today (the
    /// format the first ledgers were written in), and it maps back onto the same engine book.
    @Test func theGenesisWireBookMatchesTheEngineEncoding() async throws {
        var source = try ExportEntrySource(path: Self.fixture)
        let genesisEntry = try #require(try await source.next(max: 1).first)
        let genesis = try GenesisDocument.decode(genesisEntry.envelope)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let engineBook = try genesis.book.book()
        #expect(try encoder.encode(genesis.book) == (try encoder.encode(engineBook)))
        #expect(GenesisBook(engineBook) == genesis.book)
        let withLayer = Book(condor: engineBook.condor,
                             layers: [HedgeLayer(name: "event", kind: .event, positions: [Position(expiry: "2027-01-20", strike: 25, quantity: 7, entryPrice: 1.15)],
                                                 targetCoverageDollars: 30_000)],
                             realizedHedgeDollars: 1250)
        #expect(try encoder.encode(GenesisBook(withLayer)) == (try encoder.encode(withLayer)))
        #expect(try GenesisBook(withLayer).book() == withLayer)
    }

    /// A wire value the engine does not know is named, not guessed.
    @Test func anUnknownLayerKindIsNamed() throws {
        let json = #"{"condor":{"creditPerUnit":1,"expiry":"2027-01-15","longCall":6500,"longPut":5500,"quantity":1,"shortCall":6300,"shortPut":5700,"underlying":"SPX"},"layers":[{"kind":"weekly","name":"w","positions":[]}]}"#
        let wire = try JSONDecoder().decode(GenesisBook.self, from: Data(json.utf8))
        #expect { try wire.book() } throws: { error in
            (error as? LedgerError)?.path == "genesis.book.layers[0].kind"
        }
    }
}

/// Entries held in memory, with blobs by hash (the fixture, read once).
struct ExportArray: EntrySource {
    var entries: [LedgerEntry]
    let blobs: [String: [UInt8]]
    init(entries: [LedgerEntry], blobs: [[UInt8]]) {
        self.entries = entries
        self.blobs = Dictionary(blobs.map { (SHA256.hexDigest($0), $0) }, uniquingKeysWith: { a, _ in a })
    }
    mutating func next(max: Int) async throws -> [LedgerEntry] {
        defer { entries = Array(entries.dropFirst(max)) }
        return Array(entries.prefix(max))
    }
    func blob(_ hash: String) async throws -> [UInt8]? { blobs[hash] }
}

extension LedgerVerifier.ExpectedHead {
    var hashRef: HeadRef { HeadRef(sequence: sequence, hash: hash) }
}
