import Foundation

/// The storage's rows as JSON, for `alvh serve`'s raw store routes (`/v1/store/…`) and the client
/// that reads them (`RemoteLedgerStorage`). Bytes travel as standard base64.
///
/// These are the rows as the service's database holds them, **not** vouched for: a client puts
/// them under its own ledger rules (chain and signatures verified from genesis or its checkpoint,
/// blobs hashed to their names, envelopes verified before their payload is read), exactly as it
/// does with rows from a database it does not trust.
public enum StoreWire {
    /// Bytes as base64, decoded with a field name for the error.
    public static func bytes(_ text: String, field: String) throws -> [UInt8] {
        guard let data = Data(base64Encoded: text) else {
            throw StorageError(.corrupt, "\(field) is not base64", path: field)
        }
        return Array(data)
    }

    public static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// One entry: the same JSON as the entries stream and `ledger export` (`ExportedEntry`).
    public struct Entry: Codable, Sendable, Equatable {
        public var sequence: UInt64
        public var previousHash: String
        public var kind: String
        public var envelope: String
        public var attachments: String
        public var policyHash: String
        public var committedAt: String
        public var hash: String
        public var committerSignature: String?

        public init(_ entry: StoredEntry) {
            sequence = entry.sequence
            previousHash = entry.previousHash
            kind = entry.kind
            envelope = StoreWire.base64(entry.envelope)
            attachments = StoreWire.base64(entry.attachments)
            policyHash = entry.policyHash
            committedAt = entry.committedAt
            hash = entry.hash
            committerSignature = StoreWire.base64(entry.committerSignature)
        }

        public func stored() throws -> StoredEntry {
            StoredEntry(sequence: sequence, previousHash: previousHash, kind: kind,
                        envelope: try StoreWire.bytes(envelope, field: "entry \(sequence): envelope"),
                        attachments: try StoreWire.bytes(attachments, field: "entry \(sequence): attachments"),
                        policyHash: policyHash, committedAt: committedAt, hash: hash,
                        committerSignature: try StoreWire.bytes(committerSignature ?? "", field: "entry \(sequence): committerSignature"))
        }
    }

    /// A queued proposal row with its status and counts.
    public struct Pending: Codable, Sendable, Equatable {
        public var id: String
        public var payload: String
        public var payloadType: String
        public var kind: String
        public var sequence: UInt64
        public var base: String
        public var created: String
        public var expires: String
        public var proposer: String
        public var queuedAt: String
        public var attachments: String?
        public var status: PendingStatus
        public var signatureCount: Int
        public var rejectionCount: Int

        public init(_ row: StoredPending) {
            id = row.id
            payload = StoreWire.base64(row.payload)
            payloadType = row.payloadType
            kind = row.kind
            sequence = row.sequence
            base = row.base
            created = row.created
            expires = row.expires
            proposer = row.proposer
            queuedAt = row.queuedAt
            attachments = row.attachments.map(StoreWire.base64)
            status = row.status
            signatureCount = row.signatureCount
            rejectionCount = row.rejectionCount
        }

        public func stored() throws -> StoredPending {
            let new = NewPending(id: id, payload: try StoreWire.bytes(payload, field: "proposal \(id.prefix(16)): payload"), payloadType: payloadType,
                                 kind: kind, sequence: sequence, base: base, created: created, expires: expires, proposer: proposer,
                                 queuedAt: queuedAt,
                                 attachments: try attachments.map { try StoreWire.bytes($0, field: "proposal \(id.prefix(16)): attachments") })
            return StoredPending(new, status: status, signatureCount: signatureCount, rejectionCount: rejectionCount)
        }
    }

    public struct Queue: Codable, Sendable { public var proposals: [Pending]; public init(proposals: [Pending]) { self.proposals = proposals } }

