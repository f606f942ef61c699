import Foundation
import Synchronization
import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ALVHSigning
import ALVHApproval
import ALVHLedger
import ALVHStorage
@_spi(Bench) import ALVHService

// Item 10: `alvh serve` (the release `alvh` beside this executable, or --alvh PATH) on a SQLite
// ledger over mTLS on loopback, each process with its own client certificate (`alvh tls init`).
//
//   service-latency --dir D --proposals N --warmup W
//       5 remote signers (`alvh signer run --server`, threshold 3 of 5, the trader's signature not
//       counted) and 1 remote coordinator (`alvh coordinator run --server`), each in its own folder;
//       this process is the trader: it proposes N valid resizes one after the other through the
//       service (a remote Ledger's enqueue), t0 when enqueue returns, t1 when the service's head is
//       the entry (read on each of the service's events: the ChangeSignal, no busy poll).
//   service-signatures --dir D --keys 20,200 --signatures S --connections C --seconds T
//       POST /v1/proposals/{id}/signatures by C concurrent connections, with and without the keyid
//       hint, beside Ed25519 verifications/s on 2 threads (PublicKey.isValidSignature).
//   service-requests --dir D --connections C --seconds T --rounds R
//       GET /v1/ledger/head with keep-alive against `alvh serve` and against a bare Hummingbird
//       application on the same TLS configuration (`alvh-bench bare-peer`), interleaved rounds.
//
// The service's per-client rate limit is raised (--rate-limit/--burst 1e6): every process here
// connects from 127.0.0.1 and would otherwise share one bucket of 50 requests/s. Every child is
// stopped with SIGTERM and waited for, on success, on failure and on SIGINT/SIGTERM of this process.

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ text: String) { description = text }
}

// MARK: - Child processes

/// The processes this run started: stopped with SIGTERM (SIGKILL after a grace period) and waited
/// for, whatever way the run ends.
final class Children: @unchecked Sendable {
    static let shared = Children()
    private let lock = NSLock()
    private var running: [(name: String, process: Process)] = []
    private var sources: [any DispatchSourceSignal] = []

    func spawn(_ name: String, _ executable: String, _ arguments: [String], log: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: log) else { throw BenchError("cannot open \(log)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try lock.withLock {
            try process.run()
            running.append((name, process))
        }
        try? handle.close()
        return process
    }

    /// SIGTERM to `process`, then waits (SIGKILL after `grace` seconds).
    func stop(_ process: Process, grace: Double = 20) {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = now() + grace
        while process.isRunning && now() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        lock.withLock { running.removeAll { $0.process === process } }
    }

    /// Every child still running: SIGTERM to all (the services last), then waits for each.
    func stopAll() {
        let all = lock.withLock { running }
        let ordered = all.filter { !$0.name.hasPrefix("service") } + all.filter { $0.name.hasPrefix("service") }
        for child in ordered where child.process.isRunning { kill(child.process.processIdentifier, SIGTERM) }
        for child in ordered { stop(child.process) }
    }

    /// SIGINT / SIGTERM of this process stop the children first.
    func installSignalHandlers() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                Children.shared.stopAll()
                exit(128 + number)
            }
            source.resume()
            lock.withLock { sources.append(source) }
        }
    }
}

