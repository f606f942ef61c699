import Foundation
import Logging
import HummingbirdCore
import NIOCore
import NIOTLS
import Synchronization
import NIOSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many connections `alvh serve` keeps open, from the file-descriptor limit it was started
/// with (docs/service.md, "Connections before the handshake").
///
/// Every open connection is a file descriptor. The process's soft `RLIMIT_NOFILE` less a reserve —
/// the descriptors already open at start, plus ``headroom`` for what is opened later (the ledger's
/// SQLite files and PostgreSQL pool, logs, the event loops' epoll/kqueue, eventfd and timer
/// descriptors) — is what connections may use; the global cap is the smaller of that and
/// `--max-connections`. Half of it at most may be connections that have not finished their TLS
/// handshake, so idle sockets that never authenticate can never take the slots the desk's
/// authenticated clients need.
public struct ConnectionBudget: Sendable, Equatable {
    /// The soft `RLIMIT_NOFILE` read at start (`Int.max` when unlimited).
    public var descriptorLimit: Int
    /// Descriptors kept out of the connections' budget: those open at start plus ``headroom``.
    public var reserve: Int
    /// The most connections open at once: min(`--max-connections`, `descriptorLimit − reserve`).
    public var global: Int
    /// The most connections at once that have not finished their handshake: half of ``global``.
    public var pendingHandshakes: Int
    /// The most connections at once from one IP address (`--max-connections-per-address`).
    public var perAddress: Int

    /// Descriptors kept for what the service opens after start: 64, and 4 for each processor (its event loop).
    public static var headroom: Int { 64 + 4 * ProcessInfo.processInfo.activeProcessorCount }
    /// Fewer connections than this and the service refuses to start.
    public static let minimumConnections = 16

    public init(descriptorLimit: Int, reserve: Int, maxConnections: Int, perAddress: Int) {
        self.descriptorLimit = descriptorLimit
        self.reserve = reserve
        let budget = descriptorLimit == Int.max ? Int.max : descriptorLimit - reserve
        self.global = min(maxConnections, budget)
        self.pendingHandshakes = max(1, global / 2)
        self.perAddress = min(perAddress, global)
    }

    /// The budget of this process: its soft `RLIMIT_NOFILE`, the descriptors open now, `limits`.
    /// Throws `fd-limit` when it leaves fewer than ``minimumConnections`` connections.
    public static func current(_ limits: ServiceConfiguration.Limits) throws -> ConnectionBudget {
        let open = openDescriptors()
        let budget = ConnectionBudget(descriptorLimit: softDescriptorLimit(), reserve: open + headroom,
                                      maxConnections: limits.maxConnections, perAddress: limits.maxConnectionsPerAddress)
        try budget.check(open: open)
        return budget
    }

    /// Refuses a budget below ``minimumConnections``, saying what `ulimit -n` would do.
    func check(open: Int) throws {
        guard global < Self.minimumConnections else { return }
        throw ServiceError("fd-limit",
            "the file-descriptor limit is \(descriptorLimit); with \(reserve) kept for the ledger, database, logs and event loops "
            + "(\(open) open at start + \(reserve - open)) it leaves \(max(0, global)) connections, fewer than \(Self.minimumConnections): "
            + "raise it to at least \(reserve + Self.minimumConnections) (ulimit -n; --max-connections N wants N + \(reserve))",
            path: "ulimit -n")
    }

    /// The soft `RLIMIT_NOFILE` (`Int.max` when unlimited or unreadable).
    public static func softDescriptorLimit() -> Int {
        var limit = rlimit()
        #if os(Linux)
        let status = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        #else
        let status = getrlimit(RLIMIT_NOFILE, &limit)
        #endif
        guard status == 0, limit.rlim_cur < rlim_t(Int.max) else { return Int.max } // RLIM_INFINITY is all ones: above Int.max
        return Int(limit.rlim_cur)
    }

