internal import COpenSSL

/// The one DER SubjectPublicKeyInfo alvh gives each public key, whatever encoding it came in.
///
/// A key id is the SHA-256 of these bytes, so one key has one id: a P-256 key re-encoded with a
/// compressed point (`openssl ec -pubin -conv_form compressed`) keeps its id instead of becoming a
/// second "signer". The forms are fixed, and equal to what `alvh keys generate` and `openssl pkey
/// -pubout` write, so key ids pinned in existing policies do not change:
///
/// - P-256: named curve prime256v1, uncompressed point — `3059…034200 ‖ 04 ‖ X ‖ Y` (91 bytes).
/// - Ed25519: the raw 32-byte key — `302a300506032b6570032100 ‖ key` (44 bytes).
///
/// Keys with explicit curve parameters are refused by ``KeyType/of(_:path:)`` before this is built.
enum CanonicalSPKI {
    /// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (65 bytes) } up to the point.
    static let p256Prefix: [UInt8] = Hex.decode("3059301306072a8648ce3d020106082a8648ce3d030107034200")!
    /// SEQUENCE { SEQUENCE { id-Ed25519 }, BIT STRING (32 bytes) } up to the key.
    static let ed25519Prefix: [UInt8] = Hex.decode("302a300506032b6570032100")!

    /// The canonical SubjectPublicKeyInfo of `pkey` (a public or a private key) of type `type`.
    static func der(of pkey: OpaquePointer, type: KeyType, path: String?) throws -> [UInt8] {
        OpenSSLErrorQueue.clear()
        switch type {
        case .ed25519:
            var raw = [UInt8](repeating: 0, count: 32)
            var length = raw.count
            guard EVP_PKEY_get_raw_public_key(pkey, &raw, &length) == 1, length == 32 else {
                throw OpenSSLErrorQueue.error(.invalidKeyEncoding, "cannot read the Ed25519 public key (32 bytes)", path: path)
            }
            return ed25519Prefix + raw
        case .p256:
            let x = try coordinate(pkey, alvh_PARAM_EC_PUB_X(), name: "x", path: path)
            let y = try coordinate(pkey, alvh_PARAM_EC_PUB_Y(), name: "y", path: path)
            return p256Prefix + [0x04] + x + y
        }
    }

    /// One affine coordinate of the public point, big-endian, left-padded to 32 bytes.
    private static func coordinate(_ pkey: OpaquePointer, _ parameter: UnsafePointer<CChar>, name: String, path: String?) throws -> [UInt8] {
        var bn: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, parameter, &bn) == 1, let bn else {
            throw OpenSSLErrorQueue.error(.invalidKeyEncoding, "cannot read the P-256 public point's \(name) coordinate", path: path)
        }
        defer { BN_free(bn) }
        var out = [UInt8](repeating: 0, count: 32)
        guard BN_bn2binpad(bn, &out, Int32(out.count)) == 32 else {
            throw OpenSSLErrorQueue.error(.invalidKeyEncoding, "the P-256 public point's \(name) coordinate is longer than 32 bytes", path: path)
        }
        return out
    }
}
