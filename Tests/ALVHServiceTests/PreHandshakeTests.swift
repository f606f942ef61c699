import Foundation
import Testing
import ALVHService
import ALVHTestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Connections before the handshake (docs/service.md, "Connections before the handshake"): a real
/// `alvh serve` process over TLS on loopback, hundreds of raw TCP sockets from this process that
/// never send a byte, and a desk client (curl with its certificate) beside them.
@Suite("alvh serve: connections before the handshake", .serialized)
struct PreHandshakeTests {
    static let curl = ServeProcess.curlPath
    static let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("300 idle sockets from 127.0.0.1…127.0.0.9 under ulimit -n 256: the desk client gets 200 at once; every idle socket is closed by the default 10 s handshake deadline",
          .enabled(if: curl != nil))
    func idleSocketsDoNotStarveTheDesk() async throws {
        try RawSocket.raiseFileLimit(atLeast: 700)
        let f = try await ServiceFixture()
        let tls = "\(f.root)/tls"
        try ServeProcess.tlsInit(tls)
        // ulimit -n 256: without a budget, 300 sockets would take every descriptor the server has.
        // No new flag: the defaults (10 s deadline, 32 per address, 1024 at most) — and the same
        // test runs against a server without them.
        let served = try ServeProcess.start(["--workspace", f.root] + ServeProcess.serverTLS(tls),
                                            log: "\(f.root)/serve.log", client: ServeProcess.clientTLS(tls), fileLimit: 256)
        defer { served.stop() }
        let port = try #require(UInt16(served.url.split(separator: ":").last ?? ""))

        var started = Date()
        let before = try served.call("/v1/ledger/head", ["--max-time", "10"])
        let quiet = Date().timeIntervalSince(started)
        #expect(before.status == 200, "\(before)")

        // 300 sockets that never send a byte: 34 from 127.0.0.1 and 33 from each of 127.0.0.2…9
        // (each address one or two over its cap of 32: the per-address cap alone would let 288 in).
        let sources: [String?] = [nil] + (2...9).map { "127.0.0.\($0)" }
        var sockets: [RawSocket] = []
        defer { sockets.forEach { $0.close() } }
        for index in 0..<300 { sockets.append(try RawSocket(port: port, from: sources[index % sources.count])) }
        let lastOpened = Date()

        started = Date()
        let during = try served.call("/v1/ledger/head", ["--max-time", "10"])
        let loaded = Date().timeIntervalSince(started)
        let stillOpen = sockets.filter { !$0.closedByPeer() }.count
        print("desk client: \(Int(quiet * 1000)) ms alone, \(Int(loaded * 1000)) ms with 300 idle sockets opened (\(stillOpen) still open after it)")
        #expect(during.status == 200, "\(during) \(served.logText)")
        #expect(loaded < 3, "the desk client took \(loaded) s")
        if Date().timeIntervalSince(lastOpened) < 5 {
            // The desk was served while idle sockets still held their handshake slots.
            #expect(stillOpen > 0)
        }

        // Every idle socket is closed by the server: refused, displaced by a newer one, or at the deadline.
        let closed = TestProcess.waitUntil(seconds: 25) { sockets.allSatisfy { $0.closedByPeer() } }
        #expect(closed, "\(sockets.filter { !$0.closedByPeer() }.count) of 300 idle sockets still open")
        // The last ones opened were not closed at once but at the deadline (10 s), long before the 60 s idle timeout.
        let last = try #require(sockets.last)
        if let at = last.closedAt {
            let lived = at.timeIntervalSince(last.opened)
            print("the last idle socket was closed after \(Int(lived * 1000)) ms")
            #expect(lived > 9 && lived < 20, "closed after \(lived) s")
        }
        // And the desk still gets its answer afterwards: the slots were given back.
        #expect(try served.call("/v1/ledger/head").status == 200)
        let log = served.logText
        #expect(log.contains("connections: at most "), "\(log)")
        #expect(log.contains("connections refused or closed before their handshake"), "\(log)")
        if let budget = Self.budget(in: log) {
            print("caps under ulimit -n 256: \(budget.global) open, \(budget.pending) in their handshake")
            #expect(budget.global < 256 && budget.global >= 16 && budget.pending == budget.global / 2, "\(budget)")
        }
    }

