import Foundation
internal import COpenSSL

/// A public key (Ed25519 or ECDSA P-256), for verification.
///
/// Safe to share across tasks: each verification works on a context of its own, lent by the
/// key's pool of ready-made contexts.
///
/// ```swift
/// let key = try PublicKey.load(from: "Keys/alice.pub.pem")
/// if key.isValidSignature(signature, for: message) { … }
/// ```
public struct PublicKey: Sendable {
    let handle: PKeyHandle
    /// The scheme of this key.
    public let type: KeyType
    /// The canonical DER SubjectPublicKeyInfo (``CanonicalSPKI``): P-256 as named curve with an
    /// uncompressed point, Ed25519 as its raw key — whatever encoding the key was read from.
    public let spkiDER: [UInt8]
    /// SHA-256 of ``spkiDER``: one key, one id.
    public let keyID: KeyID
    /// Verification contexts set up for this key.
    let contexts: VerifyContexts

    /// A public key from a decoded OpenSSL key (public, or the public half of a private one).
    ///
    /// The key is re-encoded in its one canonical form (``CanonicalSPKI``), decoded again from those
    /// bytes, and checked to be the same key; everything after (key id, verification, PEM export)
    /// uses the canonical key, so no encoding detail of the input survives.
    init(decoded: PKeyHandle, path: String?) throws {
        self.type = try KeyType.of(decoded.pointer, path: path)
        let der = try CanonicalSPKI.der(of: decoded.pointer, type: type, path: path)
        guard let canonical = PublicKey.decodeSPKI(der) else {
            throw OpenSSLErrorQueue.error(.invalidKeyEncoding, "cannot decode the key's canonical SubjectPublicKeyInfo", path: path)
        }
        let handle = PKeyHandle(taking: canonical)
        guard EVP_PKEY_eq(decoded.pointer, handle.pointer) == 1 else {
            throw OpenSSLErrorQueue.error(.invalidKeyEncoding, "the key's canonical encoding is not the same key (the file is corrupted)", path: path)
        }
        OpenSSLErrorQueue.clear()
        self.handle = handle
        spkiDER = der
        keyID = KeyID(spkiDER: der)
        contexts = VerifyContexts(pkey: handle.pointer, isEd25519: type == .ed25519)
    }