    /// The descriptors this process has open (listed in /dev/fd; 0 where it cannot be listed).
    static func openDescriptors() -> Int {
        // The listing's own descriptor is in it: one less.
        max(0, ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/fd"))?.count ?? 1) - 1)
    }
}

/// The connections of `alvh serve`, before and after their handshake: admits or refuses each
/// accepted socket before any TLS work, closes the oldest unfinished handshake to make room, and
/// counts what it refused or closed (logged at most once a second).
///
/// - A new connection from an address already at `perAddress`: the oldest connection of that
///   address still in its handshake is closed to make room; when all of them are past it, the new
///   one is refused.
/// - With `global` connections open, or `pendingHandshakes` of them in their handshake: the oldest
///   connection still in its handshake is closed to make room; when none is, the new one is refused.
/// - A connection still in its handshake after the deadline is closed.
///
/// So connections past their handshake always have `global − pendingHandshakes` slots that
/// sockets which never authenticate cannot take, and a desk client's new connection is not
/// refused because of them: it takes the place of the oldest of them.
public final class ConnectionGate: Sendable {
    public let budget: ConnectionBudget
    let handshakeTimeout: TimeAmount
    let logger: Logger
    private let state = Mutex(State())

    struct Record: Sendable {
        let channel: any Channel
        let address: String
        var pending: Bool
    }

    /// What the gate did to connections (since the last log line, and in all).
    public struct Tally: Sendable, Equatable {
        /// Refused at accept: the address had `perAddress` connections past their handshake.
        public var overAddress = 0
        /// Refused at accept: `global` connections open, all past their handshake.
        public var overGlobal = 0
        /// Closed in their handshake to make room for a newer connection.
        public var displaced = 0
        /// Closed at the handshake deadline.
        public var timedOut = 0

        var isEmpty: Bool { self == Tally() }
        static func + (a: Tally, b: Tally) -> Tally {
            Tally(overAddress: a.overAddress + b.overAddress, overGlobal: a.overGlobal + b.overGlobal,
                  displaced: a.displaced + b.displaced, timedOut: a.timedOut + b.timedOut)
        }
        public var json: String {
            #"{"refusedOverAddressCap":\#(overAddress),"refusedOverGlobalCap":\#(overGlobal),"#
                + #""closedForNewerHandshake":\#(displaced),"closedAtHandshakeDeadline":\#(timedOut)}"#
        }
    }

    struct State: Sendable {
        var nextID: UInt64 = 0
        var connections: [UInt64: Record] = [:]
        var perAddress: [String: Int] = [:]
        var pending = 0
        var recent = Tally()
        var total = Tally()
        var lastReport: NIODeadline?

        mutating func remove(_ id: UInt64) -> Record? {
            guard let record = connections.removeValue(forKey: id) else { return nil }
            if record.pending { pending -= 1 }
            let left = (perAddress[record.address] ?? 1) - 1
            perAddress[record.address] = left > 0 ? left : nil
            return record
        }

        /// The oldest connection still in its handshake (of `address`, when given).
        func oldestPending(of address: String? = nil) -> UInt64? {
            connections.lazy.filter { $0.value.pending && (address == nil || $0.value.address == address) }.map(\.key).min()
        }
    }

    enum Admission {
        case admitted(UInt64)
        case refused
    }

    init(budget: ConnectionBudget, handshakeTimeout: TimeAmount, logger: Logger) {
        self.budget = budget
        self.handshakeTimeout = handshakeTimeout
        self.logger = logger
    }

    /// Counts `channel` in (it is in its handshake until ``established(_:)``), or refuses it; closes
    /// the connection it displaces, if any.
    func admit(_ channel: any Channel) -> Admission {
        let address = channel.remoteAddress?.ipAddress ?? "-"
        let (admission, displaced): (Admission, [any Channel]) = state.withLock { state in
            var displaced: [any Channel] = []
            if (state.perAddress[address] ?? 0) >= budget.perAddress {
                guard let oldest = state.oldestPending(of: address), let record = state.remove(oldest) else {
                    state.recent.overAddress += 1
                    return (.refused, [])
                }
                displaced.append(record.channel)
                state.recent.displaced += 1
            }
            if state.connections.count >= budget.global || state.pending >= budget.pendingHandshakes {
                guard let oldest = state.oldestPending(), let record = state.remove(oldest) else {
                    state.recent.overGlobal += 1
                    return (.refused, displaced)
                }
                displaced.append(record.channel)
                state.recent.displaced += 1
            }
            let id = state.nextID
            state.nextID += 1
            state.connections[id] = Record(channel: channel, address: address, pending: true)
            state.perAddress[address, default: 0] += 1
            state.pending += 1
            return (.admitted(id), displaced)
        }
        for other in displaced { other.close(promise: nil) }
        if case .refused = admission { report() } else if !displaced.isEmpty { report() }
        return admission
    }