/// User + system CPU seconds of process `pid` so far (/proc/PID/stat).
func cpuSeconds(_ pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// The `alvh` executable: --alvh, else the one beside this executable (both built in .build/release).
func alvhExecutable() throws -> String {
    if let given = option("--alvh") { return given }
    let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let beside = own.deletingLastPathComponent().appendingPathComponent("alvh").path
    guard FileManager.default.isExecutableFile(atPath: beside) else { throw BenchError("no alvh beside \(own.path): build it (swift build -c release --product alvh) or give --alvh PATH") }
    return beside
}

/// This executable (for `bare-peer`).
func ownExecutable() -> String { URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path }

/// Runs `alvh ARGS` to completion; throws with its output when it fails.
func runAlvh(_ arguments: [String], log: String) throws {
    let process = try Children.shared.spawn("alvh \(arguments.first ?? "")", try alvhExecutable(), arguments, log: log)
    process.waitUntilExit()
    Children.shared.stop(process)
    guard process.terminationStatus == 0 else {
        throw BenchError("alvh \(arguments.prefix(2).joined(separator: " ")) failed (\(process.terminationStatus)): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }
}

/// Starts a server (`alvh serve --port 0 …` or `alvh-bench bare-peer --port 0 …`) and waits for the
/// URL it prints ("listening on URL") in its log.
func startServer(_ name: String, executable: String, _ arguments: [String], log: String, timeout: Double = 180) async throws -> (process: Process, url: String) {
    let process = try Children.shared.spawn(name, executable, arguments, log: log)
    let deadline = now() + timeout
    while now() < deadline {
        // The URL line ("alvh serve: listening on https://…"), not Hummingbird's own "listening on HOST:PORT".
        if let text = try? String(contentsOfFile: log, encoding: .utf8), let range = text.range(of: "listening on https://") {
            let url = text[text.index(range.upperBound, offsetBy: -8)...].prefix { !$0.isWhitespace }
            return (process, String(url))
        }
        if !process.isRunning { throw BenchError("\(name) exited (status \(process.terminationStatus)); see \(log)") }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw BenchError("\(name) did not listen within \(Int(timeout)) s; see \(log)")
}

/// `alvh serve` on the workspace's SQLite ledger, over mTLS with the files of `alvh tls init TLS`.
func startService(_ name: String, workspace: String, tls: String, log: String) async throws -> (process: Process, url: String) {
    try await startServer(name, executable: try alvhExecutable(),
                          ["serve", "--workspace", workspace, "--port", "0", "--tls-cert", "\(tls)/server.pem", "--tls-key", "\(tls)/server.key.pem",
                           "--client-ca", "\(tls)/ca.pem", "--rate-limit", "1000000", "--burst", "1000000"], log: log)
}

/// The `requests served {…}` line `alvh serve` logs when it stops: route → (count, handler ms).
func requestTally(log: String) -> [String: (count: Int, ms: Double)] {
    guard let text = try? String(contentsOfFile: log, encoding: .utf8), let range = text.range(of: "requests served ", options: .backwards) else { return [:] }
    let json = text[range.upperBound...].prefix { $0 != "\n" }
    guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: [String: Double]] else { return [:] }
    return object.mapValues { (Int($0["count"] ?? 0), $0["ms"] ?? 0) }
}

func tallyJSON(_ tally: [String: (count: Int, ms: Double)], per divisor: Double) -> [String: Any] {
    tally.mapValues { ["count": $0.count, "perUnit": Double($0.count) / divisor, "handlerMsMean": $0.count == 0 ? 0 : $0.ms / Double($0.count)] }
}

/// Moves `from` to `to` (same file system).
func move(_ from: String, _ to: String) throws {
    guard rename(from, to) == 0 else { throw BenchError("cannot move \(from) to \(to): \(String(cString: strerror(errno)))") }
}

// MARK: - HTTP client (the load generator)

/// TLS 1.3, the desk CA as the only root, the client's certificate and key (a folder made by `alvh tls init`).
func clientTLS(_ directory: String) throws -> TLSConfiguration {
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.minimumTLSVersion = .tlsv13
    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile("\(directory)/ca.pem"))
    tls.certificateChain = try NIOSSLCertificate.fromPEMFile("\(directory)/client.pem").map { .certificate($0) }
    tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: "\(directory)/client.key.pem", format: .pem))
    return tls
}

/// An HTTP/1.1 client with keep-alive and up to `connections` connections to one host.
func httpClient(tls directory: String, connections: Int) throws -> HTTPClient {
    var configuration = HTTPClient.Configuration()
    configuration.tlsConfiguration = try clientTLS(directory)
    configuration.redirectConfiguration = .disallow
    configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
    configuration.connectionPool = .init(idleTimeout: .seconds(600), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
    configuration.httpVersion = .http1Only
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}

/// One request; its status and body.
func fetch(_ client: HTTPClient, _ method: HTTPMethod = .GET, _ url: String, body: [UInt8]? = nil) async throws -> (status: Int, body: [UInt8]) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let body {
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
    }
    let response = try await client.execute(request, timeout: .seconds(120))
    var buffer = try await response.body.collect(upTo: 64 << 20)
    return (Int(response.status.code), buffer.readBytes(length: buffer.readableBytes) ?? [])
}

