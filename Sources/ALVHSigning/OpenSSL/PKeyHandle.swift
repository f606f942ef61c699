internal import COpenSSL

/// Owns one `EVP_PKEY` and frees it in `deinit`.
///
/// An `EVP_PKEY` is reference counted and safe to use from several threads at once for
/// signing and verification, as long as nobody mutates it; alvh never mutates a key after
/// creation, and every operation uses its own `EVP_MD_CTX`.
final class PKeyHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Takes ownership of `pointer`.
    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }
}

/// Owns one memory `BIO` and frees it in `deinit`.
final class MemoryBIO {
    let pointer: OpaquePointer

    /// An empty, writable memory BIO.
    init() throws {
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "could not allocate a memory BIO")
        }
        pointer = bio
    }

    /// A BIO reading a copy of `bytes`.
    init(copying bytes: [UInt8]) throws {
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "could not allocate a memory BIO")
        }
        pointer = bio
        if !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { BIO_write(bio, $0.baseAddress, Int32($0.count)) }
            guard written == Int32(bytes.count) else {
                throw OpenSSLErrorQueue.error(.openSSLFailure, "could not fill a memory BIO")
            }
        }
    }

    deinit { BIO_free(pointer) }

    /// Everything written to the BIO so far.
    func contents() -> [UInt8] {
        var data: UnsafeMutablePointer<CChar>?
        let length = alvh_BIO_get_mem_data(pointer, &data)
        guard length > 0, let data else { return [] }
        return data.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
            Array(UnsafeBufferPointer(start: $0, count: Int(length)))
        }
    }
}
