import ALVHEngine

/// The one error type of the backtest module: a code, the reason, and the file/field at fault.
/// An engine error keeps its code when wrapped (`invalid-csv`, `invalid-strategy`…).
///
/// ```swift
/// do { _ = try Backtest.run(.init(vix: "vix.csv", spx: "spx.csv")) }
/// catch let error as BacktestError { print(error.code, error.path ?? "", error.reason) }
/// ```
public struct BacktestError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The two histories do not overlap enough to run (or a date range is empty).
        public static let notEnoughHistory = Code("not-enough-history")
        /// A command-line value is out of range (a date, a sweep).
        public static let invalidArgument = Code("invalid-argument")
        /// The engine refused something while the backtest ran (a snapshot it synthesised, a proposal).
        public static let engineRefused = Code("engine-refused")
    }

    public var code: Code
    public var reason: String
    public var path: String?

    public init(_ code: Code, _ reason: String, path: String? = nil) {
        self.code = code
        self.reason = reason
        self.path = path
    }

    /// An engine error with its code kept.
    public init(_ error: EngineError, context: String? = nil) {
        self.init(Code(error.code.rawValue), context.map { "\($0): \(error.reason)" } ?? error.reason, path: error.path)
    }

    public var description: String { (path.map { "\($0): " } ?? "") + reason + " [\(code)]" }
}
