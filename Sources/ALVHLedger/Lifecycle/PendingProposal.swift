import ALVHStorage

/// A proposal waiting in the ledger's queue.
public struct PendingProposal: Sendable, Codable, Equatable {
    /// The envelope id (hex SHA-256 of its PAE).
    public var id: String
    public var kind: String
    public var sequence: UInt64
    public var base: String
    public var created: String
    public var expires: String
    public var proposer: String
    public var queuedAt: String
    /// Where it stands (typed: decisions switch on it). In JSON: "pending", "expired", "stale", "vetoed".
    public var status: PendingStatus
    /// Signatures collected so far (all, counted or not).
    public var signatureCount: Int
    /// Signed rejections collected so far.
    public var rejectionCount: Int

    public init(_ stored: StoredPending) {
        id = stored.id
        kind = stored.kind
        sequence = stored.sequence
        base = stored.base
        created = stored.created
        expires = stored.expires
        proposer = stored.proposer
        queuedAt = stored.queuedAt
        status = stored.status
        signatureCount = stored.signatureCount
        rejectionCount = stored.rejectionCount
    }
}
