import Foundation
import Testing
@testable import ALVHSigning

/// RFC 8032 §7.1 Ed25519 test vectors (TEST 1, 2, 3, SHA(abc)), from Vectors/rfc8032-ed25519.json.
@Suite("RFC 8032 Ed25519 vectors")
struct RFC8032Tests {
    struct Vector: Codable, Sendable, CustomTestStringConvertible {
        let name: String
        let secretKey: String
        let publicKey: String
        let message: String
        let signature: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/rfc8032-ed25519.json")
        struct File: Codable { let vectors: [Vector] }
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url)).vectors
    }()

    /// The 32-byte seed wrapped as PKCS#8 (RFC 8410) PEM.
    static func privateKeyPEM(seed: [UInt8]) -> [UInt8] {
        let der = [UInt8](hex: "302e020100300506032b657004220420") + seed
        let body = Data(der).base64EncodedString()
        return Array("-----BEGIN PRIVATE KEY-----\n\(body)\n-----END PRIVATE KEY-----\n".utf8)
    }

    @Test("there are the four vectors of §7.1")
    func count() { #expect(Self.vectors.map(\.name) == ["TEST 1", "TEST 2", "TEST 3", "TEST SHA(abc)"]) }

    @Test("the key derives the vector's public key and signs to the vector's signature, byte for byte", arguments: vectors)
    func sign(vector: Vector) throws {
        let key = try PrivateKey(pem: Self.privateKeyPEM(seed: [UInt8](hex: vector.secretKey)))
        #expect(key.type == .ed25519)
        #expect(Hex.encode(key.publicKey.spkiDER.suffix(32)) == vector.publicKey)
        let signature = try key.signature(for: [UInt8](hex: vector.message))
        #expect(Hex.encode(signature) == vector.signature)
    }

    @Test("the vector's signature verifies under the SPKI-encoded public key; one flipped bit does not", arguments: vectors)
    func verify(vector: Vector) throws {
        let publicKey = try PublicKey(spkiDER: [UInt8](hex: "302a300506032b6570032100") + [UInt8](hex: vector.publicKey))
        let message = [UInt8](hex: vector.message)
        var signature = [UInt8](hex: vector.signature)
        try publicKey.verify(signature, for: message)
        signature[10] ^= 0x04
        #expect(!publicKey.isValidSignature(signature, for: message))
        #expect(publicKey.keyID == KeyID(spkiDER: publicKey.spkiDER))
    }
}
