import Foundation
import Testing
import Hummingbird
import HummingbirdTesting
import ALVHSigning
import ALVHApproval
import ALVHLedger
import ALVHService
import ALVHTestSupport

/// Every endpoint through the router, against a temporary SQLite ledger.
@Suite("service routes")
struct RouteTests {
    @Test("propose, queue, one proposal, exact envelope bytes, idempotent signatures, commit, ledger, blobs, events")
    func wholeFlow() async throws {
        let f = try await ServiceFixture()
        try await f.withApp { ledger, client in
            let head0 = try await client.call(.get, "/v1/ledger/head")
            #expect(head0.status == .ok)
            let head = try head0.json(API.Head.self)
            #expect(head.sequence == 0)
            #expect(head.ledgerID == (try await ledger.ledgerID()))

            let (envelope, snapshot) = try await f.proposal(on: ledger)
            let posted = try envelope.encoded()
            let request = API.ProposeRequest(envelope: Base64.encode(posted), snapshot: Base64.encode(snapshot))
            let queued = try await client.post("/v1/proposals", json: request)
            #expect(queued.status == .created, "\(queued.text)")
            let result = try queued.json(API.ProposeResult.self)
            #expect(result.isNew && result.pending.id == envelope.id)
            let again = try await client.post("/v1/proposals", json: request)
            #expect(again.status == .ok)
            #expect(try again.json(API.ProposeResult.self).isNew == false)

            let id = envelope.id
            let queue = try await client.call(.get, "/v1/proposals")
            #expect(queue.status == .ok)
            let rows = try queue.json([String: [API.QueueRow]].self)["proposals"] ?? []
            #expect(rows.count == 1)
            #expect(rows.first?.counted == 0 && rows.first?.threshold == 2 && rows.first?.commitReady == false)
            #expect(rows.first?.findings.contains("threshold-unmet") == true)

            let one = try await client.call(.get, "/v1/proposals/\(id.prefix(12))")
            #expect(one.status == .ok)
            #expect(try one.json(API.ProposalView.self).report.proposalID == id)

            // The envelope as stored: the posted bytes exactly (the trader's is the only signature).
            let stored = try await client.call(.get, "/v1/proposals/\(id)/envelope")
            #expect(stored.status == .ok)
            #expect(stored.bytes == posted)

            // Signatures: 201 when stored, 200 (idempotent) the second time.
            let s1 = try f.signature("s1", over: envelope)
            let object = API.SignatureObject(keyid: s1.keyid, sig: Base64.encode(s1.sig))
            let first = try await client.post("/v1/proposals/\(id)/signatures", json: object)
            #expect(first.status == .created, "\(first.text)")
            #expect(try first.json(API.Stored.self) == API.Stored(proposal: id, added: true))
            let second = try await client.post("/v1/proposals/\(id)/signatures", json: object)
            #expect(second.status == .ok)
            #expect(try second.json(API.Stored.self).added == false)
            #expect(try await ledger.pending(id: id).signatureCount == 2)

            // Not approved yet: 409 with the ledger's code.
            let early = try await client.call(.post, "/v1/proposals/\(id)/commit")
            #expect(early.status == .conflict, "\(early.text)")
            #expect(early.error?.code == "not-approved")

            let s2 = try f.signature("s2", over: envelope)
            #expect(try await client.post("/v1/proposals/\(id)/signatures",
                                          json: API.SignatureObject(keyid: s2.keyid, sig: Base64.encode(s2.sig))).status == .created)
            let withSignatures = try await client.call(.get, "/v1/proposals/\(id)/envelope")
            #expect(withSignatures.bytes == (try await ledger.envelope(id: id).encoded()))

            let committed = try await client.call(.post, "/v1/proposals/\(id)/commit")
            #expect(committed.status == .created, "\(committed.text)")
            let entry = try committed.json(API.Committed.self)
            #expect(entry.sequence == 1 && entry.proposal == id)
            // Committed: gone from the queue.
            #expect(try await client.call(.get, "/v1/proposals/\(id)").status == .notFound)

