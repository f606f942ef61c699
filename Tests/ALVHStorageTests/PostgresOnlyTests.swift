import Foundation
import Testing
import ALVHSigning
import ALVHStorage
@_spi(Testing) import ALVHStoragePostgres
import ALVHTestSupport

/// What only the PostgreSQL backend has: its schema's own defences, its role, its migrations,
/// writers racing from two pools, and its bounded waits.
@Suite("PostgreSQL storage", PostgresTestServer.enabled)
struct PostgresOnlyTests {
    typealias F = Fixture

    /// A fresh ledger database opened with `create: true`, closed and dropped after.
    func withStorage(_ body: (PostgresLedgerStorage, PostgresTestDatabase) async throws -> Void) async throws {
        try await PostgresTestServer.withFreshDatabase { db async throws in
            let storage = try await PostgresLedgerStorage.open(db.location, create: true)
            do {
                try await body(storage, db)
                try? await storage.close()
            } catch {
                try? await storage.close()
                throw error
            }
        }
    }

    @Test("entries and blobs are append-only even for raw SQL: UPDATE, DELETE and TRUNCATE are refused")
    func appendOnlyTriggers() async throws {
        try await withStorage { s, _ async throws in
            let g = try await F.create(s)
            _ = try await F.appendLayers(s, on: g, count: 2)
            for sql in ["UPDATE entries SET kind = 'policy-change' WHERE seq = 1", "UPDATE entries SET envelope = '\\x00'",
                        "DELETE FROM entries WHERE seq = 2", "DELETE FROM entries", "TRUNCATE entries",
                        "UPDATE blobs SET bytes = '\\x00'", "DELETE FROM blobs", "TRUNCATE blobs"] {
                let error = await #expect(throws: StorageError.self, "\(sql)") { try await s.rawExecute(sql) }
                #expect(error?.code == .database)
                #expect(error?.reason.contains("append-only") == true, "\(error?.reason ?? "")")
                #expect(error?.reason.contains("SQLSTATE 23000") == true, "\(error?.reason ?? "")")
            }
            #expect(try await s.entries(from: 0, limit: 10).count == 3)
            #expect(try await s.blobs(after: nil, limit: 10).count == 1)
            // The queue is not append-only: its rows move and go.
            _ = try await s.enqueue(F.proposal("p1"), id: "p1", blobs: [], signatures: [], maxSignatures: 5, conflicts: F.never,
                                    decidedOn: try #require(try await s.head()).ref)
            try await s.rawExecute("UPDATE pending SET status = 'expired' WHERE id = 'p1'", "DELETE FROM pending WHERE id = 'p1'")
        }
    }

    @Test("the application role may read and insert entries and blobs, never update or delete them; it may run the queue")
    func applicationRole() async throws {
        try await withStorage { s, db async throws in
            let g = try await F.create(s)
            let role = "alvh_app_" + UUID().uuidString.lowercased().prefix(8)
            try await s.grantApplicationRole(role)
            try await s.grantApplicationRole(role) // idempotent
            do {
                let rows = try await s.rawQuery("SELECT rolcanlogin::text FROM pg_roles WHERE rolname = '\(role)'")
                #expect(rows == [["false"]], "NOLOGIN without a password")
                for sql in ["UPDATE entries SET kind = kind", "DELETE FROM entries WHERE seq = 0", "UPDATE blobs SET bytes = bytes",
                            "DELETE FROM blobs", "TRUNCATE pending", "CREATE TABLE mine (x int)", "DROP TRIGGER entries_append_only ON entries",
                            "INSERT INTO schema_version (version) VALUES (42)"] {
                    let error = await #expect(throws: StorageError.self, "\(sql)") { try await s.rawExecute("SET LOCAL ROLE \(role)", sql) }
                    #expect(error?.reason.contains("SQLSTATE 42501") == true, "\(sql): \(error?.reason ?? "")")
                }
                // What the role may do: everything alvh does.
                try await s.rawExecute(
                    "SET LOCAL ROLE \(role)",
                    "SELECT count(*) FROM entries",
                    "INSERT INTO entries SELECT 1, entry_hash, 'layer-change', '\\x01', '\\x', policy_hash, 't', repeat('a', 64), '\\x' FROM entries WHERE seq = 0",
                    "UPDATE ledger_head SET seq = 1, entry_hash = repeat('a', 64)",
                    "INSERT INTO blobs VALUES (encode(sha256('\\x01'), 'hex'), '\\x01')",
                    "SELECT alvh_store_blob(encode(sha256('\\x02'), 'hex'), '\\x02')",
                    "INSERT INTO pending (id, payload, payload_type, kind, sequence, base, created, expires, proposer, queued_at) VALUES ('p', '\\x', 't', 'k', 2, 'b', 'c', 'e', 'p', 'q')",
                    "INSERT INTO signatures (pending_id, sig, signer_key, added_at) VALUES ('p', '\\x01', 'k1', 't')",
                    "INSERT INTO rejections (pending_id, envelope, signer_key, added_at) VALUES ('p', '\\x01', 'k1', 't')",
                    "UPDATE pending SET status = 'vetoed'",
                    "UPDATE book SET seq = 1",
                    "INSERT INTO meta VALUES ('x', 'y')",
                    "DELETE FROM pending WHERE id = 'p'",
                    "SELECT max(version) FROM schema_version"
                )
                #expect(try await s.head()?.sequence == 1)
                _ = g
                // With a password, a login role.
                let loginRole = role + "_login"
                try await s.grantApplicationRole(loginRole, password: "it's a secret")
                #expect(try await s.rawQuery("SELECT rolcanlogin::text FROM pg_roles WHERE rolname = '\(loginRole)'") == [["true"]])
                try await s.rawExecute("DROP OWNED BY \(loginRole)", "DROP ROLE \(loginRole)")
            } catch {
                try? await s.rawExecute("DROP OWNED BY \(role)", "DROP ROLE \(role)")
                throw error
            }
            try await s.rawExecute("DROP OWNED BY \(role)", "DROP ROLE \(role)")
            _ = db
        }
    }

    @Test("connected as the application role, alvh's every read and write goes through")
    func workAsApplicationRole() async throws {
        try await withStorage { owner, db async throws in
            let g = try await F.create(owner)
            let role = "alvh_app_" + UUID().uuidString.lowercased().prefix(8)
            try await owner.grantApplicationRole(role, password: "app-pw")
            do {
                var location = db.location
                location.user = role
                location.password = "app-pw"
                let s = try await PostgresLedgerStorage.open(location, create: false)
                let queued = try await s.enqueue(F.proposal("p1"), id: "p1", blobs: [[1]], signatures: [F.signature("k1")], maxSignatures: 5,
                                                 conflicts: F.never, decidedOn: g)
                #expect(queued.value?.queued?.signatureCount == 1)
                _ = try await s.enqueue(F.proposal("p2"), id: "p2", blobs: [], signatures: [], maxSignatures: 5, conflicts: F.never, decidedOn: g)
                #expect(try await s.addRejection(pendingID: "p1", envelope: [2], signerKey: "k2", addedAt: "t", veto: false, decidedOn: g)
                        == .done(.added(vetoed: false)))
                #expect(try await s.setStatus([(id: "p2", status: .expired)], decidedOn: g) == .done([.marked(id: "p2", to: .expired)]))
                let e1 = F.entry(after: g)
                #expect(try await s.append([e1], book: [3], blobs: [[4]], removing: PendingRemoval(id: "p1", slotRejections: 1), decidedOn: g) == .done(e1.ref))
                #expect(try await s.head() == e1)
                #expect(try await s.pending(id: "p1") == nil)
                #expect(try await s.blobs(after: nil, limit: 10).count == 3)
                #expect(try await s.meta("ledger_id") == "L-test")
                #expect(try await s.lastPolicyEntry(before: nil)?.sequence == 0)
                // The role cannot set the schema up: migrations are the owner's.
                let refused = await #expect(throws: StorageError.self) {
                    try await s.rawExecute("CREATE TABLE later (x int)")
                }
                #expect(refused?.reason.contains("42501") == true)
                try await s.close()
            } catch {
                try? await owner.rawExecute("DROP OWNED BY \(role)", "DROP ROLE \(role)")
                throw error
            }
            // Its sessions end with the database; the role goes now.
            try await PostgresLedgerStorage.execute(["SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(role)'"], at: db.server)
            try await owner.rawExecute("DROP OWNED BY \(role)", "DROP ROLE \(role)")
        }
    }

    @Test("two pools appending on the same head: exactly one done, one headMoved, every run of 20")
    func racingAppends() async throws {
        try await withStorage { s, db async throws in
            let other = try await PostgresLedgerStorage.open(db.location, create: false)
            defer { Task { try? await other.close() } }
            var head = try await F.create(s)
            for run in 0..<20 {
                let a = F.entry(after: head, tag: "a\(run)")
                let b = F.entry(after: head, tag: "b\(run)")
                let decided = head
                async let first = s.append([a], book: [1], blobs: [], removing: nil, decidedOn: decided)
                async let second = other.append([b], book: [2], blobs: [], removing: nil, decidedOn: decided)
                let outcomes = try await [first, second]
                let done = outcomes.compactMap(\.value)
                #expect(done.count == 1, "run \(run): \(outcomes)")
                #expect(outcomes.filter(\.isHeadMoved).count == 1, "run \(run): \(outcomes)")
                let winner = try #require(done.first)
                #expect(winner == a.ref || winner == b.ref)
                for outcome in outcomes where outcome.isHeadMoved { #expect(outcome == .headMoved(current: winner)) }
                head = winner
            }
            #expect(try await s.head()?.sequence == 20)
            #expect(try await other.head()?.ref == head)
            #expect(try await s.rawQuery("SELECT seq::text, entry_hash FROM ledger_head") == [["20", head.hash]])
        }
    }

    @Test("a veto racing a commit decided before it: either the veto stands and nothing is committed, or the commit stands and the veto sees headMoved, every run of 20")
    func vetoRacingCommit() async throws {
        try await withStorage { s, db async throws in
            let other = try await PostgresLedgerStorage.open(db.location, create: false)
            defer { Task { try? await other.close() } }
            var head = try await F.create(s)
            var seen: Set<String> = []
            for run in 0..<20 {
                let id = "p\(run)"
                let sequence = head.sequence + 1
                _ = try await s.enqueue(F.proposal(id, sequence: sequence), id: id, blobs: [], signatures: [F.signature("k1")], maxSignatures: 5,
                                        conflicts: F.never, decidedOn: head)
                let decided = PendingRemoval(id: id, slotRejections: try await s.slotRejections(sequence: sequence).count)
                let entry = F.entry(after: head, tag: "r\(run)")
                let on = head
                async let commit = s.append([entry], book: [1], blobs: [], removing: decided, decidedOn: on)
                async let veto = other.addRejection(pendingID: id, envelope: [UInt8(run)], signerKey: "k-veto", addedAt: "t", veto: true, decidedOn: on)
                let (committed, vetoed) = try await (commit, veto)
                switch (committed, vetoed) {
                case (.done(let ref), .headMoved(let current)):
                    seen.insert("commit first")
                    #expect(ref == entry.ref && current == entry.ref, "run \(run)")
                    #expect(try await s.pending(id: id) == nil, "run \(run)")
                    head = ref
                case (.queueChanged, .done(.added(vetoed: true))):
                    seen.insert("veto first")
                    #expect(try await s.head()?.ref == on, "run \(run): nothing committed")
                    #expect(try await s.pending(id: id)?.status == .vetoed, "run \(run)")
                    #expect(try await s.rejections(pendingID: id) == [[UInt8(run)]], "run \(run): the veto is kept")
                default:
                    Issue.record("run \(run): commit \(committed), veto \(vetoed)")
                }
            }
            // Which one wins is the scheduler's; both orders are recorded for the log.
            print("veto racing commit: \(seen.sorted())")
        }
    }

    @Test("racing signatures for the same entry: the double-sign rule holds across pools")
    func racingDoubleSign() async throws {
        try await withStorage { s, db async throws in
            let other = try await PostgresLedgerStorage.open(db.location, create: false)
            defer { Task { try? await other.close() } }
            let g = try await F.create(s)
            for run in 0..<10 {
                let x = "x\(run)", y = "y\(run)"
                async let first = s.enqueue(F.proposal(x, sequence: 1), id: x, blobs: [], signatures: [F.signature("k\(run)")], maxSignatures: 5,
                                            conflicts: F.always, decidedOn: g)
                async let second = other.enqueue(F.proposal(y, sequence: 1), id: y, blobs: [], signatures: [F.signature("k\(run)")], maxSignatures: 5,
                                                 conflicts: F.always, decidedOn: g)
                let outcomes = try await [first, second].compactMap(\.value)
                #expect(outcomes.compactMap(\.queued).count == 1, "run \(run): \(outcomes)")
                #expect(outcomes.filter { if case .refused(_, .doubleSign) = $0 { true } else { false } }.count == 1, "run \(run): \(outcomes)")
            }
        }
    }

    @Test("migrations: re-opening is idempotent; no schema is noLedger; a newer schema is refused")
    func migrations() async throws {
        try await PostgresTestServer.withFreshDatabase { db async throws in
            let error = await #expect(throws: StorageError.self) { _ = try await PostgresLedgerStorage.open(db.location, create: false) }
            #expect(error?.code == .noLedger)
            #expect(error?.reason.contains("alvh ledger setup --ledger URL") == true)
            #expect(error?.reason.contains("alvh init --ledger URL") == true)

            let s = try await PostgresLedgerStorage.open(db.location, create: true)
            let g = try await F.create(s)
            try await s.close()
            for create in [true, false, true] {
                let again = try await PostgresLedgerStorage.open(db.location, create: create)
                #expect(try await again.head()?.ref == g)
                #expect(try await again.rawQuery("SELECT version::text FROM schema_version ORDER BY version") == [["1"], ["2"]])
                try await again.close()
            }
            // Two processes setting up at once apply each migration once.
            try await PostgresTestServer.withFreshDatabase { fresh async throws in
                async let a = PostgresLedgerStorage.open(fresh.location, create: true)
                async let b = PostgresLedgerStorage.open(fresh.location, create: true)
                let (x, y) = try await (a, b)
                #expect(try await x.rawQuery("SELECT count(*)::text FROM schema_version") == [["2"]])
                try await x.close()
                try await y.close()
            }

            let newer = try await PostgresLedgerStorage.open(db.location, create: false)
            try await newer.rawExecute("INSERT INTO schema_version (version) VALUES (99)")
            try await newer.close()
            for create in [false, true] {
                let refused = await #expect(throws: StorageError.self) { _ = try await PostgresLedgerStorage.open(db.location, create: create) }
                #expect(refused?.code == .schema)
                #expect(refused?.reason.contains("newer") == true)
            }
        }
    }

    @Test("a closed storage refuses work with a StorageError")
    func closed() async throws {
        try await withStorage { s, _ async throws in
            try await s.close()
            let error = await #expect(throws: StorageError.self) { _ = try await s.head() }
            #expect(error?.code == .database)
            try await s.close() // twice is fine
        }
    }
}

