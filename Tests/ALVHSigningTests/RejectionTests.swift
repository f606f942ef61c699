import Foundation
import Testing
@testable import ALVHSigning

@Suite("Signature rejections")
struct RejectionTests {
    static let message = Array("resize short-term layer to 30 contracts".utf8)

    @Test("tampered message, tampered signature, wrong key, truncated and empty signatures are refused", arguments: KeyType.allCases)
    func tampering(type: KeyType) throws {
        let key = try PrivateKey.generate(type)
        let other = try PrivateKey.generate(type)
        let sig = try key.signature(for: Self.message)
        try key.publicKey.verify(sig, for: Self.message)

        var message = Self.message
        message[3] ^= 0x01
        #expect { try key.publicKey.verify(sig, for: message) } throws: { ($0 as? SigningError)?.code == .signatureInvalid }

        for index in [0, sig.count / 2, sig.count - 1] {
            var bad = sig
            bad[index] ^= 0x80
            #expect(!key.publicKey.isValidSignature(bad, for: Self.message), "bit flip at \(index)")
        }
        #expect { try other.publicKey.verify(sig, for: Self.message) } throws: { ($0 as? SigningError)?.code == .signatureInvalid }
        #expect { try key.publicKey.verify(Array(sig.dropLast()), for: Self.message) } throws: { ($0 as? SigningError)?.code == .signatureMalformed }
        #expect { try key.publicKey.verify([UInt8](), for: Self.message) } throws: { ($0 as? SigningError)?.code == .signatureMalformed }
        #expect(!key.publicKey.isValidSignature(sig + [0], for: Self.message))
    }

    @Test("P-256: high S is refused though ECDSA calls it valid; its low-S twin verifies")
    func highS() throws {
        let key = try PrivateKey.generate(.p256)
        let sig = try key.signature(for: Self.message)
        let high = try P256SignatureEncoding.flippingS(sig)
        #expect(try P256SignatureEncoding.isHighS(high))
        #expect { try key.publicKey.verify(high, for: Self.message) } throws: { error in
            guard let error = error as? SigningError else { return false }
            return error.code == .signatureMalformed && error.reason.contains("high S")
        }
        try key.publicKey.verify(try P256SignatureEncoding.flippingS(high), for: Self.message)
    }

    /// Re-encodes (r, s) with a needless leading zero on r, or BER long-form lengths: same numbers, not DER.
    @Test("P-256: non-canonical DER encodings of a valid signature are refused")
    func nonCanonicalDER() throws {
        let key = try PrivateKey.generate(.p256)
        let sig = try key.signature(for: Self.message)
        // Parse the canonical encoding: 30 L 02 Lr r 02 Ls s.
        #expect(sig[0] == 0x30 && sig[2] == 0x02)
        let rLen = Int(sig[3])
        let r = Array(sig[4..<(4 + rLen)])
        let s = Array(sig[(6 + rLen)...])
        func seq(_ body: [UInt8]) -> [UInt8] { [0x30, UInt8(body.count)] + body }
        let paddedR = seq([0x02, UInt8(r.count + 1), 0x00] + r + [0x02, UInt8(s.count)] + s)
        let longForm = [0x30, 0x81, UInt8(sig.count - 2)] + Array(sig[2...])
        let trailing = sig + [0x00]
        let indefinite = [0x30, 0x80] + Array(sig[2...]) + [0x00, 0x00]
        for (name, bad) in [("padded r", paddedR), ("long-form length", longForm), ("trailing byte", trailing), ("indefinite length", indefinite)] {
            #expect(throws: SigningError.self, "\(name)") { try key.publicKey.verify(bad, for: Self.message) }
        }
        // r = 0 or s = 0.
        let zeroS = seq([0x02, UInt8(r.count)] + r + [0x02, 0x01, 0x00])
        #expect(!key.publicKey.isValidSignature(zeroS, for: Self.message))
    }

    @Test("an Ed25519 signature is not a P-256 signature and vice versa")
    func crossScheme() throws {
        let ed = try PrivateKey.generate(.ed25519)
        let ec = try PrivateKey.generate(.p256)
        #expect(!ec.publicKey.isValidSignature(try ed.signature(for: Self.message), for: Self.message))
        #expect(!ed.publicKey.isValidSignature(try ec.signature(for: Self.message), for: Self.message))
    }

    @Test("one public key verifies concurrently from many tasks; refusals do not spoil its pooled contexts", arguments: KeyType.allCases)
    func concurrentVerification(type: KeyType) async throws {
        let key = try PrivateKey.generate(type)
        let publicKey = key.publicKey
        let messages = (0..<50).map { Array("message \($0)".utf8) }
        let signatures = try messages.map { try key.signature(for: $0) }
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for task in 0..<8 {
                group.addTask {
                    var good = 0, refused = 0
                    for round in 0..<200 {
                        let i = (round + task) % messages.count
                        var sig = signatures[i]
                        var message = messages[i]
                        if round % 3 == 0 { sig[sig.count - 1 - round % 16] ^= 0x10 }  // a bad signature
                        if round % 3 == 1 { message[0] ^= 0x01 }                        // the wrong message
                        if publicKey.isValidSignature(sig, for: message) { good += 1 } else { refused += 1 }
                    }
                    return (good, refused)
                }
            }
            return try await group.reduce(into: [(Int, Int)]()) { $0.append($1) }
        }
        for (good, refused) in results {
            #expect(refused == 134) // rounds 0, 1, 3, 4, …, 198, 199
            #expect(good == 66)
        }
    }
}
