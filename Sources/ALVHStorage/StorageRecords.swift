/// The rows a ledger storage keeps, as plain values: no database type crosses the seam.
///
/// The storage knows nothing of envelopes, policies or signatures' meaning: it keeps bytes and the
/// few columns its queries need, and enforces the ledger's structural rules (append-only entries,
/// one head, one signature per key per proposal, one live signature per key per entry) in its own
/// transactions. What is *valid* is decided above it, by the ledger's rules, on verified bytes.

/// One committed entry as stored (the hash is the stored column, as written: verification compares it).
public struct StoredEntry: Sendable, Equatable {
    public var sequence: UInt64
    public var previousHash: String
    /// "genesis", "layer-change" or "policy-change".
    public var kind: String
    public var envelope: [UInt8]
    public var attachments: [UInt8]
    public var policyHash: String
    public var committedAt: String
    public var hash: String
    public var committerSignature: [UInt8]

    public init(sequence: UInt64, previousHash: String, kind: String, envelope: [UInt8], attachments: [UInt8],
                policyHash: String, committedAt: String, hash: String, committerSignature: [UInt8]) {
        self.sequence = sequence
        self.previousHash = previousHash
        self.kind = kind
        self.envelope = envelope
        self.attachments = attachments
        self.policyHash = policyHash
        self.committedAt = committedAt
        self.hash = hash
        self.committerSignature = committerSignature
    }

    /// The head this entry makes.
    public var ref: HeadRef { HeadRef(sequence: sequence, hash: hash) }

    /// The head `entries` make after `head`, once checked that they continue it in order, each
    /// linked to the one before, none a genesis, every sequence a database integer.
    /// - Throws: ``StorageError/Code/refused`` naming the first entry that does not.
    public static func head(after head: HeadRef, appending entries: [StoredEntry], location: String) throws -> HeadRef {
        var previous = head
        for entry in entries {
            guard entry.sequence == previous.sequence &+ 1, entry.previousHash == previous.hash, entry.kind != "genesis",
                  Int64(exactly: entry.sequence) != nil else {
                throw StorageError(.refused, "entry \(entry.sequence) does not continue \(previous): entries are appended in order, each linked to the one before", path: location)
            }
            previous = entry.ref
        }
        return previous
    }

    /// True for the kinds that adopt a policy (genesis, policy-change).
    public var adoptsPolicy: Bool { kind == "genesis" || kind == "policy-change" }
}

/// A head: the last entry's sequence and hash. Every deciding write names the head it was decided
/// on; the storage writes only if that is still the head, in the same transaction.
public struct HeadRef: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var sequence: UInt64
    public var hash: String
    public init(sequence: UInt64, hash: String) {
        self.sequence = sequence
        self.hash = hash
    }
    public var description: String { "entry \(sequence) (\(hash.prefix(16))…)" }
}

/// Where a queued proposal stands. Typed: decisions switch on it, never on its wording.
public enum PendingStatus: String, Sendable, Codable, CaseIterable, Equatable {
    /// Open: it can still collect signatures and be committed.
    case pending
    /// Its window ended before it was committed.
    case expired
    /// The head moved past its base: it can never be committed (re-propose).
    case stale
    /// A veto role's valid signed rejection stands against it.
    case vetoed
}

/// The queued proposal a commit removes, and the queue state the commit was decided on.
///
/// A committer decides on the proposal's status and on the rejections stored for its entry (a
/// veto among them forbids the commit). ``LedgerStorage/append(_:book:blobs:removing:decidedOn:)``
/// checks, in the transaction that writes, that the proposal is still queued and `pending` and that
/// ``LedgerStorage/slotRejections(sequence:)`` for its entry still counts `slotRejections`; otherwise
/// it writes nothing and answers ``WriteOutcome/queueChanged``, so that a rejection (a veto) stored
/// between the read and the write is never lost.
public struct PendingRemoval: Sendable, Equatable {
    /// The committed proposal's id.
    public var id: String
    /// How many rejections of all queued proposals for the proposal's entry the commit was decided on
    /// (`slotRejections(sequence:).count` as read).
    public var slotRejections: Int
    public init(id: String, slotRejections: Int) {
        self.id = id
        self.slotRejections = slotRejections
    }
}