/// `connections` workers in a loop of GET `url` for `seconds` (after one request each, which opens
/// the connections): requests per second and every request's latency.
func load(_ client: HTTPClient, url: String, connections: Int, seconds: Double) async throws -> (perSecond: Double, latencies: [Double]) {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<connections {
            group.addTask {
                let answer = try await fetch(client, .GET, url)
                guard answer.status == 200 else { throw BenchError("GET \(url): \(answer.status)") }
            }
        }
        try await group.waitForAll()
    }
    let start = now()
    let deadline = start + seconds
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        for _ in 0..<connections {
            group.addTask {
                var latencies: [Double] = []
                while now() < deadline {
                    let sent = now()
                    let answer = try await fetch(client, .GET, url)
                    guard answer.status == 200 else { throw BenchError("GET \(url): \(answer.status)") }
                    latencies.append(now() - sent)
                }
                return latencies
            }
        }
        var all: [Double] = []
        for try await some in group { all += some }
        return all
    }
    return (Double(latencies.count) / (now() - start), latencies.sorted())
}

/// A counter shared by concurrent tasks.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    /// The next number (0, 1, 2, …).
    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}

// MARK: - The service's event stream, as this process sees it

/// Every event of the service's stream with the instant it arrived here (a profile of where a
/// proposal's time goes: queued, each signature, committed).
final class EventRecorder: Sendable {
    struct Seen: Sendable {
        var type: String
        var proposal: String?
        var signatures: Int?
        var at: Double
    }

    private let seen = Mutex<[Seen]>([])
    let connected = Atomic<Bool>(false)

    func events(of proposal: String) -> [Seen] { seen.withLock { $0.filter { $0.proposal == proposal } } }

    /// Follows GET /v1/events until cancelled.
    func follow(_ client: HTTPClient, base: String) -> Task<Void, Never> {
        Task.detached { [self] in
            do {
                var request = HTTPClientRequest(url: base + "/v1/events")
                request.headers.add(name: "accept", value: "text/event-stream")
                let response = try await client.execute(request, timeout: .hours(24))
                guard response.status == .ok else { return }
                connected.store(true, ordering: .releasing)
                var pending: [UInt8] = []
                for try await buffer in response.body {
                    let at = now()
                    pending += buffer.readableBytesView
                    while let end = Self.blockEnd(pending) {
                        let block = String(decoding: pending[..<end], as: UTF8.self)
                        pending.removeFirst(end + 2)
                        var type: String?
                        var data: [String: Any]?
                        for line in block.split(separator: "\n") {
                            if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                            if line.hasPrefix("data: ") { data = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any] }
                        }
                        if let type {
                            seen.withLock { $0.append(Seen(type: type, proposal: data?["proposal"] as? String, signatures: data?["signatures"] as? Int, at: at)) }
                        }
                    }
                }
            } catch {}
        }
    }

    static func blockEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for index in 0..<(bytes.count - 1) where bytes[index] == 10 && bytes[index + 1] == 10 { return index }
        return nil
    }
}

// MARK: - 10a. proposal queued → committed, 5 remote signers and a remote coordinator

