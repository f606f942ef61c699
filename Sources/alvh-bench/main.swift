import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHBacktest
import ALVHLedger
import ALVHSigner
import Foundation
import ALVHStorage
@_spi(Testing) import ALVHStorageSQLite
@_spi(Testing) import ALVHStoragePostgres

// alvh-bench: measurements that print JSON; scripts/bench runs them beside their peers (openssl
// speed, Python cryptography, QuantLib, bare SQLite, bare PostgreSQL) in the same run and writes the
// ratios to BENCHMARKS.md. Build in release mode.
//
// --ledger URL (make-ledger, signer-advance, commit-latency, concurrent-commits): the ledger's
// location, `sqlite:PATH` or `postgres://user@host[:port]/db?sslmode=disable` (an existing, empty
// database: the schema is created); by default the workspace's alvh.sqlite in --dir. The workspace
// (keys, policy) is always --dir.
//
//   alvh-bench verify --seconds S                   Ed25519 / P-256 verifications per second, one core
//   alvh-bench make-ledger --dir D --entries N      a ledger of N entries × 3 signatures (Ed25519, P-256, Ed25519)
//   alvh-bench signer-advance --dir D                 a signer's catch-up after one commit: from genesis vs from its checkpoint
//   alvh-bench commit-latency --dir D --commits N   commit p50/p99 vs a bare insert of an entry-sized row per transaction,
//                                                    interleaved, and the bare insert alone: SQLite (WAL,
//                                                    synchronous=FULL, its own file) or PostgreSQL (a table in the
//                                                    ledger's database, fsync and synchronous_commit on)
//   alvh-bench concurrent-commits --dir D --proposers P --seconds S
//                                                    P proposers, each with its own Ledger (own connections) and its
//                                                    own 3 signer keys, proposing + committing in a loop on one
//                                                    ledger for S seconds: commits/s, stale retries; then every
//                                                    acknowledged commit is checked in the chain verified from genesis
//   alvh-bench service-latency --dir D --proposals N [--warmup W]
//                                                    `alvh serve` + 5 remote signers + a remote coordinator over mTLS:
//                                                    proposal queued → committed p50/p99 (see Service.swift)
//   alvh-bench service-signatures --dir D [--keys 20,200] [--signatures S] [--connections C] [--seconds T]
//                                                    signatures accepted/s by `alvh serve`, beside Ed25519 verifications/s on 2 threads
//   alvh-bench service-requests --dir D [--connections C] [--seconds T] [--rounds R]
//                                                    GET /v1/ledger/head/s: `alvh serve` vs a bare Hummingbird app, same TLS
//   alvh-bench bare-peer --tls-dir TLS --port P --body FILE   (that bare app; started by service-requests)
//   alvh-bench pricing --inputs CSV --out CSV       price + Greeks of every input row, repeated ≥ 1 s
//   alvh-bench stress-grid --book B --market M      ms per 101 × 101 SPX × VIX grid

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` repeatedly for about `seconds`; returns operations per second.
func rate(seconds: Double, batch: Int = 256, _ body: () -> Void) -> Double {
    let start = now()
    var count = 0
    while now() - start < seconds {
        for _ in 0..<batch { body() }
        count += batch
    }
    return Double(count) / (now() - start)
}

func emit(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    return arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}

func required(_ name: String) -> String {
    guard let value = option(name) else { fail("missing \(name)") }
    return value
}

/// `--ledger URL`, or nil for the workspace's alvh.sqlite.
func ledgerLocation() -> LedgerLocation? {
    guard let text = option("--ledger") else { return nil }
    do { return try LedgerLocation.parse(text) } catch { fail("--ledger: \(error)") }
}

func fail(_ text: String) -> Never {
    Children.shared.stopAll() // the service benchmarks' processes (item 10), stopped and waited for
    FileHandle.standardError.write(Data("alvh-bench: \(text)\n".utf8))
    exit(1)
}

// MARK: - verify

func benchVerify(seconds: Double) throws {
    // Like `openssl speed`: a fixed message, a fixed signature, verified over and over.
    for type in [KeyType.ed25519, .p256] {
        let key = try PrivateKey.generate(type)
        let message = [UInt8](repeating: 0x61, count: 64)
        let signature = try key.signature(for: message)
        let publicKey = key.publicKey
        var ok = true
        let perSecond = rate(seconds: seconds) { ok = ok && publicKey.isValidSignature(signature, for: message) }
        precondition(ok)
        emit(["bench": "verify", "type": type.rawValue, "perSecond": perSecond])
    }
}

// MARK: - ledgers

/// A workspace with three signers (Ed25519, P-256, Ed25519) per proposer, a policy with threshold 3
/// in which the proposer may approve (so every entry carries exactly 3 signatures: its proposer's
/// three keys), and a ledger holding a one-layer book, at `location` (nil: alvh.sqlite in `root`).
///
/// `createDesk` makes the other layout, the one of a desk served by `alvh serve` (item 10): `signers`
/// keys (s0…) of role risk-officer, a trader who proposes (its signature never counts) and a
/// committer; a resize needs `threshold` of the signers.
struct BenchWorkspace: Sendable {
    let root: String
    let keys: [PrivateKey]
    let committer: PrivateKey
    /// The proposer of the desk layout (`createDesk`); nil in the default one.
    var trader: PrivateKey? = nil
    let ledger: Ledger
    let market: MarketSnapshot
    let snapshotBytes: [UInt8]

    /// The market every bench change is priced on (the example calm market).
    static func snapshotBytes() throws -> [UInt8] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Examples/market/calm.json").path
        return try SecureFile.read(path, limit: MarketSnapshot.maxBytes)
    }

    static func create(_ root: String, location: LedgerLocation? = nil, proposers: Int = 1) async throws -> BenchWorkspace {
        if FileManager.default.fileExists(atPath: root) { try FileManager.default.removeItem(atPath: root) }
        try SecureFile.makeDirectory(root, mode: 0o755)
        let store = KeyStore(directory: "\(root)/Keys")
        var keys: [PrivateKey] = []
        var yaml = "version: 1\nname: bench\nproposer-may-approve: true\nsigners:\n"
        let types = (0..<max(1, proposers)).flatMap { _ in [KeyType.ed25519, .p256, .ed25519] }
        for (index, type) in types.enumerated() {
            let made = try store.generate(name: "s\(index)", type: type)
            keys.append(try PrivateKey.load(from: made.privateKeyPath))
            yaml += "  - id: s\(index)\n    key: Keys/s\(index).pub.pem\n    key-id: \(made.keyID.hex)\n    roles: [risk-officer]\n"
        }
        let committer = try store.generate(name: "committer", type: .ed25519)
        yaml += "committers:\n  - id: committer\n    key: Keys/committer.pub.pem\n    key-id: \(committer.keyID.hex)\n"
        yaml += "rules:\n  - name: layers\n    kinds: [resize-layer]\n    threshold: 3\n"
        try SecureFile.writeAtomically(Array(yaml.utf8), to: "\(root)/policy.yaml", mode: 0o644)
        let committerKey = try PrivateKey.load(from: committer.privateKeyPath)
        let ledger = try await Ledger.initialize(workspace: root, location: location, policyPath: "\(root)/policy.yaml", book: benchBook,
                                                 committer: committerKey, at: Date())
        let bytes = try snapshotBytes()
        return BenchWorkspace(root: root, keys: keys, committer: committerKey, ledger: ledger, market: try MarketSnapshot.decode(Data(bytes)), snapshotBytes: bytes)
    }

    /// The desk layout at `root` (a new workspace; its ledger at `location`, nil: alvh.sqlite):
    /// `signers` keys s0… of `type`, role risk-officer, a trader (Ed25519, role trader) who proposes
    /// and whose signature never counts (`proposer-may-approve: false`), a committer, and a rule
    /// asking `threshold` signatures for a resize of the one-layer book.
    static func createDesk(_ root: String, location: LedgerLocation? = nil, signers: Int, type: KeyType = .ed25519,
                           threshold: Int) async throws -> BenchWorkspace {
        if FileManager.default.fileExists(atPath: root) { try FileManager.default.removeItem(atPath: root) }
        try SecureFile.makeDirectory(root, mode: 0o755)
        let store = KeyStore(directory: "\(root)/Keys")
        let trader = try store.generate(name: "trader", type: .ed25519)
        var yaml = "version: 1\nname: bench-desk\nproposer-may-approve: false\nrequire-proposer-signature: true\nsigners:\n"
        yaml += "  - id: trader\n    key: Keys/trader.pub.pem\n    key-id: \(trader.keyID.hex)\n    roles: [trader]\n"
        var keys: [PrivateKey] = []
        for index in 0..<signers {
            let made = try store.generate(name: "s\(index)", type: type)
            keys.append(try PrivateKey.load(from: made.privateKeyPath))
            yaml += "  - id: s\(index)\n    key: Keys/s\(index).pub.pem\n    key-id: \(made.keyID.hex)\n    roles: [risk-officer]\n"
        }
        let committer = try store.generate(name: "committer", type: .ed25519)
        yaml += "committers:\n  - id: committer\n    key: Keys/committer.pub.pem\n    key-id: \(committer.keyID.hex)\n"
        yaml += "rules:\n  - name: layers\n    kinds: [resize-layer]\n    threshold: \(threshold)\n"
        try SecureFile.writeAtomically(Array(yaml.utf8), to: "\(root)/policy.yaml", mode: 0o644)
        let committerKey = try PrivateKey.load(from: committer.privateKeyPath)
        let ledger = try await Ledger.initialize(workspace: root, location: location, policyPath: "\(root)/policy.yaml", book: benchBook,
                                                 committer: committerKey, at: Date())
        let bytes = try snapshotBytes()
        return BenchWorkspace(root: root, keys: keys, committer: committerKey, trader: try PrivateKey.load(from: trader.privateKeyPath),
                              ledger: ledger, market: try MarketSnapshot.decode(Data(bytes)), snapshotBytes: bytes)
    }

    /// The one-layer book every bench ledger starts with.
    static var benchBook: Book {
        Book(condor: IronCondor(underlying: "SPX", expiry: "2027-01-15", quantity: 10, longPut: 5500, shortPut: 5700,
                                shortCall: 6300, longCall: 6500, creditPerUnit: 43.4),
             layers: [HedgeLayer(name: "short-term", kind: .shortTerm,
                                 positions: [Position(expiry: "2026-12-16", strike: 20, quantity: 100, entryPrice: 1)],
                                 targetCoverageDollars: nil)])
    }

    /// The workspace `create` made at `root`, as it is now.
    /// A new `Ledger` object (its own connections) on it.
    static func open(_ root: String, location: LedgerLocation? = nil) async throws -> BenchWorkspace {
        var keys: [PrivateKey] = []
        while FileManager.default.fileExists(atPath: "\(root)/Keys/private/s\(keys.count).key.pem") {
            keys.append(try PrivateKey.load(from: "\(root)/Keys/private/s\(keys.count).key.pem"))
        }
        let bytes = try snapshotBytes()
        return BenchWorkspace(root: root, keys: keys, committer: try PrivateKey.load(from: "\(root)/Keys/private/committer.key.pem"),
                              ledger: try await Ledger.open(workspace: root, at: location), market: try MarketSnapshot.decode(Data(bytes)),
                              snapshotBytes: bytes)
    }

    /// The same workspace on another `Ledger` object.
    func with(ledger: Ledger) -> BenchWorkspace {
        BenchWorkspace(root: root, keys: keys, committer: committer, trader: trader, ledger: ledger, market: market, snapshotBytes: snapshotBytes)
    }

    /// A signed resize bound to the verified head, by proposer `proposer`'s three keys.
    func nextEnvelope(at time: Date, proposer: Int = 0) async throws -> Envelope {
        let verified = try await ledger.verified()
        return try envelope(binding: LedgerBinding(ledgerID: verified.ledgerID, base: verified.hash, sequence: verified.sequence + 1,
                                                   policyHash: verified.policy.hash), book: verified.book, at: time, proposer: proposer)
    }

    /// The trade of entry `sequence` (+1 / −1 contract, alternating) at the engine's limit price (on the tick grid).
    func trade(_ sequence: UInt64) throws -> Trade {
        let quantity = Self.quantity(sequence)
        return Trade(expiry: "2026-12-16", strike: 20, quantity: quantity,
                     price: try Engine.vixLimitPrice(market: market, expiry: "2026-12-16", strike: 20, buying: quantity > 0))
    }

    /// The resize for entry `binding.sequence` on `book`, with its real figures, proposed and signed
    /// by proposer `proposer`'s three keys (keys 3p, 3p + 1, 3p + 2).
    func envelope(binding: LedgerBinding, book: Book, at time: Date, proposer: Int = 0) throws -> Envelope {
        try envelope(binding: binding, book: book, at: time, signedBy: Array(keys[(3 * proposer)..<(3 * proposer + 3)]))
    }

    /// The resize for entry `binding.sequence` on `book`, proposed by the first of `signedBy` and
    /// signed by each of them; `note` (in the signed rationale) tells apart proposals of one entry.
    func envelope(binding: LedgerBinding, book: Book, at time: Date, signedBy: [PrivateKey], note: String = "bench") throws -> Envelope {
        let change = LayerChange(kind: .resizeLayer, layer: "short-term", trades: [try trade(binding.sequence)])
        let proposal = try Engine.manual(book: book, change: change, market: market, note: note)
        let doc = ProposalBuilder.document(for: proposal, binding: binding, proposer: signedBy.first!.keyID, market: market,
                                           snapshotBytes: snapshotBytes, created: time, lifetime: 3600)
        var envelope = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.proposal)
        for key in signedBy { try envelope.addSignature(using: key) }
        return envelope
    }

    /// The desk layout's proposal for the next entry of the verified ledger: signed by the trader alone.
    func traderEnvelope(at time: Date, note: String = "bench") async throws -> Envelope {
        guard let trader else { throw LedgerError(.invalidInput, "not a desk workspace (BenchWorkspace.createDesk): no trader") }
        let verified = try await ledger.verified()
        return try envelope(binding: LedgerBinding(ledgerID: verified.ledgerID, base: verified.hash, sequence: verified.sequence + 1,
                                                   policyHash: verified.policy.hash), book: verified.book, at: time, signedBy: [trader], note: note)
    }

    static func quantity(_ sequence: UInt64) -> Int { sequence % 2 == 0 ? -1 : 1 }
}

/// A ledger of `entries` layer changes, each with 3 signatures. The first `committed` go through
/// the real enqueue + commit path; the rest are built and signed exactly as a commit would store
/// them (same envelope, same entry hash, same links) but appended through the storage seam's
/// `append` (checked for linkage only) in batches of 5,000 entries per transaction, so a
/// 100,000-entry ledger takes a few minutes, on SQLite or PostgreSQL alike. `alvh ledger verify`
/// then checks every one of them from genesis.
func makeLedger(dir: String, location: LedgerLocation?, entries: Int, committed: Int = 100) async throws {
    let started = now()
    let workspace = try await BenchWorkspace.create(dir, location: location)
    let time = Date()
    for _ in 0..<min(entries, committed) {
        let id = try await workspace.ledger.enqueue(try await workspace.nextEnvelope(at: time), snapshot: workspace.snapshotBytes, at: time).pending.id
        try await workspace.ledger.commit(id: id, committer: workspace.committer, at: time)
    }
    var book = try await workspace.ledger.book()
    let attachments = try EntryAttachments().encoded() // the snapshot is in the blobs (stored by the real commits above)
    var head = try await workspace.ledger.head()
    let context = try await workspace.ledger.context()
    let policyHash = try await workspace.ledger.policyInForce().hash
    let stamp = RFC3339.format(time)  // the committed_at of every appended entry
    let storage = workspace.ledger.storage
    var sequence = head.sequence + 1
    while sequence <= UInt64(entries) {
        let batchEnd = min(UInt64(entries), sequence + 4_999)
        var rows: [StoredEntry] = []
        do {
            while sequence <= batchEnd {
                let envelope = try workspace.envelope(binding: LedgerBinding(ledgerID: context.ledgerID, base: head.hash, sequence: sequence,
                                                                             policyHash: policyHash), book: book, at: time)
                var entry = LedgerEntry(sequence: sequence, previousHash: head.hash, kind: .layerChange, envelope: try envelope.encoded(),
                                        attachments: attachments, policyHash: policyHash, committedAt: stamp)
                entry.committerSignature = try workspace.committer.signature(for: entry.signingMessage)
                rows.append(entry.stored)
                book = try book.applying(LayerChange(kind: .resizeLayer, layer: "short-term", trades: [try workspace.trade(sequence)]))
                head = entry
                sequence += 1
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let decidedOn = HeadRef(sequence: rows[0].sequence - 1, hash: rows[0].previousHash)
            switch try await storage.append(rows, book: Array(try encoder.encode(book)), blobs: [], removing: nil, decidedOn: decidedOn) {
            case .done: break
            case .headMoved(let current): fail("make-ledger: the head moved to \(current.map(\.description) ?? "none") while filling")
            case .queueChanged: fail("make-ledger: the queue changed while filling")
            }
        }
    }
    try await workspace.ledger.close()
    emit(["bench": "make-ledger", "entries": entries, "seconds": now() - started, "dir": dir, "ledger": storage.location,
          "head": "\(head.sequence):\(head.hash)"])
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

/// The peer of a commit: one INSERT of a row as big as an entry, per transaction, through a
/// prepared statement reused (the cheapest durable insert the database offers).
enum BarePeer {
    /// SQLite: a file of its own beside the ledger, same file system, WAL + synchronous=FULL.
    case sqlite(SQLiteBarePeer)
    /// PostgreSQL: a table in the ledger's database (same server, same WAL), fsync + synchronous_commit on.
    case postgres(PostgresBarePeer)

    static func open(dir: String, location: LedgerLocation?) async throws -> BarePeer {
        if case .postgres(let server) = location { return .postgres(try await PostgresBarePeer.open(server)) }
        return .sqlite(try SQLiteBarePeer(path: "\(dir)/bare.sqlite"))
    }

    /// One bare insert of row `seq` in its own transaction; its latency in seconds.
    func insert(_ seq: Int, _ body: [UInt8]) async throws -> Double {
        let start = now()
        switch self {
        case .sqlite(let peer): try peer.insert(seq, body: body)
        case .postgres(let peer): try await peer.insert(seq, body: body)
        }
        return now() - start
    }

    func close() async throws {
        if case .postgres(let peer) = self { try await peer.close() }
    }
}

func backendName(_ location: LedgerLocation?) -> String { location?.isPostgres == true ? "postgres" : "sqlite" }

/// Commit latency beside the bare insert. The ledger's storage is wrapped in a `CountingStorage`
/// (a lock and a clock read per call: ~0.1 µs), which also tells how many storage calls a commit
/// and an enqueue make and how long they spend in them.
func commitLatency(dir: String, location: LedgerLocation?, commits: Int) async throws {
    let created = try await BenchWorkspace.create(dir, location: location)
    let counting = CountingStorage(created.ledger.storage)
    let workspace = created.with(ledger: Ledger(storage: counting, workspace: dir))
    _ = try await workspace.ledger.verified() // from genesis, before the clock starts
    var commitStorage: [String: (calls: Int, seconds: Double)] = [:]
    var enqueueStorage: [String: (calls: Int, seconds: Double)] = [:]
    func add(_ stats: [String: (calls: Int, seconds: Double)], to total: inout [String: (calls: Int, seconds: Double)]) {
        for (name, value) in stats {
            let old = total[name] ?? (0, 0)
            total[name] = (old.calls + value.calls, old.seconds + value.seconds)
        }
    }
    var enqueueLatencies: [Double] = []
    let bare = try await BarePeer.open(dir: dir, location: location)
    func bareInsert(_ seq: Int, _ body: [UInt8]) async throws -> Double { try await bare.insert(seq, body) }
    // Interleaved: each commit is followed by one bare insert, so a noisy neighbour slows both alike.
    var latencies: [Double] = []
    var bareLatencies: [Double] = []
    var envelopeBytes = 0
    for i in 0..<commits {
        let time = Date()
        let envelope = try await workspace.nextEnvelope(at: time)
        envelopeBytes = try envelope.encoded().count
        _ = counting.take()
        let queued = now()
        let id = try await workspace.ledger.enqueue(envelope, snapshot: workspace.snapshotBytes, at: time).pending.id
        enqueueLatencies.append(now() - queued)
        add(counting.take(), to: &enqueueStorage)
        let start = now()
        try await workspace.ledger.commit(id: id, committer: workspace.committer, at: time)
        latencies.append(now() - start)
        add(counting.take(), to: &commitStorage)

        bareLatencies.append(try await bareInsert(i, [UInt8](repeating: 0x5a, count: envelopeBytes)))
    }
    // And the bare insert alone, back to back (its best case: nothing else touches the disk).
    var aloneLatencies: [Double] = []
    let body = [UInt8](repeating: 0x5a, count: envelopeBytes)
    for i in commits..<(2 * commits) { aloneLatencies.append(try await bareInsert(i, body)) }
    try await bare.close()
    try await workspace.ledger.close()
    latencies.sort()
    bareLatencies.sort()
    aloneLatencies.sort()
    enqueueLatencies.sort()
    /// Per commit (or enqueue): storage calls, milliseconds in them, and the same per method.
    func perOperation(_ stats: [String: (calls: Int, seconds: Double)]) -> [String: Any] {
        let n = Double(commits)
        return ["calls": Double(stats.values.reduce(0) { $0 + $1.calls }) / n,
                "ms": stats.values.reduce(0) { $0 + $1.seconds } * 1000 / n,
                "methods": stats.mapValues { ["calls": Double($0.calls) / n, "ms": $0.seconds * 1000 / n] }]
    }
    emit(["bench": "commit-latency", "backend": backendName(location), "commits": commits, "envelopeBytes": envelopeBytes,
          "commitStorage": perOperation(commitStorage), "enqueueStorage": perOperation(enqueueStorage),
          "enqueueP50ms": percentile(enqueueLatencies, 0.5) * 1000, "enqueueP99ms": percentile(enqueueLatencies, 0.99) * 1000,
          "meanMs": latencies.reduce(0, +) / Double(commits) * 1000, "enqueueMeanMs": enqueueLatencies.reduce(0, +) / Double(commits) * 1000,
          "p50ms": percentile(latencies, 0.5) * 1000, "p99ms": percentile(latencies, 0.99) * 1000,
          "bareP50ms": percentile(bareLatencies, 0.5) * 1000, "bareP99ms": percentile(bareLatencies, 0.99) * 1000,
          "bareAloneP50ms": percentile(aloneLatencies, 0.5) * 1000, "bareAloneP99ms": percentile(aloneLatencies, 0.99) * 1000])
}

/// A signer's view of the ledger brought up to date after one more commit: verified from genesis
/// (what signers did before checkpoints) against resumed from its checkpoint.
func signerAdvance(dir: String, location: LedgerLocation?) async throws {
    let workspace = try await BenchWorkspace.open(dir, location: location)
    var start = now()
    let verified = try await ProposalReview.VerifiedLedger.verify(workspace.ledger, jobs: 1)
    let fromGenesis = now() - start
    let time = Date()
    // Another process commits one entry (its own Ledger object), then this signer catches up.
    let other = try await BenchWorkspace.open(dir, location: location)
    let id = try await other.ledger.enqueue(try await other.nextEnvelope(at: time), snapshot: other.snapshotBytes, at: time).pending.id
    try await other.ledger.commit(id: id, committer: other.committer, at: time)
    start = now()
    let advanced = try await ProposalReview.VerifiedLedger.verify(workspace.ledger, jobs: 1)
    let fromCheckpoint = now() - start
    precondition(advanced.context.nextSequence == verified.context.nextSequence + 1)
    try await other.ledger.close()
    try await workspace.ledger.close()
    emit(["bench": "signer-advance", "entries": Int(verified.context.nextSequence),
          "fromGenesisSeconds": fromGenesis, "fromCheckpointSeconds": fromCheckpoint])
}

/// What one proposer of `concurrent-commits` did.
struct ProposerTally: Sendable {
    var proposer: Int
    /// (sequence, hash) of every commit the ledger acknowledged to this proposer.
    var committed: [HeadRef] = []
    /// Attempts lost to another proposer: the head moved before its enqueue or its commit
    /// (`stale-proposal`), and proposals re-made on the new head.
    var staleRetries = 0
    /// Attempts that gave up after the ledger's own retries (the head kept moving under them).
    var busyRetries = 0
    /// Seconds of each acknowledged attempt: propose (price + sign) + enqueue + commit.
    var attemptSeconds: [Double] = []
}

/// `proposers` proposers race on one ledger for `seconds`: each has its own `Ledger` object (its own
/// SQLite connection, or its own PostgreSQL connection pool) and its own three signer keys (one key
/// approves one proposal per entry, so proposers sharing keys would refuse each other's signatures
/// as double-signs), and loops: price and sign a resize on the head it verified, enqueue it,
/// commit it. A proposer that loses the race (another committed first) gets `stale-proposal` and
/// re-proposes on the new head. At the end every acknowledged commit must be in the chain, which
/// is verified from genesis on a fresh connection, and the chain holds exactly those commits.
func concurrentCommits(dir: String, location: LedgerLocation?, proposers: Int, seconds: Double) async throws {
    let setup = try await BenchWorkspace.create(dir, location: location, proposers: proposers)
    let startHead = try await setup.ledger.head()
    try await setup.ledger.close()
    var workspaces: [BenchWorkspace] = []
    for _ in 0..<proposers {
        let workspace = try await BenchWorkspace.open(dir, location: location)
        _ = try await workspace.ledger.verified() // each verifies the genesis before the clock starts
        workspaces.append(workspace)
    }
    let started = now()
    let deadline = started + seconds
    let tallies = try await withThrowingTaskGroup(of: ProposerTally.self) { group in
        for (index, workspace) in workspaces.enumerated() {
            group.addTask {
                var tally = ProposerTally(proposer: index)
                while now() < deadline {
                    let attempt = now()
                    do {
                        let time = Date()
                        let envelope = try await workspace.nextEnvelope(at: time, proposer: index)
                        let id = try await workspace.ledger.enqueue(envelope, snapshot: workspace.snapshotBytes, at: time).pending.id
                        let entry = try await workspace.ledger.commit(id: id, committer: workspace.committer, at: Date())
                        tally.committed.append(HeadRef(sequence: entry.sequence, hash: entry.hash))
                        tally.attemptSeconds.append(now() - attempt)
                    } catch let error as LedgerError where error.code == .staleProposal {
                        tally.staleRetries += 1
                    } catch let error as LedgerError where error.code == .database && error.reason.contains("kept moving") {
                        tally.busyRetries += 1
                    }
                }
                return tally
            }
        }
        var all: [ProposerTally] = []
        for try await tally in group { all.append(tally) }
        return all.sorted { $0.proposer < $1.proposer }
    }
    let elapsed = now() - started
    for workspace in workspaces { try await workspace.ledger.close() }

    // Every acknowledged commit in the chain, verified from genesis on a fresh connection.
    let checker = try await BenchWorkspace.open(dir, location: location)
    var source = StorageEntrySource(ledger: checker.ledger)
    let report = try await LedgerVerifier().verify(&source, materializedBook: try await checker.ledger.materializedBook())
    guard report.ok else { fail("concurrent-commits: the ledger does not verify: \(report.firstBad.map { "entry \($0.sequence): \($0.problem)" } ?? "?")") }
    let committed = tallies.flatMap(\.committed).sorted { $0.sequence < $1.sequence }
    for ref in committed {
        let stored = try await checker.ledger.entry(ref.sequence)
        guard stored.hash == ref.hash else { fail("concurrent-commits: acknowledged commit \(ref) is not in the chain (entry \(ref.sequence) is \(stored.hash))") }
    }
    let head = try await checker.ledger.head()
    guard head.sequence - startHead.sequence == UInt64(committed.count), Set(committed.map(\.sequence)).count == committed.count else {
        fail("concurrent-commits: \(committed.count) commits acknowledged, the chain grew by \(head.sequence - startHead.sequence)")
    }
    try await checker.ledger.close()
    let attempts = tallies.flatMap(\.attemptSeconds).sorted()
    emit(["bench": "concurrent-commits", "backend": backendName(location), "proposers": proposers, "seconds": elapsed,
          "commits": committed.count, "commitsPerSecond": Double(committed.count) / elapsed,
          "staleRetries": tallies.reduce(0) { $0 + $1.staleRetries }, "busyRetries": tallies.reduce(0) { $0 + $1.busyRetries },
          "perProposer": tallies.map(\.committed.count), "attemptP50ms": attempts.isEmpty ? 0 : percentile(attempts, 0.5) * 1000,
          "attemptP99ms": attempts.isEmpty ? 0 : percentile(attempts, 0.99) * 1000,
          "verifiedEntries": report.entries, "allCommitsInChain": true, "verifySeconds": report.seconds])
}

// MARK: - pricing and stress

func pricing(inputs: String, out: String) throws {
    let text = String(decoding: try SecureFile.read(inputs, limit: 64 << 20), as: UTF8.self)
    var specs: [OptionSpec] = []
    for line in text.split(separator: "\n").dropFirst() {
        let f = line.split(separator: ",").map(String.init)
        guard f.count == 8, let model = PricingModel(rawValue: f[0]), let right = OptionRight(rawValue: f[1]),
              let s = Double(f[2]), let k = Double(f[3]), let t = Double(f[4]), let r = Double(f[5]), let q = Double(f[6]), let v = Double(f[7]) else {
            fail("bad input row: \(line)")
        }
        let spec = OptionSpec(model: model, right: right, underlying: s, strike: k, years: t, rate: r, dividend: q, vol: v)
        try spec.validate()
        specs.append(spec)
    }
    var results = [OptionValuation](repeating: .zero, count: specs.count)
    var rounds = 0
    let start = now()
    repeat {
        for i in specs.indices { results[i] = Pricer.valueUnchecked(specs[i]) }
        rounds += 1
    } while now() - start < 1.0
    let perSecond = Double(rounds * specs.count) / (now() - start)
    var csv = "price,delta,gamma,vega,theta,rho\n"
    for v in results {
        csv += [v.price, v.delta, v.gamma, v.vega, v.theta, v.rho].map { String(format: "%.17g", $0) }.joined(separator: ",") + "\n"
    }
    try csv.write(toFile: out, atomically: true, encoding: .utf8)
    emit(["bench": "pricing", "options": specs.count, "perSecond": perSecond])
}

func stressGrid(book: String, market: String, size: Int) throws {
    let b = try Book.load(path: book)
    let m = try MarketSnapshot.load(path: market)
    let valuer = try BookValuer(book: b, market: m)
    let spx = (0..<size).map { -30 + 40 * Double($0) / Double(size - 1) }
    let vix = (0..<size).map { 10 + 80 * Double($0) / Double(size - 1) }
    var checksum = 0.0
    var grids = 0
    let start = now()
    repeat {
        checksum += valuer.grid(spxMoves: spx, vixLevels: vix)[size / 2][size / 2]
        grids += 1
    } while now() - start < 2.0
    let ms = (now() - start) / Double(grids) * 1000
    emit(["bench": "stress-grid", "size": size, "cells": size * size, "legs": b.layers.reduce(4) { $0 + $1.positions.count },
          "msPerGrid": ms, "checksum": checksum / Double(grids)])
}

/// The whole backtest (naked, one-layer, alvh over every common day of the two files) beside reading
/// the two CSV files, in the same process: medians over `rounds`.
func backtest(vix: String, spx: String, rounds: Int) throws {
    var csv: [Double] = [], three: [Double] = [], full: [Double] = []
    var days = 0
    for _ in 0..<rounds {
        var start = now()
        let history = try MarketHistory.load(vix: vix, spx: spx)
        csv.append(now() - start)
        start = now()
        let report = try Backtest.run(history: history, calibration: false)
        three.append(now() - start)
        days = report.tradingDays
        start = now()
        _ = try Backtest.run(history: history, calibration: true)
        full.append(now() - start)
    }
    func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
    emit(["bench": "backtest", "tradingDays": days, "csvSeconds": median(csv), "threeStrategiesSeconds": median(three),
          "withCalibrationSeconds": median(full), "rounds": rounds])
}

// MARK: - main

let arguments = Array(CommandLine.arguments.dropFirst())
let seconds = option("--seconds").flatMap(Double.init) ?? 3
do {
    switch arguments.first {
    case "verify": try benchVerify(seconds: seconds)
    case "make-ledger":
        try await makeLedger(dir: required("--dir"), location: ledgerLocation(), entries: option("--entries").flatMap(Int.init) ?? 20_000)
    case "signer-advance":
        try await signerAdvance(dir: required("--dir"), location: ledgerLocation())
    case "commit-latency":
        try await commitLatency(dir: required("--dir"), location: ledgerLocation(), commits: option("--commits").flatMap(Int.init) ?? 1000)
    case "concurrent-commits":
        try await concurrentCommits(dir: required("--dir"), location: ledgerLocation(),
                                    proposers: option("--proposers").flatMap(Int.init) ?? 4, seconds: option("--seconds").flatMap(Double.init) ?? 20)
    case "service-latency":
        Children.shared.installSignalHandlers()
        try await serviceLatency(dir: required("--dir"), proposals: option("--proposals").flatMap(Int.init) ?? 100,
                                 warmup: option("--warmup").flatMap(Int.init) ?? 5)
    case "service-signatures":
        Children.shared.installSignalHandlers()
        try await serviceSignatures(dir: required("--dir"), keyCounts: (option("--keys") ?? "20,200").split(separator: ",").compactMap { Int($0) },
                                    signatures: option("--signatures").flatMap(Int.init) ?? 1000,
                                    connections: option("--connections").flatMap(Int.init) ?? 4, seconds: seconds)
    case "service-requests":
        Children.shared.installSignalHandlers()
        try await serviceRequests(dir: required("--dir"), connections: option("--connections").flatMap(Int.init) ?? 8,
                                  seconds: seconds, rounds: option("--rounds").flatMap(Int.init) ?? 3)
    case "bare-peer":
        try await barePeer(tls: required("--tls-dir"), port: option("--port").flatMap(Int.init) ?? 0, body: required("--body"))
    case "pricing":
        try pricing(inputs: required("--inputs"), out: required("--out"))
    case "backtest":
        try backtest(vix: required("--vix"), spx: required("--spx"), rounds: option("--rounds").flatMap(Int.init) ?? 3)
    case "stress-grid":
        try stressGrid(book: required("--book"), market: required("--market"),
                       size: option("--size").flatMap(Int.init) ?? 101)
    default:
        fail("usage: alvh-bench verify|make-ledger|signer-advance|commit-latency|concurrent-commits|service-latency|service-signatures|service-requests|bare-peer|pricing|stress-grid|backtest … (see the source header)")
    }
} catch {
    fail("\(error)")
}
