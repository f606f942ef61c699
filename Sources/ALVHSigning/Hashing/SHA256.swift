import Foundation
internal import COpenSSL

/// SHA-256 through OpenSSL's EVP API.
///
/// ```swift
/// let digest = SHA256.hash(Array("abc".utf8))   // 32 bytes
/// print(SHA256.hexDigest(Array("abc".utf8)))    // "ba7816bf…"
/// ```
public enum SHA256 {
    /// The digest length in bytes.
    public static let byteCount = 32

    /// The 32-byte digest of `bytes`.
    public static func hash<Bytes: ContiguousBytes>(_ bytes: Bytes) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: byteCount)
        bytes.withUnsafeBytes { input in
            result.withUnsafeMutableBufferPointer { digest(input, into: $0) }
        }
        return result
    }

    /// SHA-256 of `input` into the 32 bytes of `out`.
    static func digest(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<UInt8>) {
        var length: UInt32 = 0
        let ok = EVP_Digest(input.baseAddress, input.count, out.baseAddress, &length, FetchedDigest.sha256.md, nil)
        // EVP_Digest with the built-in SHA-256 only fails when the default provider is missing,
        // which leaves the process unable to do anything alvh exists for.
        precondition(ok == 1 && length == 32, "OpenSSL SHA-256 failed: \(OpenSSLErrorQueue.drain())")
    }

    /// The lowercase hex digest of `bytes`.
    public static func hexDigest<Bytes: ContiguousBytes>(_ bytes: Bytes) -> String {
        Hex.encode(hash(bytes))
    }
}

/// A digest fetched from the default provider once, for the life of the process (an implicit
/// fetch through `EVP_sha256()` looks the algorithm up again on every call). Owns its `EVP_MD`.
final class FetchedDigest: @unchecked Sendable {
    let md: OpaquePointer

    private init(_ name: String) {
        guard let md = EVP_MD_fetch(nil, name, nil) else {
            preconditionFailure("OpenSSL has no \(name): \(OpenSSLErrorQueue.drain())")
        }
        self.md = md
    }

    deinit { EVP_MD_free(md) }

    static let sha256 = FetchedDigest("SHA2-256")
}

/// Incremental SHA-256 for streams (files, ledger exports). Owns its `EVP_MD_CTX`.
///
/// ```swift
/// let hasher = try SHA256Hasher()
/// hasher.update(Array("ab".utf8)); hasher.update(Array("c".utf8))
/// let digest = hasher.finalize()
/// ```
public final class SHA256Hasher {
    private let context: OpaquePointer
    private var finished = false

    public init() throws {
        guard let ctx = EVP_MD_CTX_new() else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "could not allocate a digest context")
        }
        guard EVP_DigestInit_ex(ctx, FetchedDigest.sha256.md, nil) == 1 else {
            EVP_MD_CTX_free(ctx)
            throw OpenSSLErrorQueue.error(.openSSLFailure, "could not start SHA-256")
        }
        context = ctx
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds more bytes.
    public func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        precondition(!finished, "SHA256Hasher.update after finalize")
        let ok = bytes.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        precondition(ok == 1, "OpenSSL SHA-256 update failed: \(OpenSSLErrorQueue.drain())")
    }

    /// The digest of everything fed so far; the hasher cannot be used afterwards.
    public func finalize() -> [UInt8] {
        precondition(!finished, "SHA256Hasher.finalize called twice")
        finished = true
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        precondition(ok == 1 && length == 32, "OpenSSL SHA-256 final failed: \(OpenSSLErrorQueue.drain())")
        return digest
    }
}

/// Lowercase hexadecimal encoding.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hex of `bytes`.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes from hex (either case); nil when the text is not whole hex.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { chars -> [UInt8]? in
            guard chars.count % 2 == 0 else { return nil }
            var out = [UInt8]()
            out.reserveCapacity(chars.count / 2)
            var index = 0
            while index < chars.count {
                guard let hi = value(chars[index]), let lo = value(chars[index + 1]) else { return nil }
                out.append(hi << 4 | lo)
                index += 2
            }
            return out
        }
    }

    /// Whether `text` is exactly `count` lowercase hex digits (no allocation).
    public static func isLowercase(_ text: String, count: Int) -> Bool {
        guard text.utf8.count == count else { return false }
        return text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
