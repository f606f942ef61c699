import Foundation
import Synchronization
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL
import ALVHSigning
import ALVHStorage

/// The storage seam over `alvh serve`: a signer, coordinator or CLI on another host reads the
/// service's rows (`/v1/store/…`, the entries stream, blobs) and writes through the service's
/// verifying routes (propose, sign, reject, append a committed entry, mark statuses).
///
/// The service is trusted **no more than a database**: every row read here goes through the
/// ledger's own rules above the seam — the chain and its committer signatures verified from genesis
/// (or the checkpoint), the ledger id pinned, blobs hashed to their names, envelopes verified before
/// their payload is read, figures recomputed from the signed legs and the cited snapshot, approval
/// reports computed locally (the service's own report is never read). A service that serves a forked
/// or rewritten history, a swapped snapshot or a false count is refused by those checks.
///
/// Transport: HTTPS with TLS 1.3 and the client's certificate (mTLS), the desk CA as the only root;
/// plain HTTP only to loopback. A service that cannot be reached, or answers 5xx, is a
/// ``StorageError/Code/database`` error (busy or unavailable: loops retry).
public final class RemoteLedgerStorage: LedgerStorage {
    public let location: String
    let base: String
    let client: HTTPClient
    let timeout: TimeAmount
    /// Events seen on the service's event stream (a signer wakes on a change instead of sleeping out its poll).
    public let changeSignal: ChangeSignal?
    let eventsTask = Mutex<Task<Void, Never>?>(nil)
    let closed = Atomic<Bool>(false)

    /// The most bytes one answer may have (a page of entries, a blob).
    static let maxAnswerBytes = 256 * 1024 * 1024

    /// Blobs read before whose bytes hash to their name. A blob is content-addressed, so its name can
    /// only ever stand for these bytes: the cited snapshot a signer reviews, the coordinator
    /// evaluates on each of its passes and every verifier recomputes an entry with is asked of the
    /// service once. Only bytes checked against their name are kept (others are handed to the ledger,
    /// which refuses them, and forgotten); at most `maxCachedBlobBytes` in all, the oldest dropped first.
    struct BlobCache {
        var bytes: [String: [UInt8]] = [:]
        var order: [String] = []
        var total = 0
    }
    let blobCache = Mutex(BlobCache())
    static let maxCachedBlobBytes = 32 * 1024 * 1024

    init(location: LedgerLocation.ServiceLocation, client: HTTPClient, timeout: TimeAmount, watchEvents: Bool) {
        self.location = location.url
        base = location.url
        self.client = client
        self.timeout = timeout
        changeSignal = watchEvents ? ChangeSignal() : nil
    }