            // The ledger: the entries as JSON Lines with the exact stored bytes.
            let lines = try await client.call(.get, "/v1/ledger/entries?from=0")
            #expect(lines.status == .ok)
            #expect(lines.headers[.contentType] == "application/x-ndjson")
            let exported = try lines.text.split(separator: "\n").map { try JSONDecoder().decode(ExportedEntry.self, from: Data($0.utf8)) }
            #expect(exported.map(\.sequence) == [0, 1])
            let stored1 = try await ledger.entry(1)
            #expect(Base64.decode(exported[1].envelope) == stored1.envelope)
            #expect(exported[1].hash == entry.hash)
            #expect(try await client.call(.get, "/v1/ledger/entries?from=1&limit=1").text.split(separator: "\n").count == 1)
            let single = try await client.call(.get, "/v1/ledger/entries/1")
            #expect(try single.json(ExportedEntry.self).hash == entry.hash)
            #expect(try await client.call(.get, "/v1/ledger/entries/9").error?.code == "not-found")
            #expect(try await client.call(.get, "/v1/ledger/head").json(API.Head.self).sequence == 1)

            // The cited snapshot, by its hash: the exact bytes.
            let blob = try await client.call(.get, "/v1/blobs/\(SHA256.hexDigest(snapshot))")
            #expect(blob.status == .ok && blob.bytes == snapshot)
            let missing = try await client.call(.get, "/v1/blobs/\(String(repeating: "0", count: 64))")
            #expect(missing.status == .notFound && missing.error?.code == "not-found")

