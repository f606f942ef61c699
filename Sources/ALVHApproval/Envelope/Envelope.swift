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
        do {
            return try StrictJSONReader.read(bytes) { r in
                guard r.nextIsObject else {
                    try r.skipValue()  // a syntax error first: "not JSON" says more than "not an object"
                    throw StrictJSONReader.invalid("top level must be a JSON object")
                }
                return try readFields(&r)
            }
        } catch let failure as StrictJSONReader.Failure {
            throw failure.approvalError(.malformedEnvelope, path: where_,
                                        expected: "a DSSE envelope is {\"payload\", \"payloadType\", \"signatures\"}")
        }
    }

    /// The envelope's fields, read in one pass; unknown fields are skipped (DSSE), duplicates refused.
    private static func readFields(_ r: inout StrictJSONReader) throws -> Envelope {
        var payload: [UInt8]?, payloadType: String?, signatures: [Signature]?
        try r.readObject { r, key in
            switch key {
            case "payload":
                let decoded = try r.reading(or: "field 'payload' is missing or not a string (base64)") { try $0.readBase64() }
                guard let bytes = decoded else { throw StrictJSONReader.invalid("field 'payload' is not valid base64") }
                payload = bytes
            case "payloadType":
                payloadType = try r.reading(or: "field 'payloadType' is missing or not a string") { try $0.readString() }
            case "signatures":
                guard r.nextIsArray else { throw StrictJSONReader.invalid("field 'signatures' is missing or not an array") }
                var read: [Signature] = []
                try r.readArray { r, index in
                    guard index < maxSignatures else {
                        throw StrictJSONReader.Failure(reason: "more than \(maxSignatures) signatures, over the limit", isSyntax: false, code: .tooLarge)
                    }
                    read.append(try readSignature(&r))
                }
                signatures = read
            default:
                try r.skipValue()
            }
        }
        guard let payload else { throw StrictJSONReader.missing("payload", "field 'payload' is missing or not a string (base64)") }
        guard let payloadType else { throw StrictJSONReader.missing("payloadType", "field 'payloadType' is missing or not a string") }
        guard let signatures else { throw StrictJSONReader.missing("signatures", "field 'signatures' is missing or not an array") }
        return Envelope(payload: payload, payloadType: payloadType, signatures: signatures)
    }

    private static func readSignature(_ r: inout StrictJSONReader) throws -> Signature {
        guard r.nextIsObject else { throw StrictJSONReader.invalid("must be an object {\"keyid\", \"sig\"}") }
        var keyid: String?, sig: [UInt8]?
        try r.readObject { r, key in
            switch key {
            case "sig":
                let decoded = try r.reading(or: "field 'sig' is missing or not a string") { try $0.readBase64() }
                guard let bytes = decoded else { throw StrictJSONReader.invalid("field 'sig' is not valid base64") }
                sig = bytes
            case "keyid":
                let text = try r.reading(or: "field 'keyid' must be a string") { try $0.readOptional { try $0.readString() } }
                keyid = text.flatMap { $0.isEmpty ? nil : $0 }
            default:
                try r.skipValue()
            }
        }
        guard let sig else { throw StrictJSONReader.missing("sig", "field 'sig' is missing or not a string") }
        return Signature(keyid: keyid, sig: sig)
    }

    /// Reads and decodes an envelope file (size-checked before it is read whole).
    public static func load(path: String) throws -> Envelope {
        try decode(ApprovalFiles.read(path, limit: maxEnvelopeBytes), path: path)
    }

    /// The envelope as JSON: key-sorted, pretty, standard padded base64 — byte for byte what
    /// `JSONEncoder` with `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]` writes (the
    /// ledger stores and hashes these bytes), without its `Codable` cost.
    public func encoded() throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(payload.count * 4 / 3 + signatures.count * 200 + 160)
        func text(_ literal: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }
        text("{\n  \"payload\" : ")
        text("\""); Base64.append(payload, to: &out); text("\"")
        text(",\n  \"payloadType\" : ")
        JSONText.appendString(payloadType, to: &out)
        text(",\n  \"signatures\" : [\n")
        for (index, signature) in signatures.enumerated() {
            text(index == 0 ? "    {\n      \"keyid\" : " : ",\n    {\n      \"keyid\" : ")
            JSONText.appendString(signature.keyid ?? "", to: &out)
            text(",\n      \"sig\" : ")
            text("\""); Base64.append(signature.sig, to: &out); text("\"")
            text("\n    }")
        }
        text("\n  ]\n}\n")
        return out
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
