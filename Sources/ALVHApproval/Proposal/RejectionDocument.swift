import Foundation
import ALVHSigning

/// A signed "no": binds the proposal's id (hex SHA-256 of its PAE) and a reason.
///
/// A valid rejection from a signer holding a veto role blocks the proposal; others are reported.
///
/// ```swift
/// let doc = RejectionDocument(proposal: envelope.id, reason: "premium over limit", created: Date(), signer: key.keyID)
/// var rejection = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.rejection)
/// try rejection.addSignature(using: key)
/// ```
public struct RejectionDocument: Sendable, Codable, Equatable {
    public static let schemaVersion = 1

    public var schema: Int
    /// The rejected proposal's envelope id.
    public var proposal: String
    /// Why, in the signer's words.
    public var reason: String
    /// RFC 3339 UTC.
    public var created: String
    /// The key id of the rejecting signer (a hint, like a DSSE keyid).
    public var signer: String

    public init(proposal: String, reason: String, created: Date, signer: KeyID) {
        schema = Self.schemaVersion
        self.proposal = proposal
        self.reason = reason
        self.created = RFC3339.format(created)
        self.signer = signer.hex
    }

    /// The largest reason alvh accepts, in bytes.
    public static let maxReasonBytes = 4096

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// A rejection of `proposalID` signed by `key`: the envelope a signer posts or writes.
    public static func signedEnvelope(rejecting proposalID: String, reason: String, key: PrivateKey, at now: Date) throws -> Envelope {
        let doc = RejectionDocument(proposal: proposalID, reason: reason, created: now, signer: key.keyID)
        var rejection = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.rejection)
        try rejection.addSignature(using: key)
        return rejection
    }

    /// Parses verified payload bytes.
    public static func decode(_ bytes: [UInt8], path: String = "rejection") throws -> RejectionDocument {
        let doc: RejectionDocument
        do {
            doc = try JSONDecoder().decode(RejectionDocument.self, from: Data(bytes))
        } catch {
            throw ApprovalError(.malformedPayload, "not a rejection document: \(JSONErrorText.describe(error))", path: path)
        }
        guard doc.schema == schemaVersion else {
            throw ApprovalError(.malformedPayload, "schema \(doc.schema) is not supported (expected \(schemaVersion))", path: "\(path): schema")
        }
        guard doc.proposal.utf8.count == 64, Hex.decode(doc.proposal) != nil else {
            throw ApprovalError(.malformedPayload, "must be the proposal's envelope id (64 hex digits)", path: "\(path): proposal")
        }
        guard !doc.reason.isEmpty, doc.reason.utf8.count <= maxReasonBytes else {
            throw ApprovalError(.malformedPayload, "must be 1 to \(maxReasonBytes) bytes", path: "\(path): reason")
        }
        guard RFC3339.parse(doc.created) != nil else {
            throw ApprovalError(.malformedPayload, "must be an RFC 3339 time", path: "\(path): created")
        }
        return doc
    }
}