func serviceLatency(dir: String, proposals: Int, warmup: Int, signers: Int = 5, threshold: Int = 3) async throws {
    if FileManager.default.fileExists(atPath: dir) { try FileManager.default.removeItem(atPath: dir) }
    try SecureFile.makeDirectory(dir, mode: 0o755)
    let logs = "\(dir)/logs"
    try SecureFile.makeDirectory(logs, mode: 0o755)
    let desk = try await BenchWorkspace.createDesk("\(dir)/service", signers: signers, threshold: threshold)
    let ledgerID = try await desk.ledger.ledgerID()
    // The peer: the same work in one process on the ledger's own file, no service, no network — the
    // trader's proposal queued, then signed by `threshold` keys as `alvh sign` does (each reviews it:
    // verifies, recomputes the figures), then committed (t0 when enqueue returns, t1 when commit does).
    var local: [Double] = []
    for index in 0..<(warmup + max(20, proposals / 5)) {
        let time = Date()
        let id = try await desk.ledger.enqueue(try await desk.traderEnvelope(at: time), snapshot: desk.snapshotBytes, at: time).pending.id
        let t0 = now()
        for key in desk.keys.prefix(threshold) { _ = try await desk.ledger.sign(id: id, with: key, at: Date()) }
        try await desk.ledger.commit(id: id, committer: desk.committer, at: Date())
        if index >= warmup { local.append(now() - t0) }
    }
    local.sort()
    try await desk.ledger.close()
    let tls = "\(dir)/tls"
    let names = (0..<signers).map { "s\($0)" }
    try runAlvh(["tls", "init", tls] + names + ["coordinator", "trader"], log: "\(logs)/tls-init.log")
    // Each signer and the coordinator in a folder of its own: its TLS identity and its signing key only.
    try SecureFile.makeDirectory("\(dir)/signers", mode: 0o755)
    for name in names {
        try SecureFile.makeDirectory("\(dir)/signers/\(name)", mode: 0o700)
        try move("\(tls)/clients/\(name)", "\(dir)/signers/\(name)/tls")
        try move("\(dir)/service/Keys/private/\(name).key.pem", "\(dir)/signers/\(name)/\(name).key.pem")
    }
    try SecureFile.makeDirectory("\(dir)/coordinator", mode: 0o700)
    try move("\(tls)/clients/coordinator", "\(dir)/coordinator/tls")
    try move("\(dir)/service/Keys/private/committer.key.pem", "\(dir)/coordinator/committer.key.pem")
    try SecureFile.makeDirectory("\(dir)/trader", mode: 0o700)

    let (service, url) = try await startService("service", workspace: "\(dir)/service", tls: tls, log: "\(logs)/service.log")
    var processes: [(name: String, process: Process)] = [("service", service)]
    for name in names {
        let folder = "\(dir)/signers/\(name)"
        processes.append((name, try Children.shared.spawn(name, try alvhExecutable(),
            ["signer", "run", "--workspace", folder, "--server", url, "--tls-dir", "\(folder)/tls", "--key", "\(folder)/\(name).key.pem",
             "--poll", "1000", "--expect-ledger-id", ledgerID], log: "\(logs)/\(name).log")))
    }
    processes.append(("coordinator", try Children.shared.spawn("coordinator", try alvhExecutable(),
        ["coordinator", "run", "--workspace", "\(dir)/coordinator", "--server", url, "--tls-dir", "\(dir)/coordinator/tls",
         "--committer-key", "\(dir)/coordinator/committer.key.pem", "--poll", "1000", "--expect-ledger-id", ledgerID],
        log: "\(logs)/coordinator.log")))

    // The trader: this process, a client of the service like the others (its storage counted).
    let remote = try await Ledger.open(workspace: "\(dir)/trader", at: .service(.init(url: url, tls: .init(directory: "\(tls)/clients/trader"))))
    let counting = CountingStorage(remote.storage)
    let ledger = Ledger(storage: counting, workspace: "\(dir)/trader")
    ledger.pin(Ledger.Pins(ledgerID: ledgerID))
    let workspace = desk.with(ledger: ledger)
    guard let signal = remote.storage.watchChanges() else { throw BenchError("the remote storage has no event stream") }
    let recorderClient = try httpClient(tls: "\(tls)/clients/trader", connections: 1)
    let recorder = EventRecorder()
    let following = recorder.follow(recorderClient, base: url)
    var finished = false
    defer {
        following.cancel()
        if !finished { Children.shared.stopAll() }
    }
    let connectDeadline = now() + 30
    while (signal.value == 0 || !recorder.connected.load(ordering: .acquiring)) && now() < connectDeadline { try await Task.sleep(for: .milliseconds(5)) }
    guard signal.value > 0 else { throw BenchError("no event stream from \(url)") }

    var latencies: [Double] = [], fromCall: [Double] = [], enqueues: [Double] = []
    var toFirst: [Double] = [], toReady: [Double] = [], toCommitted: [Double] = [], toSeen: [Double] = []
    var headReads = 0
    var enqueueCalls: [String: (calls: Int, seconds: Double)] = [:]
    var cpuStart: [String: Double] = [:]
    let measuredStart = now()
    var phaseStart = measuredStart
    for index in 0..<(warmup + proposals) {
        if index == warmup {
            for (name, process) in processes { cpuStart[name] = cpuSeconds(process.processIdentifier) }
            cpuStart["trader (this process)"] = cpuSeconds(getpid())
            phaseStart = now()
        }
        let time = Date()
        let envelope = try await workspace.traderEnvelope(at: time) // verifies the last entry first: not timed
        let target = try ProposalDocument.decode(envelope.payload).ledger.sequence
        _ = counting.take()
        let called = now()
        let queued = try await ledger.enqueue(envelope, snapshot: workspace.snapshotBytes, at: time)
        let t0 = now()
        let calls = counting.take()
        var seen = signal.value
        var reads = 0
        var t1 = 0.0
        while true {
            seen = signal.value
            reads += 1
            if let head = try await remote.storage.head(), head.sequence >= target {
                t1 = now()
                guard head.sequence == target, (try? Envelope.decode(head.envelope))?.id == queued.pending.id else {
                    throw BenchError("entry \(head.sequence) is not proposal \(queued.pending.id.prefix(16))… (another writer?)")
                }
                break
            }
            // Until the service's next event (or 100 ms, should the stream drop).
            let waited = now()
            while signal.value == seen && now() - waited < 0.1 { try await Task.sleep(for: .microseconds(250)) }
            if now() - t0 > 60 { throw BenchError("proposal \(index) (\(queued.pending.id.prefix(16))…) not committed after 60 s; see \(logs)") }
        }
        guard index >= warmup else { continue }
        latencies.append(t1 - t0)
        fromCall.append(t1 - called)
        enqueues.append(t0 - called)
        headReads += reads
        for (name, value) in calls {
            let old = enqueueCalls[name] ?? (0, 0)
            enqueueCalls[name] = (old.calls + value.calls, old.seconds + value.seconds)
        }
        // Where the time went, by the service's events as they arrived here.
        let events = recorder.events(of: queued.pending.id)
        let base = envelope.signatures.count // the trader's own (not counted)
        if let first = events.first(where: { $0.type == "signature" && ($0.signatures ?? 0) >= base + 1 }),
           let ready = events.first(where: { $0.type == "signature" && ($0.signatures ?? 0) >= base + threshold }),
           let committed = events.first(where: { $0.type == "committed" }) {
            toFirst.append(first.at - t0)
            toReady.append(ready.at - first.at)
            toCommitted.append(committed.at - ready.at)
            toSeen.append(t1 - committed.at)
        }
    }
    let elapsed = now() - phaseStart
    var cpu: [String: Double] = [:]
    for (name, process) in processes { cpu[name] = (cpuSeconds(process.processIdentifier) - (cpuStart[name] ?? 0)) / Double(proposals) * 1000 }
    cpu["trader (this process)"] = (cpuSeconds(getpid()) - (cpuStart["trader (this process)"] ?? 0)) / Double(proposals) * 1000
    following.cancel()
    try await ledger.close()
    try? await recorderClient.shutdown()
    // The signers and the coordinator first, then the service (which logs what it was asked).
    for (name, process) in processes where name != "service" { Children.shared.stop(process) }
    Children.shared.stop(service)
    finished = true
    let tally = requestTally(log: "\(logs)/service.log")
    let total = tally.values.reduce(0) { $0 + $1.count }
    latencies.sort(); fromCall.sort(); enqueues.sort()
    let median = { (values: [Double]) -> Double in values.isEmpty ? 0 : percentile(values.sorted(), 0.5) * 1000 }
    emit(["bench": "service-latency", "proposals": proposals, "warmup": warmup, "signers": signers, "threshold": threshold,
          "localProposals": local.count, "localP50ms": percentile(local, 0.5) * 1000, "localP99ms": percentile(local, 0.99) * 1000,
          "p50ms": percentile(latencies, 0.5) * 1000, "p99ms": percentile(latencies, 0.99) * 1000,
          "meanMs": latencies.reduce(0, +) / Double(latencies.count) * 1000, "minMs": latencies.first! * 1000, "maxMs": latencies.last! * 1000,
          "fromCallP50ms": percentile(fromCall, 0.5) * 1000, "fromCallP99ms": percentile(fromCall, 0.99) * 1000,
          "enqueueP50ms": percentile(enqueues, 0.5) * 1000,
          "enqueueStorageCalls": Double(enqueueCalls.values.reduce(0) { $0 + $1.calls }) / Double(proposals),
          "headReadsPerProposal": Double(headReads) / Double(proposals),
          "breakdownP50ms": ["enqueuedToFirstSignature": median(toFirst), "firstToThresholdSignature": median(toReady),
                             "thresholdToCommittedEvent": median(toCommitted), "committedEventToHeadSeen": median(toSeen),
                             "samples": toFirst.count],
          "cpuMsPerProposal": cpu, "cpuMsPerProposalTotal": cpu.values.reduce(0, +),
          "proposalsPerSecond": Double(proposals) / elapsed,
          "requests": tallyJSON(tally, per: Double(proposals + warmup)), "requestsPerProposal": Double(total) / Double(proposals + warmup),
          "dir": dir])
}

