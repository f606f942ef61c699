import Foundation

/// What a note signature states, and so which C2SP signature type it is.
///
/// | kind | Ed25519 | ECDSA P-256 |
/// |---|---|---|
/// | ``note`` (the signer of the note, e.g. a log's checkpoint) | `0x01`, over the text | `0x02`, over the text (DER, SHA-256; key ID = SHA-256(SPKI)[:4], as c2sp.org/signed-note says) |
/// | ``cosignature`` (a witness: c2sp.org/tlog-cosignature v1) | `0x04`: `u64 time ‖ sig` over `cosignature/v1\ntime T\n` ‖ text | `0xff` ‖ `alvh-ecdsa-p256-cosignature/v1`: the same message and layout, an ECDSA signature (no type is assigned for ECDSA cosignatures; `0xff` is the spec's escape) |
public enum NoteSignatureKind: Sendable, Equatable {
    case note
    case cosignature
}

/// A public key as a note verifier: its key name, key id and signature type.
public struct NoteVerifier: Sendable {
    public let name: String
    public let key: PublicKey
    public let kind: NoteSignatureKind

    public init(name: String, key: PublicKey, kind: NoteSignatureKind) throws {
        try SignedNote.checkName(name)
        self.name = name
        self.key = key
        self.kind = kind
    }

    /// The identifier bytes of the signature type.
    var typeIdentifier: [UInt8] {
        switch (kind, key.type) {
        case (.note, .ed25519): [0x01]
        case (.note, .p256): [0x02]
        case (.cosignature, .ed25519): [0x04]
        case (.cosignature, .p256): [0xff] + Array("alvh-ecdsa-p256-cosignature/v1".utf8)
        }
    }

    /// The public key as the spec encodes it: Ed25519's 32 raw bytes, ECDSA's DER SPKI.
    var keyMaterial: [UInt8] {
        key.type == .ed25519 ? Array(key.spkiDER.suffix(32)) : key.spkiDER
    }

    /// The 32-bit key id.
    public var keyID: UInt32 {
        let input: [UInt8] = (kind == .note && key.type == .p256)
            ? key.spkiDER
            : Array(name.utf8) + [0x0a] + typeIdentifier + keyMaterial
        return SHA256.hash(input).prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// The C2SP verifier key text: `name+hex(keyID)+base64(type ‖ key)`.
    public var vkey: String {
        "\(name)+\(String(format: "%08x", keyID))+\(Data(typeIdentifier + keyMaterial).base64EncodedString())"
    }

    /// The message a cosignature at `timestamp` signs over `text`.
    public static func cosignedMessage(text: String, timestamp: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(timestamp)\n".utf8) + Array(text.utf8)
    }

    /// What one signature line of this key says: nil when it is not this key's (other name or
    /// key id); otherwise whether it verifies and, for a cosignature, its time.
    public func check(_ signature: SignedNote.Signature, text: String) -> Verdict? {
        guard signature.name == name, signature.keyID == keyID else { return nil }
        switch kind {
        case .note:
            return key.isValidSignature(signature.bytes, for: Array(text.utf8)) ? .valid(timestamp: nil) : .invalid
        case .cosignature:
            guard signature.bytes.count > 8 else { return .invalid }
            let timestamp = signature.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard timestamp <= UInt64(Int64.max) else { return .invalid }
            let sig = Array(signature.bytes.dropFirst(8))
            return key.isValidSignature(sig, for: Self.cosignedMessage(text: text, timestamp: timestamp)) ? .valid(timestamp: timestamp) : .invalid
        }
    }

    public enum Verdict: Sendable, Equatable {
        /// It verifies; a cosignature's POSIX time.
        case valid(timestamp: UInt64?)
        case invalid
    }
}

/// A private key signing notes under a key name.
public struct NoteSigner: Sendable {
    public let verifier: NoteVerifier
    let key: PrivateKey

    public init(name: String, key: PrivateKey, kind: NoteSignatureKind) throws {
        self.verifier = try NoteVerifier(name: name, key: key.publicKey, kind: kind)
        self.key = key
    }

    /// The signature line over `text` (a cosignature is stamped with `timestamp`, POSIX seconds).
    public func sign(_ text: String, timestamp: UInt64 = 0) throws -> SignedNote.Signature {
        switch verifier.kind {
        case .note:
            return .init(name: verifier.name, keyID: verifier.keyID, bytes: try key.signature(for: Array(text.utf8)))
        case .cosignature:
            let stamp = withUnsafeBytes(of: timestamp.bigEndian) { Array($0) }
            let sig = try key.signature(for: NoteVerifier.cosignedMessage(text: text, timestamp: timestamp))
            return .init(name: verifier.name, keyID: verifier.keyID, bytes: stamp + sig)
        }
    }
}