/// A proposal to put in the queue.
public struct NewPending: Sendable, Equatable {
    public var id: String
    public var payload: [UInt8]
    public var payloadType: String
    public var kind: String
    public var sequence: UInt64
    public var base: String
    public var created: String
    public var expires: String
    /// The proposer's key id (hex).
    public var proposer: String
    public var queuedAt: String
    /// A policy change's key files (JSON), queued with it.
    public var attachments: [UInt8]?

    public init(id: String, payload: [UInt8], payloadType: String, kind: String, sequence: UInt64, base: String, created: String,
                expires: String, proposer: String, queuedAt: String, attachments: [UInt8]?) {
        self.id = id
        self.payload = payload
        self.payloadType = payloadType
        self.kind = kind
        self.sequence = sequence
        self.base = base
        self.created = created
        self.expires = expires
        self.proposer = proposer
        self.queuedAt = queuedAt
        self.attachments = attachments
    }
}

/// A queued proposal as stored, with its counts.
public struct StoredPending: Sendable, Equatable {
    public var id: String
    public var payload: [UInt8]
    public var payloadType: String
    public var kind: String
    public var sequence: UInt64
    public var base: String
    public var created: String
    public var expires: String
    public var proposer: String
    public var queuedAt: String
    public var attachments: [UInt8]?
    public var status: PendingStatus
    public var signatureCount: Int
    public var rejectionCount: Int

    public init(_ new: NewPending, status: PendingStatus, signatureCount: Int, rejectionCount: Int) {
        id = new.id
        payload = new.payload
        payloadType = new.payloadType
        kind = new.kind
        sequence = new.sequence
        base = new.base
        created = new.created
        expires = new.expires
        proposer = new.proposer
        queuedAt = new.queuedAt
        attachments = new.attachments
        self.status = status
        self.signatureCount = signatureCount
        self.rejectionCount = rejectionCount
    }
}

/// A verified signature to store: the DSSE signature object and the canonical key id of the key
/// that made it (decided above the storage; the envelope's own `keyid` is kept but never trusted).
public struct NewSignature: Sendable, Equatable {
    public var keyid: String?
    public var sig: [UInt8]
    /// Canonical key id (hex) of the verifying key.
    public var signerKey: String
    public var addedAt: String
    public init(keyid: String?, sig: [UInt8], signerKey: String, addedAt: String) {
        self.keyid = keyid
        self.sig = sig
        self.signerKey = signerKey
        self.addedAt = addedAt
    }
}

/// A stored signature, in arrival order.
public struct StoredSignature: Sendable, Equatable {
    public var keyid: String?
    public var sig: [UInt8]
    public var signerKey: String
    public init(keyid: String?, sig: [UInt8], signerKey: String) {
        self.keyid = keyid
        self.sig = sig
        self.signerKey = signerKey
    }
}

/// Another open proposal for the same entry that a key has signed: what the double-sign rule
/// looks at (the ledger decides, inside the storage's transaction, whether it blocks).
///
/// Whatever its status column says (a keyless writer can flip it): the rule decides on the signed
/// payload (its id, expiry, proposer and entry) and the signed rejections, which it verifies.
public struct SlotSignature: Sendable, Equatable {
    public var pendingID: String
    /// The row's expiry column (for messages; the rule reads the payload's).
    public var expires: String
    public var proposer: String
    /// The key (canonical id, hex) whose new signature meets this one: it signed both.
    public var signerKey: String
    /// The other proposal's payload and payload type, as stored (its id is their PAE's hash).
    public var payload: [UInt8]
    public var payloadType: String
    /// The other proposal's signed rejections (envelope bytes), in arrival order.
    public var rejections: [[UInt8]]
    public init(pendingID: String, expires: String, proposer: String, signerKey: String,
                payload: [UInt8] = [], payloadType: String = "", rejections: [[UInt8]] = []) {
        self.pendingID = pendingID
        self.expires = expires
        self.proposer = proposer
        self.signerKey = signerKey
        self.payload = payload
        self.payloadType = payloadType
        self.rejections = rejections
    }
}

/// The double-sign rule the storage applies inside its transaction: true when the given other
/// signature by the same key blocks the new one. Pure: it runs while the write lock is held.
public typealias SlotConflictRule = @Sendable (SlotSignature) -> Bool
