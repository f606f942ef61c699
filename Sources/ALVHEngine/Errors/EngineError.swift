/// The one error type of the engine module.
///
/// ```swift
/// do { _ = try Book.load(path: "book.json") }
/// catch let error as EngineError { print(error.code, error.path ?? "", error.reason) }
/// ```
public struct EngineError: Error, CustomStringConvertible, Sendable, Equatable {
    /// An extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A pricing input is out of its domain (negative vol, non-positive price…).
        public static let invalidInput = Code("invalid-input")
        /// No implied volatility reproduces the price.
        public static let noSolution = Code("no-solution")
        /// The market snapshot is invalid.
        public static let invalidSnapshot = Code("invalid-snapshot")
        /// The book is invalid.
        public static let invalidBook = Code("invalid-book")
        /// A layer change cannot be applied to the book.
        public static let invalidChange = Code("invalid-change")
        /// The strategy file is invalid.
        public static let invalidStrategy = Code("invalid-strategy")
        /// A history CSV is invalid.
        public static let invalidCSV = Code("invalid-csv")
        /// A file cannot be read or is too large.
        public static let fileUnreadable = Code("file-unreadable")
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
