/// The one error type of the approval module.
///
/// ```swift
/// do { _ = try Policy.load(path: "Policies/desk.yaml", workspace: ".") }
/// catch let error as ApprovalError { print(error.code, error.path ?? "", error.reason) }
/// ```
public struct ApprovalError: Error, CustomStringConvertible, Sendable, Equatable {
    /// An extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The envelope is not DSSE JSON of the expected shape.
        public static let malformedEnvelope = Code("malformed-envelope")
        /// The payload is not a valid proposal or rejection document.
        public static let malformedPayload = Code("malformed-payload")
        /// The envelope's payloadType is not the one expected.
        public static let wrongPayloadType = Code("wrong-payload-type")
        /// The policy file is invalid.
        public static let invalidPolicy = Code("invalid-policy")
        /// A file could not be read or written.
        public static let fileError = Code("file-error")
        /// A file or field is larger than its limit.
        public static let tooLarge = Code("too-large")
        /// Signing was refused (expired, already signed, not confirmed).
        public static let signingRefused = Code("signing-refused")
        /// Two envelopes that must carry the same payload do not.
        public static let payloadMismatch = Code("payload-mismatch")
        /// The proposal is not approved (threshold unmet, vetoed, expired, wrong binding).
        public static let notApproved = Code("not-approved")
    }

    public var code: Code
    public var reason: String
    public var path: String?

    public init(_ code: Code, _ reason: String, path: String? = nil) {
        self.code = code
        self.reason = reason
        self.path = path
    }

    public var description: String {
        (path.map { "\($0): " } ?? "") + reason + " [\(code)]"
    }
}