    /// `d2i_PUBKEY` of exactly `der` (trailing bytes refused); the caller owns the result.
    private static func decodeSPKI(_ der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let key = d2i_PUBKEY(nil, &cursor, buffer.count)
            if let key, cursor != buffer.baseAddress.map({ $0 + buffer.count }) {
                EVP_PKEY_free(key)
                return nil
            }
            return key
        }
    }

    /// A public key from PEM (`-----BEGIN PUBLIC KEY-----`).
    public init(pem: [UInt8], path: String? = nil) throws {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(copying: pem)
        let context = PassphraseCallbackContext(provider: nil)
        let pkey = withPassphraseCallback(context) { callback, userdata in
            PEM_read_bio_PUBKEY(bio.pointer, nil, callback, userdata)
        }
        guard let pkey else {
            throw OpenSSLErrorQueue.error(.invalidKeyEncoding,
                "not a PEM public key (expected '-----BEGIN PUBLIC KEY-----', as written by `alvh keys generate` or `openssl pkey -pubout`)",
                path: path)
        }
        try self.init(decoded: PKeyHandle(taking: pkey), path: path)
    }

    /// A public key from DER SubjectPublicKeyInfo.
    public init(spkiDER der: [UInt8], path: String? = nil) throws {
        OpenSSLErrorQueue.clear()
        // Trailing bytes after the SubjectPublicKeyInfo are refused.
        guard let pkey = PublicKey.decodeSPKI(der) else {
            throw OpenSSLErrorQueue.error(.invalidKeyEncoding, "not a DER SubjectPublicKeyInfo", path: path)
        }
        try self.init(decoded: PKeyHandle(taking: pkey), path: path)
    }

    /// Reads a PEM public key file (at most ``SecureFile/keyFileLimit`` bytes).
    public static func load(from path: String) throws -> PublicKey {
        let bytes = try SecureFile.read(path, limit: SecureFile.keyFileLimit)
        return try PublicKey(pem: bytes, path: path)
    }

    /// The PEM text (`-----BEGIN PUBLIC KEY-----`) of the canonical ``spkiDER``.
    public func pemEncoded() throws -> [UInt8] {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO()
        let written = spkiDER.withUnsafeBufferPointer { der in
            PEM_write_bio(bio.pointer, "PUBLIC KEY", "", der.baseAddress, Int(der.count))
        }
        guard written > 0 else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot write the public key as PEM")
        }
        return bio.contents()
    }

    /// Whether `signature` is the valid, canonical signature of `message` under this key.
    public func isValidSignature<S: ContiguousBytes, M: ContiguousBytes>(_ signature: S, for message: M) -> Bool {
        (try? verify(signature, for: message)) != nil
    }

    /// Verifies `signature` over `message`; throws ``SigningError`` saying why it is refused.
    ///
    /// Ed25519 signatures must be 64 bytes. P-256 signatures must be strict DER with S in the
    /// lower half of the group order (low-S), so each (key, message) has one valid encoding.
    public func verify<S: ContiguousBytes, M: ContiguousBytes>(_ signature: S, for message: M) throws {
        try signature.withUnsafeBytes { sig in
            try message.withUnsafeBytes { msg in
                try verify(signature: UnsafeRawBufferPointer(sig), message: UnsafeRawBufferPointer(msg))
            }
        }
    }

    private func verify(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) throws {
        switch type {
        case .ed25519:
            guard signature.count == 64 else {
                throw SigningError(.signatureMalformed, "an Ed25519 signature is 64 bytes, this one is \(signature.count)")
            }
        case .p256:
            try ECDSASignature.checkCanonical(signature)
        }
        OpenSSLErrorQueue.clear()
        let result = try contexts.verify(signature: signature, message: message)
        guard result == 1 else {
            let detail = OpenSSLErrorQueue.drain()
            throw SigningError(.signatureInvalid, "signature does not verify under key \(keyID.fingerprint)",
                               openSSLDetail: detail.isEmpty ? nil : detail)
        }
    }
}

extension KeyType {
    /// The alvh key type of an OpenSSL key, or an error naming what it is instead.
    static func of(_ pkey: OpaquePointer, path: String?) throws -> KeyType {
        let id = EVP_PKEY_get_base_id(pkey)
        if id == alvh_EVP_PKEY_ED25519() { return .ed25519 }
        if id == alvh_EVP_PKEY_EC() {
            // Explicit curve parameters are a second encoding of a named-curve key (and a door to
            // look-alike curves): refused, so that every P-256 key has the one canonical form.
            var encoding = [CChar](repeating: 0, count: 32)
            var encodingLength = 0
            let gotEncoding = EVP_PKEY_get_utf8_string_param(pkey, alvh_PARAM_EC_ENCODING(), &encoding, encoding.count, &encodingLength)
            let encodingName = gotEncoding == 1
                ? String(decoding: encoding.prefix(encodingLength).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown"
            OpenSSLErrorQueue.clear()
            guard encodingName == "named_curve" else {
                throw SigningError(.unsupportedKeyType,
                    "EC key with \(encodingName == "explicit" ? "explicit curve parameters" : "an unreadable curve encoding (\(encodingName))") is not accepted; alvh takes P-256 keys on the named curve prime256v1 only — convert it with `openssl ec -pubin -in FILE -param_enc named_curve -out FILE.pem` (for a private key, without -pubin)",
                    path: path)
            }
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            let ok = EVP_PKEY_get_group_name(pkey, &name, name.count, &length)
            let curve = ok == 1 ? String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown"
            OpenSSLErrorQueue.clear()
            if curve == "prime256v1" || curve == "P-256" { return .p256 }
            throw SigningError(.unsupportedKeyType,
                "EC key on curve \(curve) is not supported; alvh accepts Ed25519 or ECDSA P-256 (prime256v1) keys — make one with `alvh keys generate NAME --type p256`",
                path: path)
        }
        let typeName = EVP_PKEY_get0_type_name(pkey).map { String(cString: $0) } ?? "id \(id)"
        throw SigningError(.unsupportedKeyType,
            "\(typeName) keys are not supported; alvh accepts Ed25519 or ECDSA P-256 keys — make one with `alvh keys generate NAME`",
            path: path)
    }
}
