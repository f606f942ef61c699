import Foundation
import Testing
import Logging
import ALVHApproval
import ALVHLedger
import ALVHService
import ALVHTestSupport

/// The watcher's looks, driven by hand: proposals closed by other processes between two looks
/// (committed, stale, expired, vetoed), read by id because a look reads only the open proposals.
@Suite("ledger watcher")
struct WatcherTests {
    /// A watcher that is not running (its looks are the test's `poll()` calls), primed on the ledger.
    func watcher(_ ledger: Ledger) async throws -> LedgerWatcher {
        let watcher = LedgerWatcher(ledger: ledger, broadcaster: EventBroadcaster(), interval: .seconds(3600), logger: Logger(label: "test"))
        try await watcher.prime()
        return watcher
    }

    func types(_ watcher: LedgerWatcher) -> [String] { watcher.broadcaster.recent.map(\.type.rawValue) }

    @Test("open, then a signature and expired (marked by a coordinator) before the next look: signature, expired; once")
    func expiredBetweenLooks() async throws {
        let f = try await ServiceFixture()
        let ledger = try await f.openLedger()
        let (envelope, snapshot) = try await f.proposal(on: ledger)
        _ = try await ledger.enqueue(envelope, snapshot: snapshot, at: Date())
        let watcher = try await watcher(ledger)
        #expect(types(watcher) == []) // primed: known, not announced
        try await ledger.addSignature(try f.signature("s1", over: envelope), to: envelope.id, at: Date())
        let marked = try await ledger.markExpiredAndStale(at: Date().addingTimeInterval(7200))
        #expect(marked.map(\.status) == [.expired])
        #expect(try await ledger.openProposals().isEmpty)
        try await watcher.poll()
        #expect(types(watcher) == ["signature", "expired"])
        #expect(watcher.broadcaster.recent.allSatisfy { $0.proposal == envelope.id })
        #expect(watcher.broadcaster.recent.first?.signatures == 2)
        try await watcher.poll()
        try await watcher.poll(touching: [envelope.id])
        #expect(types(watcher) == ["signature", "expired"], "a closed proposal is announced once")
        try await ledger.close()
    }

    @Test("open, then a veto stored by another process (the row vetoed in the same write): rejection, vetoed")
    func vetoedBetweenLooks() async throws {
        let f = try await ServiceFixture()
        let ledger = try await f.openLedger()
        let (envelope, snapshot) = try await f.proposal(on: ledger)
        _ = try await ledger.enqueue(envelope, snapshot: snapshot, at: Date())
        let watcher = try await watcher(ledger)
        let rejection = try RejectionDocument.signedEnvelope(rejecting: envelope.id, reason: "over limit", key: f.keys["lim"]!, at: Date())
        #expect(try await ledger.addRejection(rejection, to: envelope.id, at: Date()))
        #expect(try await ledger.pending(id: envelope.id).status == .vetoed)
        try await watcher.poll()
        #expect(types(watcher) == ["rejection", "vetoed"])
        try await watcher.poll()
        #expect(types(watcher) == ["rejection", "vetoed"])
        try await ledger.close()
    }

    @Test("one of two rivals committed by another process, the other marked stale: committed only, each once")
    func committedAndStaleBetweenLooks() async throws {
        let f = try await ServiceFixture()
        let ledger = try await f.openLedger()
        let (first, snapshot) = try await f.proposal(on: ledger)
        let (rival, _) = try await f.proposal(on: ledger, lifetime: 3000) // the same entry, another id
        #expect(first.id != rival.id)
        _ = try await ledger.enqueue(first, snapshot: snapshot, at: Date())
        _ = try await ledger.enqueue(rival, snapshot: snapshot, at: Date())
        let watcher = try await watcher(ledger)
        for name in ["s1", "s2"] { try await ledger.addSignature(try f.signature(name, over: first), to: first.id, at: Date()) }
        let entry = try await ledger.commit(id: first.id, committer: f.keys["committer"]!, at: Date())
        #expect(try await ledger.markExpiredAndStale(at: Date()).map(\.status) == [.stale])
        try await watcher.poll()
        // The committed proposal is gone from the queue (its signatures went with it into the entry);
        // a stale proposal has no event of its own.
        #expect(types(watcher) == ["committed"])
        #expect(watcher.broadcaster.recent.first?.proposal == first.id && watcher.broadcaster.recent.first?.sequence == entry.sequence)
        try await watcher.poll(touching: [first.id, rival.id])
        #expect(types(watcher) == ["committed"])
        try await ledger.close()
    }

    @Test("queued and vetoed before the watcher looked: the write that touched it names it, and all three are announced")
    func touchedByAWrite() async throws {
        let f = try await ServiceFixture()
        let ledger = try await f.openLedger()
        let watcher = try await watcher(ledger)
        let (envelope, snapshot) = try await f.proposal(on: ledger)
        _ = try await ledger.enqueue(envelope, snapshot: snapshot, at: Date())
        let rejection = try RejectionDocument.signedEnvelope(rejecting: envelope.id, reason: "over limit", key: f.keys["lim"]!, at: Date())
        #expect(try await ledger.addRejection(rejection, to: envelope.id, at: Date()))
        try await watcher.poll(touching: [envelope.id])
        #expect(types(watcher) == ["queued", "rejection", "vetoed"])
        try await watcher.poll(touching: [envelope.id])
        #expect(types(watcher) == ["queued", "rejection", "vetoed"])
        try await ledger.close()
    }
}
