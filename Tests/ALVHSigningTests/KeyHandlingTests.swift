import Foundation
import Testing
@testable import ALVHSigning

@Suite("Keys: generation, files, permissions, passphrases, types")
struct KeyHandlingTests {
    @Test("generate → PEM → reload keeps the key id; the id is SHA-256 of the SPKI DER", arguments: KeyType.allCases)
    func roundTrip(type: KeyType) throws {
        let key = try PrivateKey.generate(type)
        let reloaded = try PrivateKey(pem: try key.pkcs8PEM())
        #expect(reloaded.keyID == key.keyID)
        let pub = try PublicKey(pem: try key.publicKey.pemEncoded())
        #expect(pub.keyID == key.keyID)
        #expect(key.keyID.hex == SHA256.hexDigest(key.publicKey.spkiDER))
        #expect(key.keyID.hex.count == 64 && key.keyID.hex == key.keyID.hex.lowercased())
        #expect(key.keyID.fingerprint == "SHA256:\(key.keyID.hex.prefix(8)):\(key.keyID.hex.dropFirst(8).prefix(8))")
        let message = Array("x".utf8)
        #expect(pub.isValidSignature(try reloaded.signature(for: message), for: message))
        #expect(try PrivateKey.generate(type).keyID != key.keyID)
    }

    @Test("KeyStore writes 0600 private keys in a 0700 directory and 0644 public keys; refuses overwrite without force")
    func keyStoreFiles() throws {
        let dir = TempDir()
        let store = KeyStore(directory: dir.file("Keys"))
        let made = try store.generate(name: "alice", type: .p256)
        #expect(try SecureFile.permissions(made.privateKeyPath) == 0o600)
        #expect(try SecureFile.permissions(store.privateDirectory) == 0o700)
        #expect(try SecureFile.permissions(made.publicKeyPath) == 0o644)
        #expect(try PrivateKey.load(from: made.privateKeyPath).keyID == made.keyID)
        #expect { try store.generate(name: "alice") } throws: { ($0 as? SigningError)?.code == .alreadyExists }
        #expect(try PrivateKey.load(from: made.privateKeyPath).keyID == made.keyID) // untouched
        let replaced = try store.generate(name: "alice", force: true)
        #expect(replaced.keyID != made.keyID)
        #expect(try store.list().map(\.name) == ["alice"])
        #expect(try store.list().first?.hasPrivateKey == true)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.privateDirectory).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }

    @Test("key names that are not plain file names are refused", arguments: ["", ".hidden", "-flag", "a/b", "../x", "sp ace", String(repeating: "a", count: 65)])
    func badNames(name: String) {
        #expect { try KeyStore.validate(name: name) } throws: { ($0 as? SigningError)?.code == .invalidKeyName }
    }

    @Test("a private key readable by group or others is refused with the chmod that fixes it", arguments: [0o644, 0o640, 0o604, 0o660] as [Int])
    func permissions(mode: Int) throws {
        let dir = TempDir()
        let path = try dir.write("k.pem", try PrivateKey.generate().pkcs8PEM(), mode: mode_t(mode))
        #expect { try PrivateKey.load(from: path) } throws: { error in
            guard let error = error as? SigningError else { return false }
            return error.code == .keyPermissionsTooOpen && error.reason.contains("chmod 600") && error.path == path
        }
        chmod(path, 0o600)
        _ = try PrivateKey.load(from: path)
    }

