import Foundation
import Hummingbird
import NIOCore
import ALVHSigning
import ALVHApproval
import ALVHLedger

/// The `/v1/` API: each route a role's action on the ledger. Every write goes through the ledger's
/// own methods, which verify the signed object (against the policy in force, on the ledger as this
/// service verified it) before anything is stored.
public struct API: Sendable {
    /// One route: its method and path (OpenAPI's `{param}` syntax, which Hummingbird also reads).
    public struct Route: Sendable, Hashable {
        public var method: String
        public var path: String
        public init(method: String, path: String) {
            self.method = method
            self.path = path
        }
    }

    let ledger: Ledger
    let committer: PrivateKey?
    let watcher: LedgerWatcher
    let limits: ServiceConfiguration.Limits
    /// Counts the requests answered, by route (nil: not counted).
    let tally: RequestTally?

    public init(ledger: Ledger, committer: PrivateKey?, watcher: LedgerWatcher, limits: ServiceConfiguration.Limits, tally: RequestTally? = nil) {
        self.ledger = ledger
        self.committer = committer
        self.watcher = watcher
        self.limits = limits
        self.tally = tally
    }

    typealias Handler = @Sendable (Request, APIContext) async throws -> Response

    /// Every route the service answers (the OpenAPI file documents each: a test checks).
    public static var routes: [Route] { table(nil).map(\.route) }

