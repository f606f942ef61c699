import Foundation
import Testing
@testable import ALVHSigning

/// Project Wycheproof vectors from ../shared/vectors/wycheproof (skipped when absent).
///
/// Our policy (shared/vectors/README.md): every `invalid` refused; every `valid` Ed25519 accepted;
/// every `valid` P-256 accepted unless its S is high, in which case refused.
@Suite("Wycheproof vectors")
struct WycheproofTests {
    static let directory = Run.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/vectors/wycheproof")
    static var present: Bool { FileManager.default.fileExists(atPath: directory.appendingPathComponent("ed25519_test.json").path) }

    struct File: Decodable {
        struct Group: Decodable {
            let publicKeyDer: String
            let tests: [Case]
        }
        struct Case: Decodable {
            let tcId: Int
            let comment: String
            let msg: String
            let sig: String
            let result: String
        }
        let testGroups: [Group]
    }

    static func load(_ name: String) throws -> File {
        try JSONDecoder().decode(File.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }

    @Test("Ed25519: every valid accepted, every invalid refused", .enabled(if: present))
    func ed25519() throws {
        let file = try Self.load("ed25519_test.json")
        var valid = 0, invalid = 0
        for group in file.testGroups {
            let key = try PublicKey(spkiDER: [UInt8](hex: group.publicKeyDer))
            #expect(key.type == .ed25519)
            for test in group.tests {
                let accepted = key.isValidSignature([UInt8](hex: test.sig), for: [UInt8](hex: test.msg))
                switch test.result {
                case "valid":
                    valid += 1
                    #expect(accepted, "tcId \(test.tcId) \(test.comment): a valid signature was refused")
                case "invalid":
                    invalid += 1
                    #expect(!accepted, "tcId \(test.tcId) \(test.comment): an invalid signature was accepted")
                default: break
                }
            }
        }
        #expect(valid >= 80 && invalid >= 60, "too few vectors checked: \(valid) valid, \(invalid) invalid")
    }

    @Test("P-256: every invalid refused; valid accepted unless S is high", .enabled(if: present))
    func p256() throws {
        let file = try Self.load("ecdsa_secp256r1_sha256_test.json")
        var validLow = 0, validHigh = 0, invalid = 0
        for group in file.testGroups {
            let key = try PublicKey(spkiDER: [UInt8](hex: group.publicKeyDer))
            #expect(key.type == .p256)
            for test in group.tests {
                let sig = [UInt8](hex: test.sig)
                let accepted = key.isValidSignature(sig, for: [UInt8](hex: test.msg))
                switch test.result {
                case "valid":
                    if try P256SignatureEncoding.isHighS(sig) {
                        validHigh += 1
                        #expect(!accepted, "tcId \(test.tcId) \(test.comment): a high-S signature was accepted")
                        #expect(key.isValidSignature(try P256SignatureEncoding.flippingS(sig), for: [UInt8](hex: test.msg)),
                                "tcId \(test.tcId): its low-S twin should verify")
                    } else {
                        validLow += 1
                        #expect(accepted, "tcId \(test.tcId) \(test.comment): a valid low-S signature was refused")
                    }
                case "invalid":
                    invalid += 1
                    #expect(!accepted, "tcId \(test.tcId) \(test.comment): an invalid signature was accepted")
                default: break
                }
            }
        }
        #expect(validLow >= 50 && validHigh >= 20 && invalid >= 300, "too few vectors: \(validLow) low-S, \(validHigh) high-S, \(invalid) invalid")
    }
}
