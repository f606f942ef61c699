import Foundation
import Logging
import Hummingbird
import HummingbirdTesting
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHStorage
import ALVHService
import ALVHTestSupport

/// A workspace with a trader, three risk officers (s1…s3), a limits bot with veto, a committer, a
/// 2-of-4 policy and a ledger holding the example condor; and the service's application over it.
final class ServiceFixture: Sendable {
    let root: String
    let keys: [String: PrivateKey]
    /// Where the ledger is (nil: the workspace's alvh.sqlite).
    let location: LedgerLocation?
    static let members: [(String, String)] = [("trader", "trader"), ("s1", "risk-officer"), ("s2", "risk-officer"),
                                               ("s3", "risk-officer"), ("lim", "limits-bot")]

    /// The workspace, with its ledger at `location` (default: the workspace's alvh.sqlite). The
    /// policy's clock skew is `clockSkewSeconds`: wide by default, so that a test on a loaded
    /// machine is not refused for the seconds between making a proposal and queueing it.
    init(location: LedgerLocation? = nil, clockSkewSeconds: Int = 60) async throws {
        self.location = location
        var template = Array("/tmp/alvh-service-XXXXXX".utf8CString)
        root = String(cString: mkdtemp(&template)!)
        let store = KeyStore(directory: "\(root)/Keys")
        var keys: [String: PrivateKey] = [:]
        for name in Self.members.map(\.0) + ["committer"] {
            let made = try store.generate(name: name, type: name == "s2" ? .p256 : .ed25519)
            keys[name] = try PrivateKey.load(from: made.privateKeyPath)
        }
        self.keys = keys
        var yaml = "version: 1\nname: service-test\nveto-roles: [limits-bot]\nmax-clock-skew: \(clockSkewSeconds)s\nsigners:\n"
        for (name, role) in Self.members {
            yaml += "  - id: \(name)\n    key: Keys/\(name).pub.pem\n    key-id: \(keys[name]!.keyID.hex)\n    roles: [\(role)]\n"
        }
        yaml += "committers:\n  - id: committer\n    key: Keys/committer.pub.pem\n    key-id: \(keys["committer"]!.keyID.hex)\n"
        yaml += "rules:\n  - name: layers\n    kinds: [add-layer, roll-layer, resize-layer, close-layer]\n    threshold: 2\n"
        try SecureFile.makeDirectory("\(root)/Policies", mode: 0o755)
        try SecureFile.writeAtomically(Array(yaml.utf8), to: "\(root)/Policies/desk.yaml", mode: 0o644)
        let book = try Book.load(path: Self.examples + "/book/condor.json")
        let ledger = try await Ledger.initialize(workspace: root, location: location, policyPath: "\(root)/Policies/desk.yaml", book: book,
                                                 committer: keys["committer"]!, at: Date())
        try await ledger.close()
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    static var examples: String { TestProcess.packageRoot.appendingPathComponent("Examples").path }
    var committerKeyPath: String { "\(root)/Keys/private/committer.key.pem" }
    /// `--ledger URL` for a child's command line (nothing for the workspace's file).
    var ledgerArguments: [String] { location.map { ["--ledger", $0.description] } ?? [] }

    /// Opens the fixture's ledger (close it after).
    func openLedger() async throws -> Ledger { try await Ledger.open(workspace: root, at: location) }

    func market(_ name: String = "calm") throws -> (snapshot: MarketSnapshot, bytes: [UInt8]) {
        let bytes = try SecureFile.read("\(Self.examples)/market/\(name).json", limit: MarketSnapshot.maxBytes)
        return (try MarketSnapshot.decode(Data(bytes)), bytes)
    }

    /// A trader-signed proposal (the engine's first in calm) for the ledger's next slot — not queued.
    /// With `markets`, the first of them in which the engine proposes anything (for a book that
    /// already took the calm market's proposal).
    func proposal(on ledger: Ledger, lifetime: TimeInterval = 3600, markets: [String] = ["calm"]) async throws -> (envelope: Envelope, snapshot: [UInt8]) {
        let book = try await ledger.verified().book
        var found: (EngineProposal, MarketSnapshot, [UInt8])?
        for name in markets where found == nil {
            let (snapshot, bytes) = try market(name)
            if let first = try Engine.propose(book: book, market: snapshot).first { found = (first, snapshot, bytes) }
        }
        guard let (proposal, snapshot, bytes) = found else { throw ServiceError("test", "the engine proposes nothing in \(markets)") }
        let context = try await ledger.context()
        let binding = LedgerBinding(ledgerID: context.ledgerID, base: context.head, sequence: context.nextSequence,
                                    policyHash: try await ledger.policyInForce().hash)
        let doc = ProposalBuilder.document(for: proposal, binding: binding, proposer: keys["trader"]!.keyID, market: snapshot,
                                           snapshotBytes: bytes, created: Date(), lifetime: lifetime)
        var envelope = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.proposal)
        try envelope.addSignature(using: keys["trader"]!)
        return (envelope, bytes)
    }

    /// `name`'s DSSE signature over `envelope`.
    func signature(_ name: String, over envelope: Envelope) throws -> Envelope.Signature {
        var copy = Envelope(payload: envelope.payload, payloadType: envelope.payloadType)
        try copy.addSignature(using: keys[name]!)
        return copy.signatures[0]
    }

    /// Runs `body` with the service's application (the watcher running beside it) over this ledger.
    func withApp<T: Sendable>(committer: Bool = true, limits: ServiceConfiguration.Limits = .init(),
                              _ body: @Sendable @escaping (Ledger, any TestClientProtocol) async throws -> T) async throws -> T {
        let ledger = try await openLedger()
        do {
            var configuration = ServiceConfiguration(workspace: root, insecureLoopback: true, limits: limits, pollMilliseconds: 50)
            if committer { configuration.committer = try PrivateKey.load(from: committerKeyPath) }
            var parts = try await ALVHServer.application(ledger: ledger, configuration: configuration, logger: Logger(label: "test"))
            parts.app.addServices(parts.watcher)
            let result = try await parts.app.test(.router) { client in try await body(ledger, client) }
            try await ledger.close()
            return result
        } catch {
            try? await ledger.close()
            throw error
        }
    }
}

/// A response's status and bytes.
struct Reply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var bytes: [UInt8]
    var text: String { String(decoding: bytes, as: UTF8.self) }

    func json<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: Data(bytes)) }
    var error: APIError.Body.Detail? { (try? json(APIError.Body.self))?.error }
}

extension TestClientProtocol {
    func call(_ method: HTTPRequest.Method, _ uri: String, body: [UInt8]? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) }) { response in
            Reply(status: response.status, headers: response.headers, bytes: Array(response.body.readableBytesView))
        }
    }

    func post<T: Encodable>(_ uri: String, json value: T) async throws -> Reply {
        try await call(.post, uri, body: Array(try JSONEncoder().encode(value)), headers: [.contentType: "application/json"])
    }
}
