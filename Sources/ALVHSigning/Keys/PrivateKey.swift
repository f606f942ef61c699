import Foundation
internal import COpenSSL

/// A private signing key (Ed25519 or ECDSA P-256).
///
/// ```swift
/// let key = try PrivateKey.generate(.ed25519)
/// let signature = try key.signature(for: Array("hello".utf8))
/// assert(key.publicKey.isValidSignature(signature, for: Array("hello".utf8)))
/// ```
public struct PrivateKey: Sendable {
    let handle: PKeyHandle
    /// The matching public key.
    public let publicKey: PublicKey

    /// The scheme of this key.
    public var type: KeyType { publicKey.type }
    /// The key id of the public half (of its canonical encoding, as ``PublicKey/keyID``).
    public var keyID: KeyID { publicKey.keyID }

    init(handle: PKeyHandle, path: String?) throws {
        self.handle = handle
        // The public half is its canonical re-encoding (its own EVP_PKEY), as for any public key:
        // the same key id whether the key came from PKCS#8, a traditional EC file or keygen.
        publicKey = try PublicKey(decoded: handle, path: path)
    }

    /// A new key from OpenSSL's `EVP_PKEY_keygen`.
    public static func generate(_ type: KeyType = .ed25519) throws -> PrivateKey {
        OpenSSLErrorQueue.clear()
        let id = type == .ed25519 ? alvh_EVP_PKEY_ED25519() : alvh_EVP_PKEY_EC()
        guard let ctx = EVP_PKEY_CTX_new_id(id, nil) else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot create a key generation context")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot start key generation")
        }
        if type == .p256 {
            guard EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, alvh_NID_P256()) == 1 else {
                throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot select curve P-256")
            }
        }
        var pkey: OpaquePointer?
        guard EVP_PKEY_keygen(ctx, &pkey) == 1, let pkey else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "key generation failed")
        }
        return try PrivateKey(handle: PKeyHandle(taking: pkey), path: nil)
    }

    /// A private key from PEM: PKCS#8 (plain or encrypted) or a traditional EC key.
    ///
    /// `passphrase` is asked only if the key is encrypted. Without it, an encrypted key gives
    /// ``SigningError/Code/passphraseRequired``; a passphrase that does not decrypt gives
    /// ``SigningError/Code/wrongPassphrase``.
    public init(pem: [UInt8], passphrase: Passphrase.Provider? = nil, path: String? = nil) throws {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(copying: pem)
        let context = PassphraseCallbackContext(provider: passphrase)
        let pkey = withPassphraseCallback(context) { callback, userdata in
            PEM_read_bio_PrivateKey(bio.pointer, nil, callback, userdata)
        }
        guard let pkey else {
            let detail = OpenSSLErrorQueue.drain()
            if let failure = context.failure as? SigningError {
                throw SigningError(failure.code, failure.reason, path: failure.path ?? path)
            }
            if let failure = context.failure { throw failure }
            if context.asked && passphrase == nil {
                throw SigningError(.passphraseRequired,
                    "the private key is encrypted; give --passphrase-file FILE, set \(Passphrase.environmentVariable), or run on a terminal to be asked",
                    path: path)
            }
            if context.supplied {
                throw SigningError(.wrongPassphrase, "the passphrase does not decrypt this private key; check it and try again",
                                   path: path, openSSLDetail: detail)
            }
            let text = String(decoding: pem.prefix(4096), as: UTF8.self)
            let hint = text.contains("PUBLIC KEY")
                ? "this is a public key; give the private key file (Keys/private/NAME.key.pem)"
                : "not a PEM private key (expected '-----BEGIN PRIVATE KEY-----' or '-----BEGIN ENCRYPTED PRIVATE KEY-----')"
            throw SigningError(.invalidKeyEncoding, hint, path: path, openSSLDetail: detail)
        }
        try self.init(handle: PKeyHandle(taking: pkey), path: path)
        try selfTest(path: path)
    }

    /// Signs a fixed message and verifies it with the key's own public half. A PKCS#8 EC key carries
    /// its public point beside the private scalar; a file whose two halves disagree (corrupted, or
    /// forged) would sign under a key id that never verifies. Found by fuzzing (FuzzPEM).
    func selfTest(path: String?) throws {
        let message = Array("alvh private key self-test".utf8)
        let signature = try self.signature(for: message)
        guard publicKey.isValidSignature(signature, for: message) else {
            throw SigningError(.invalidKeyEncoding,
                "the private key's public half does not match its private half (the file is corrupted or was altered); restore it from backup",
                path: path)
        }
    }

    /// Loads a private key file, refusing one that group or others can read (as OpenSSH does).
    public static func load(from path: String, passphrase: Passphrase.Provider? = nil) throws -> PrivateKey {
        // The permission bits are those of the opened file (no stat-then-open race, no symlink).
        var bytes = try SecureFile.read(path, limit: SecureFile.keyFileLimit) { mode in
            guard mode & 0o077 == 0 else {
                throw SigningError(.keyPermissionsTooOpen,
                    "permissions \(String(mode, radix: 8).leftPadded(4)) are too open: a private key must be readable by its owner only; run `chmod 600 \(path)`",
                    path: path)
            }
        }
        defer { Passphrase.wipe(&bytes) }
        return try PrivateKey(pem: bytes, passphrase: passphrase, path: path)
    }

    /// The key as PKCS#8 PEM. With a passphrase: `ENCRYPTED PRIVATE KEY`, PBES2 with
    /// AES-256-CBC and PBKDF2-HMAC-SHA256 over `iterations` rounds with a 16-byte random salt.
    public func pkcs8PEM(passphrase: [UInt8]? = nil, iterations: Int = PrivateKey.pbkdf2Iterations) throws -> [UInt8] {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO()
        guard let passphrase else {
            guard PEM_write_bio_PKCS8PrivateKey(bio.pointer, handle.pointer, nil, nil, 0, nil, nil) == 1 else {
                throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot write the private key as PKCS#8 PEM")
            }
            return bio.contents()
        }
        guard !passphrase.isEmpty, passphrase.count <= Passphrase.maxLength else {
            throw SigningError(.passphraseUnavailable, "the passphrase must be 1 to \(Passphrase.maxLength) bytes")
        }
        guard iterations >= 1 else { throw SigningError(.openSSLFailure, "iterations must be positive") }
        guard let info = EVP_PKEY2PKCS8(handle.pointer) else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot convert the key to PKCS#8")
        }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        var salt = try SecureRandom.bytes(16)
        guard let algorithm = PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), Int32(iterations), &salt, Int32(salt.count), nil,
                                                alvh_NID_hmacWithSHA256()) else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot set up PBES2 (AES-256-CBC, PBKDF2-HMAC-SHA256)")
        }
        let encrypted: OpaquePointer? = passphrase.withUnsafeBufferPointer { pass in
            pass.baseAddress!.withMemoryRebound(to: CChar.self, capacity: pass.count) {
                PKCS8_set0_pbe($0, Int32(pass.count), info, algorithm)
            }
        }
        guard let encrypted else {
            X509_ALGOR_free(algorithm) // not taken over on failure
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot encrypt the private key")
        }
        defer { X509_SIG_free(encrypted) }
        guard PEM_write_bio_PKCS8(bio.pointer, encrypted) == 1 else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot write the encrypted private key as PEM")
        }
        return bio.contents()
    }

    /// PBKDF2 rounds for encrypted key files (OWASP 2023 for PBKDF2-HMAC-SHA256; OpenSSL's default is 2,048).
    public static let pbkdf2Iterations = 600_000

    /// Signs `message`: Ed25519 over the message itself, P-256 over its SHA-256 (DER, low S).
    ///
    /// The bytes are exactly those of `openssl pkeyutl -sign -rawin` (Ed25519) and
    /// `openssl dgst -sha256 -sign` (P-256, after S normalization).
    public func signature<M: ContiguousBytes>(for message: M) throws -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let ctx = EVP_MD_CTX_new() else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "could not allocate a digest context")
        }
        defer { EVP_MD_CTX_free(ctx) }
        let md: OpaquePointer? = type == .p256 ? FetchedDigest.sha256.md : nil
        guard EVP_DigestSignInit(ctx, nil, md, nil, handle.pointer) == 1 else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot start signing")
        }
        var signature = [UInt8](repeating: 0, count: 80)
        var length = signature.count
        let ok = message.withUnsafeBytes { msg in
            signature.withUnsafeMutableBufferPointer { out in
                EVP_DigestSign(ctx, out.baseAddress, &length, msg.baseAddress?.assumingMemoryBound(to: UInt8.self), msg.count)
            }
        }
        guard ok == 1 else { throw OpenSSLErrorQueue.error(.openSSLFailure, "signing failed") }
        signature.removeSubrange(length...)
        return type == .p256 ? try ECDSASignature.lowS(signature) : signature
    }
}