/// The waits are bounded: a server that is gone, or that never answers, is an error within the
/// bound, never a hang; and no message carries the password.
@Suite("PostgreSQL storage: unreachable servers")
struct PostgresUnreachableTests {
    @Test("a closed port fails at once with the location, never the password")
    func refused() async throws {
        let port = try SilentServer.freePort()
        let location = LedgerLocation.PostgresLocation(user: "alvh", password: "s3cret-pw", host: "127.0.0.1", port: port, database: "x", tls: .disable)
        let started = ContinuousClock.now
        let error = await #expect(throws: StorageError.self) {
            _ = try await PostgresLedgerStorage.open(location, create: false, timeout: .seconds(5))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(error?.code == .database)
        #expect(error?.description.contains("s3cret-pw") == false)
        #expect(error?.path == location.redacted)
        #expect(error?.reason.contains("unreachable") == true, "\(error?.reason ?? "")")
    }

    @Test("a server that accepts and never answers is an error within the bound")
    func silent() async throws {
        let server = try SilentServer()
        defer { server.close() }
        let location = LedgerLocation.PostgresLocation(user: "alvh", password: "s3cret-pw", host: "127.0.0.1", port: server.port, database: "x", tls: .disable)
        let started = ContinuousClock.now
        let error = await #expect(throws: StorageError.self) {
            _ = try await PostgresLedgerStorage.open(location, create: true, timeout: .milliseconds(1500))
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(5), "\(elapsed)")
        #expect(error?.code == .database)
        #expect(error?.reason.contains("unreachable") == true, "\(error?.reason ?? "")")
        #expect(error?.reason.contains("retry") == true)
        #expect(error?.description.contains("s3cret-pw") == false)
    }

    @Test("a server stopped under an open storage: each call fails within the bound", PostgresTestServer.enabled)
    func serverGoneUnderThePool() async throws {
        // Every connection of the ledger's database is ended from the server's side, as a crash
        // would: the pooled connections are dead, and every call must come back within the bound.
        try await PostgresTestServer.withFreshDatabase { db async throws in
            // The ledger is set up without a tight bound (a loaded machine may take seconds), then
            // opened again with one.
            let setup = try await PostgresLedgerStorage.open(db.location, create: true)
            _ = try await Fixture.create(setup)
            try await setup.close()
            let s = try await PostgresLedgerStorage.open(db.location, create: false, timeout: .seconds(3))
            // Kill every connection of this database from the server side, as a crash would.
            try await PostgresLedgerStorage.execute(["SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(db.name)' AND pid <> pg_backend_pid()"],
                                                    at: db.server)
            // The pool notices and reconnects: calls either succeed or fail fast, never hang.
            for _ in 0..<3 {
                let started = ContinuousClock.now
                _ = try? await s.head()
                #expect(ContinuousClock.now - started < .seconds(5))
            }
            #expect(try await s.head()?.sequence == 0)
            try await s.close()
        }
    }
}

