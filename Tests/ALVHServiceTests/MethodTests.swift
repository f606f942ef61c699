import Foundation
import Testing
import Hummingbird
import HummingbirdTesting
import ALVHService

/// A route's path with a method it does not take: 405 with `Allow`, not 404 (found by the API fuzz run).
@Suite("service methods")
struct MethodTests {
    @Test("a known path with another method: 405 method-not-allowed, Allow lists its methods; an unknown path: 404")
    func methodNotAllowed() async throws {
        let f = try await ServiceFixture()
        try await f.withApp(committer: false) { _, client in
            let cases: [(HTTPRequest.Method, String, String)] = [
                (.delete, "/v1/ledger/head", "GET"),
                (.put, "/v1/proposals", "GET, POST"),
                (.post, "/v1/proposals/deadbeefdeadbeef/envelope", "GET"),
                (.get, "/v1/proposals/deadbeefdeadbeef/commit", "POST"),
                (.patch, "/v1/proposals/deadbeefdeadbeef/rejections", "GET, POST"),
                (.init("TRACE")!, "/v1/ledger/entries", "GET, POST"),
                (.delete, "/v1/store/queue/deadbeefdeadbeef", "GET"),
            ]
            for (method, path, allow) in cases {
                let reply = try await client.call(method, path)
                #expect(reply.status == .methodNotAllowed, "\(method) \(path): \(reply.text)")
                #expect(reply.error?.code == "method-not-allowed", "\(method) \(path)")
                #expect(reply.headers[.allow] == allow, "\(method) \(path)")
            }
            for path in ["/v2/nothing", "/v1/proposals/deadbeefdeadbeef/nothing", "/v1/ledger"] {
                let reply = try await client.call(.delete, path)
                #expect(reply.status == .notFound && reply.error?.code == "not-found", "\(path): \(reply.text)")
                #expect(reply.headers[.allow] == nil)
            }
            // The route's own method is served as before.
            #expect(try await client.call(.get, "/v1/ledger/head").status == .ok)
        }
    }
}