    /// The connection finished its handshake (plain HTTP: sent its first bytes).
    func established(_ id: UInt64) {
        state.withLock { state in
            guard state.connections[id]?.pending == true else { return }
            state.connections[id]?.pending = false
            state.pending -= 1
        }
    }

    /// The handshake deadline of `id` passed: true (and counted) when it is still in its handshake.
    func deadlinePassed(_ id: UInt64) -> Bool {
        let late = state.withLock { state in
            guard state.connections[id]?.pending == true else { return false }
            _ = state.remove(id)
            state.recent.timedOut += 1
            return true
        }
        if late { report() }
        return late
    }

    /// The connection closed: its slot is free.
    func closed(_ id: UInt64) {
        state.withLock { state in _ = state.remove(id) }
    }

    /// Open connections now: (all, in their handshake).
    public var open: (all: Int, pending: Int) { state.withLock { ($0.connections.count, $0.pending) } }

    /// Everything refused or closed since start.
    public var totals: Tally { state.withLock { $0.total + $0.recent } }

    /// Logs what was refused or closed since the last line, at most once a second.
    private func report() {
        let now = NIODeadline.now()
        let due: Tally? = state.withLock { state in
            if let last = state.lastReport, now - last < .seconds(1) { return nil }
            let recent = state.recent
            state.total = state.total + recent
            state.recent = Tally()
            state.lastReport = now
            return recent.isEmpty ? nil : recent
        }
        guard let due else { return }
        logger.notice("connections refused or closed before their handshake \(due.json)",
                      metadata: ["caps": "\(budget.global) open, \(budget.pendingHandshakes) in handshake, \(budget.perAddress) per address"])
    }
}

/// The child channel of `alvh serve`: each accepted connection passes the ``ConnectionGate`` before
/// anything else (refused ones are closed before any TLS work), then TLS (when configured), then the
/// handshake deadline, then `Base` (the HTTP/1 channel).
struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    /// The connection was refused by the gate (it is closed).
    struct Refused: Error {}

    let base: Base
    let sslContext: NIOSSLContext?
    let gate: ConnectionGate

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard case .admitted(let id) = gate.admit(channel) else {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(Refused())
        }
        let gate = self.gate
        channel.closeFuture.whenComplete { _ in gate.closed(id) }
        do {
            if let sslContext {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
            }
            try channel.pipeline.syncOperations.addHandler(HandshakeDeadlineHandler(gate: gate, id: id, tls: sslContext != nil))
        } catch {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(error)
        }
        let value = base.setup(channel: channel, logger: logger)
        value.whenFailure { _ in channel.close(promise: nil) }
        return value
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Closes the connection when its handshake has not finished by the gate's deadline. Over TLS it
/// sits after the TLS handler and waits for `TLSUserEvent.handshakeCompleted` (after the client
/// certificate was verified); over plain HTTP, for the first bytes.
final class HandshakeDeadlineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let gate: ConnectionGate
    let id: UInt64
    let tls: Bool
    private var deadline: Scheduled<Void>?
    private var done = false

    init(gate: ConnectionGate, id: UInt64, tls: Bool) {
        self.gate = gate
        self.id = id
        self.tls = tls
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let (gate, id, channel) = (self.gate, self.id, context.channel)
        deadline = context.eventLoop.scheduleTask(in: gate.handshakeTimeout) {
            if gate.deadlinePassed(id) { channel.close(promise: nil) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if tls, let event = event as? TLSUserEvent, case .handshakeCompleted = event { establish() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !tls { establish() }
        context.fireChannelRead(data)
    }

    private func establish() {
        guard !done else { return }
        done = true
        deadline?.cancel()
        gate.established(id)
    }
}
