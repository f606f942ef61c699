import Foundation
import Logging
import ServiceLifecycle
import ALVHApproval
import ALVHLedger
import ALVHStorage

/// Turns changes of the ledger's head and queue into ``LedgerEvent``s.
///
/// The service's own writes call ``poll()`` before they answer (so their events are out at once);
/// writes by other processes on the same ledger (a coordinator, `alvh sign`, another service) are
/// seen by the poll it runs every `interval` (250 ms by default). Every look compares what it reads
/// with what it knew, and what it knew only moves forward (counts up, heads on, a proposal leaves
/// `pending` once), so two looks that overlap never announce one change twice.
///
/// A look reads the open proposals only (``Ledger/openProposals()``, a partial index: the finished
/// rows the queue keeps for the record are not read again on every pass), and looks up by id the
/// proposals that were open at the last look and are not any more — committed (gone from the queue:
/// the `committed` event comes from the entry), expired, stale or vetoed — so that their last
/// signatures, rejections and their end are announced as before. A write of this service names the
/// proposal it touched (``poll(touching:)``), so a proposal that this write both queued-elsewhere-
/// and-closed (a veto stored in the same transaction) is still announced. A proposal that **other
/// processes** queue and close between two looks (within one interval) is never seen open, and is
/// not announced (a commit still is, by its entry).
public actor LedgerWatcher: Service {
    struct Known {
        var signatures: Int
        var rejections: Int
        var open: Bool
        var vetoed: Bool
        var expired: Bool
    }

    struct Look {
        /// The open proposals, and the ones that left the open set since the last look, as they are now.
        var pending: [PendingProposal]
        /// Proposals read by id that are not in the queue any more (committed).
        var gone: Set<String>
        var vetoed: Set<String>
        var head: UInt64
        var entries: [LedgerEntry]
    }

    let ledger: Ledger
    public nonisolated let broadcaster: EventBroadcaster
    let interval: Duration
    let logger: Logger
    var known: [String: Known] = [:]
    var head: UInt64?

    public init(ledger: Ledger, broadcaster: EventBroadcaster, interval: Duration = .milliseconds(250), logger: Logger) {
        self.ledger = ledger
        self.broadcaster = broadcaster
        self.interval = interval
        self.logger = logger
    }

    /// Learns the current head and queue without announcing them (done before the service listens).
    public func prime() async throws {
        guard head == nil else { return }
        let look = try await self.look(now: Date(), touching: [])
        guard head == nil else { return }
        head = look.head
        for row in look.pending {
            known[row.id] = Known(signatures: row.signatureCount, rejections: row.rejectionCount, open: row.status == .pending,
                                  vetoed: row.status == .vetoed || look.vetoed.contains(row.id),
                                  expired: row.status == .expired || Self.isExpired(row, at: Date()))
        }
    }

    /// Looks at the ledger and announces what changed since the last look. `touching`: proposals a
    /// write just changed, read by id when they are not open (a veto closes its proposal in the
    /// transaction that stores it; a proposal this watcher never saw open is announced all the same).
    public func poll(touching touched: [String] = []) async throws {
        if head == nil { try await prime(); return }
        let now = Date()
        apply(try await look(now: now, touching: touched), now: now)
    }

    public func run() async throws {
        try await prime()
        await withGracefulShutdownHandler {
            var lastHeartbeat = ContinuousClock.now
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                try? await Task.sleep(for: interval)
                if ContinuousClock.now - lastHeartbeat >= .seconds(15) {
                    broadcaster.heartbeat()
                    lastHeartbeat = .now
                }
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                do { try await poll() } catch {
                    logger.warning("watcher: could not read the ledger: \(error)")
                }
            }
        } onGracefulShutdown: { [broadcaster] in
            // The event streams end first, so the HTTP server's own shutdown does not wait on them.
            broadcaster.finish()
        }
        broadcaster.finish()
    }

    // MARK: -

    func look(now: Date, touching touched: [String]) async throws -> Look {
        let head = try await ledger.head().sequence
        var pending = try await ledger.openProposals()
        // Open at the last look (or just touched by a write) and not open now: read each by id.
        let open = Set(pending.map(\.id))
        var gone: Set<String> = []
        var left = Set(known.filter { $0.value.open && !open.contains($0.key) }.keys)
        for id in touched where !open.contains(id) && known[id]?.open != false { left.insert(id) }
        for id in left.sorted() {
            do {
                pending.append(try await ledger.pending(id: id))
            } catch let error as LedgerError where error.code == .notFound {
                gone.insert(id) // committed (its entry announces it), or never queued
            }
        }
        var vetoed: Set<String> = []
        for row in pending where row.status == .pending && row.rejectionCount > (known[row.id]?.rejections ?? 0) {
            // A new rejection: is it a veto that verifies? (The coordinator marks the row later.)
            if let report = try? await ledger.evaluate(id: row.id, at: now), report.isVetoed { vetoed.insert(row.id) }
        }
        let from = (self.head ?? head) + 1
        let entries = head >= from ? try await ledger.entries(from: from, limit: 256) : []
        return Look(pending: pending, gone: gone, vetoed: vetoed, head: head, entries: entries)
    }

    func apply(_ look: Look, now: Date) {
        for entry in look.entries where entry.sequence > (head ?? 0) {
            let proposal = entry.kind == .genesis ? nil : (try? Envelope.decode(entry.envelope))?.id
            broadcaster.publish(.committed, proposal: proposal, sequence: entry.sequence, hash: entry.hash, at: now)
            head = entry.sequence
            if let proposal { known[proposal, default: Self.closed].open = false }
        }
        for id in look.gone { known[id, default: Self.closed].open = false }
        for row in look.pending {
            // Closed already (by a newer look that overlapped this one, or by its entry): nothing
            // more to say about it.
            if known[row.id]?.open == false { continue }
            // A proposal seen for the first time: queued with the signatures it came with (its
            // rejections, if any, are announced as such).
            var state = known[row.id] ?? Known(signatures: row.signatureCount, rejections: 0, open: true, vetoed: false, expired: false)
            if known[row.id] == nil {
                broadcaster.publish(.queued, proposal: row.id, signatures: row.signatureCount, rejections: 0, sequence: row.sequence, at: now)
            }
            if row.signatureCount > state.signatures {
                state.signatures = row.signatureCount
                broadcaster.publish(.signature, proposal: row.id, signatures: row.signatureCount, rejections: state.rejections,
                                    sequence: row.sequence, at: now)
            }
            if row.rejectionCount > state.rejections {
                state.rejections = row.rejectionCount
                broadcaster.publish(.rejection, proposal: row.id, signatures: state.signatures, rejections: row.rejectionCount,
                                    sequence: row.sequence, at: now)
            }
            if !state.vetoed && (row.status == .vetoed || look.vetoed.contains(row.id)) {
                state.vetoed = true
                broadcaster.publish(.vetoed, proposal: row.id, signatures: state.signatures, rejections: state.rejections,
                                    sequence: row.sequence, at: now)
            }
            if !state.expired && (row.status == .expired || Self.isExpired(row, at: now)) {
                state.expired = true
                broadcaster.publish(.expired, proposal: row.id, signatures: state.signatures, rejections: state.rejections,
                                    sequence: row.sequence, at: now)
            }
            if row.status != .pending { state.open = false }
            known[row.id] = state
        }
        if look.head > (head ?? 0) && look.entries.isEmpty { head = look.head }
        if known.count > 100_000 { // what is left of closed proposals: forget them, keep memory bounded
            known = known.filter(\.value.open)
        }
    }

    /// What is known of a proposal seen only as closed (committed or gone): nothing more to announce.
    static let closed = Known(signatures: 0, rejections: 0, open: false, vetoed: false, expired: false)

    static func isExpired(_ row: PendingProposal, at now: Date) -> Bool {
        guard let expires = RFC3339.parse(row.expires) else { return false }
        return now >= expires
    }
}
