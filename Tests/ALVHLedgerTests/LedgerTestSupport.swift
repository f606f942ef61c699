import Foundation
import ALVHTestSupport
import Testing
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHStorage
@_spi(Testing) import ALVHStorageSQLite
@testable import ALVHLedger

/// A temporary workspace with signer keys (private keys under Keys/private/), a policy and a ledger.
final class LedgerFixture: @unchecked Sendable {
    let root: String
    var keys: [String: PrivateKey] = [:]
    let start = RFC3339.parse("2026-11-25T14:00:00Z")!
    /// The market every fixture proposal is priced on (Examples/market/calm.json).
    var snapshotBytes: [UInt8] = []
    var market: MarketSnapshot!

    static let signerNames = ["tom", "alice", "bob", "carol", "limits"]

    /// The ledger (nil: the workspace's alvh.sqlite).
    let location: LedgerLocation?

    init(initialize: Bool = true, policy: String? = nil, location: LedgerLocation? = nil) async throws {
        self.location = location
        var template = Array("/tmp/alvh-ledger-XXXXXX".utf8CString)
        root = String(cString: mkdtemp(&template)!)
        let store = KeyStore(directory: "\(root)/Keys")
        for name in Self.signerNames + ["mallory", "committer"] {
            let made = try store.generate(name: name, type: name == "bob" ? .p256 : .ed25519)
            keys[name] = try PrivateKey.load(from: made.privateKeyPath)
        }
        try write("Policies/desk.yaml", policy ?? policyYAML(version: 1))
        try write("book.json", Self.bookJSON)
        snapshotBytes = try SecureFile.read(TestProcess.packageRoot.appendingPathComponent("Examples/market/calm.json").path, limit: MarketSnapshot.maxBytes)
        market = try MarketSnapshot.decode(Data(snapshotBytes))
        try SnapshotStore.store(snapshotBytes, workspace: root) // where enqueue finds the snapshot a proposal cites
        if initialize {
            let ledger = try await Ledger.initialize(workspace: root, location: location, policyPath: "\(root)/Policies/desk.yaml",
                                                     book: try Book.load(path: "\(root)/book.json"), committer: key("committer"), at: start)
            try await ledger.close()
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func key(_ name: String) -> PrivateKey { keys[name]! }

    func signer(_ id: String, roles: [String]) -> String {
        "  - id: \(id)\n    key: Keys/\(id).pub.pem\n    key-id: \(key(id).keyID.hex)\n    roles: [\(roles.joined(separator: ", "))]\n"
    }

    /// Layer changes need 2 (no proposer), policy changes 3 with a CRO.
    func policyYAML(version: Int, withoutBob: Bool = false, layerThreshold: Int = 2, extra: String = "") -> String {
        var signers = signer("tom", roles: ["trader"]) + signer("alice", roles: ["risk-officer"])
        if !withoutBob { signers += signer("bob", roles: ["risk-officer"]) }
        signers += signer("carol", roles: ["cro"]) + signer("limits", roles: ["limits-bot"])
        return """
        version: \(version)
        name: test-desk-v\(version)
        veto-roles: [limits-bot]
        \(extra)
        signers:
        \(signers)
        committers:
          - id: committer
            key: Keys/committer.pub.pem
            key-id: \(key("committer").keyID.hex)
        rules:
          - name: layers
            kinds: [add-layer, roll-layer, resize-layer, close-layer]
            threshold: \(layerThreshold)
          - name: policy
            kinds: [policy-change]
            threshold: 3
            roles: { cro: 1 }
        """
    }

    static let bookJSON = """
    {"condor": {"underlying": "SPX", "expiry": "2027-01-15", "quantity": 10, "longPut": 5400, "shortPut": 5600,
                "shortCall": 6250, "longCall": 6450, "creditPerUnit": 28.5},
     "layers": [{"name": "backstop", "kind": "backstop", "targetCoverageDollars": 50000,
                 "positions": [{"instrument": "VIX", "right": "call", "expiry": "2027-03-17", "strike": 35, "quantity": 20, "entryPrice": 1.1}]}]}
    """

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let path = "\(root)/\(relative)"
        try SecureFile.makeDirectory((path as NSString).deletingLastPathComponent, mode: 0o755)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func ledger() async throws -> Ledger { try await Ledger.open(workspace: root, at: location) }

    /// `--ledger URL` for the CLI (nothing for the workspace's file), and the environment that
    /// gives it the password (never on the command line).
    var ledgerArguments: [String] { location.map { ["--ledger", $0.description] } ?? [] }
    var ledgerEnvironment: [String: String] {
        if case .postgres(let server) = location, let password = server.password { return ["PGPASSWORD": password] }
        return [:]
    }

    /// Runs `body` on a freshly opened ledger and closes it (a PostgreSQL ledger's pool with it).
    func withLedger<T>(_ body: (Ledger) async throws -> T) async throws -> T {
        try await Ledger.withOpened(workspace: root, at: location, body)
    }

    /// A layer proposal bound to the current head, with its real figures: the legs priced at the
    /// calm market's limit prices (on the tick grid) and evaluated by the engine on the ledger's book.
    func layerProposal(kind: ChangeKind = .addLayer, layer: String = "short-term", quantity: Int = 10, strike: Double = 20,
                       at: Date? = nil, expiresIn: TimeInterval = 3600, context: LedgerContext? = nil, proposer: String = "tom") async throws -> ProposalDocument {
        let ledger = try await ledger()
        let ctx: LedgerContext
        if let context { ctx = context } else { ctx = try await ledger.context() }
        let created = at ?? start
        let engineKind: LayerChange.Kind = kind == .addLayer ? .addLayer : kind == .rollLayer ? .rollLayer : kind == .closeLayer ? .closeLayer : .resizeLayer
        let price = try Engine.vixLimitPrice(market: market, expiry: "2026-12-16", strike: strike, buying: quantity > 0)
        let change = LayerChange(kind: engineKind, layer: layer, layerKind: HedgeLayer.Kind(rawValue: layer),
                                 trades: [Trade(expiry: "2026-12-16", strike: strike, quantity: quantity, price: price)])
        let proposal = try Engine.manual(book: try await ledger.book(), change: change, market: market, note: "test")
        let binding = LedgerBinding(ledgerID: ctx.ledgerID, base: ctx.head, sequence: ctx.nextSequence, policyHash: try await ledger.policyInForce().hash)
        var doc = ProposalBuilder.document(for: proposal, binding: binding, proposer: key(proposer).keyID, market: market,
                                           snapshotBytes: snapshotBytes, created: created, lifetime: expiresIn)
        doc.notBefore = RFC3339.format(created)
        return doc
    }

    /// A policy-change proposal to `yaml`.
    func policyProposal(_ yaml: String, version: Int, at: Date? = nil, expiresIn: TimeInterval = 3600) async throws -> ProposalDocument {
        let ledger = try await ledger()
        let ctx = try await ledger.context()
        let created = at ?? start
        return ProposalDocument(
            ledger: LedgerBinding(ledgerID: ctx.ledgerID, base: ctx.head, sequence: ctx.nextSequence, policyHash: try await ledger.policyInForce().hash),
            created: created, expires: created.addingTimeInterval(expiresIn), proposer: key("tom").keyID,
            change: .init(kind: .policyChange, policy: .init(bytes: Array(yaml.utf8), version: version)))
    }

    func envelope(_ doc: ProposalDocument, signedBy names: [String]) throws -> Envelope {
        var envelope = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.proposal)
        for name in names { try envelope.addSignature(using: key(name)) }
        return envelope
    }

    /// Proposes, signs and commits a layer change; returns the entry.
    @discardableResult
    func commitLayer(_ doc: ProposalDocument? = nil, signers: [String] = ["tom", "alice", "carol"], at: Date? = nil) async throws -> LedgerEntry {
        let ledger = try await ledger()
        let document: ProposalDocument
        if let doc { document = doc } else { document = try await layerProposal() }
        let envelope = try self.envelope(document, signedBy: signers)
        let result = try await ledger.enqueue(envelope, at: document.createdDate) // queued when it is made
        return try await ledger.commit(id: result.pending.id, at: at ?? start)
    }

    func verify(expectHead: LedgerVerifier.ExpectedHead? = nil, jobs: Int = 2) async throws -> LedgerVerifier.Report {
        try await withLedger { ledger in
            var source = StorageEntrySource(ledger: ledger)
            return try await LedgerVerifier(jobs: jobs).verify(&source, expectHead: expectHead, materializedBook: try await ledger.materializedBook())
        }
    }

    /// Writes `envelope` as entry 1 straight into the database with the committer's signature and
    /// the book it would lead to — what a database writer holding the committer key can do, past
    /// every check of enqueue and commit — so that a test can show verification refuses it.
    func forceFirstEntry(_ envelope: Envelope, attachments: EntryAttachments? = nil, blobs: [[UInt8]] = []) async throws {
        let ledger = try await ledger()
        let verified = try await ledger.verified()
        let book = try BookChange.apply(try ProposalDocument.decode(envelope.payload), to: verified.book)
        var entry = LedgerEntry(sequence: 1, previousHash: verified.hash, kind: .layerChange, envelope: try envelope.encoded(),
                                attachments: try (attachments ?? EntryAttachments()).encoded(), policyHash: verified.policy.hash, committedAt: RFC3339.format(start))
        entry.committerSignature = try key("committer").signature(for: entry.signingMessage)
        let sqlite = try #require(ledger.storage as? SQLiteLedgerStorage)
        for blob in blobs {
            try await sqlite.rawExecute("INSERT OR IGNORE INTO blobs (hash, bytes) VALUES (?, ?)", [.text(SHA256.hexDigest(blob)), .bytes(blob)])
        }
        try await sqlite.rawInsert([entry.stored], book: try Ledger.encodeBook(book))
    }
}

/// Running the real binaries: `alvh`, `sqlite3`.
enum Tools {
    static var packageRoot: URL { TestProcess.packageRoot }
    static var alvh: String { TestProcess.alvh }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> Output {
        let out = try TestProcess.run(executable, arguments, environment: environment, input: stdin.map { Array($0.utf8) })
        return Output(status: out.status, stdout: out.text, stderr: out.stderr)
    }

    static func sqlite(_ database: String, _ sql: String) throws -> Output {
        try run("/usr/bin/sqlite3", [database, sql])
    }
}

/// Runs `attack`, expects a ledger refusal whose text contains `reason`, and checks the head did not move.
func refused(_ fixture: LedgerFixture, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation,
             _ attack: () async throws -> Void) async throws {
    let before = try await fixture.ledger().head()
    do {
        try await attack()
        Issue.record("the attack was not refused (expected: \(reason))", sourceLocation: sourceLocation)
    } catch let error as LedgerError {
        #expect(error.reason.contains(reason), "refused for another reason: \(error.reason)", sourceLocation: sourceLocation)
    }
    #expect(try await fixture.ledger().head() == before, "the head moved", sourceLocation: sourceLocation)
}
