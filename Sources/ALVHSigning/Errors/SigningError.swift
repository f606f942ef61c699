/// The one error type of the signing module.
///
/// Every error carries a machine-readable ``Code``, a human ``reason`` saying what went wrong
/// and how to fix it, the offending file or field in ``path`` when there is one, and the text
/// of OpenSSL's error queue (drained in the same call that failed) in ``openSSLDetail``.
///
/// ```swift
/// do { _ = try PrivateKey.load(from: "Keys/private/alice.key.pem") }
/// catch let error as SigningError where error.code == .keyPermissionsTooOpen { print(error) }
/// ```
public struct SigningError: Error, CustomStringConvertible, Sendable, Equatable {
    /// An extensible error code: compare with the static members, print with `rawValue`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A file could not be read (missing, a directory, no permission).
        public static let fileUnreadable = Code("file-unreadable")
        /// A file could not be written atomically.
        public static let fileWriteFailed = Code("file-write-failed")
        /// A file is larger than the limit for its kind.
        public static let fileTooLarge = Code("file-too-large")
        /// The file exists and `--force` was not given.
        public static let alreadyExists = Code("already-exists")
        /// The bytes are not a PEM key OpenSSL can decode.
        public static let invalidKeyEncoding = Code("invalid-key-encoding")
        /// The key is of a type alvh does not accept (only Ed25519 and ECDSA P-256).
        public static let unsupportedKeyType = Code("unsupported-key-type")
        /// A private key file is readable by group or others.
        public static let keyPermissionsTooOpen = Code("key-permissions-too-open")
        /// The key is encrypted and no passphrase was given.
        public static let passphraseRequired = Code("passphrase-required")
        /// The passphrase does not decrypt the key.
        public static let wrongPassphrase = Code("wrong-passphrase")
        /// The passphrase could not be obtained (empty file, no TTY, mismatch).
        public static let passphraseUnavailable = Code("passphrase-unavailable")
        /// A key name is not usable as a file name.
        public static let invalidKeyName = Code("invalid-key-name")
        /// The signature does not verify.
        public static let signatureInvalid = Code("signature-invalid")
        /// The signature bytes are malformed: wrong length, non-canonical DER, or high-S.
        public static let signatureMalformed = Code("signature-malformed")
        /// OpenSSL failed in an operation that should not fail (out of memory, provider missing).
        public static let openSSLFailure = Code("openssl-failure")
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human sentence: what went wrong and how to fix it.
    public var reason: String
    /// The offending file or field, when there is one.
    public var path: String?
    /// OpenSSL's error queue text (library: reason), when OpenSSL reported the failure.
    public var openSSLDetail: String?

    public init(_ code: Code, _ reason: String, path: String? = nil, openSSLDetail: String? = nil) {
        self.code = code
        self.reason = reason
        self.path = path
        self.openSSLDetail = openSSLDetail
    }

    public var description: String {
        var text = ""
        if let path { text += "\(path): " }
        text += reason
        if let openSSLDetail, !openSSLDetail.isEmpty { text += " [OpenSSL: \(openSSLDetail)]" }
        return text
    }
}