    @Test("per-address cap: with 4 connections past their handshake the 5th from that address is refused at accept (another address is not); 4 idle ones: the oldest makes room",
          .enabled(if: curl != nil && openssl != nil))
    func perAddressCap() async throws {
        try RawSocket.raiseFileLimit(atLeast: 100)
        let f = try await ServiceFixture()
        let tls = "\(f.root)/tls"
        try ServeProcess.tlsInit(tls)
        let served = try ServeProcess.start(["--workspace", f.root, "--max-connections-per-address", "4", "--handshake-timeout", "3"]
                                                + ServeProcess.serverTLS(tls),
                                            log: "\(f.root)/serve.log", client: ServeProcess.clientTLS(tls))
        defer { served.stop() }
        let port = try #require(UInt16(served.url.split(separator: ":").last ?? ""))

        // Four desk clients from 127.0.0.1 past their handshake (openssl s_client with alice's
        // certificate, kept open). Not event streams: a killed curl's stream is noticed only at
        // the next keep-alive write, up to 15 s later.
        var listeners: [Process] = []
        // SIGKILL: a child of the test process may not die of SIGTERM (it inherits the signal mask).
        defer { listeners.forEach { if $0.isRunning { kill($0.processIdentifier, SIGKILL) } } }
        for index in 0..<4 {
            let log = "\(f.root)/client-\(index).log"
            listeners.append(try TestProcess.spawn(Self.openssl!, ["s_client", "-connect", "127.0.0.1:\(port)", "-ign_eof", "-tls1_3",
                                                                  "-CAfile", "\(tls)/ca.pem", "-cert", "\(tls)/clients/alice.pem",
                                                                  "-key", "\(tls)/clients/alice.key.pem"], log: log))
            #expect(TestProcess.waitUntil(seconds: 10) {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Verify return code: 0")
            }, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        usleep(300_000) // the server has the client's Finished
        // The 5th from 127.0.0.1 is refused at accept: closed at once, long before the 3 s deadline.
        let fifth = try RawSocket(port: port)
        #expect(try fifth.waitClosed(seconds: 1), "the 5th connection from 127.0.0.1 was not refused")
        let refused = try served.call("/v1/ledger/head", ["--max-time", "5"])
        #expect(refused.status == 0, "\(refused)")
        // From 127.0.0.2 it is let in (and waits for its handshake).
        let other = try RawSocket(port: port, from: "127.0.0.2")
        #expect(try !other.waitClosed(seconds: 1), "a connection from 127.0.0.2 was refused")
        // One client leaves: its slot is free again.
        let first = listeners[0]
        kill(first.processIdentifier, SIGKILL)
        #expect(TestProcess.waitUntil(seconds: 10) { !first.isRunning })
        #expect(TestProcess.waitUntil(seconds: 5) { (try? served.call("/v1/ledger/head", ["--max-time", "5"]).status) == 200 })
        listeners.forEach { if $0.isRunning { kill($0.processIdentifier, SIGKILL) } }
        #expect(TestProcess.waitUntil(seconds: 10) { listeners.allSatisfy { !$0.isRunning } })

        // Four idle sockets from 127.0.0.3, then a fifth: the oldest is closed to make room, the others wait.
        var idle: [RawSocket] = []
        defer { idle.forEach { $0.close() } }
        for _ in 0..<4 { idle.append(try RawSocket(port: port, from: "127.0.0.3")); usleep(50_000) }
        usleep(200_000)
        #expect(!idle.contains { $0.closedByPeer() })
        idle.append(try RawSocket(port: port, from: "127.0.0.3"))
        #expect(try idle[0].waitClosed(seconds: 1), "the oldest idle socket was not closed for the newer one")
        #expect(idle.dropFirst().allSatisfy { !$0.closedByPeer() }, "more than the oldest was closed")
        // The rest are closed at the deadline (3 s after each was opened), not before.
        #expect(TestProcess.waitUntil(seconds: 8) { idle.allSatisfy { $0.closedByPeer() } })
        for socket in idle.dropFirst() {
            let lived = socket.closedAt.map { $0.timeIntervalSince(socket.opened) } ?? -1
            #expect(lived > 2.5 && lived < 7, "an idle socket was closed after \(lived) s (deadline 3 s)")
        }
        let log = served.logText
        #expect(log.contains("\"refusedOverAddressCap\":1") || log.contains("\"refusedOverAddressCap\":2"), "\(log)")
    }

