/// The DSSE payload types alvh signs. The type is inside the signed bytes (PAE), so a signature
/// over a proposal cannot be presented as a rejection, or the other way round.
public enum PayloadTypes {
    /// A hedge or policy change proposal (``ProposalDocument``).
    public static let proposal = "application/vnd.alvh.proposal+json;version=1"
    /// A signed rejection of a proposal (``RejectionDocument``).
    public static let rejection = "application/vnd.alvh.rejection+json;version=1"

    /// Whether `type` is the proposal type, compared byte for byte: Swift's `==` on strings treats
    /// canonically equivalent text as equal (U+037E GREEK QUESTION MARK equals ';').
    public static func isProposal(_ type: String) -> Bool { type.utf8.elementsEqual(proposal.utf8) }

    /// Whether `type` is the rejection type, compared byte for byte.
    public static func isRejection(_ type: String) -> Bool { type.utf8.elementsEqual(rejection.utf8) }
}

/// Where a proposal sits in a ledger: the bytes that make a signature good for one slot only.
public struct LedgerBinding: Sendable, Codable, Equatable {
    /// The ledger id: hex hash of the ledger's genesis entry.
    public var ledgerID: String
    /// Hex hash of the ledger head the proposal was built on.
    public var base: String
    /// The entry number the proposal would become (the nonce).
    public var sequence: UInt64
    /// Hex SHA-256 of the policy file in force at `base`.
    public var policyHash: String

    public init(ledgerID: String, base: String, sequence: UInt64, policyHash: String) {
        self.ledgerID = ledgerID
        self.base = base
        self.sequence = sequence
        self.policyHash = policyHash
    }
}

/// The ledger state a proposal is checked against at commit time.
public struct LedgerContext: Sendable, Equatable {
    public var ledgerID: String
    /// Hex hash of the current head entry.
    public var head: String
    /// The sequence number the next entry gets (head + 1).
    public var nextSequence: UInt64

    public init(ledgerID: String, head: String, nextSequence: UInt64) {
        self.ledgerID = ledgerID
        self.head = head
        self.nextSequence = nextSequence
    }
}
