/// A key id: the lowercase hex SHA-256 of the key's canonical DER SubjectPublicKeyInfo (``CanonicalSPKI``).
///
/// The same value as `openssl pkey -pubout -outform DER | sha256sum`, so a risk officer
/// can check it with standard tools.
///
/// ```swift
/// let id = publicKey.keyID
/// print(id.hex)          // 64 hex digits
/// print(id.fingerprint)  // "SHA256:3f2a9c1d:77b0e4a2" — short, for humans
/// ```
public struct KeyID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// 64 lowercase hex digits.
    public let hex: String

    /// The key id of DER SubjectPublicKeyInfo bytes.
    public init(spkiDER: [UInt8]) { hex = SHA256.hexDigest(spkiDER) }

    /// A key id from its hex text; nil unless it is 64 hex digits (lowercased on the way in).
    public init?(hex: String) {
        if Hex.isLowercase(hex, count: 64) {
            self.hex = hex
            return
        }
        let lower = hex.lowercased()
        guard lower.utf8.count == 64, Hex.decode(lower) != nil else { return nil }
        self.hex = lower
    }

    /// A short fingerprint for humans: the first 64 bits in two groups.
    public var fingerprint: String {
        let chars = Array(hex)
        return "SHA256:" + String(chars[0..<8]) + ":" + String(chars[8..<16])
    }

    public var description: String { hex }

    public static func < (lhs: KeyID, rhs: KeyID) -> Bool { lhs.hex < rhs.hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = KeyID(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a key id is 64 hex digits"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
