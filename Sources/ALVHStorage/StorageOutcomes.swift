/// What a deciding write did. Typed: callers switch on the case, never on a message.
public enum WriteOutcome<Value: Sendable>: Sendable {
    /// Written: the head was still the one the write was decided on.
    case done(Value)
    /// Nothing written: the head is no longer the one the write was decided on (another writer
    /// appended meanwhile). The caller verifies the new entries and decides again.
    case headMoved(current: HeadRef?)
    /// Nothing written: the queued proposal's state (its status, the rejections for its entry) is
    /// no longer what the write was decided on; read it again and decide again. Answered by
    /// ``LedgerStorage/append(_:book:blobs:removing:decidedOn:)`` only, and only once the head was
    /// found unchanged (a moved head answers ``headMoved(current:)`` first).
    case queueChanged
}

extension WriteOutcome: Equatable where Value: Equatable {}

/// What storing a proposal's signatures did.
public enum SignatureOutcome: Sendable, Equatable {
    /// Stored.
    case added
    /// This key's signature on this proposal is there already (nothing to do).
    case alreadyThere
    /// The same key's signature stands on another open proposal for the same entry: the whole
    /// write was rolled back (double-sign refused).
    case doubleSign(SlotSignature)
    /// The proposal carries the most signatures an envelope may: rolled back.
    case tooMany(count: Int)
}

/// What ``LedgerStorage/enqueue(_:blobs:signatures:maxSignatures:conflicts:decidedOn:)`` did.
public enum EnqueueOutcome: Sendable, Equatable {
    /// Queued (new) or merged into the queued copy; one outcome per signature, in order.
    case queued(isNew: Bool, signatures: [SignatureOutcome], pending: StoredPending)
    /// The proposal is queued already but no longer open: nothing written.
    case notOpen(PendingStatus)
    /// No proposal with that id is queued (a signature for a proposal not in the queue).
    case notQueued
    /// A signature was refused (double-sign, too many): nothing at all was written.
    case refused(index: Int, SignatureOutcome)
}

/// What a status change did.
public enum StatusChange: Sendable, Equatable {
    public var id: String { switch self { case .marked(let id, _), .unchanged(let id, _): id } }
    /// The proposal moved from pending to the new status.
    case marked(id: String, to: PendingStatus)
    /// It was not pending any more (its status is given): nothing written.
    case unchanged(id: String, status: PendingStatus?)
}
