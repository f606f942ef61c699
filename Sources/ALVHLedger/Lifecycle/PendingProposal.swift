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
    /// pending, expired, stale, or vetoed (a veto role's valid signed rejection).
    public var status: String
    /// Signatures collected so far (all, counted or not).
    public var signatureCount: Int
    /// Signed rejections collected so far.
    public var rejectionCount: Int
}
