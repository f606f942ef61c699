/// The signature schemes alvh accepts.
///
/// - `ed25519`: Ed25519 (RFC 8032), pure, no pre-hash; 64-byte signatures. The default.
/// - `p256`: ECDSA over NIST P-256 with SHA-256; strict DER signatures with low S.
public enum KeyType: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case ed25519
    case p256

    public var description: String { rawValue }

    /// The name a human reads, e.g. in `keys list`.
    public var displayName: String {
        switch self {
        case .ed25519: return "Ed25519"
        case .p256: return "ECDSA P-256/SHA-256"
        }
    }
}