// MARK: - 10b. signatures accepted per second

/// Ed25519 verifications per second on `threads` threads through `PublicKey.isValidSignature`
/// (one key, one 64-byte message, one signature per thread, as `verify` does on one core).
func parallelVerifyRate(threads: Int, seconds: Double) throws -> Double {
    var made: [(PublicKey, [UInt8])] = []
    let message = [UInt8](repeating: 0x61, count: 64)
    for _ in 0..<threads {
        let key = try PrivateKey.generate(.ed25519)
        made.append((key.publicKey, try key.signature(for: message)))
    }
    let counts = Mutex<[Int]>(Array(repeating: 0, count: threads))
    let start = now()
    let keys = made
    DispatchQueue.concurrentPerform(iterations: threads) { index in
        let (key, signature) = keys[index]
        var count = 0
        var ok = true
        while now() - start < seconds {
            for _ in 0..<256 { ok = ok && key.isValidSignature(signature, for: message) }
            count += 256
        }
        precondition(ok)
        counts.withLock { $0[index] = count }
    }
    return Double(counts.withLock { $0.reduce(0, +) }) / (now() - start)
}

func serviceSignatures(dir: String, keyCounts: [Int], signatures: Int, connections: Int, seconds: Double) async throws {
    if FileManager.default.fileExists(atPath: dir) { try FileManager.default.removeItem(atPath: dir) }
    try SecureFile.makeDirectory(dir, mode: 0o755)
    let peerBefore = try parallelVerifyRate(threads: 2, seconds: seconds)
    var runs: [[String: Any]] = []
    for keys in keyCounts {
        let root = "\(dir)/keys-\(keys)"
        try SecureFile.makeDirectory(root, mode: 0o755)
        let desk = try await BenchWorkspace.createDesk("\(root)/service", signers: keys, threshold: 3)
        let ledgerID = try await desk.ledger.ledgerID()
        try await desk.ledger.close()
        let tls = "\(root)/tls"
        try runAlvh(["tls", "init", tls, "bench"], log: "\(root)/tls-init.log")
        let (service, url) = try await startService("service-\(keys)", workspace: "\(root)/service", tls: tls, log: "\(root)/service.log")
        var finished = false
        defer { if !finished { Children.shared.stopAll() } }
        let ledger = try await Ledger.open(workspace: "\(root)/service", at: .service(.init(url: url, tls: .init(directory: "\(tls)/clients/bench"))))
        ledger.pin(Ledger.Pins(ledgerID: ledgerID))
        let workspace = desk.with(ledger: ledger)
        let client = try httpClient(tls: "\(tls)/clients/bench", connections: connections)
        // One key signs one open proposal per entry, and an envelope holds at most 64 signatures (the
        // trader's among them): each round queues enough proposals for the entry to take one
        // signature of every key, posts them all, then commits the first (the rest go stale).
        let perProposal = Envelope.maxSignatures - 1
        let proposalsPerRound = (keys + perProposal - 1) / perProposal
        let roundsPerVariant = max(2, (signatures + keys - 1) / keys)
        var variants: [Bool: (count: Int, seconds: Double, latencies: [Double])] = [true: (0, 0, []), false: (0, 0, [])]
        for round in 0..<(2 * roundsPerVariant) {
            let hinted = round % 2 == 0 // interleaved: with the keyid hint (as signers post), then without
            var envelopes: [Envelope] = []
            for index in 0..<proposalsPerRound {
                let envelope = try await workspace.traderEnvelope(at: Date(), note: "bench \(round).\(index)")
                try await ledger.enqueue(envelope, snapshot: workspace.snapshotBytes, at: Date())
                envelopes.append(envelope)
            }
            let chunk = (keys + proposalsPerRound - 1) / proposalsPerRound
            var planned: [(url: String, body: [UInt8])] = []
            for (index, key) in workspace.keys.enumerated() {
                let envelope = envelopes[index / chunk]
                let sig = Base64.encode(try key.signature(for: envelope.pae))
                let body = hinted ? "{\"keyid\":\"\(key.keyID.hex)\",\"sig\":\"\(sig)\"}" : "{\"sig\":\"\(sig)\"}"
                planned.append(("\(url)/v1/proposals/\(envelope.id)/signatures", Array(body.utf8)))
            }
            let next = Counter()
            let posts = planned
            let start = now()
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for _ in 0..<connections {
                    group.addTask {
                        var latencies: [Double] = []
                        while true {
                            let index = next.take()
                            guard index < posts.count else { return latencies }
                            let sent = now()
                            let answer = try await fetch(client, .POST, posts[index].url, body: posts[index].body)
                            guard answer.status == 201 else {
                                throw BenchError("POST …/signatures: \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
                            }
                            latencies.append(now() - sent)
                        }
                    }
                }
                var all: [Double] = []
                for try await some in group { all += some }
                return all
            }
            let spent = now() - start
            let old = variants[hinted]!
            variants[hinted] = (old.count + posts.count, old.seconds + spent, old.latencies + latencies)
            try await ledger.commit(id: envelopes[0].id, committer: workspace.committer, at: Date())
        }
        try await ledger.close()
        try await client.shutdown()
        Children.shared.stop(service)
        finished = true
        let tally = requestTally(log: "\(root)/service.log")
        var run: [String: Any] = ["keys": keys, "proposalsPerRound": proposalsPerRound, "roundsPerVariant": roundsPerVariant,
                                  "requests": tallyJSON(tally, per: 1)]
        for (hinted, name) in [(true, "withKeyid"), (false, "withoutKeyid")] {
            let v = variants[hinted]!
            let sorted = v.latencies.sorted()
            run[name] = ["signatures": v.count, "seconds": v.seconds, "perSecond": Double(v.count) / v.seconds,
                         "p50ms": percentile(sorted, 0.5) * 1000, "p99ms": percentile(sorted, 0.99) * 1000]
        }
        runs.append(run)
        try? FileManager.default.removeItem(atPath: root)
    }
    let peerAfter = try parallelVerifyRate(threads: 2, seconds: seconds)
    emit(["bench": "service-signatures", "connections": connections, "keyType": "ed25519", "runs": runs,
          "verifyTwoThreadsBefore": peerBefore, "verifyTwoThreadsAfter": peerAfter, "verifyTwoThreads": (peerBefore + peerAfter) / 2,
          "dir": dir])
}

