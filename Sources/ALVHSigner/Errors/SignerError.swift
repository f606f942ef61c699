/// The one error type of the signer module (signer processes and the coordinator).
///
/// ```swift
/// do { let limits = try SignerLimits.load(path: "limits.yaml") }
/// catch let error as SignerError { print(error.description) }   // limits.yaml: max-premium…: must be ≥ 0 [invalid-limits]
/// ```
public struct SignerError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The limits file is malformed or has an out-of-range value.
        public static let invalidLimits = Code("invalid-limits")
        /// The signer's local record (double-sign protection) is unreadable or malformed.
        public static let invalidState = Code("invalid-state")
        /// Another signer process holds this key's state lock.
        public static let stateLocked = Code("state-locked")
        /// The key is not a (non-revoked) signer of the policy in force.
        public static let notASigner = Code("not-a-signer")
        /// A file could not be read or written.
        public static let fileError = Code("file-error")
        /// A checkpoint disagrees with the ledger this witness verified, or with one it cosigned
        /// (another root for a size, a smaller tree, a tree not consistent with it): a split view.
        public static let splitView = Code("split-view")
        /// An entry's commit time is earlier than a time at which this witness saw the tree
        /// without it (less the clock skew): the committer's clock was set back.
        public static let backdated = Code("backdated")
        /// A checkpoint is malformed or not signed by a committer of the policy in force.
        public static let badCheckpoint = Code("bad-checkpoint")
    }

    public var code: Code
    public var reason: String
    public var path: String?

    public init(_ code: Code, _ reason: String, path: String? = nil) {
        self.code = code
        self.reason = reason
        self.path = path
    }

    public var description: String { (path.map { "\($0): " } ?? "") + reason + " [\(code)]" }
}
