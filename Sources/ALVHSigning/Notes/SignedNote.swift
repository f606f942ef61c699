import Foundation

/// A C2SP signed note (c2sp.org/signed-note): a text ending in a newline, a blank line, and one
/// or more signature lines `— <key name> base64(u32 key ID ‖ signature)`.
///
/// The text a signature covers includes the final newline but not the blank line; the text is
/// separated from the signatures by the *last* blank line. Parsing is strict: valid UTF-8, no
/// control character but newline, at most ``maxSignatures`` lines and ``maxBytes`` bytes, every
/// signature line well formed (a malformed one refuses the whole note).
///
/// ```swift
/// var note = try SignedNote(text: "example.com/log\n7\n…=\n")
/// try note.sign(with: NoteSigner(name: "example.com/log", key: key, kind: .note))
/// let bytes = note.encoded()
/// ```
public struct SignedNote: Sendable, Equatable {
    /// One signature line.
    public struct Signature: Sendable, Equatable {
        public var name: String
        public var keyID: UInt32
        /// The bytes after the key id (for a cosignature: the timestamp, then the signature).
        public var bytes: [UInt8]
        public init(name: String, keyID: UInt32, bytes: [UInt8]) {
            self.name = name
            self.keyID = keyID
            self.bytes = bytes
        }
        /// `— name base64(keyID ‖ bytes)\n`
        public var line: String {
            let id = withUnsafeBytes(of: keyID.bigEndian) { Array($0) }
            return "\u{2014} \(name) \(Data(id + bytes).base64EncodedString())\n"
        }
    }

    /// The signed text, ending in a newline.
    public let text: String
    public private(set) var signatures: [Signature]

    /// The largest note read (a checkpoint with a few dozen cosignatures is under 8 KiB).
    public static let maxBytes = 64 * 1024
    /// At most this many signature lines (the spec asks verifiers to accept at least 16).
    public static let maxSignatures = 100

    /// A note with no signature yet. The text must end in a newline and be a valid note text.
    public init(text: String, signatures: [Signature] = [], path: String? = nil) throws {
        try Self.checkText(text, path: path)
        for signature in signatures { try Self.checkName(signature.name, path: path) }
        self.text = text
        self.signatures = signatures
    }

    /// Parses a signed note (the bytes of a file or a response).
    public init(parsing bytes: [UInt8], path: String? = nil) throws {
        guard bytes.count <= Self.maxBytes else {
            throw SigningError(.fileTooLarge, "a signed note is at most \(Self.maxBytes) bytes; this is \(bytes.count)", path: path)
        }
        guard let whole = String(validating: bytes, as: UTF8.self) else {
            throw SigningError(.signatureMalformed, "a signed note must be UTF-8", path: path)
        }
        guard let split = whole.range(of: "\n\n", options: .backwards) else {
            throw SigningError(.signatureMalformed, "not a signed note: no blank line before the signature lines", path: path)
        }
        let text = String(whole[..<whole.index(after: split.lowerBound)])
        let block = whole[split.upperBound...]
        guard block.hasSuffix("\n") else {
            throw SigningError(.signatureMalformed, "the last signature line does not end in a newline", path: path)
        }
        var signatures: [Signature] = []
        for line in block.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            guard signatures.count < Self.maxSignatures else {
                throw SigningError(.signatureMalformed, "more than \(Self.maxSignatures) signature lines", path: path)
            }
            guard line.hasPrefix("\u{2014} ") else {
                throw SigningError(.signatureMalformed, "a signature line must start with an em dash (U+2014) and a space: '\(line.prefix(40))'", path: path)
            }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, let raw = Data(base64Encoded: String(fields[1])).map(Array.init), raw.count > 4 else {
                throw SigningError(.signatureMalformed, "a signature line is '— NAME BASE64(keyID ‖ signature)': '\(line.prefix(60))'", path: path)
            }
            let keyID = raw.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            signatures.append(Signature(name: String(fields[0]), keyID: keyID, bytes: Array(raw.dropFirst(4))))
        }
        guard !signatures.isEmpty else {
            throw SigningError(.signatureMalformed, "a signed note has at least one signature line", path: path)
        }
        try self.init(text: text, signatures: signatures, path: path)
    }

    /// The note: text, blank line, signature lines.
    public func encoded() -> [UInt8] {
        Array((text + "\n" + signatures.map(\.line).joined()).utf8)
    }

    /// Adds a signature line (replacing one with the same name and key id).
    public mutating func add(_ signature: Signature) {
        signatures.removeAll { $0.name == signature.name && $0.keyID == signature.keyID }
        signatures.append(signature)
    }

    /// The signature lines of one key, identified by name and key id.
    public func signatures(of verifier: NoteVerifier) -> [Signature] {
        signatures.filter { $0.name == verifier.name && $0.keyID == verifier.keyID }
    }

    static func checkText(_ text: String, path: String?) throws {
        guard text.hasSuffix("\n"), !text.isEmpty else {
            throw SigningError(.signatureMalformed, "a note's text must end in a newline", path: path)
        }
        guard text.unicodeScalars.allSatisfy({ $0 == "\n" || $0.value >= 0x20 }) else {
            throw SigningError(.signatureMalformed, "a note must not contain control characters other than newline", path: path)
        }
    }

    /// Key names: non-empty, no Unicode space, no plus.
    public static func checkName(_ name: String, path: String? = nil) throws {
        guard !name.isEmpty, !name.contains("+"), !name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) else {
            throw SigningError(.signatureMalformed, "a note key name must be non-empty, without spaces or '+': '\(name)'", path: path)
        }
    }
}