    /// The routes with their handlers (`api` nil: the table only).
    static func table(_ api: API?) -> [(route: Route, handler: Handler)] {
        func route(_ method: String, _ path: String, _ handler: @escaping @Sendable (API, Request, APIContext) async throws -> Response) -> (Route, Handler) {
            (Route(method: method, path: path), { request, context in try await handler(api!, request, context) })
        }
        return [
            route("GET", "/openapi.yaml") { _, _, _ in
                Response(status: .ok, headers: [.contentType: "application/yaml"],
                         body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
            },
            route("GET", "/v1/ledger/head") { api, _, _ in try await api.head() },
            route("GET", "/v1/ledger/entries") { api, request, _ in try await api.entries(request) },
            route("GET", "/v1/ledger/entries/{sequence}") { api, _, context in try await api.entry(context) },
            route("GET", "/v1/blobs/{hash}") { api, _, context in try await api.blob(context) },
            route("GET", "/v1/proposals") { api, _, _ in try await api.queue() },
            route("POST", "/v1/proposals") { api, request, _ in try await api.propose(request) },
            route("GET", "/v1/proposals/{id}") { api, _, context in try await api.proposal(context) },
            route("GET", "/v1/proposals/{id}/envelope") { api, _, context in try await api.envelope(context) },
            route("GET", "/v1/proposals/{id}/rejections") { api, _, context in try await api.rejections(context) },
            route("POST", "/v1/proposals/{id}/signatures") { api, request, context in try await api.sign(request, context) },
            route("POST", "/v1/proposals/{id}/rejections") { api, request, context in try await api.reject(request, context) },
            route("POST", "/v1/proposals/{id}/commit") { api, _, context in try await api.commit(context) },
            route("GET", "/v1/events") { api, request, _ in try api.events(request) },
        ] + storeTable().map { method, path, handler in route(method, path, handler) }
    }

    /// A router with every route, the JSON errors and the rate limit.
    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: APIMiddleware(limiter: RateLimiter(rate: limits.ratePerSecond, burst: limits.burst), tally: tally))
        for (route, handler) in API.table(self) {
            router.on(RouterPath(route.path), method: HTTPRequest.Method(route.method)!) { request, context in
                try await handler(request, context)
            }
        }
        return router
    }

    // MARK: - The ledger (auditor)

    /// The head: the ledger id and the last entry.
    public struct Head: Codable, Sendable, Equatable {
        public var ledgerID: String
        public var sequence: UInt64
        public var hash: String
        public var previousHash: String
        public var kind: String
        public var committedAt: String
    }

    func head() async throws -> Response {
        let head = try await ledger.head()
        return JSONResponse.make(Head(ledgerID: try await ledger.ledgerID(), sequence: head.sequence, hash: head.hash,
                                      previousHash: head.previousHash, kind: head.kind.rawValue, committedAt: head.committedAt))
    }

    /// `?from=SEQ&limit=N`: the entries as JSON Lines (one ``ExportedEntry`` a line, the stored bytes
    /// in base64), streamed in batches.
    func entries(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let from = try Self.parameter(query.get("from"), "from", default: UInt64(0))
        let limit = try Self.parameter(query.get("limit"), "limit", default: Int.max)
        guard limit > 0 else { throw APIError.badRequest("limit must be at least 1", path: "limit") }
        let batch = 256
        let first = try await ledger.entries(from: from, limit: min(batch, limit)) // errors before the 200
        let ledger = self.ledger
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: ResponseBody { writer in
            var page = first
            var requested = min(batch, limit)
            var sent = 0
            while !page.isEmpty {
                var buffer = ByteBuffer()
                for entry in page {
                    buffer.writeBytes(try JSONResponse.encoder.encode(ExportedEntry(entry)))
                    buffer.writeString("\n")
                }
                try await writer.write(buffer)
                sent += page.count
                if page.count < requested || sent >= limit { break }
                requested = min(batch, limit - sent)
                page = try await ledger.entries(from: page.last!.sequence + 1, limit: requested)
            }
            try await writer.finish(nil)
        })
    }

    func entry(_ context: APIContext) async throws -> Response {
        let sequence = try Self.parameter(context.parameters.get("sequence"), "sequence", default: UInt64?.none)!
        return JSONResponse.make(ExportedEntry(try await ledger.entry(sequence)))
    }

    /// A blob (a cited market snapshot, a policy text, a key file) by its SHA-256: the exact bytes.
    func blob(_ context: APIContext) async throws -> Response {
        let hash = try context.parameters.require("hash").lowercased()
        guard let bytes = try await ledger.blob(hash) else {
            throw APIError("not-found", "no blob \(hash.prefix(64)) in the ledger (a blob is named by the hex SHA-256 of its bytes)",
                           path: "hash", status: .notFound)
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: - The queue (signers, pages)

    /// A queued proposal and where it stands under the verified policy.
    public struct QueueRow: Codable, Sendable {
        public var pending: PendingProposal
        public var rules: [String]
        public var counted: Int
        public var threshold: Int
        public var roleCounts: [ApprovalReport.RoleCount]
        public var vetoes: [ApprovalReport.RejectionLine]
        public var expired: Bool
        public var commitReady: Bool
        /// The problems' stable codes (`threshold-unmet`, `expired`, `vetoed`, …).
        public var findings: [String]

        init(_ pending: PendingProposal, _ report: ApprovalReport) {
            self.pending = pending
            rules = report.rules
            counted = report.counted
            threshold = report.threshold
            roleCounts = report.roleCounts
            vetoes = report.rejections.filter(\.veto)
            expired = report.findings.contains { if case .expired = $0 { true } else { false } }
            commitReady = report.commitReady
            findings = report.findings.map(\.code)
        }
    }

    func queue() async throws -> Response {
        let now = Date()
        var rows: [QueueRow] = []
        for pending in try await ledger.pending() {
            rows.append(QueueRow(pending, try await ledger.evaluate(id: pending.id, at: now)))
        }
        return JSONResponse.make(["proposals": rows])
    }

    /// One proposal: its queue row and its full approval report.
    public struct ProposalView: Codable, Sendable {
        public var pending: PendingProposal
        public var report: ApprovalReport
    }

    func proposal(_ context: APIContext) async throws -> Response {
        let id = try await resolve(context)
        let pending = try await ledger.pending(id: id)
        return JSONResponse.make(ProposalView(pending: pending, report: try await ledger.evaluate(id: id, at: Date())))
    }

    /// The envelope as the ledger holds it (payload and every signature, in arrival order), in the
    /// exact bytes a commit would write into the entry.
    func envelope(_ context: APIContext) async throws -> Response {
        let id = try await resolve(context)
        let bytes = try await ledger.envelope(id: id).encoded()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    public struct Rejections: Codable, Sendable {
        /// Each signed rejection envelope's bytes, base64.
        public var rejections: [String]
    }

    func rejections(_ context: APIContext) async throws -> Response {
        let id = try await resolve(context)
        let envelopes = try await ledger.rejections(id: id)
        return JSONResponse.make(Rejections(rejections: try envelopes.map { Base64.encode(try $0.encoded()) }))
    }

    // MARK: - Writes (trader, signers, operator)

    /// `POST /v1/proposals`: a signed proposal envelope and the snapshot it cites.
    public struct ProposeRequest: Codable, Sendable {
        /// The DSSE envelope's bytes (its JSON), base64.
        public var envelope: String
        /// The market snapshot the proposal cites, base64 (else the ledger's blob, or the service workspace's `snapshots/`).
        public var snapshot: String?
        /// A policy change's key files, base64 of their JSON (`{"keys": {path: PEM}}`), else the service workspace's.
        public var keys: String?
        public init(envelope: String, snapshot: String?, keys: String? = nil) {
            self.envelope = envelope
            self.snapshot = snapshot
            self.keys = keys
        }
    }

    public struct ProposeResult: Codable, Sendable {
        public var pending: PendingProposal
        public var isNew: Bool
        public var signaturesAdded: Int
        public var signaturesRefused: Int
    }

    func propose(_ request: Request) async throws -> Response {
        let body: ProposeRequest = try Self.decode(try await readBody(request))
        guard let envelopeBytes = Base64.decode(body.envelope) else { throw APIError.badRequest("envelope is not base64", path: "envelope") }
        let snapshot = try body.snapshot.map { text -> [UInt8] in
            guard let bytes = Base64.decode(text) else { throw APIError.badRequest("snapshot is not base64", path: "snapshot") }
            return bytes
        }
        let keys = try body.keys.map { text -> KeyAttachments in
            guard let bytes = Base64.decode(text), let keys = try? KeyAttachments.decode(bytes) else {
                throw APIError.badRequest("keys is not base64 of a key-files JSON object", path: "keys")
            }
            return keys
        }
        let envelope = try Envelope.decode(envelopeBytes, path: "envelope")
        let result = try await ledger.enqueue(envelope, snapshot: snapshot, keys: keys, at: Date())
        await announce(result.pending.id)
        return JSONResponse.make(ProposeResult(pending: result.pending, isNew: result.isNew, signaturesAdded: result.signaturesAdded,
                                               signaturesRefused: result.signaturesRefused),
                                 status: result.isNew ? .created : .ok)
    }

    /// A DSSE signature object: `{"keyid": …, "sig": base64}`.
    public struct SignatureObject: Codable, Sendable {
        public var keyid: String?
        public var sig: String
        public init(keyid: String?, sig: String) {
            self.keyid = keyid
            self.sig = sig
        }
    }

    /// Whether a posted signature or rejection was stored now (201) or was there already (200).
    public struct Stored: Codable, Sendable, Equatable {
        public var proposal: String
        public var added: Bool
        public init(proposal: String, added: Bool) {
            self.proposal = proposal
            self.added = added
        }
    }

    func sign(_ request: Request, _ context: APIContext) async throws -> Response {
        let id = try await resolve(context)
        let body: SignatureObject = try Self.decode(try await readBody(request))
        guard let sig = Base64.decode(body.sig), !sig.isEmpty else { throw APIError.badRequest("sig is not base64", path: "sig") }
        let added = try await ledger.addSignature(Envelope.Signature(keyid: body.keyid, sig: sig), to: id, at: Date())
        await announce(id)
        return JSONResponse.make(Stored(proposal: id, added: added), status: added ? .created : .ok)
    }

    /// `POST …/rejections`: the body is the signed rejection's DSSE envelope.
    func reject(_ request: Request, _ context: APIContext) async throws -> Response {
        let id = try await resolve(context)
        let rejection = try Envelope.decode(try await readBody(request), path: "rejection")
        let added = try await ledger.addRejection(rejection, to: id, at: Date())
        await announce(id)
        return JSONResponse.make(Stored(proposal: id, added: added), status: added ? .created : .ok)
    }

    /// The entry a commit appended.
    public struct Committed: Codable, Sendable {
        public var proposal: String
        public var sequence: UInt64
        public var hash: String
        public var kind: String
        public var committedAt: String
    }

    /// `POST …/commit`: the ledger re-verifies everything and appends in one transaction, signed with
    /// the service's committer key — or writes nothing and says why.
    func commit(_ context: APIContext) async throws -> Response {
        guard let committer else { throw APIError.commitDisabled }
        let id = try await resolve(context)
        let entry = try await ledger.commit(id: id, committer: committer, at: Date())
        await announce(id)
        return JSONResponse.make(Committed(proposal: id, sequence: entry.sequence, hash: entry.hash, kind: entry.kind.rawValue,
                                           committedAt: entry.committedAt), status: .created)
    }

    // MARK: - Events

    /// `GET /v1/events`: Server-Sent Events. `Last-Event-ID` (or `?after=`) resumes after an event
    /// the service still keeps; `?max=N` closes the stream after N events (scripts, tests).
    func events(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        let last = request.headers.first { $0.name.canonicalName == "last-event-id" }?.value ?? query.get("after")
        // A max that is not a number is refused, not read as "no limit" (a stream that never ends).
        let max = try Self.parameter(query.get("max"), "max", default: Int.max)
        guard max >= 0 else { throw APIError.badRequest("max must be a non-negative integer", path: "max") }
        let stream = watcher.broadcaster.subscribe(after: last)
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
            var sent = 0
            if max > 0 {
                for await item in stream {
                    switch item {
                    case .event(let event):
                        try await writer.write(ByteBuffer(string: event.wire))
                        sent += 1
                    case .heartbeat:
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                    if sent >= max { break }
                }
            }
            try await writer.finish(nil)
        })
    }

    // MARK: - Helpers

    /// The service's own write is announced before the answer goes out (`proposal`: the one it
    /// changed, which the watcher reads by id when it is not open any more — a veto closes it).
    func announce(_ proposal: String? = nil) async {
        try? await watcher.poll(touching: proposal.map { [$0] } ?? [])
    }

    func resolve(_ context: APIContext) async throws -> String {
        try await ledger.resolvePendingID(try context.parameters.require("id"))
    }

    /// The body, at most `maxBodyBytes` (413 past it), arriving within `requestTimeout` (408 past it).
    func readBody(_ request: Request) async throws -> [UInt8] {
        let limit = limits.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit { throw APIError.tooLarge(limit) }
        let body = request.body
        let timeout = limits.requestTimeout
        return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask {
                var bytes: [UInt8] = []
                for try await buffer in body {
                    if bytes.count + buffer.readableBytes > limit { throw APIError.tooLarge(limit) }
                    bytes += buffer.readableBytesView
                }
                return bytes
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let bytes = first else { throw APIError.requestTimeout }
            return bytes
        }
    }

    static func decode<T: Decodable>(_ bytes: [UInt8]) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(bytes)) }
        catch { throw APIError.badRequest("the body is not the JSON this endpoint takes (see /openapi.yaml)", path: "body") }
    }

    static func parameter<T: LosslessStringConvertible>(_ text: String?, _ name: String, default value: T) throws -> T {
        guard let text else { return value }
        guard let parsed = T(text) else { throw APIError.badRequest("\(name) must be a non-negative integer", path: name) }
        return parsed
    }

    static func parameter<T: LosslessStringConvertible>(_ text: String?, _ name: String, default value: T?) throws -> T? {
        guard let text else { throw APIError.badRequest("\(name) is missing", path: name) }
        guard let parsed = T(text) else { throw APIError.badRequest("\(name) must be a non-negative integer", path: name) }
        return parsed
    }
}
