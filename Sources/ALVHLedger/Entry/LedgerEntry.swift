import Foundation
import ALVHSigning

/// One committed ledger entry.
///
/// The entry hash is SHA-256 over an unambiguous encoding (every variable field length-prefixed,
/// numbers big-endian, hashes as raw 32 bytes):
///
/// ```text
/// "alvh-ledger-entry-v2\n"
/// u64  sequence
/// [32] previous entry hash          (32 zero bytes for genesis)
/// u32  len(kind)         kind        ("genesis" | "layer-change" | "policy-change")
/// u64  len(envelope)     envelope    (exact bytes: genesis document, or the DSSE envelope JSON with every signature)
/// u64  len(attachments)  attachments (JSON ``EntryAttachments``: adopted policy's key files, the cited
///                                   snapshot, the slot's signed rejections)
/// [32] policy hash in force
/// u32  len(committedAt)  committedAt (RFC 3339 UTC)
/// ```
///
/// The ledger id is the genesis entry's hash. Every entry is signed by a committer key of the policy
/// in force (genesis: of its own policy) over ``signingMessage``: rows appended without that key
/// do not verify.
public struct LedgerEntry: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case genesis
        case layerChange = "layer-change"
        case policyChange = "policy-change"
    }

    public var sequence: UInt64
    /// Hex hash of the previous entry (64 zeros for genesis).
    public var previousHash: String
    public var kind: Kind
    /// The exact envelope bytes.
    public var envelope: [UInt8]
    /// JSON key material for a policy adopted by this entry (genesis, policy-change), else empty.
    public var attachments: [UInt8]
    /// Hex SHA-256 of the policy in force when this entry was committed (for genesis and a
    /// policy change: the policy in force before it, i.e. the one its signatures were counted under;
    /// for genesis: the initial policy).
    public var policyHash: String
    /// RFC 3339 UTC.
    public var committedAt: String
    /// Hex SHA-256 of the encoding above.
    public var hash: String
    /// The committer's signature over ``signingMessage`` (not part of the hash it signs).
    public var committerSignature: [UInt8] = []

    /// What the committer signs: a domain tag and the entry's 32-byte hash.
    public var signingMessage: [UInt8] { Self.signingMessage(hash: hash) }

    public static func signingMessage(hash: String) -> [UInt8] {
        Array("alvh-ledger-entry-signature-v1\n".utf8) + (Hex.decode(hash) ?? Array(hash.utf8))
    }

    /// The ledger format these entries are (meta `format`).
    public static let format = "alvh-ledger-2"

    public static let zeroHash = String(repeating: "0", count: 64)

    public init(sequence: UInt64, previousHash: String, kind: Kind, envelope: [UInt8], attachments: [UInt8],
                policyHash: String, committedAt: String) {
        self.sequence = sequence
        self.previousHash = previousHash
        self.kind = kind
        self.envelope = envelope
        self.attachments = attachments
        self.policyHash = policyHash
        self.committedAt = committedAt
        self.hash = ""
        self.hash = computeHash()
    }

    /// The hash this entry's fields give (compare with ``hash`` to detect tampering).
    public func computeHash() -> String {
        var bytes = Array("alvh-ledger-entry-v2\n".utf8)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).bigEndian) { bytes += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.bigEndian) { bytes += $0 } }
        func hash32(_ hex: String) { bytes += Hex.decode(hex).flatMap { $0.count == 32 ? $0 : nil } ?? Array(repeating: 0xff, count: 32) + Array(hex.utf8) }
        u64(sequence)
        hash32(previousHash)
        u32(kind.rawValue.utf8.count); bytes += Array(kind.rawValue.utf8)
        u64(UInt64(envelope.count)); bytes += envelope
        u64(UInt64(attachments.count)); bytes += attachments
        hash32(policyHash)
        u32(committedAt.utf8.count); bytes += Array(committedAt.utf8)
        return SHA256.hexDigest(bytes)
    }
}
