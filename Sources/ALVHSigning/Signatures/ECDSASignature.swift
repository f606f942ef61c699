internal import COpenSSL

/// ECDSA P-256 signature encoding rules: strict DER, low S.
///
/// Plain ECDSA accepts both (r, s) and (r, n − s), and OpenSSL's DER parser is lenient, so one
/// (key, message) could have several valid encodings. alvh signs with low S and refuses, on
/// verify, anything that is not the one canonical encoding — as Bitcoin's BIP 62/146 do.
enum ECDSASignature {
    /// The order n of the P-256 group, big-endian.
    static let order: [UInt8] = Hex.decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")!
    /// ⌊n / 2⌋: an S above this is "high".
    static let halfOrder: [UInt8] = Hex.decode("7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8")!

    /// The largest DER encoding of a P-256 signature (two 33-byte INTEGERs in a SEQUENCE).
    static let maxDERLength = 72

    /// (r, s) as 32-byte big-endian values, if `der` is a strict DER ECDSA-Sig-Value.
    static func parseStrict(_ der: UnsafeRawBufferPointer) throws -> (r: [UInt8], s: [UInt8]) {
        guard der.count >= 8, der.count <= maxDERLength else {
            throw SigningError(.signatureMalformed, "a P-256 signature is 8 to 72 bytes of DER, this one is \(der.count)")
        }
        OpenSSLErrorQueue.clear()
        let bytes = der.bindMemory(to: UInt8.self)
        var cursor: UnsafePointer<UInt8>? = bytes.baseAddress
        guard let sig = d2i_ECDSA_SIG(nil, &cursor, der.count) else {
            throw OpenSSLErrorQueue.error(.signatureMalformed, "the P-256 signature is not DER")
        }
        defer { ECDSA_SIG_free(sig) }
        guard cursor == bytes.baseAddress! + der.count else {
            throw SigningError(.signatureMalformed, "the P-256 signature has trailing bytes after its DER")
        }
        // Re-encode: a canonical DER input comes back byte for byte.
        var reencoded: UnsafeMutablePointer<UInt8>?
        let length = i2d_ECDSA_SIG(sig, &reencoded)
        guard length > 0, let reencoded else {
            throw OpenSSLErrorQueue.error(.signatureMalformed, "the P-256 signature cannot be re-encoded")
        }
        defer { alvh_OPENSSL_free(reencoded) }
        guard Int(length) == der.count, memcmp(reencoded, bytes.baseAddress!, der.count) == 0 else {
            throw SigningError(.signatureMalformed, "the P-256 signature is not in canonical DER (BER or padded integers are refused)")
        }
        var r = [UInt8](repeating: 0, count: 32)
        var s = [UInt8](repeating: 0, count: 32)
        guard let rBN = ECDSA_SIG_get0_r(sig), let sBN = ECDSA_SIG_get0_s(sig),
              BN_is_negative(rBN) == 0, BN_is_negative(sBN) == 0,
              BN_bn2binpad(rBN, &r, 32) == 32, BN_bn2binpad(sBN, &s, 32) == 32 else {
            OpenSSLErrorQueue.clear()
            throw SigningError(.signatureMalformed, "the P-256 signature's r or s is out of range")
        }
        return (r, s)
    }

    /// Throws unless `der` is strict DER with 0 < r, s and S ≤ n/2.
    static func checkCanonical(_ der: UnsafeRawBufferPointer) throws {
        let (r, s) = try parseStrict(der)
        guard r.contains(where: { $0 != 0 }), s.contains(where: { $0 != 0 }) else {
            throw SigningError(.signatureMalformed, "the P-256 signature has r = 0 or s = 0")
        }
        guard compare(r, order) < 0, compare(s, order) < 0 else {
            throw SigningError(.signatureMalformed, "the P-256 signature's r or s is not below the group order")
        }
        guard compare(s, halfOrder) <= 0 else {
            throw SigningError(.signatureMalformed,
                "the P-256 signature has a high S (upper half of the group order); alvh accepts only low-S signatures so each (key, message) has one encoding — re-sign with alvh, or replace S by n − S")
        }
    }

    /// The low-S form of a DER signature OpenSSL produced.
    static func lowS(_ der: [UInt8]) throws -> [UInt8] {
        let (r, s) = try der.withUnsafeBytes { try parseStrict($0) }
        guard compare(s, halfOrder) > 0 else { return der }
        return try encode(r: r, s: subtract(order, s))
    }

    /// Strict DER of (r, s) given as 32-byte big-endian values.
    static func encode(r: [UInt8], s: [UInt8]) throws -> [UInt8] {
        guard let sig = ECDSA_SIG_new() else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot allocate an ECDSA signature")
        }
        defer { ECDSA_SIG_free(sig) }
        guard let rBN = BN_bin2bn(r, Int32(r.count), nil) else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot allocate a BIGNUM")
        }
        guard let sBN = BN_bin2bn(s, Int32(s.count), nil) else {
            BN_free(rBN)
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot allocate a BIGNUM")
        }
        guard ECDSA_SIG_set0(sig, rBN, sBN) == 1 else { // takes ownership on success
            BN_free(rBN); BN_free(sBN)
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot build an ECDSA signature")
        }
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_ECDSA_SIG(sig, &out)
        guard length > 0, let out else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot encode an ECDSA signature")
        }
        defer { alvh_OPENSSL_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// Compares equal-length big-endian numbers.
    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return 0
    }

    /// a − b for equal-length big-endian numbers with a ≥ b.
    static func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: a.count)
        var borrow = 0
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            var d = Int(a[i]) - Int(b[i]) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 256 }
            out[i] = UInt8(d)
        }
        return out
    }
}

/// Public helpers for tools and tests that handle P-256 signatures.
public enum P256SignatureEncoding {
    /// Whether a DER P-256 signature has S in the upper half of the group order.
    /// Throws when the bytes are not strict DER.
    public static func isHighS(_ der: [UInt8]) throws -> Bool {
        let (_, s) = try der.withUnsafeBytes { try ECDSASignature.parseStrict($0) }
        return ECDSASignature.compare(s, ECDSASignature.halfOrder) > 0
    }

    /// The same signature with S replaced by n − S (turns low-S into high-S and back).
    public static func flippingS(_ der: [UInt8]) throws -> [UInt8] {
        let (r, s) = try der.withUnsafeBytes { try ECDSASignature.parseStrict($0) }
        return try ECDSASignature.encode(r: r, s: ECDSASignature.subtract(ECDSASignature.order, s))
    }
}
