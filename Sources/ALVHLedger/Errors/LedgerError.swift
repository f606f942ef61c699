/// The one error type of the ledger module.
///
/// ```swift
/// do { try ledger.commit(id: id, at: Date()) }
/// catch let error as LedgerError where error.code == .staleProposal { print(error.reason) }
/// ```
public struct LedgerError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// There is no ledger in the workspace (run `alvh init`).
        public static let noLedger = Code("no-ledger")
        /// A ledger already exists where `init` was asked to make one.
        public static let alreadyInitialized = Code("already-initialized")
        /// The database failed (locked, read-only, full, unreachable, timed out).
        public static let database = Code("database")
        /// The proposal is not in the pending queue.
        public static let notFound = Code("not-found")
        /// The proposal was built on a head that is no longer the head.
        public static let staleProposal = Code("stale-proposal")
        /// The proposal does not meet the policy (threshold, roles, veto, expiry, binding).
        public static let notApproved = Code("not-approved")
        /// The input is invalid (book, proposal, export line).
        public static let invalidInput = Code("invalid-input")
        /// The proposal is already pending or committed.
        public static let duplicate = Code("duplicate")
        /// Verification found a bad entry.
        public static let verificationFailed = Code("verification-failed")
        /// A policy change would lower the policy version.
        public static let policyRollback = Code("policy-rollback")
        /// A file could not be read or written.
        public static let fileError = Code("file-error")
        /// The ledger location is not usable (`--ledger`: not a ledger file, bad URL, no password).
        public static let badLocation = Code("bad-location")
        /// The database breaks the storage's own invariants (a row that cannot be read back).
        public static let corrupt = Code("corrupt")
        /// The storage refused a write that breaks a structural rule (entries out of order).
        public static let refused = Code("refused")
        /// The database schema is newer than this alvh, or cannot be migrated.
        public static let schema = Code("schema")
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
