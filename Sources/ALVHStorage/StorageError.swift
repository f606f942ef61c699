/// The one error type of the storage seam and its backends: a code decisions are made on, the
/// human reason, and what it concerns (a location with no password, a table, a field).
public struct StorageError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No ledger at this location (not created, or empty).
        public static let noLedger = Code("no-ledger")
        /// A ledger already exists where one was to be created (or a copy's target is not empty).
        public static let alreadyInitialized = Code("already-initialized")
        /// The database failed (locked, read-only, full, corrupt, unreachable, refused).
        public static let database = Code("database")
        /// The location (URL, path, password file) is not usable as given.
        public static let badLocation = Code("bad-location")
        /// The stored data breaks the ledger's structure (an altered blob, a bad kind or status).
        public static let corrupt = Code("corrupt")
        /// The operation would break a structural rule (append out of order, a second genesis).
        public static let refused = Code("refused")
        /// The schema is newer than this alvh, or not an alvh ledger.
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
