import Foundation
import ALVHSigning

/// A DSSE v1 envelope: `{payload (base64), payloadType, signatures: [{keyid, sig}]}`.
///
/// The signatures cover ``pae`` — never a re-serialization of a parsed payload. Unknown
/// fields are ignored on input; `keyid` is only a hint for finding the key.
///
/// ```swift
/// var envelope = Envelope(payload: bytes, payloadType: ProposalDocument.payloadType)
/// try envelope.addSignature(using: privateKey)
/// let json = try envelope.encoded()
/// ```
public struct Envelope: Sendable, Equatable {
    /// One signature: the signer's key id (a hint) and the raw signature bytes.
    public struct Signature: Sendable, Equatable {
        public var keyid: String?
        public var sig: [UInt8]
        public init(keyid: String?, sig: [UInt8]) {
            self.keyid = keyid
            self.sig = sig
        }
    }

    /// The exact payload bytes.
    public var payload: [UInt8]
    /// What the payload is, e.g. `application/vnd.alvh.proposal+json;version=1`.
    public var payloadType: String
    /// The signatures, in the order they were added.
    public var signatures: [Signature]

    /// The largest envelope file alvh reads (1 MiB).
    public static let maxEnvelopeBytes = 1 << 20
    /// The most signatures an envelope may carry.
    public static let maxSignatures = 64

    public init(payload: [UInt8], payloadType: String, signatures: [Signature] = []) {
        self.payload = payload
        self.payloadType = payloadType
        self.signatures = signatures
    }

    /// The bytes every signature covers: `PAE(payloadType, payload)`.
    public var pae: [UInt8] { PAE.encode(payloadType: payloadType, payload: payload) }

    /// The envelope's id: lowercase hex SHA-256 of ``pae``. Equal payloads of equal type share it,
    /// whatever signatures they carry.
    public var id: String { SHA256.hexDigest(pae) }

    /// Signs ``pae`` with `key` and appends the signature with the key's id as hint.
    public mutating func addSignature(using key: PrivateKey) throws {
        let sig = try key.signature(for: pae)
        signatures.append(Signature(keyid: key.keyID.hex, sig: sig))
    }

    /// Whether `key` made a valid signature over this envelope (ignoring keyid hints).
    public func isSigned(by key: PublicKey) -> Bool {
        let bytes = pae
        return signatures.contains { key.isValidSignature($0.sig, for: bytes) }
    }

    // MARK: - JSON

    /// Decodes envelope JSON; errors name the field (`signatures[1].sig`) and `path`.
    public static func decode(_ bytes: [UInt8], path: String? = nil) throws -> Envelope {
        let where_ = path ?? "envelope"
        guard bytes.count <= maxEnvelopeBytes else {
            throw ApprovalError(.tooLarge, "envelope is \(bytes.count) bytes, over the \(maxEnvelopeBytes)-byte limit", path: where_)
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw ApprovalError(.malformedEnvelope, "not JSON (\(JSONErrorText.describe(error))); a DSSE envelope is {\"payload\", \"payloadType\", \"signatures\"}", path: where_)
        }
        guard let dict = object as? [String: Any] else {
            throw ApprovalError(.malformedEnvelope, "top level must be a JSON object", path: where_)
        }
        guard let payloadText = dict["payload"] as? String else {
            throw ApprovalError(.malformedEnvelope, "field 'payload' is missing or not a string (base64)", path: "\(where_): payload")
        }
        guard let payload = Base64.decode(payloadText) else {
            throw ApprovalError(.malformedEnvelope, "field 'payload' is not valid base64", path: "\(where_): payload")
        }
        guard let payloadType = dict["payloadType"] as? String else {
            throw ApprovalError(.malformedEnvelope, "field 'payloadType' is missing or not a string", path: "\(where_): payloadType")
        }
        guard let rawSignatures = dict["signatures"] as? [Any] else {
            throw ApprovalError(.malformedEnvelope, "field 'signatures' is missing or not an array", path: "\(where_): signatures")
        }
        guard rawSignatures.count <= maxSignatures else {
            throw ApprovalError(.tooLarge, "\(rawSignatures.count) signatures, over the limit of \(maxSignatures)", path: "\(where_): signatures")
        }
        var signatures: [Signature] = []
        for (index, raw) in rawSignatures.enumerated() {
            let field = "\(where_): signatures[\(index)]"
            guard let entry = raw as? [String: Any] else {
                throw ApprovalError(.malformedEnvelope, "must be an object {\"keyid\", \"sig\"}", path: field)
            }
            guard let sigText = entry["sig"] as? String else {
                throw ApprovalError(.malformedEnvelope, "field 'sig' is missing or not a string", path: "\(field).sig")
            }
            guard let sig = Base64.decode(sigText) else {
                throw ApprovalError(.malformedEnvelope, "field 'sig' is not valid base64", path: "\(field).sig")
            }
            var keyid: String?
            if let value = entry["keyid"], !(value is NSNull) {
                guard let text = value as? String else {
                    throw ApprovalError(.malformedEnvelope, "field 'keyid' must be a string", path: "\(field).keyid")
                }
                keyid = text.isEmpty ? nil : text
            }
            signatures.append(Signature(keyid: keyid, sig: sig))
        }
        return Envelope(payload: payload, payloadType: payloadType, signatures: signatures)
    }

    /// Reads and decodes an envelope file (size-checked before it is read whole).
    public static func load(path: String) throws -> Envelope {
        try decode(ApprovalFiles.read(path, limit: maxEnvelopeBytes), path: path)
    }

    /// The envelope as JSON: key-sorted, pretty, standard padded base64.
    public func encoded() throws -> [UInt8] {
        struct Wire: Encodable {
            struct Sig: Encodable { let keyid: String; let sig: String }
            let payload: String
            let payloadType: String
            let signatures: [Sig]
        }
        let wire = Wire(payload: Base64.encode(payload), payloadType: payloadType,
                        signatures: signatures.map { .init(keyid: $0.keyid ?? "", sig: Base64.encode($0.sig)) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(wire)) + [UInt8(ascii: "\n")]
    }

    /// Writes the envelope atomically (temp file, fsync, rename).
    public func write(to path: String) throws {
        do {
            try SecureFile.writeAtomically(try encoded(), to: path, mode: 0o644)
        } catch let error as SigningError {
            throw ApprovalError(.fileError, error.reason, path: error.path ?? path)
        }
    }
}

/// File reads for the approval module, with its error type.
enum ApprovalFiles {
    static func read(_ path: String, limit: Int) throws -> [UInt8] {
        do {
            return try SecureFile.read(path, limit: limit)
        } catch let error as SigningError {
            throw ApprovalError(error.code == .fileTooLarge ? .tooLarge : .fileError, error.reason, path: error.path ?? path)
        }
    }
}

/// Short text for Foundation's JSON errors (which carry their detail in userInfo).
enum JSONErrorText {
    static func describe(_ error: any Error) -> String {
        let ns = error as NSError
        if let detail = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let c): return c.debugDescription
            case .keyNotFound(let k, _): return "missing key '\(k.stringValue)'"
            case .typeMismatch(_, let c): return c.debugDescription
            case .valueNotFound(_, let c): return c.debugDescription
            @unknown default: return "\(decoding)"
            }
        }
        return ns.localizedDescription
    }
}
