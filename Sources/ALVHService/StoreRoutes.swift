import Foundation
import Hummingbird
import NIOCore
import ALVHSigning
import ALVHApproval
import ALVHLedger
import ALVHStorage

/// `/v1/store/…`: the service's rows as its database holds them, for clients on other hosts that
/// verify everything themselves (`--server URL`: signers, coordinators, `alvh ledger verify`), and
/// the two writes such clients need beyond propose/sign/reject: appending an entry a remote
/// committer signed (`POST /v1/ledger/entries`) and status marks (`POST /v1/queue/statuses`). The
/// rows are not vouched for: a client runs the ledger's rules on them as on any database's.
extension API {
    static func storeTable() -> [(String, String, @Sendable (API, Request, APIContext) async throws -> Response)] {
        [
            ("GET", "/v1/store/meta", { api, _, _ in try await api.storeMeta() }),
            ("GET", "/v1/store/head", { api, _, _ in try await api.storeHead() }),
            ("GET", "/v1/store/policy-entry", { api, request, _ in try await api.storePolicyEntry(request) }),
            ("GET", "/v1/store/blobs", { api, request, _ in try await api.storeBlobs(request) }),
            ("GET", "/v1/store/book", { api, _, _ in try await api.storeBook() }),
            ("GET", "/v1/store/queue", { api, request, _ in try await api.storeQueue(request) }),
            ("GET", "/v1/store/queue-ids", { api, request, _ in try await api.storeQueueIDs(request) }),
            ("GET", "/v1/store/queue/{id}", { api, _, context in try await api.storePending(context) }),
            ("GET", "/v1/store/queue/{id}/signatures", { api, _, context in try await api.storeSignatures(context) }),
            ("GET", "/v1/store/queue/{id}/rejections", { api, _, context in try await api.storeRejections(context) }),
            ("GET", "/v1/store/slots/{sequence}/rejections", { api, _, context in try await api.storeSlotRejections(context) }),
            ("POST", "/v1/ledger/entries", { api, request, _ in try await api.appendEntries(request) }),
            ("POST", "/v1/queue/statuses", { api, request, _ in try await api.markStatuses(request) }),
        ]
    }

    /// A raw storage read, its errors as the ledger's (code kept).
    func store<T>(_ body: (any LedgerStorage) async throws -> T) async throws -> T {
        do { return try await body(ledger.storage) }
        catch let error as StorageError { throw LedgerError(storage: error) }
    }

    static func notFound(_ what: String, path: String) -> APIError {
        APIError("not-found", what, path: path, status: .notFound)
    }

