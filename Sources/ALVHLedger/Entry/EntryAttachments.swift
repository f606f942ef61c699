import Foundation
import ALVHSigning
import ALVHApproval

/// What an entry carries beside its envelope so that a verifier needs nothing outside the ledger
/// (JSON, sorted keys, hashed into the entry):
///
/// - `keys`: the key files (PEM) of a policy the entry adopts (genesis, policy-change);
/// - `rejections`: every valid signed rejection collected for the slot by commit time (base64
///   DSSE envelopes) — so verification proves the committed proposal was not vetoed.
///
/// The market snapshot a layer change cites is not copied into each entry: the signed payload names
/// it by SHA-256, and the ledger keeps it once in its content-addressed `blobs` (exported with the
/// entries), where a verifier reads it and checks the hash.
///
/// The format-1 attachments (`{"keys": …}` alone) read as this with no rejections.
public struct EntryAttachments: Sendable, Codable, Equatable {
    public var keys: [String: String]?
    public var rejections: [String]?

    public init(keys: KeyAttachments? = nil, rejections: [Envelope] = []) throws {
        self.keys = keys?.keys
        self.rejections = rejections.isEmpty ? nil : try rejections.map { Base64.encode(try $0.encoded()) }
    }

    public var keyAttachments: KeyAttachments { KeyAttachments(keys: keys ?? [:]) }

    public func rejectionEnvelopes() throws -> [Envelope] {
        try (rejections ?? []).enumerated().map { index, text in
            guard let bytes = Base64.decode(text) else {
                throw LedgerError(.verificationFailed, "not base64", path: "attachments.rejections[\(index)]")
            }
            return try Envelope.decode(bytes, path: "attachments.rejections[\(index)]")
        }
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    public static func decode(_ bytes: [UInt8]) throws -> EntryAttachments {
        guard !bytes.isEmpty else { return try EntryAttachments() }
        do { return try JSONDecoder().decode(EntryAttachments.self, from: Data(bytes)) }
        catch { throw LedgerError(.verificationFailed, "entry attachments are not valid JSON: \(error)") }
    }
}