            // The events so far, from the oldest kept: queued, two signatures, committed.
            let events = try await client.call(.get, "/v1/events?after=0&max=4")
            #expect(events.status == .ok)
            #expect(events.headers[.contentType] == "text/event-stream")
            let types = events.text.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            #expect(types == ["queued", "signature", "signature", "committed"], "\(events.text)")
            #expect(events.text.contains("\"proposal\":\"\(id)\""))
        }
    }

    @Test("a signed veto: 201, the queue shows it, a vetoed event; the same rejection again is 200")
    func veto() async throws {
        let f = try await ServiceFixture()
        try await f.withApp { ledger, client in
            let (envelope, snapshot) = try await f.proposal(on: ledger)
            _ = try await ledger.enqueue(envelope, snapshot: snapshot, at: Date())
            let rejection = try RejectionDocument.signedEnvelope(rejecting: envelope.id, reason: "premium over limit", key: f.keys["lim"]!, at: Date())
            let bytes = try rejection.encoded()
            let posted = try await client.call(.post, "/v1/proposals/\(envelope.id)/rejections", body: bytes)
            #expect(posted.status == .created, "\(posted.text)")
            #expect(try await client.call(.post, "/v1/proposals/\(envelope.id)/rejections", body: bytes).status == .ok)
            let rows = try await client.call(.get, "/v1/proposals").json([String: [API.QueueRow]].self)["proposals"] ?? []
            #expect(rows.first?.vetoes.count == 1)
            #expect(rows.first?.findings.contains("vetoed") == true)
            let stored = try await client.call(.get, "/v1/proposals/\(envelope.id)/rejections").json(API.Rejections.self)
            #expect(stored.rejections == [Base64.encode(bytes)])
            // Queued by another process (not announced) then rejected through the service: the watcher saw both.
            let events = try await client.call(.get, "/v1/events?after=0&max=3")
            let types = events.text.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            #expect(types == ["queued", "rejection", "vetoed"], "\(events.text)")
            let commit = try await client.call(.post, "/v1/proposals/\(envelope.id)/commit")
            #expect(commit.status == .conflict && commit.error?.code == "not-approved", "\(commit.text)")
        }
    }

    @Test("a proposal whose window closes: an expired event from the watcher's poll; the queue row says expired")
    func expiry() async throws {
        let f = try await ServiceFixture(clockSkewSeconds: 3)
        try await f.withApp { ledger, client in
            // 8 s: queued only while now + the policy's 3 s skew is before expiry; announced at expiry.
            let (envelope, snapshot) = try await f.proposal(on: ledger, lifetime: 8)
            _ = try await ledger.enqueue(envelope, snapshot: snapshot, at: Date())
            // Nothing is written when a window closes: only the watcher's look finds it.
            let events = try await client.call(.get, "/v1/events?after=0&max=2")
            let types = events.text.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
            #expect(types == ["queued", "expired"], "\(events.text)")
            let rows = try await client.call(.get, "/v1/proposals").json([String: [API.QueueRow]].self)["proposals"] ?? []
            #expect(rows.first?.expired == true)
        }
    }

    @Test("errors: the CLI's JSON shape and codes, the status from the code")
    func errors() async throws {
        let f = try await ServiceFixture()
        try await f.withApp(committer: false) { ledger, client in
            let unknown = try await client.call(.get, "/v1/proposals/deadbeefdeadbeef")
            #expect(unknown.status == .notFound)
            #expect(unknown.error?.code == "not-found")
            #expect(unknown.error?.path == "ID")
            let badID = try await client.call(.get, "/v1/proposals/xyz")
            #expect(badID.status == .badRequest && badID.error?.code == "invalid-input")
            let route = try await client.call(.get, "/v2/nothing")
            #expect(route.status == .notFound && route.error?.code == "not-found")
            let notJSON = try await client.call(.post, "/v1/proposals", body: Array("{not json".utf8))
            #expect(notJSON.status == .badRequest && notJSON.error?.code == "invalid-input")
            let notBase64 = try await client.post("/v1/proposals", json: API.ProposeRequest(envelope: "%%%", snapshot: nil))
            #expect(notBase64.status == .badRequest && notBase64.error?.path == "envelope")
            let notEnvelope = try await client.post("/v1/proposals", json: API.ProposeRequest(envelope: Base64.encode(Array("[]".utf8)), snapshot: nil))
            #expect(notEnvelope.status == .badRequest && notEnvelope.error?.code == "malformed-envelope", "\(notEnvelope.text)")

            let (envelope, snapshot) = try await f.proposal(on: ledger)
            _ = try await ledger.enqueue(envelope, snapshot: snapshot, at: Date())
            // A signature by a key outside the policy (over the right bytes): verified, refused, nothing stored.
            let outsider = try KeyStore(directory: "\(f.root)/Other").generate(name: "mallory")
            var forged = Envelope(payload: envelope.payload, payloadType: envelope.payloadType)
            try forged.addSignature(using: try PrivateKey.load(from: outsider.privateKeyPath))
            let refused = try await client.post("/v1/proposals/\(envelope.id)/signatures",
                                                json: API.SignatureObject(keyid: forged.signatures[0].keyid, sig: Base64.encode(forged.signatures[0].sig)))
            #expect(refused.status == .badRequest && refused.error?.code == "invalid-input", "\(refused.text)")
            #expect(try await ledger.pending(id: envelope.id).signatureCount == 1)
            // The same proposal queued again is not a new one; a rejection of someone else's proposal id is not found.
            let rejection = try RejectionDocument.signedEnvelope(rejecting: envelope.id, reason: "no", key: f.keys["s3"]!, at: Date())
            let wrongID = try await client.call(.post, "/v1/proposals/\(String(repeating: "ab", count: 32))/rejections", body: try rejection.encoded())
            #expect(wrongID.status == .notFound)
            // This service has no committer key.
            let commit = try await client.call(.post, "/v1/proposals/\(envelope.id)/commit")
            #expect(commit.status == .forbidden && commit.error?.code == "commit-disabled")
        }
    }

    @Test("a proposal for a head that moved on: 409 stale-proposal")
    func stale() async throws {
        let f = try await ServiceFixture()
        try await f.withApp { ledger, client in
            let (first, snapshot) = try await f.proposal(on: ledger)
            _ = try await ledger.enqueue(first, snapshot: snapshot, at: Date()) // queued as soon as made (within the policy's skew)
            let (late, _) = try await f.proposal(on: ledger) // binds the same (soon old) head
            for name in ["s1", "s2"] { try await ledger.addSignature(try f.signature(name, over: first), to: first.id, at: Date()) }
            #expect(try await client.call(.post, "/v1/proposals/\(first.id)/commit").status == .created)
            let reply = try await client.post("/v1/proposals", json: API.ProposeRequest(envelope: Base64.encode(try late.encoded()),
                                                                                        snapshot: Base64.encode(snapshot)))
            #expect(reply.status == .conflict && reply.error?.code == "stale-proposal", "\(reply.text)")
        }
    }

    @Test("a body over the limit: 413 too-large, and the next request is served")
    func tooLarge() async throws {
        let f = try await ServiceFixture()
        try await f.withApp { _, client in
            let huge = [UInt8](repeating: UInt8(ascii: "a"), count: 5 << 20)
            let reply = try await client.call(.post, "/v1/proposals", body: huge)
            #expect(reply.status == .contentTooLarge)
            #expect(reply.error?.code == "too-large")
            #expect(try await client.call(.get, "/v1/ledger/head").status == .ok)
        }
    }

    @Test("a client past its rate: 429 rate-limited with Retry-After")
    func rateLimit() async throws {
        let f = try await ServiceFixture()
        var limits = ServiceConfiguration.Limits()
        limits.ratePerSecond = 0.01
        limits.burst = 2
        try await f.withApp(limits: limits) { _, client in
            #expect(try await client.call(.get, "/v1/ledger/head").status == .ok)
            #expect(try await client.call(.get, "/v1/ledger/head").status == .ok)
            let third = try await client.call(.get, "/v1/ledger/head")
            #expect(third.status == .tooManyRequests)
            #expect(third.error?.code == "rate-limited")
            #expect(third.headers[.retryAfter] != nil)
        }
    }

    @Test("HTTP status from the error code")
    func statusFromCode() {
        let expected: [(String, Int)] = [("not-found", 404), ("invalid-input", 400), ("malformed-envelope", 400), ("stale-proposal", 409),
                                         ("duplicate", 409), ("not-approved", 409), ("policy-rollback", 409), ("database", 503),
                                         ("too-large", 413), ("verification-failed", 500)]
        for (code, status) in expected { #expect(APIError.status(forCode: code).code == status, "\(code)") }
        #expect(APIError.tooLarge(10).status.code == 413)
        #expect(APIError.rateLimited(1).status.code == 429)
        #expect(APIError(LedgerError(.database, "down")).status.code == 503)
    }

    @Test("the OpenAPI file: served at /openapi.yaml, identical to docs/openapi.yaml, documents every route")
    func openAPI() async throws {
        let docs = try String(contentsOf: TestProcess.packageRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let f = try await ServiceFixture()
        try await f.withApp { _, client in
            let served = try await client.call(.get, "/openapi.yaml")
            #expect(served.status == .ok)
            #expect(served.text == docs, "Sources/ALVHService/openapi.yaml must be a copy of docs/openapi.yaml")
        }
        #expect(docs.hasPrefix("openapi: 3.1"))
        // The paths and their operations, from the document's own indentation (two spaces a level).
        var documented: Set<API.Route> = []
        var path: String?
        var inPaths = false
        for line in docs.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, let first = line.first, first != " " { inPaths = false }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") { path = String(line.dropFirst(2).dropLast()); continue }
            for method in ["get", "post", "put", "delete", "patch"] where line == "    \(method):" {
                documented.insert(API.Route(method: method.uppercased(), path: path ?? "?"))
            }
        }
        #expect(Set(API.routes) == documented)
    }

    @Test("no TLS only on loopback with --insecure-loopback; TLS needs a client CA")
    func configuration() throws {
        func code(_ configuration: ServiceConfiguration) -> String? {
            do { try configuration.validate(); return nil } catch let error as ServiceError { return error.code } catch { return "?" }
        }
        #expect(code(ServiceConfiguration(workspace: ".")) == "insecure-refused")
        #expect(code(ServiceConfiguration(workspace: ".", host: "0.0.0.0", insecureLoopback: true)) == "insecure-refused")
        #expect(code(ServiceConfiguration(workspace: ".", host: "10.1.2.3", insecureLoopback: true)) == "insecure-refused")
        for host in ["127.0.0.1", "::1", "localhost", "127.0.0.2"] {
            #expect(code(ServiceConfiguration(workspace: ".", host: host, insecureLoopback: true)) == nil, "\(host)")
        }
        let tls = ServiceConfiguration.TLSFiles(certificate: "c.pem", privateKey: "k.pem", clientCA: nil)
        #expect(code(ServiceConfiguration(workspace: ".", host: "0.0.0.0", tls: tls)) == "usage")
        var withCA = tls
        withCA.clientCA = "ca.pem"
        #expect(code(ServiceConfiguration(workspace: ".", host: "0.0.0.0", tls: withCA)) == nil)
    }
}