    /// A proposal id as stored: 64 lowercase hex digits (no prefix resolution on the raw store).
    static func proposalID(_ context: APIContext) throws -> String {
        let id = try context.parameters.require("id")
        guard id.count == 64, id.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw APIError.badRequest("a proposal id is 64 lowercase hex digits", path: "id")
        }
        return id
    }

    func storeMeta() async throws -> Response {
        let id = try await store { try await $0.meta("ledger_id") }
        let format = try await store { try await $0.meta("format") }
        return JSONResponse.make(StoreWire.Meta(ledgerID: id, format: format))
    }

    func storeHead() async throws -> Response {
        guard let head = try await store({ try await $0.head() }) else {
            throw APIError("no-ledger", "the ledger has no genesis entry", status: .notFound)
        }
        return JSONResponse.make(StoreWire.Entry(head))
    }

    func storePolicyEntry(_ request: Request) async throws -> Response {
        let before: UInt64? = try request.uri.queryParameters.get("before").map { text in
            guard let value = UInt64(text) else { throw APIError.badRequest("before must be a non-negative integer", path: "before") }
            return value
        }
        guard let entry = try await store({ try await $0.lastPolicyEntry(before: before) }) else {
            throw APIError("no-ledger", "the ledger has no genesis entry", status: .notFound)
        }
        return JSONResponse.make(StoreWire.Entry(entry))
    }

    func storeBlobs(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try Self.parameter(query.get("limit"), "limit", default: 100)
        guard (1...1000).contains(limit) else { throw APIError.badRequest("limit must be 1 to 1000", path: "limit") }
        let after = query.get("after")
        if let after, !Hex.isLowercase(after, count: 64) { throw APIError.badRequest("after is a blob's hash: 64 lowercase hex digits", path: "after") }
        let page = try await store { try await $0.blobs(after: after, limit: limit) }
        return JSONResponse.make(StoreWire.Blobs(blobs: page.map { .init(hash: $0.hash, bytes: StoreWire.base64($0.bytes)) }))
    }

    func storeBook() async throws -> Response {
        guard let book = try await store({ try await $0.book() }) else {
            throw APIError("no-ledger", "the ledger has no book (no genesis entry)", status: .notFound)
        }
        return JSONResponse.make(StoreWire.Book(sequence: book.sequence, json: StoreWire.base64(book.json)))
    }

    func storeQueue(_ request: Request) async throws -> Response {
        let open: Bool
        switch request.uri.queryParameters.get("open") {
        case nil, "false": open = false
        case "true": open = true
        default: throw APIError.badRequest("open is true or false", path: "open")
        }
        let rows = try await store { open ? try await $0.openPending() : try await $0.allPending() }
        return JSONResponse.make(StoreWire.Queue(proposals: rows.map(StoreWire.Pending.init)))
    }

    func storeQueueIDs(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let prefix = query.get("prefix") ?? ""
        guard prefix.count <= 64, prefix.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw APIError.badRequest("prefix is up to 64 lowercase hex digits", path: "prefix")
        }
        let limit = try Self.parameter(query.get("limit"), "limit", default: 10)
        guard (1...1000).contains(limit) else { throw APIError.badRequest("limit must be 1 to 1000", path: "limit") }
        return JSONResponse.make(StoreWire.IDs(ids: try await store { try await $0.pendingIDs(prefix: prefix, limit: limit) }))
    }

    func storePending(_ context: APIContext) async throws -> Response {
        let id = try Self.proposalID(context)
        guard let row = try await store({ try await $0.pending(id: id) }) else {
            throw Self.notFound("no proposal \(id.prefix(16))… in the queue", path: "id")
        }
        return JSONResponse.make(StoreWire.Pending(row))
    }

    func storeSignatures(_ context: APIContext) async throws -> Response {
        let id = try Self.proposalID(context)
        let rows = try await store { try await $0.signatures(pendingID: id) }
        return JSONResponse.make(StoreWire.Signatures(signatures: rows.map(StoreWire.Signature.init)))
    }

    func storeRejections(_ context: APIContext) async throws -> Response {
        let id = try Self.proposalID(context)
        let rows = try await store { try await $0.rejections(pendingID: id) }
        return JSONResponse.make(StoreWire.Envelopes(rejections: rows.map(StoreWire.base64)))
    }

    func storeSlotRejections(_ context: APIContext) async throws -> Response {
        let sequence = try Self.parameter(context.parameters.get("sequence"), "sequence", default: UInt64?.none)!
        let rows = try await store { try await $0.slotRejections(sequence: sequence) }
        return JSONResponse.make(StoreWire.Envelopes(rejections: rows.map(StoreWire.base64)))
    }

    /// `POST /v1/ledger/entries`: an entry a remote committer signed. Verified as an auditor verifies
    /// the ledger, plus what only the queue knows (``Ledger/appendCommitted(_:committing:decidedOn:at:)``).
    func appendEntries(_ request: Request) async throws -> Response {
        let body: StoreWire.Append = try Self.decode(try await readBody(request))
        guard Hex.isLowercase(body.proposal, count: 64) else { throw APIError.badRequest("proposal is 64 lowercase hex digits", path: "proposal") }
        let entries = try body.entries.map { entry -> StoredEntry in
            do { return try entry.stored() } catch let error as StorageError {
                throw APIError.badRequest(error.reason, path: error.path)
            }
        }
        switch try await ledger.appendCommitted(entries, committing: body.proposal, decidedOn: body.decidedOn.ref, at: Date()) {
        case .appended(let entry):
            await announce(body.proposal)
            return JSONResponse.make(StoreWire.Head(HeadRef(sequence: entry.sequence, hash: entry.hash)), status: .created)
        case .headMoved(let current):
            throw APIError(StoreWire.Codes.headMoved,
                           "the head is \(current.map(\.description) ?? "gone"), not the \(body.decidedOn.ref) this commit was decided on: verify the new entries and decide again",
                           path: "decidedOn", status: .conflict)
        case .queueChanged:
            throw APIError(StoreWire.Codes.queueChanged,
                           "the rejections for entry \(entries.first?.sequence ?? 0) (or the proposal's status) changed since the commit was decided: read them again and decide again",
                           path: "entries[0].attachments", status: .conflict)
        }
    }

    /// `POST /v1/queue/statuses`: marks decided again here (``Ledger/decideStatuses(_:at:)``).
    func markStatuses(_ request: Request) async throws -> Response {
        let body: StoreWire.StatusRequest = try Self.decode(try await readBody(request))
        guard body.changes.count <= 1000 else { throw APIError.badRequest("at most 1000 changes a request", path: "changes") }
        for (index, change) in body.changes.enumerated() where !Hex.isLowercase(change.id, count: 64) {
            throw APIError.badRequest("a proposal id is 64 lowercase hex digits", path: "changes[\(index)].id")
        }
        let lines = try await ledger.decideStatuses(body.changes.map { ($0.id, $0.status) }, at: Date())
        let marked = lines.filter(\.marked).map(\.id)
        if !marked.isEmpty { try? await watcher.poll(touching: marked) }
        return JSONResponse.make(StoreWire.StatusResult(results: lines.map { .init(id: $0.id, status: $0.status, marked: $0.marked) }))
    }
}
