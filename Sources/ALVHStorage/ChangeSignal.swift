import Synchronization

/// A counter a storage bumps when it learns the ledger changed (a remote service's event stream):
/// a signer or coordinator waiting out its poll interval passes again as soon as it moves. It only
/// wakes: what the woken pass reads is verified like any other read.
public final class ChangeSignal: Sendable {
    private let count = Atomic<UInt64>(0)
    public init() {}
    public func bump() { count.add(1, ordering: .releasing) }
    public var value: UInt64 { count.load(ordering: .acquiring) }
}

extension LedgerStorage {
    /// Starts following the ledger's changes, when the storage can be told of them (nil: poll).
    public func watchChanges() -> ChangeSignal? { nil }
}