/// The role's statements, without a server.
@Test("setupSQL quotes the role's name and password")
func setupSQLQuotes() {
    let statements = PostgresLedgerStorage.setupSQL(appRole: "we\"ird", password: "pa'ss")
    #expect(statements[0].contains("pa''''ss"), "the password literal inside the DO body's literal")
    #expect(statements.contains("GRANT SELECT, INSERT ON entries, blobs TO \"we\"\"ird\""))
    #expect(PostgresLedgerStorage.setupSQL(appRole: "app").first?.contains("NOLOGIN") == true)
}

/// A server of the test's own (scripts/pg-throwaway), crashed under an open storage and started
/// again: while it is down every call fails within the bound ("unreachable"), never hangs; once it
/// is back the same storage works again.
@Suite("PostgreSQL storage: a server crash", .enabled(if: ThrowawayServers.available || PostgresTestServer.isCI,
                                                      "PostgreSQL's initdb is not installed (apt-get install postgresql)"))
struct CrashTests {
    static func throwaway(_ arguments: [String]) async throws -> String { try await ThrowawayServers.run(arguments) }

    @Test("crash: calls fail within the bound while the server is down, and work again once it is back")
    func crashAndRestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("alvh-pg-crash-\(UUID().uuidString.prefix(8))").path
        defer { _ = try? ThrowawayServers.runBlocking(["stop", dir, "--remove"]) }
        let url = try await Self.throwaway(["start", dir])
        guard case .postgres(let location) = try LedgerLocation.parse(url) else { Issue.record("not a postgres URL: \(url)"); return }
        let bound = Duration.milliseconds(2000)
        let setup = try await PostgresLedgerStorage.open(location, create: true)
        let g = try await Fixture.create(setup)
        try await setup.close()
        let s = try await PostgresLedgerStorage.open(location, create: false, timeout: bound)

