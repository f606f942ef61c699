import Synchronization

/// What a change a service announced is about — what a waiting client looks at to decide whether
/// the change gives it work (a signer has work when a proposal is queued, and verifies ahead when
/// an entry is committed, not when someone else signs; a coordinator has work on every change).
public enum LedgerChange: Sendable, CaseIterable {
    /// A proposal was queued (event `queued`).
    case queued
    /// A proposal's signatures or rejections moved, or it was vetoed or expired (events
    /// `signature`, `rejection`, `vetoed`, `expired`).
    case confirmations
    /// An entry was committed: the head moved (event `committed`).
    case committed

    /// The change a service event of this name (its SSE `event:` field) announces; nil for a name
    /// this client does not know (which wakes every waiter: it may be anything).
    public init?(event name: String) {
        switch name {
        case "queued": self = .queued
        case "signature", "rejection", "vetoed", "expired": self = .confirmations
        case "committed": self = .committed
        default: return nil
        }
    }
}

/// Counters a storage bumps when it learns the ledger changed (a remote service's event stream),
/// one per kind of change: a signer or coordinator waiting out its poll interval passes again as
/// soon as a change it has work for is announced. It only wakes: what the woken pass reads is
/// verified like any other read.
public final class ChangeSignal: Sendable {
    private let queued = Atomic<UInt64>(0)
    private let confirmations = Atomic<UInt64>(0)
    private let committed = Atomic<UInt64>(0)

    public init() {}

    private func counter(_ change: LedgerChange) -> UInt64 {
        switch change {
        case .queued: queued.load(ordering: .acquiring)
        case .confirmations: confirmations.load(ordering: .acquiring)
        case .committed: committed.load(ordering: .acquiring)
        }
    }

    /// Counts one change of this kind.
    public func bump(_ change: LedgerChange) {
        switch change {
        case .queued: queued.add(1, ordering: .releasing)
        case .confirmations: confirmations.add(1, ordering: .releasing)
        case .committed: committed.add(1, ordering: .releasing)
        }
    }

    /// Counts a change of every kind (the stream (re)connected and what happened while away is
    /// unknown, or an event this client does not know).
    public func bumpAll() {
        for change in LedgerChange.allCases { bump(change) }
    }

    /// The changes of these kinds counted so far (compare two readings to see whether one came).
    public func value(of changes: Set<LedgerChange> = Set(LedgerChange.allCases)) -> UInt64 {
        changes.reduce(0) { $0 &+ counter($1) }
    }

    /// Every change counted so far.
    public var value: UInt64 { value() }
}

extension LedgerStorage {
    /// Starts following the ledger's changes, when the storage can be told of them (nil: poll).
    public func watchChanges() -> ChangeSignal? { nil }
}