    /// A stored signature (the DSSE object and the canonical key id it was stored under).
    public struct Signature: Codable, Sendable, Equatable {
        public var keyid: String?
        public var sig: String
        public var signerKey: String
        public init(_ row: StoredSignature) {
            keyid = row.keyid
            sig = StoreWire.base64(row.sig)
            signerKey = row.signerKey
        }
        public func stored() throws -> StoredSignature {
            StoredSignature(keyid: keyid, sig: try StoreWire.bytes(sig, field: "signature sig"), signerKey: signerKey)
        }
    }

    public struct Signatures: Codable, Sendable { public var signatures: [Signature]; public init(signatures: [Signature]) { self.signatures = signatures } }

    /// Envelopes (signed rejections), each base64.
    public struct Envelopes: Codable, Sendable { public var rejections: [String]; public init(rejections: [String]) { self.rejections = rejections } }

    public struct IDs: Codable, Sendable { public var ids: [String]; public init(ids: [String]) { self.ids = ids } }

    public struct Meta: Codable, Sendable, Equatable {
        public var ledgerID: String?
        public var format: String?
        public init(ledgerID: String?, format: String?) {
            self.ledgerID = ledgerID
            self.format = format
        }
    }

    public struct Book: Codable, Sendable { public var sequence: UInt64; public var json: String; public init(sequence: UInt64, json: String) { self.sequence = sequence; self.json = json } }

    public struct Blob: Codable, Sendable { public var hash: String; public var bytes: String; public init(hash: String, bytes: String) { self.hash = hash; self.bytes = bytes } }
    public struct Blobs: Codable, Sendable { public var blobs: [Blob]; public init(blobs: [Blob]) { self.blobs = blobs } }

    public struct Head: Codable, Sendable, Equatable {
        public var sequence: UInt64
        public var hash: String
        public init(_ ref: HeadRef) {
            sequence = ref.sequence
            hash = ref.hash
        }
        public var ref: HeadRef { HeadRef(sequence: sequence, hash: hash) }
    }

    /// `POST /v1/ledger/entries`: entries a remote committer signed, decided on `decidedOn`, that
    /// commit the queued proposal `proposal`. The service verifies them as an auditor would before
    /// it appends them.
    public struct Append: Codable, Sendable {
        public var decidedOn: Head
        public var proposal: String
        public var entries: [Entry]
        public init(decidedOn: Head, proposal: String, entries: [Entry]) {
            self.decidedOn = decidedOn
            self.proposal = proposal
            self.entries = entries
        }
    }

    /// `POST /v1/queue/statuses`: status marks the client decided; the service decides each again
    /// on its own verified ledger and clock and answers where each proposal now stands.
    public struct StatusRequest: Codable, Sendable {
        public struct Change: Codable, Sendable {
            public var id: String
            public var status: PendingStatus
            public init(id: String, status: PendingStatus) {
                self.id = id
                self.status = status
            }
        }
        public var changes: [Change]
        public init(changes: [Change]) { self.changes = changes }
    }

    public struct StatusResult: Codable, Sendable {
        public struct Line: Codable, Sendable {
            public var id: String
            /// Where it stands now (nil: not queued).
            public var status: PendingStatus?
            /// Whether this request moved it there.
            public var marked: Bool
            public init(id: String, status: PendingStatus?, marked: Bool) {
                self.id = id
                self.status = status
                self.marked = marked
            }
        }
        public var results: [Line]
        public init(results: [Line]) { self.results = results }
    }

    /// The error JSON of every non-2xx answer (the CLI's shape): `{"error": {code, reason, path}}`.
    public struct Problem: Codable, Sendable {
        public struct Detail: Codable, Sendable {
            public var code: String
            public var reason: String
            public var path: String?
        }
        public var error: Detail
    }

    /// The codes the store's writes answer besides the ledger's own.
    public enum Codes {
        /// The head is no longer the one the write was decided on (nothing written): verify the new entries, decide again.
        public static let headMoved = "head-moved"
        /// The committed proposal's queue state changed (a rejection, a veto, a status): read it again, decide again.
        public static let queueChanged = "queue-changed"
    }
}