    /// Opens a client of the service at `location` (no request is made yet).
    /// - Throws: ``StorageError/Code/badLocation`` naming the TLS file that cannot be used.
    public static func open(_ location: LedgerLocation.ServiceLocation, timeoutSeconds: Int64 = 30, watchEvents: Bool = true) throws -> RemoteLedgerStorage {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(5), read: .seconds(timeoutSeconds)))
        if let tls = location.tls {
            configuration.tlsConfiguration = try tlsConfiguration(tls)
        }
        configuration.httpVersion = .http1Only
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let storage = RemoteLedgerStorage(location: location, client: client, timeout: .seconds(timeoutSeconds), watchEvents: watchEvents)
        return storage
    }

    /// TLS 1.3, the desk CA as the only trust root, this client's certificate and key. The files are
    /// read the way every file alvh reads is (no symlink, regular file, size cap; the key 0600).
    static func tlsConfiguration(_ tls: LedgerLocation.ClientTLS) throws -> TLSConfiguration {
        func read(_ path: String, what: String, secret: Bool) throws -> [UInt8] {
            do {
                return try SecureFile.read(path, limit: SecureFile.keyFileLimit, checkMode: secret ? { mode in
                    if mode & 0o077 != 0 {
                        throw StorageError(.badLocation, "the TLS key is readable by others (mode \(String(mode, radix: 8))); chmod 600 it", path: path)
                    }
                } : nil)
            } catch let error as StorageError {
                throw error
            } catch {
                throw StorageError(.badLocation, "cannot read the \(what): \(error) (--tls-dir holds ca.pem, client.pem, client.key.pem; scripts/tls-init makes them)", path: path)
            }
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        do {
            let ca = try NIOSSLCertificate.fromPEMBytes(try read(tls.ca, what: "desk CA certificate", secret: false))
            guard !ca.isEmpty else { throw StorageError(.badLocation, "no certificate in the desk CA file", path: tls.ca) }
            configuration.trustRoots = .certificates(ca)
        } catch let error as StorageError { throw error } catch {
            throw StorageError(.badLocation, "the desk CA file is not a PEM certificate: \(error)", path: tls.ca)
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(try read(tls.certificate, what: "client certificate", secret: false))
            guard !chain.isEmpty else { throw StorageError(.badLocation, "no certificate in the client certificate file", path: tls.certificate) }
            configuration.certificateChain = chain.map { .certificate($0) }
        } catch let error as StorageError { throw error } catch {
            throw StorageError(.badLocation, "the client certificate is not a PEM certificate: \(error)", path: tls.certificate)
        }
        do {
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: try read(tls.key, what: "client key", secret: true), format: .pem))
        } catch let error as StorageError { throw error } catch {
            throw StorageError(.badLocation, "the client key is not an unencrypted PEM private key: \(error)", path: tls.key)
        }
        return configuration
    }

    // MARK: - HTTP

    struct Answer {
        var status: HTTPResponseStatus
        var bytes: [UInt8]
    }

    func call(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json") async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "accept", value: "application/json")
        if let body {
            request.headers.add(name: "content-type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            var response = try await client.execute(request, timeout: timeout)
            // Rate-limited: wait as told (Retry-After, at most 5 s a time) and ask again, a few times.
            var waits = 0
            while response.status == .tooManyRequests, waits < 5 {
                waits += 1
                let seconds = min(5, max(1, Int(response.headers.first(name: "retry-after") ?? "") ?? 1))
                _ = try? await response.body.collect(upTo: 1 << 16)
                try await Task.sleep(for: .seconds(seconds))
                response = try await client.execute(request, timeout: timeout)
            }
            var buffer = try await response.body.collect(upTo: Self.maxAnswerBytes)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            if response.status.code >= 500 || response.status == .tooManyRequests || response.status == .requestTimeout {
                throw StorageError(.database, "the service answered \(response.status.code) to \(method) \(path): \(Self.problem(bytes)?.error.reason ?? response.status.reasonPhrase); retry",
                                   path: location)
            }
            return Answer(status: response.status, bytes: bytes)
        } catch let error as StorageError {
            throw error
        } catch let error as NIOSSLError {
            throw StorageError(.badLocation, "TLS with the service failed: \(error) (check --tls-dir: the desk CA, this client's certificate and key)", path: location)
        } catch {
            throw StorageError(.database, "the service cannot be reached (\(method) \(path)): \(error); retry", path: location)
        }
    }

    static func problem(_ bytes: [UInt8]) -> StoreWire.Problem? {
        try? JSONDecoder().decode(StoreWire.Problem.self, from: Data(bytes))
    }

    /// The service's error answer as a storage error carrying the service's code.
    func failure(_ answer: Answer, _ what: String) -> StorageError {
        if let problem = Self.problem(answer.bytes) {
            return StorageError(.init(problem.error.code), "the service refused \(what): \(problem.error.reason)", path: problem.error.path ?? location)
        }
        return StorageError(.corrupt, "the service answered \(answer.status.code) to \(what) without an error body", path: location)
    }

    func decode<T: Decodable>(_ type: T.Type, _ answer: Answer, _ what: String) throws -> T {
        guard (200..<300).contains(answer.status.code) else { throw failure(answer, what) }
        do { return try JSONDecoder().decode(T.self, from: Data(answer.bytes)) }
        catch { throw StorageError(.corrupt, "the service's answer to \(what) is not the JSON of /openapi.yaml: \(error)", path: location) }
    }

    /// GET that answers nil on 404.
    func optional<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T? {
        let answer = try await call(.GET, path)
        if answer.status == .notFound, Self.problem(answer.bytes)?.error.code == "not-found" || Self.problem(answer.bytes)?.error.code == "no-ledger" { return nil }
        return try decode(T.self, answer, "GET \(path)")
    }

    func get<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T {
        try decode(T.self, try await call(.GET, path), "GET \(path)")
    }

    static func json<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    // MARK: - Reading

    public func meta(_ key: String) async throws -> String? {
        let meta = try await get(StoreWire.Meta.self, "/v1/store/meta")
        switch key {
        case "ledger_id": return meta.ledgerID
        case "format": return meta.format
        default: return nil
        }
    }

    public func head() async throws -> StoredEntry? {
        try await optional(StoreWire.Entry.self, "/v1/store/head")?.stored()
    }

    public func entry(at sequence: UInt64) async throws -> StoredEntry? {
        try await optional(StoreWire.Entry.self, "/v1/ledger/entries/\(sequence)")?.stored()
    }

    public func entries(from sequence: UInt64, limit: Int) async throws -> [StoredEntry] {
        guard limit > 0 else { return [] }
        let answer = try await call(.GET, "/v1/ledger/entries?from=\(sequence)&limit=\(limit)")
        guard answer.status == .ok else { throw failure(answer, "GET /v1/ledger/entries") }
        var entries: [StoredEntry] = []
        for line in answer.bytes.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            do { entries.append(try JSONDecoder().decode(StoreWire.Entry.self, from: Data(line)).stored()) }
            catch let error as StorageError { throw error }
            catch { throw StorageError(.corrupt, "a line of the service's entries stream is not an entry: \(error)", path: location) }
        }
        guard entries.count <= limit else {
            throw StorageError(.corrupt, "the service sent \(entries.count) entries for a page of \(limit)", path: location)
        }
        return entries
    }

    public func lastPolicyEntry(before sequence: UInt64?) async throws -> StoredEntry? {
        try await optional(StoreWire.Entry.self, "/v1/store/policy-entry" + (sequence.map { "?before=\($0)" } ?? ""))?.stored()
    }

    public func blob(_ hash: String) async throws -> [UInt8]? {
        if let cached = blobCache.withLock({ $0.bytes[hash] }) { return cached }
        let answer = try await call(.GET, "/v1/blobs/\(Self.segment(hash))")
        if answer.status == .notFound { return nil }
        guard answer.status == .ok else { throw failure(answer, "GET /v1/blobs/\(hash.prefix(16))") }
        if answer.bytes.count <= Self.maxCachedBlobBytes / 4, SHA256.hexDigest(answer.bytes) == hash {
            blobCache.withLock { cache in
                guard cache.bytes[hash] == nil else { return }
                cache.bytes[hash] = answer.bytes
                cache.order.append(hash)
                cache.total += answer.bytes.count
                while cache.total > Self.maxCachedBlobBytes, !cache.order.isEmpty {
                    let oldest = cache.order.removeFirst()
                    cache.total -= cache.bytes.removeValue(forKey: oldest)?.count ?? 0
                }
            }
        }
        return answer.bytes
    }

    public func blobs(after hash: String?, limit: Int) async throws -> [(hash: String, bytes: [UInt8])] {
        let page = try await get(StoreWire.Blobs.self, "/v1/store/blobs?limit=\(limit)" + (hash.map { "&after=\(Self.segment($0))" } ?? ""))
        return try page.blobs.map { ($0.hash, try StoreWire.bytes($0.bytes, field: "blob \($0.hash.prefix(16))")) }
    }

    public func book() async throws -> (sequence: UInt64, json: [UInt8])? {
        guard let book = try await optional(StoreWire.Book.self, "/v1/store/book") else { return nil }
        return (book.sequence, try StoreWire.bytes(book.json, field: "book json"))
    }

    public func pending(id: String) async throws -> StoredPending? {
        try await optional(StoreWire.Pending.self, "/v1/store/queue/\(Self.segment(id))")?.stored()
    }

    public func allPending() async throws -> [StoredPending] {
        try await get(StoreWire.Queue.self, "/v1/store/queue").proposals.map { try $0.stored() }
    }

    public func openPending() async throws -> [StoredPending] {
        try await get(StoreWire.Queue.self, "/v1/store/queue?open=true").proposals.map { try $0.stored() }
    }

    public func pendingIDs(prefix: String, limit: Int) async throws -> [String] {
        try await get(StoreWire.IDs.self, "/v1/store/queue-ids?prefix=\(Self.segment(prefix))&limit=\(limit)").ids
    }

    public func signatures(pendingID: String) async throws -> [StoredSignature] {
        try await get(StoreWire.Signatures.self, "/v1/store/queue/\(Self.segment(pendingID))/signatures").signatures.map { try $0.stored() }
    }

    public func rejections(pendingID: String) async throws -> [[UInt8]] {
        try await get(StoreWire.Envelopes.self, "/v1/store/queue/\(Self.segment(pendingID))/rejections").rejections
            .map { try StoreWire.bytes($0, field: "rejection") }
    }

    public func slotRejections(sequence: UInt64) async throws -> [[UInt8]] {
        try await get(StoreWire.Envelopes.self, "/v1/store/slots/\(sequence)/rejections").rejections
            .map { try StoreWire.bytes($0, field: "rejection") }
    }

    // MARK: - Writing (through the service's verifying routes)

    public func create(genesis: StoredEntry, meta: [String: String], book: [UInt8], blobs: [[UInt8]]) async throws {
        throw StorageError(.refused, "a ledger is created on the service's own host (`alvh init --ledger …` there), not through the service", path: location)
    }

    /// A write the service refused because its head moved past the one this client decided on
    /// (`stale-proposal`, `head-moved`): `.headMoved` with the service's head, so the ledger verifies
    /// the new entries and decides again. Otherwise nil.
    func headMoved<T>(_ answer: Answer, decidedOn head: HeadRef) async throws -> WriteOutcome<T>? {
        guard answer.status == .conflict, let code = Self.problem(answer.bytes)?.error.code,
              code == StoreWire.Codes.headMoved || code == "stale-proposal" else { return nil }
        let current = try await self.head()?.ref
        if current != head { return .headMoved(current: current) }
        return nil
    }

    public func enqueue(_ proposal: NewPending?, id: String, blobs: [[UInt8]], signatures: [NewSignature], maxSignatures: Int,
                        conflicts: @escaping SlotConflictRule, decidedOn head: HeadRef) async throws -> WriteOutcome<EnqueueOutcome> {
        // (The double-sign rule is the service's to apply inside its own transaction, on its own
        // verified policy: it answers a refusal with the ledger's code.)
        if let proposal {
            let envelope = Self.envelopeJSON(payload: proposal.payload, payloadType: proposal.payloadType, signatures: signatures)
            let body = ProposeBody(envelope: StoreWire.base64(envelope),
                                   snapshot: proposal.kind == "policy-change" ? nil : blobs.first.map(StoreWire.base64),
                                   keys: proposal.attachments.map(StoreWire.base64))
            let answer = try await call(.POST, "/v1/proposals", body: try Self.json(body))
            if let moved: WriteOutcome<EnqueueOutcome> = try await headMoved(answer, decidedOn: head) { return moved }
            let result = try decode(ProposeAnswer.self, answer, "the proposal")
            // The row as queued, with the counts the service answered (it may be signed by the
            // other signers and committed before this client could read it back).
            let stored = StoredPending(proposal, status: result.pending.status, signatureCount: result.pending.signatureCount,
                                       rejectionCount: result.pending.rejectionCount)
            let outcomes = signatures.indices.map { $0 < result.signaturesAdded ? SignatureOutcome.added : .alreadyThere }
            return .done(.queued(isNew: result.isNew, signatures: outcomes, pending: stored))
        }
        // The row before the signatures (read first: once signed, it may be committed and gone at once).
        guard let before = try await pending(id: id) else { return .done(.notQueued) }
        var outcomes: [SignatureOutcome] = []
        for signature in signatures {
            let body = SignatureBody(keyid: signature.keyid, sig: StoreWire.base64(signature.sig))
            let answer = try await call(.POST, "/v1/proposals/\(Self.segment(id))/signatures", body: try Self.json(body))
            if let moved: WriteOutcome<EnqueueOutcome> = try await headMoved(answer, decidedOn: head) { return moved }
            if answer.status == .notFound { return .done(.notQueued) }
            _ = try decode(StoredAnswer.self, answer, "the signature")
            outcomes.append(answer.status == .created ? .added : .alreadyThere)
        }
        var after = before
        after.signatureCount += outcomes.filter { $0 == .added }.count
        return .done(.queued(isNew: false, signatures: outcomes, pending: after))
    }

    public func addRejection(pendingID: String, envelope: [UInt8], signerKey: String, addedAt: String, veto: Bool,
                             decidedOn head: HeadRef) async throws -> WriteOutcome<RejectionOutcome> {
        let answer = try await call(.POST, "/v1/proposals/\(Self.segment(pendingID))/rejections", body: envelope)
        if let moved: WriteOutcome<RejectionOutcome> = try await headMoved(answer, decidedOn: head) { return moved }
        if answer.status == .notFound { return .done(.notQueued) }
        _ = try decode(StoredAnswer.self, answer, "the rejection")
        if answer.status != .created { return .done(.alreadyThere) }
        let vetoed = veto ? (try await pending(id: pendingID))?.status == .vetoed : false
        return .done(.added(vetoed: vetoed))
    }

    public func append(_ entries: [StoredEntry], book: [UInt8], blobs: [[UInt8]], removing pending: PendingRemoval?,
                       decidedOn head: HeadRef) async throws -> WriteOutcome<HeadRef> {
        guard let pending else {
            throw StorageError(.refused, "the service appends only entries that commit a queued proposal", path: location)
        }
        // The book and blobs are the service's to derive from the entries it verifies.
        let body = StoreWire.Append(decidedOn: StoreWire.Head(head), proposal: pending.id, entries: entries.map(StoreWire.Entry.init))
        let answer = try await call(.POST, "/v1/ledger/entries", body: try Self.json(body))
        if answer.status == .conflict, let code = Self.problem(answer.bytes)?.error.code {
            if code == StoreWire.Codes.headMoved { return .headMoved(current: try await self.head()?.ref) }
            if code == StoreWire.Codes.queueChanged { return .queueChanged }
        }
        let written = try decode(StoreWire.Head.self, answer, "the entries")
        return .done(written.ref)
    }

    public func setStatus(_ changes: [(id: String, status: PendingStatus)], decidedOn head: HeadRef?) async throws -> WriteOutcome<[StatusChange]> {
        if let head, let current = try await self.head()?.ref, current != head { return .headMoved(current: current) }
        let body = StoreWire.StatusRequest(changes: changes.map { .init(id: $0.id, status: $0.status) })
        let result = try await decode(StoreWire.StatusResult.self, try await call(.POST, "/v1/queue/statuses", body: try Self.json(body)), "the status marks")
        let byID = Dictionary(result.results.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return .done(changes.map { change in
            guard let line = byID[change.id] else { return .unchanged(id: change.id, status: nil) }
            if line.marked, line.status == change.status { return .marked(id: change.id, to: change.status) }
            return .unchanged(id: change.id, status: line.status)
        })
    }

    public func close() async throws {
        let task = eventsTask.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        task?.cancel()
        if closed.exchange(true, ordering: .acquiringAndReleasing) { return }
        try? await client.shutdown()
    }

    deinit {
        // A ledger dropped without close(): its connections are released all the same.
        eventsTask.withLock { $0 }?.cancel()
        if !closed.exchange(true, ordering: .acquiringAndReleasing) {
            client.shutdown(queue: .global()) { _ in }
        }
    }

    // MARK: - Events

    /// Starts following the service's event stream (once): each event bumps ``changeSignal`` for
    /// the change it announces (its `event:` type), so a waiting signer or coordinator with work for
    /// it passes again at once. A dropped stream is reopened after a second. The events only wake
    /// the client; what it then reads is verified like any other read.
    public func watchChanges() -> ChangeSignal? {
        guard let signal = changeSignal else { return nil }
        eventsTask.withLock { task in
            guard task == nil else { return }
            let client = self.client
            let url = base + "/v1/events"
            task = Task.detached {
                while !Task.isCancelled {
                    do {
                        var request = HTTPClientRequest(url: url)
                        request.headers.add(name: "accept", value: "text/event-stream")
                        let response = try await client.execute(request, timeout: .hours(24 * 365))
                        if response.status == .ok {
                            signal.bumpAll() // (re)connected: what happened while away is read by the next pass
                            var scanner = EventStreamScanner()
                            for try await buffer in response.body {
                                for type in scanner.feed(buffer.readableBytesView) {
                                    if let change = type.flatMap(LedgerChange.init(event:)) { signal.bump(change) } else { signal.bumpAll() }
                                }
                            }
                        }
                    } catch {}
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        return signal
    }

    // MARK: - Bodies of the service's write routes (docs/openapi.yaml)

    struct ProposeBody: Codable {
        var envelope: String
        var snapshot: String?
        var keys: String?
    }

    struct ProposeAnswer: Codable {
        struct Row: Codable {
            var status: PendingStatus
            var signatureCount: Int
            var rejectionCount: Int
        }
        var pending: Row
        var isNew: Bool
        var signaturesAdded: Int
        var signaturesRefused: Int
    }

    struct SignatureBody: Codable {
        var keyid: String?
        var sig: String
    }

    struct StoredAnswer: Codable {
        var proposal: String
        var added: Bool
    }

    /// A DSSE envelope's JSON from its parts (the same field order as the ledger writes it).
    static func envelopeJSON(payload: [UInt8], payloadType: String, signatures: [NewSignature]) -> [UInt8] {
        struct Wire: Encodable {
            struct Sig: Encodable {
                var keyid: String?
                var sig: String
            }
            var payload: String
            var payloadType: String
            var signatures: [Sig]
        }
        let wire = Wire(payload: StoreWire.base64(payload), payloadType: payloadType,
                        signatures: signatures.map { .init(keyid: $0.keyid, sig: StoreWire.base64($0.sig)) })
        return (try? json(wire)) ?? []
    }
}
