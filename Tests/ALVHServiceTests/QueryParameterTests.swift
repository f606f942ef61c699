import Foundation
import Testing
import Hummingbird
import HummingbirdTesting
import ALVHService

/// Query parameters that are not what an endpoint takes: a 400 naming the parameter, never a
/// default read in their place.
@Suite("service query parameters")
struct QueryParameterTests {
    @Test("events: a max that is not a non-negative integer is 400 (not an endless stream); max=0 answers at once",
          .timeLimit(.minutes(1)))
    func eventsMax() async throws {
        let f = try await ServiceFixture()
        try await f.withApp(committer: false) { _, client in
            for bad in ["abc", "-1", "1.5", "", "99999999999999999999"] {
                let reply = try await client.call(.get, "/v1/events?max=\(bad)")
                #expect(reply.status == .badRequest, "max=\(bad): \(reply.text)")
                #expect(reply.error?.code == "invalid-input" && reply.error?.path == "max", "max=\(bad): \(reply.text)")
            }
            let none = try await client.call(.get, "/v1/events?max=0&after=0")
            #expect(none.status == .ok && none.headers[.contentType] == "text/event-stream")
            #expect(none.text == "retry: 1000\n\n")
        }
    }

    @Test("entries: from and limit that are not numbers, or a limit of 0, are 400 naming the parameter")
    func entriesRange() async throws {
        let f = try await ServiceFixture()
        try await f.withApp(committer: false) { _, client in
            for (query, path) in [("from=x", "from"), ("from=-1", "from"), ("limit=0", "limit"), ("limit=ten", "limit"), ("limit=-5", "limit")] {
                let reply = try await client.call(.get, "/v1/ledger/entries?\(query)")
                #expect(reply.status == .badRequest && reply.error?.path == path, "\(query): \(reply.text)")
            }
            #expect(try await client.call(.get, "/v1/ledger/entries?from=0&limit=1").status == .ok)
        }
    }
}
