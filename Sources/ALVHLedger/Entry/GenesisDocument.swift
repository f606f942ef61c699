import Foundation
import ALVHSigning
import ALVHApproval
import ALVHEngine

/// The content of the genesis entry: the initial policy bytes and the initial book.
///
/// Stored as the genesis entry's envelope bytes (compact JSON, sorted keys); its entry hash is the
/// ledger id, which every proposal binds.
public struct GenesisDocument: Sendable, Codable, Equatable {
    public static let schemaVersion = 1
    public var schema: Int
    /// RFC 3339 UTC.
    public var created: String
    /// The initial policy file's bytes, base64.
    public var policyBase64: String
    /// Hex SHA-256 of the policy bytes.
    public var policyHash: String
    /// The initial book: the iron condor and existing layers, in the ledger's own wire type
    /// (``GenesisBook``: an engine change never breaks an old genesis).
    public var book: GenesisBook
    /// Random bytes (hex) so that two ledgers made from the same files differ.
    public var nonce: String

    public init(created: Date, policyBytes: [UInt8], book: Book) throws {
        schema = Self.schemaVersion
        self.created = RFC3339.format(created)
        policyBase64 = Base64.encode(policyBytes)
        policyHash = SHA256.hexDigest(policyBytes)
        self.book = GenesisBook(book)
        nonce = Hex.encode(try SecureRandom.bytes(16))
    }

    public func policyBytes() throws -> [UInt8] {
        guard let bytes = Base64.decode(policyBase64), SHA256.hexDigest(bytes) == policyHash else {
            throw LedgerError(.verificationFailed, "genesis policy bytes do not match their hash")
        }
        return bytes
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    public static func decode(_ bytes: [UInt8]) throws -> GenesisDocument {
        do {
            let doc = try JSONDecoder().decode(GenesisDocument.self, from: Data(bytes))
            guard doc.schema == schemaVersion else {
                throw LedgerError(.verificationFailed, "genesis schema \(doc.schema) is not supported")
            }
            return doc
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.verificationFailed, "genesis document is not valid: \(error)")
        }
    }
}

/// Key files archived with a policy, so the ledger verifies without the workspace's Keys/.
public struct KeyAttachments: Sendable, Codable, Equatable {
    /// Relative path (as the policy names it) → PEM text.
    public var keys: [String: String]

    public init(keys: [String: String]) { self.keys = keys }

    /// Reads every key file `policy` names from `workspace`.
    public init(for policy: Policy, workspace: String) throws {
        var keys: [String: String] = [:]
        let loader = Policy.diskKeyLoader(workspace: workspace)
        for file in policy.keyFiles {
            keys[file] = String(decoding: try loader(file), as: UTF8.self)
        }
        self.keys = keys
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    public static func decode(_ bytes: [UInt8]) throws -> KeyAttachments {
        guard !bytes.isEmpty else { return KeyAttachments(keys: [:]) }
        do {
            return try JSONDecoder().decode(KeyAttachments.self, from: Data(bytes))
        } catch {
            throw LedgerError(.verificationFailed, "entry attachments are not valid JSON: \(error)")
        }
    }

    /// A policy key loader over these attachments only.
    public var loader: Policy.KeyLoader {
        let keys = self.keys
        return { relative in
            guard let pem = keys[relative] else {
                throw ApprovalError(.fileError, "key file \(relative) is not archived in the ledger")
            }
            return Array(pem.utf8)
        }
    }
}