    @Test("encrypted key: no passphrase, wrong passphrase, right passphrase")
    func passphrases() throws {
        let dir = TempDir()
        let key = try PrivateKey.generate(.ed25519)
        let path = try dir.write("enc.pem", try key.pkcs8PEM(passphrase: Array("right".utf8)), mode: 0o600)
        #expect(String(decoding: try dir.read("enc.pem"), as: UTF8.self).hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        #expect { try PrivateKey.load(from: path) } throws: { ($0 as? SigningError)?.code == .passphraseRequired }
        #expect { try PrivateKey.load(from: path, passphrase: { Array("wrong".utf8) }) } throws: { error in
            guard let error = error as? SigningError else { return false }
            return error.code == .wrongPassphrase && !(error.description.contains("right"))
        }
        #expect(try PrivateKey.load(from: path, passphrase: { Array("right".utf8) }).keyID == key.keyID)
        // A plain key never asks.
        let plain = try dir.write("plain.pem", try key.pkcs8PEM(), mode: 0o600)
        _ = try PrivateKey.load(from: plain, passphrase: { Issue.record("asked for a passphrase of a plain key"); return [] })
    }

    @Test("passphrase files: first line without its newline; too-open or empty files are refused")
    func passphraseFiles() throws {
        let dir = TempDir()
        let good = try dir.write("p", Array("pass phrase\r\nignored".utf8), mode: 0o600)
        #expect(try Passphrase.fromFile(good) == Array("pass phrase".utf8))
        let open = try dir.write("q", Array("x\n".utf8), mode: 0o644)
        #expect { try Passphrase.fromFile(open) } throws: { ($0 as? SigningError)?.code == .keyPermissionsTooOpen }
        let empty = try dir.write("e", Array("\n".utf8), mode: 0o600)
        #expect { try Passphrase.fromFile(empty) } throws: { ($0 as? SigningError)?.code == .passphraseUnavailable }
        let provider = Passphrase.provider(file: nil, environment: ["ALVH_PASSPHRASE": "from env"])
        #expect(try provider?() == Array("from env".utf8))
    }

    @Test("unsupported key types are refused, private and public", .enabled(if: Run.opensslAvailable),
          arguments: [["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"], ["-algorithm", "X25519"]])
    func unsupportedTypes(args: [String]) throws {
        let dir = TempDir()
        try Run.openssl(["genpkey"] + args + ["-out", dir.file("k.pem")])
        chmod(dir.file("k.pem"), 0o600)
        try Run.openssl(["pkey", "-in", dir.file("k.pem"), "-pubout", "-out", dir.file("p.pem")])
        #expect { try PrivateKey.load(from: dir.file("k.pem")) } throws: { ($0 as? SigningError)?.code == .unsupportedKeyType }
        #expect { try PublicKey.load(from: dir.file("p.pem")) } throws: { ($0 as? SigningError)?.code == .unsupportedKeyType }
    }

    @Test("wrong or broken key files give clear errors")
    func badFiles() throws {
        let dir = TempDir()
        let key = try PrivateKey.generate()
        let pub = try dir.write("pub.pem", try key.publicKey.pemEncoded(), mode: 0o600)
        #expect { try PrivateKey.load(from: pub) } throws: { error in
            guard let error = error as? SigningError else { return false }
            return error.code == .invalidKeyEncoding && error.reason.contains("public key")
        }
        let garbage = try dir.write("g.pem", Array("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n".utf8), mode: 0o600)
        #expect { try PrivateKey.load(from: garbage) } throws: { ($0 as? SigningError)?.code == .invalidKeyEncoding }
        #expect { try PublicKey.load(from: garbage) } throws: { ($0 as? SigningError)?.code == .invalidKeyEncoding }
        let big = try dir.write("big.pem", [UInt8](repeating: 0x41, count: SecureFile.keyFileLimit + 1), mode: 0o600)
        #expect { try PrivateKey.load(from: big) } throws: { ($0 as? SigningError)?.code == .fileTooLarge }
        try FileManager.default.createDirectory(atPath: dir.file("adir"), withIntermediateDirectories: false)
        chmod(dir.file("adir"), 0o700)
        #expect { try PublicKey.load(from: dir.file("adir")) } throws: { ($0 as? SigningError)?.code == .fileUnreadable }
        #expect { try PublicKey.load(from: dir.file("missing.pem")) } throws: { ($0 as? SigningError)?.code == .fileUnreadable }
        #expect { try PublicKey(spkiDER: key.publicKey.spkiDER + [0]) } throws: { ($0 as? SigningError)?.code == .invalidKeyEncoding }
    }
}

@Suite("Hashing, random, files")
struct HashingTests {
    @Test("SHA-256 known answers, one-shot and incremental")
    func sha256() throws {
        #expect(SHA256.hexDigest([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let hasher = try SHA256Hasher()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(chunk) }
        #expect(Hex.encode(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("hex round trip and refusals")
    func hex() {
        #expect(Hex.encode([0x00, 0xab, 0xff]) == "00abff")
        #expect(Hex.decode("00ABff") == [0x00, 0xab, 0xff])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    @Test("secure random bytes differ")
    func random() throws {
        let a = try SecureRandom.bytes(32), b = try SecureRandom.bytes(32)
        #expect(a.count == 32 && a != b)
    }

    @Test("atomic writes leave no temporary files, refuse to overwrite when asked, and fail cleanly")
    func atomicWrites() throws {
        let dir = TempDir()
        let path = dir.file("out.bin")
        try SecureFile.writeAtomically([1, 2, 3], to: path, mode: 0o600)
        try SecureFile.writeAtomically([4, 5], to: path, mode: 0o600)
        #expect(try dir.read("out.bin") == [4, 5])
        #expect(try SecureFile.permissions(path) == 0o600)
        #expect { try SecureFile.writeAtomically([9], to: path, mode: 0o600, overwrite: false) } throws: { ($0 as? SigningError)?.code == .alreadyExists }
        #expect(try dir.read("out.bin") == [4, 5])
        #expect { try SecureFile.writeAtomically([9], to: dir.file("missing/out.bin"), mode: 0o600) } throws: { ($0 as? SigningError)?.code == .fileWriteFailed }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.bin"])
    }
}

@Suite("Fuzzing regressions")
struct FuzzRegressionTests {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

    @Test("FuzzPEM crash: a P-256 PKCS#8 key whose embedded public point does not match its scalar is refused on load")
    func mismatchedECKey() throws {
        let pem = Array(try Data(contentsOf: Self.vectors.appendingPathComponent("fuzz-pem-mismatched-ec-key.pem")))
        #expect { try PrivateKey(pem: pem, path: "k.pem") } throws: { error in
            guard let error = error as? SigningError else { return false }
            return error.code == .invalidKeyEncoding && error.reason.contains("public half does not match") && error.path == "k.pem"
        }
    }
}
