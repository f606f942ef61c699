import Foundation
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHStorage
import ALVHTestSupport

/// A workspace with a trader, four risk officers (s1…s4), a limits bot, mallory (outside the
/// policy), a 3-of-5 policy, a ledger holding the example condor, and the signer processes it starts.
final class SignerFixture: @unchecked Sendable {
    let root: String
    var keys: [String: PrivateKey] = [:]
    var processes: [String: Process] = [:]
    static let members: [(String, String)] = [("trader", "trader"), ("s1", "risk-officer"), ("s2", "risk-officer"),
                                               ("s3", "risk-officer"), ("s4", "risk-officer"), ("lim", "limits-bot")]

    init() async throws {
        var template = Array("/tmp/alvh-signer-XXXXXX".utf8CString)
        root = String(cString: mkdtemp(&template)!)
        let store = KeyStore(directory: "\(root)/Keys")
        for name in Self.members.map(\.0) + ["mallory", "committer"] {
            let made = try store.generate(name: name, type: name == "s2" || name == "lim" ? .p256 : .ed25519)
            keys[name] = try PrivateKey.load(from: made.privateKeyPath)
        }
        // A 3 s clock skew (times are whole seconds): the tests use proposals that live a few seconds.
        var yaml = "version: 1\nname: signer-test\nveto-roles: [limits-bot]\nmax-clock-skew: 3s\nsigners:\n"
        for (name, role) in Self.members {
            yaml += "  - id: \(name)\n    key: Keys/\(name).pub.pem\n    key-id: \(keys[name]!.keyID.hex)\n    roles: [\(role)]\n"
        }
        yaml += "committers:\n  - id: committer\n    key: Keys/committer.pub.pem\n    key-id: \(keys["committer"]!.keyID.hex)\n"
        yaml += "rules:\n  - name: layers\n    kinds: [add-layer, roll-layer, resize-layer, close-layer]\n    threshold: 3\n"
        try SecureFile.makeDirectory("\(root)/Policies", mode: 0o755)
        try SecureFile.makeDirectory("\(root)/logs", mode: 0o755)
        try SecureFile.writeAtomically(Array(yaml.utf8), to: "\(root)/Policies/desk.yaml", mode: 0o644)
        let book = try Book.load(path: Self.examples + "/book/condor.json")
        _ = try await Ledger.initialize(workspace: root, policyPath: "\(root)/Policies/desk.yaml", book: book, at: Date())
    }

    deinit {
        stopAll()
        try? FileManager.default.removeItem(atPath: root)
    }

    static var examples: String { TestProcess.packageRoot.appendingPathComponent("Examples").path }

    func ledger() async throws -> Ledger { try await Ledger.open(workspace: root) }
    func keyPath(_ name: String) -> String { "\(root)/Keys/private/\(name).key.pem" }
    func log(_ name: String) -> String { (try? String(contentsOfFile: "\(root)/logs/\(name).log", encoding: .utf8)) ?? "" }

    func market(_ name: String = "calm") throws -> (snapshot: MarketSnapshot, bytes: [UInt8]) {
        let bytes = try SecureFile.read("\(Self.examples)/market/\(name).json", limit: MarketSnapshot.maxBytes)
        return (try MarketSnapshot.decode(Data(bytes)), bytes)
    }

    /// Queues a trader-signed proposal for `change` (default: the engine's first proposal in calm),
    /// computed honestly, then passed through `tamper` before signing. Returns the pending id.
    @discardableResult
    func queue(change: LayerChange? = nil, lifetime: TimeInterval = 3600,
               tamper: (inout ProposalDocument) -> Void = { _ in }) async throws -> String {
        let ledger = try await ledger()
        let (snapshot, bytes) = try market()
        let book = try await ledger.verified().book
        let proposal: EngineProposal
        if let change {
            proposal = try Engine.manual(book: book, change: change, market: snapshot, note: "test")
        } else {
            proposal = try Engine.propose(book: book, market: snapshot)[0]
        }
        let context = try await ledger.context()
        let binding = LedgerBinding(ledgerID: context.ledgerID, base: context.head, sequence: context.nextSequence,
                                    policyHash: try await ledger.policyInForce().hash)
        try SnapshotStore.store(bytes, workspace: root)
        var doc = ProposalBuilder.document(for: proposal, binding: binding, proposer: keys["trader"]!.keyID, market: snapshot,
                                           snapshotBytes: bytes, created: Date(), lifetime: lifetime)
        tamper(&doc)
        var envelope = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.proposal)
        try envelope.addSignature(using: keys["trader"]!)
        return try await ledger.enqueue(envelope, at: Date()).pending.id
    }

    /// A small manual change: buy `quantity` short-term calls (a new layer the first time).
    func buyShortTerm(_ quantity: Int, add: Bool) throws -> LayerChange {
        let (snapshot, _) = try market()
        let expiry = snapshot.vix.futures[0].expiry
        let price = try Engine.vixLimitPrice(market: snapshot, expiry: expiry, strike: 20, buying: true)
        return LayerChange(kind: add ? .addLayer : .resizeLayer, layer: "short-term", layerKind: .shortTerm,
                           trades: [Trade(expiry: expiry, strike: 20, quantity: quantity, price: price)])
    }

    // MARK: - Processes

    @discardableResult
    func startSigner(_ name: String, limits: String? = nil, as label: String? = nil) throws -> Process {
        var arguments = ["signer", "run", "--key", keyPath(name), "--poll", "50", "--workspace", root]
        if let limits {
            let path = "\(root)/\(name)-limits.yaml"
            try SecureFile.writeAtomically(Array(limits.utf8), to: path, mode: 0o644)
            arguments += ["--limits", path]
        }
        let process = try TestProcess.spawn(TestProcess.alvh, arguments, log: "\(root)/logs/\(label ?? name).log")
        processes[label ?? name] = process
        return process
    }

    @discardableResult
    func startCoordinator(_ label: String = "coordinator") throws -> Process {
        let process = try TestProcess.spawn(TestProcess.alvh, ["coordinator", "run", "--poll", "50", "--workspace", root,
                                                               "--committer-key", keyPath("committer")],
                                            log: "\(root)/logs/\(label).log")
        processes[label] = process
        return process
    }

    /// `alvh signer run --once` for `name`, to completion.
    func signOnce(_ name: String) throws -> TestProcess.Output {
        try TestProcess.run(TestProcess.alvh, ["signer", "run", "--once", "--key", keyPath(name), "--workspace", root])
    }

    func stopAll() {
        for (_, process) in processes where process.isRunning { process.terminate() }
        for (_, process) in processes { process.waitUntilExit() }
        processes = [:]
    }

    /// Who (by policy id) made the counted signatures of the committed entry `sequence`.
    func countedSigners(entry sequence: UInt64) async throws -> (counted: [String], report: ApprovalReport) {
        let ledger = try await ledger()
        let entry = try await ledger.entry(sequence)
        let envelope = try Envelope.decode(entry.envelope)
        let report = ThresholdEvaluator(policy: try await ledger.policy(atEntry: sequence)).evaluate(envelope, at: RFC3339.parse(entry.committedAt)!)
        return (report.signatures.filter { $0.status == .counted }.compactMap(\.signer).sorted(), report)
    }

    func headSequence() async throws -> UInt64 { try await ledger().head().sequence }

    func status(_ id: String) async throws -> PendingStatus? { try await ledger().pending().first { $0.id == id }?.status }
}
