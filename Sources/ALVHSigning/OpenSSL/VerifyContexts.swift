import Synchronization
internal import COpenSSL

/// Ready-made verification contexts for one public key, so a verification does not pay for
/// OpenSSL's algorithm fetch and context set-up each time (`EVP_DigestVerifyInit` was several
/// percent of `ledger verify`).
///
/// - Ed25519: templates initialized once with `EVP_DigestVerifyInit`; each verification copies
///   one (`EVP_MD_CTX_copy_ex`) into a fresh context, because a one-shot `EVP_DigestVerify`
///   finalizes the context it runs on.
/// - P-256: `EVP_PKEY_CTX`s after `EVP_PKEY_verify_init` with SHA-256 as the signature digest;
///   `EVP_PKEY_verify` may be called on one again and again (its manual says so), over the
///   SHA-256 of the message.
///
/// The pool owns every idle context and frees them in `deinit`; a context is lent to one thread
/// at a time and, if the operation fails, freed instead of returned.
final class VerifyContexts: @unchecked Sendable {
    private let pkey: OpaquePointer
    private let isEd25519: Bool
    /// An idle context: handed between threads only through the lock.
    private struct Idle: @unchecked Sendable { let pointer: OpaquePointer }
    private let idle = Mutex<[Idle]>([])
    /// Idle contexts kept at most (more threads than this just make and free their own).
    static let maxIdle = 8

    /// `pkey` must outlive the pool (both are owned by the same ``PublicKey``).
    init(pkey: OpaquePointer, isEd25519: Bool) {
        self.pkey = pkey
        self.isEd25519 = isEd25519
    }

    deinit {
        for ctx in idle.withLock({ $0 }) { free(ctx.pointer) }
    }

    /// Verifies with a pooled context; the result is OpenSSL's (1 valid, else invalid or error).
    func verify(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) throws -> Int32 {
        let ctx = try take()
        let result: Int32
        if isEd25519 {
            guard let scratch = EVP_MD_CTX_new() else {
                put(ctx)
                throw OpenSSLErrorQueue.error(.openSSLFailure, "could not allocate a digest context")
            }
            defer { EVP_MD_CTX_free(scratch) }
            guard EVP_MD_CTX_copy_ex(scratch, ctx) == 1 else {
                free(ctx)
                throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot start verification")
            }
            put(ctx)
            result = EVP_DigestVerify(scratch, signature.baseAddress?.assumingMemoryBound(to: UInt8.self), signature.count,
                                      message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count)
        } else {
            var digest = [UInt8](repeating: 0, count: 32)
            digest.withUnsafeMutableBufferPointer { SHA256.digest(message, into: $0) }
            result = digest.withUnsafeBufferPointer { d in
                EVP_PKEY_verify(ctx, signature.baseAddress?.assumingMemoryBound(to: UInt8.self), signature.count, d.baseAddress, d.count)
            }
            if result == 1 { put(ctx) } else { free(ctx) }
        }
        return result
    }

    private func take() throws -> OpaquePointer {
        if let ctx = idle.withLock({ $0.popLast() }) { return ctx.pointer }
        if isEd25519 {
            guard let ctx = EVP_MD_CTX_new() else {
                throw OpenSSLErrorQueue.error(.openSSLFailure, "could not allocate a digest context")
            }
            guard EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 else {
                EVP_MD_CTX_free(ctx)
                throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot start verification")
            }
            return ctx
        }
        guard let ctx = EVP_PKEY_CTX_new(pkey, nil) else {
            throw OpenSSLErrorQueue.error(.openSSLFailure, "could not allocate a key context")
        }
        guard EVP_PKEY_verify_init(ctx) == 1, EVP_PKEY_CTX_set_signature_md(ctx, FetchedDigest.sha256.md) == 1 else {
            EVP_PKEY_CTX_free(ctx)
            throw OpenSSLErrorQueue.error(.openSSLFailure, "cannot start verification")
        }
        return ctx
    }

    private func put(_ ctx: OpaquePointer) {
        let entry = Idle(pointer: ctx)
        let kept = idle.withLock { list -> Bool in
            guard list.count < Self.maxIdle else { return false }
            list.append(entry)
            return true
        }
        if !kept { free(ctx) }
    }

    private func free(_ ctx: OpaquePointer) {
        if isEd25519 { EVP_MD_CTX_free(ctx) } else { EVP_PKEY_CTX_free(ctx) }
    }
}
