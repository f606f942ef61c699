internal import COpenSSL

/// State shared with OpenSSL's PEM passphrase callback for one read.
///
/// OpenSSL calls the callback only for an encrypted key; the provider is asked at most once.
final class PassphraseCallbackContext {
    let provider: Passphrase.Provider?
    private(set) var asked = false
    private(set) var supplied = false
    private(set) var failure: (any Error)?
    private var cached: [UInt8]?

    init(provider: Passphrase.Provider?) { self.provider = provider }

    deinit { Passphrase.wipe(&cached) }

    /// Fills `buffer` with the passphrase; returns its length, or −1 to make OpenSSL fail.
    func fill(_ buffer: UnsafeMutablePointer<CChar>, size: Int) -> Int32 {
        asked = true
        guard let provider else { return -1 }
        if cached == nil {
            do { cached = try provider() } catch { failure = error; return -1 }
        }
        guard let bytes = cached, !bytes.isEmpty, bytes.count <= size else { return -1 }
        supplied = true
        bytes.withUnsafeBufferPointer { src in
            buffer.withMemoryRebound(to: UInt8.self, capacity: size) { dst in
                dst.update(from: src.baseAddress!, count: bytes.count)
            }
        }
        return Int32(bytes.count)
    }
}

/// The C callback every alvh PEM read passes, so OpenSSL never prompts on the terminal itself.
private let pemPasswordCallback: alvh_pem_password_cb = { buffer, size, _, userdata in
    guard let buffer, let userdata, size > 0 else { return -1 }
    let context = Unmanaged<PassphraseCallbackContext>.fromOpaque(userdata).takeUnretainedValue()
    return context.fill(buffer, size: Int(size))
}

/// Runs `body` with the callback and a userdata pointer to `context`, kept alive meanwhile.
func withPassphraseCallback<T>(_ context: PassphraseCallbackContext,
                               _ body: (alvh_pem_password_cb, UnsafeMutableRawPointer) -> T) -> T {
    withExtendedLifetime(context) {
        body(pemPasswordCallback, Unmanaged.passUnretained(context).toOpaque())
    }
}