    struct BadFlag: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let expected: String
        var status: Int32 = 1
        var fileLimit: Int?
        var testDescription: String { arguments.joined(separator: " ") + (fileLimit.map { " (ulimit -n \($0))" } ?? "") }
    }

    static let badFlags: [BadFlag] = [
        BadFlag(arguments: ["--handshake-timeout", "0"], expected: "--handshake-timeout: --handshake-timeout must be more than 0 and at most 600 seconds [usage]"),
        BadFlag(arguments: ["--handshake-timeout=-1"], expected: "--handshake-timeout must be more than 0"),
        BadFlag(arguments: ["--handshake-timeout", "nan"], expected: "--handshake-timeout must be more than 0"),
        BadFlag(arguments: ["--handshake-timeout", "601"], expected: "--handshake-timeout must be more than 0 and at most 600 seconds"),
        BadFlag(arguments: ["--handshake-timeout", "soon"], expected: "--handshake-timeout", status: 64),
        BadFlag(arguments: ["--max-connections", "8"], expected: "--max-connections: --max-connections must be at least 16"),
        BadFlag(arguments: ["--max-connections", "many"], expected: "--max-connections", status: 64),
        BadFlag(arguments: ["--max-connections-per-address", "0"],
                expected: "--max-connections-per-address: --max-connections-per-address must be 1…1024 (--max-connections) [usage]"),
        BadFlag(arguments: ["--max-connections", "100", "--max-connections-per-address", "101"],
                expected: "--max-connections-per-address must be 1…100"),
        BadFlag(arguments: [], expected: "ulimit -n: the file-descriptor limit is 40;", fileLimit: 40),
    ]

    @Test("bad connection-limit values: a clear error naming the flag (or ulimit -n), a non-zero exit, nothing served",
          arguments: badFlags)
    func badConnectionFlags(_ row: BadFlag) async throws {
        let f = try await ServiceFixture()
        let arguments = ["serve", "--workspace", f.root, "--port", "0", "--insecure-loopback"] + row.arguments
        let out = try row.fileLimit.map {
            try TestProcess.run("/bin/sh", ["-c", "ulimit -n \($0) && exec \"$0\" \"$@\"", TestProcess.alvh] + arguments, timeout: 30)
        } ?? TestProcess.run(TestProcess.alvh, arguments, timeout: 30)
        #expect(out.status == row.status, "\(out.stderr)")
        #expect(out.stderr.contains(row.expected), "\(out.stderr)")
        #expect(!out.stderr.contains("listening on"), "\(out.stderr)")
        if row.fileLimit != nil {
            #expect(out.stderr.contains("[fd-limit]") && out.stderr.contains("raise it to at least"), "\(out.stderr)")
        }
    }

    /// The caps `alvh serve` logged at start: "connections: at most G open, P of them in their handshake".
    static func budget(in log: String) -> (global: Int, pending: Int)? {
        guard let range = log.range(of: "connections: at most ") else { return nil }
        let words = log[range.upperBound...].split(separator: " ")
        guard words.count > 3, let global = Int(words[0]), let pending = Int(words[2].trimmingCharacters(in: .punctuationCharacters)) else { return nil }
        return (global, pending)
    }
}

/// A raw TCP socket to 127.0.0.1 that never sends a byte (non-blocking, so a full accept queue
/// does not hold the test up), optionally bound to another loopback source address first.
final class RawSocket {
    let fd: Int32
    let opened = Date()
    /// When the server's close was first seen (EOF or reset).
    private(set) var closedAt: Date?
    private var isClosed = false

    init(port: UInt16, from source: String? = nil) throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        if fd >= 0 { _ = fcntl(fd, F_SETFL, O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        #endif
        guard fd >= 0 else { throw ServiceError("test", "socket: \(String(cString: strerror(errno)))") }
        if let source {
            var local = Self.address(source, port: 0)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let reason = String(cString: strerror(errno))
                Self.closeDescriptor(fd)
                throw ServiceError("test", "bind \(source): \(reason)")
            }
        }
        var remote = Self.address("127.0.0.1", port: port)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 || errno == EINPROGRESS else {
            let reason = String(cString: strerror(errno))
            Self.closeDescriptor(fd)
            throw ServiceError("test", "connect: \(reason)")
        }
        self.fd = fd
    }

    static func address(_ ip: String, port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, ip, &address.sin_addr)
        return address
    }

    /// Whether the server has closed it (without waiting): EOF or a reset, after any bytes it sent.
    func closedByPeer() -> Bool {
        if closedAt != nil { return true }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 { continue }
            if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                closedAt = Date()
                return true
            }
            return false
        }
    }

    /// Polls ``closedByPeer()`` for up to `seconds`.
    func waitClosed(seconds: Double) throws -> Bool {
        TestProcess.waitUntil(seconds: seconds) { closedByPeer() }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Self.closeDescriptor(fd)
    }

    static func closeDescriptor(_ fd: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
    }

    deinit { close() }

    /// Raises this process's soft RLIMIT_NOFILE to its hard limit; fails when that is under `atLeast`.
    static func raiseFileLimit(atLeast needed: Int) throws {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { throw ServiceError("test", "getrlimit failed") }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(resource, &limit)
            _ = getrlimit(resource, &limit)
        }
        guard limit.rlim_cur >= rlim_t(needed) else {
            throw ServiceError("test", "the test needs ulimit -n \(needed) (hard limit \(limit.rlim_max))")
        }
    }
}
