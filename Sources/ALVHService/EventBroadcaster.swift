import Foundation
import Synchronization
import ALVHApproval

/// One Server-Sent Event: what changed on the ledger or its queue.
public struct LedgerEvent: Sendable, Codable, Equatable {
    /// `queued`, `signature`, `rejection`, `vetoed`, `expired`, `committed`.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case queued, signature, rejection, vetoed, expired, committed
    }

    /// `EPOCH.N`: the service's start time (ms) and a counter — so a client resuming with
    /// Last-Event-ID after a restart of the service is not mistaken for one that saw everything.
    public var id: String
    public var type: Kind
    /// The proposal it is about (for `committed`: the proposal the entry committed; nil for genesis).
    public var proposal: String?
    /// Signatures collected / signed rejections collected so far (queue events).
    public var signatures: Int?
    public var rejections: Int?
    /// The entry (`committed`) or the entry the proposal would become.
    public var sequence: UInt64?
    /// The committed entry's hash.
    public var hash: String?
    /// When the service saw it (RFC 3339).
    public var at: String

    /// The event in the SSE wire format: `id:`, `event:`, `data:` (one line of JSON), a blank line.
    public var wire: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "id: \(id)\nevent: \(type.rawValue)\ndata: \(json)\n\n"
    }
}

/// The in-process fan-out of ``LedgerEvent``s to every open event stream, with the last events kept
/// so a client that reconnects with `Last-Event-ID` gets what it missed (while it is still kept).
public final class EventBroadcaster: Sendable {
    /// What a stream carries: an event, or a keep-alive (an SSE comment, so that proxies and idle
    /// timers see traffic on a quiet stream).
    public enum Item: Sendable, Equatable {
        case event(LedgerEvent)
        case heartbeat
    }

    struct State {
        var counter: UInt64 = 0
        var recent: [LedgerEvent] = []
        var subscribers: [UInt64: AsyncStream<Item>.Continuation] = [:]
        var nextSubscriber: UInt64 = 0
        var finished = false
    }

    let epoch: UInt64
    let keep: Int
    let perSubscriberBuffer: Int
    private let state = Mutex(State())

    public init(keep: Int = 1024, perSubscriberBuffer: Int = 1024) {
        epoch = UInt64(Date().timeIntervalSince1970 * 1000)
        self.keep = keep
        self.perSubscriberBuffer = perSubscriberBuffer
    }

    /// Publishes an event (its id assigned here) to every subscriber; returns it.
    @discardableResult
    public func publish(_ type: LedgerEvent.Kind, proposal: String? = nil, signatures: Int? = nil, rejections: Int? = nil,
                        sequence: UInt64? = nil, hash: String? = nil, at now: Date = Date()) -> LedgerEvent? {
        state.withLock { state -> LedgerEvent? in
            guard !state.finished else { return nil }
            state.counter += 1
            let event = LedgerEvent(id: "\(epoch).\(state.counter)", type: type, proposal: proposal, signatures: signatures,
                                    rejections: rejections, sequence: sequence, hash: hash, at: RFC3339.format(now))
            state.recent.append(event)
            if state.recent.count > keep { state.recent.removeFirst(state.recent.count - keep) }
            // A subscriber that does not keep up loses the oldest buffered events (bounded memory);
            // it can re-read the queue.
            for (_, continuation) in state.subscribers { continuation.yield(.event(event)) }
            return event
        }
    }

    /// A stream of the events from now on, preceded by the kept events after `lastEventID` (when it
    /// is one of this service's ids). Finished when the service shuts down.
    public func subscribe(after lastEventID: String?) -> AsyncStream<Item> {
        let (stream, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(perSubscriberBuffer))
        let key: UInt64? = state.withLock { state in
            if state.finished { return nil }
            if let after = lastEventID.flatMap(counter(of:)) {
                for event in state.recent where (counter(of: event.id) ?? 0) > after { continuation.yield(.event(event)) }
            }
            let key = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[key] = continuation
            return key
        }
        guard let key else { continuation.finish(); return stream }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: key) }
        }
        return stream
    }

    /// A keep-alive to every stream.
    public func heartbeat() {
        state.withLock { state in
            for (_, continuation) in state.subscribers { continuation.yield(.heartbeat) }
        }
    }

    /// The events kept (oldest first).
    public var recent: [LedgerEvent] { state.withLock { $0.recent } }

    /// How many streams are open.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Ends every stream (graceful shutdown); later publishes are dropped.
    public func finish() {
        let open = state.withLock { state -> [AsyncStream<Item>.Continuation] in
            state.finished = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in open { continuation.finish() }
    }

    /// The counter of one of this service's event ids (nil for another epoch's or a malformed id).
    func counter(of id: String) -> UInt64? {
        if id == "0" { return 0 } // "from the oldest event kept"
        let parts = id.split(separator: ".")
        guard parts.count == 2, UInt64(parts[0]) == epoch else { return nil }
        return UInt64(parts[1])
    }
}
