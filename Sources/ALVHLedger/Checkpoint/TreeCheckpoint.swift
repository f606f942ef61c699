import Foundation
import ALVHSigning

/// A C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint) of the ledger's RFC 9162 tree:
///
/// ```text
/// <origin: the ledger id, 64 hex>
/// <tree size: the number of entries, decimal>
/// <root hash, base64>
/// ```
///
/// alvh writes no extension lines (so every party that computes the tree writes the same text,
/// and witnesses' cosignatures over it combine); a checkpoint read with extension lines keeps
/// them in the signed text.
public struct TreeCheckpoint: Sendable, Equatable {
    public var origin: String
    public var size: UInt64
    public var root: [UInt8]
    public var extensions: [String]

    public init(origin: String, size: UInt64, root: [UInt8], extensions: [String] = []) {
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = extensions
    }

    /// The note text.
    public var text: String {
        "\(origin)\n\(size)\n\(Data(root).base64EncodedString())\n" + extensions.map { $0 + "\n" }.joined()
    }

    public var rootHex: String { Hex.encode(root) }

    /// Parses a checkpoint's note text (strictly: decimal size without leading zeros, a 32-byte root).
    public init(text: String, path: String? = nil) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard text.hasSuffix("\n"), lines.count >= 4 else {
            throw LedgerError(.invalidInput, "not a checkpoint: it has an origin line, a tree size line and a root hash line", path: path)
        }
        let origin = String(lines[0]), sizeText = lines[1], rootText = lines[2]
        guard !origin.isEmpty else { throw LedgerError(.invalidInput, "the checkpoint's origin line is empty", path: path) }
        guard let size = UInt64(sizeText), String(size) == sizeText else {
            throw LedgerError(.invalidInput, "the checkpoint's tree size '\(sizeText.prefix(24))' is not a decimal number", path: path)
        }
        guard let root = Data(base64Encoded: String(rootText)).map(Array.init), root.count == 32 else {
            throw LedgerError(.invalidInput, "the checkpoint's root hash is not 32 bytes of base64", path: path)
        }
        let extensions = lines[3...].dropLast().map(String.init)
        guard !extensions.contains(where: \.isEmpty) else {
            throw LedgerError(.invalidInput, "the checkpoint has an empty extension line", path: path)
        }
        self.init(origin: origin, size: size, root: root, extensions: extensions)
    }
}

/// A checkpoint as a signed note: the committer's signature, and the cosignatures of the
/// witnesses (the policy's signers) that verified the ledger up to its size.
public struct SignedCheckpoint: Sendable, Equatable {
    public let checkpoint: TreeCheckpoint
    public private(set) var note: SignedNote

    public init(_ checkpoint: TreeCheckpoint, signatures: [SignedNote.Signature] = []) throws {
        self.checkpoint = checkpoint
        self.note = try SignedNote(text: checkpoint.text, signatures: signatures)
    }

    /// Parses a signed checkpoint file (at most ``SignedNote/maxBytes``).
    public init(parsing bytes: [UInt8], path: String? = nil) throws {
        let note: SignedNote
        do { note = try SignedNote(parsing: bytes, path: path) }
        catch let error as SigningError { throw LedgerError(.invalidInput, error.reason, path: path) }
        self.checkpoint = try TreeCheckpoint(text: note.text, path: path)
        self.note = note
    }

    public mutating func add(_ signature: SignedNote.Signature) { note.add(signature) }

    /// Adds the signature lines of `other` when it is a note over the same text (the same
    /// checkpoint); false when it is of another tree. Lines are checked when the checkpoint is.
    @discardableResult
    public mutating func attachCosignatures(of other: SignedCheckpoint) -> Bool {
        guard other.note.text == note.text else { return false }
        for signature in other.note.signatures { note.add(signature) }
        return true
    }

    public func encoded() -> [UInt8] { note.encoded() }
}