// MARK: - 10c. requests per second beside a bare Hummingbird application

func serviceRequests(dir: String, connections: Int, seconds: Double, rounds: Int) async throws {
    if FileManager.default.fileExists(atPath: dir) { try FileManager.default.removeItem(atPath: dir) }
    try SecureFile.makeDirectory(dir, mode: 0o755)
    let desk = try await BenchWorkspace.create("\(dir)/service")
    try await desk.ledger.close()
    let tls = "\(dir)/tls"
    try runAlvh(["tls", "init", tls, "bench"], log: "\(dir)/tls-init.log")
    let (service, serviceURL) = try await startService("service", workspace: "\(dir)/service", tls: tls, log: "\(dir)/service.log")
    var finished = false
    defer { if !finished { Children.shared.stopAll() } }
    let client = try httpClient(tls: "\(tls)/clients/bench", connections: connections)
    let single = try httpClient(tls: "\(tls)/clients/bench", connections: 1)
    // The bare peer answers the bytes the service answers (same size, same content type).
    let head = try await fetch(client, .GET, serviceURL + "/v1/ledger/head")
    guard head.status == 200 else { throw BenchError("GET /v1/ledger/head: \(head.status)") }
    try SecureFile.writeAtomically(head.body, to: "\(dir)/head.json", mode: 0o644)
    let (bare, bareURL) = try await startServer("service-bare-peer", executable: ownExecutable(),
                                                ["bare-peer", "--tls-dir", tls, "--port", "0", "--body", "\(dir)/head.json"], log: "\(dir)/bare-peer.log")
    var rates: [String: [Double]] = ["service": [], "bare": []]
    var latencies: [String: [Double]] = ["service": [], "bare": []]
    for _ in 0..<rounds {
        for (name, base) in [("service", serviceURL), ("bare", bareURL)] {
            rates[name]!.append(try await load(client, url: base + "/v1/ledger/head", connections: connections, seconds: seconds).perSecond)
        }
        for (name, base) in [("service", serviceURL), ("bare", bareURL)] {
            latencies[name]! += try await load(single, url: base + "/v1/ledger/head", connections: 1, seconds: min(2, seconds)).latencies
        }
    }
    try await client.shutdown()
    try await single.shutdown()
    Children.shared.stop(bare)
    Children.shared.stop(service)
    finished = true
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    let ratios = zip(rates["service"]!, rates["bare"]!).map { $0 / $1 }
    let serviceLatencies = latencies["service"]!.sorted(), bareLatencies = latencies["bare"]!.sorted()
    emit(["bench": "service-requests", "connections": connections, "seconds": seconds, "rounds": rounds, "bodyBytes": head.body.count,
          "servicePerSecond": median(rates["service"]!), "barePerSecond": median(rates["bare"]!), "ratio": median(ratios),
          "serviceRounds": rates["service"]!, "bareRounds": rates["bare"]!,
          "serviceP50ms": percentile(serviceLatencies, 0.5) * 1000, "serviceP99ms": percentile(serviceLatencies, 0.99) * 1000,
          "bareP50ms": percentile(bareLatencies, 0.5) * 1000, "bareP99ms": percentile(bareLatencies, 0.99) * 1000,
          "requests": tallyJSON(requestTally(log: "\(dir)/service.log"), per: 1), "dir": dir])
}

/// `alvh-bench bare-peer --tls-dir TLS --port P --body FILE`: the bare Hummingbird peer, until SIGTERM.
func barePeer(tls: String, port: Int, body: String) async throws {
    let bytes = try SecureFile.read(body, limit: 1 << 20)
    let files = ServiceConfiguration.TLSFiles(certificate: "\(tls)/server.pem", privateKey: "\(tls)/server.key.pem", clientCA: "\(tls)/ca.pem")
    var logger = Logger(label: "alvh-bench.bare-peer")
    logger.logLevel = .notice
    try await ALVHServer.runBarePeer(tls: files, port: port, body: bytes, logger: logger) { url in
        FileHandle.standardError.write(Data("alvh-bench bare-peer: listening on \(url)\n".utf8))
    }
}