        _ = try await Self.throwaway(["stop", dir, "--immediate"])
        for attempt in 0..<3 {
            let started = ContinuousClock.now
            let error = await #expect(throws: StorageError.self, "attempt \(attempt)") {
                _ = try await s.append([Fixture.entry(after: g)], book: [1], blobs: [], removing: nil, decidedOn: g)
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed < bound + .seconds(2), "attempt \(attempt) took \(elapsed)")
            #expect(error?.code == .database)
            #expect(error?.reason.contains("unreachable") == true || error?.reason.contains("retry") == true, "\(error?.reason ?? "")")
        }
        let reads = ContinuousClock.now
        _ = try? await s.head()
        #expect(ContinuousClock.now - reads < bound + .seconds(2))

        let restarted = try await Self.throwaway(["start", dir])
        #expect(restarted == url, "restarted on the same port")
        var head: StoredEntry?
        let deadline = ContinuousClock.now + .seconds(20)
        while head == nil, ContinuousClock.now < deadline {
            head = try? await s.head()
            if head == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(head?.ref == g, "the pool reconnects to the restarted server")
        #expect(try await s.append([Fixture.entry(after: g)], book: [1], blobs: [], removing: nil, decidedOn: g).value?.sequence == 1)
        try await s.close()
    }
}

/// A TCP listener on loopback that accepts connections (the kernel does) and never answers.
final class SilentServer: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StorageError(.database, "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { _ = Glibc.close(fd); throw StorageError(.database, "bind/listen failed") }
        self.port = try Self.port(of: fd)
        self.fd = fd
    }

    func close() { _ = Glibc.close(fd) }

    static func port(of fd: Int32) throws -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { throw StorageError(.database, "getsockname failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A loopback port nobody listens on (bound, then released).
    static func freePort() throws -> Int {
        let server = try SilentServer()
        server.close()
        return server.port
    }
}
