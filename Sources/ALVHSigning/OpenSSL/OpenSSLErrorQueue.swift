internal import COpenSSL

/// Reads OpenSSL's thread-local error queue.
enum OpenSSLErrorQueue {
    /// Drains the queue and returns its entries as "library: reason" joined by "; ".
    /// Call it in the same synchronous call that saw the failure.
    static func drain() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            let lib = ERR_lib_error_string(code).map { String(cString: $0) } ?? "lib \(alvh_ERR_GET_LIB(code))"
            let reason = ERR_reason_error_string(code).map { String(cString: $0) } ?? "reason \(alvh_ERR_GET_REASON(code))"
            let part = "\(lib): \(reason)"
            if !parts.contains(part) { parts.append(part) }
        }
        return parts.joined(separator: "; ")
    }

    /// Empties the queue so a later failure reports only its own entries.
    static func clear() { ERR_clear_error() }

    /// A ``SigningError`` carrying the drained queue.
    static func error(_ code: SigningError.Code, _ reason: String, path: String? = nil) -> SigningError {
        SigningError(code, reason, path: path, openSSLDetail: drain())
    }
}

/// The OpenSSL library the process is linked against, e.g. "OpenSSL 3.0.19 27 Jan 2026".
public enum OpenSSLInfo {
    public static var versionText: String { String(cString: alvh_openssl_version_text()) }
}
