import Foundation
import Testing
@testable import ALVHSigning

/// One key, one key id: re-encodings of a key (compressed point, DER instead of PEM) give the same
/// id; an encoding that is a second form of the curve itself (explicit parameters) is refused.
@Suite("Key identity", .enabled(if: Run.opensslAvailable))
struct KeyIdentityTests {
    @Test("a P-256 key re-encoded with a compressed point has the same key id; with explicit parameters it is refused")
    func p256Encodings() throws {
        let dir = TempDir()
        let key = dir.file("key.pem"), pub = dir.file("pub.pem")
        try Run.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
        chmod(key, 0o600)
        try Run.openssl(["pkey", "-in", key, "-pubout", "-out", pub])
        let original = try PublicKey.load(from: pub)

        let compressed = dir.file("compressed.pem")
        try Run.openssl(["ec", "-pubin", "-in", pub, "-conv_form", "compressed", "-out", compressed])
        #expect(try dir.read("compressed.pem") != (try dir.read("pub.pem")), "openssl wrote the same bytes")
        let recoded = try PublicKey.load(from: compressed)
        #expect(recoded.keyID == original.keyID)
        #expect(recoded.spkiDER == original.spkiDER)
        #expect(try recoded.pemEncoded() == (try dir.read("pub.pem")), "the export is the canonical (uncompressed) form")
        let compressedDER = try Run.openssl(["ec", "-pubin", "-in", pub, "-conv_form", "compressed", "-outform", "DER"]).stdout
        #expect(try PublicKey(spkiDER: compressedDER).keyID == original.keyID)

        // The private key in a traditional EC file with a compressed point: the same id too.
        let compressedPrivate = dir.file("compressed.key.pem")
        try Run.openssl(["ec", "-in", key, "-conv_form", "compressed", "-out", compressedPrivate])
        chmod(compressedPrivate, 0o600)
        #expect(try PrivateKey.load(from: compressedPrivate).keyID == original.keyID)
        #expect(try PrivateKey.load(from: key).keyID == original.keyID)

        // The CLI agrees.
        let cli = try Run.process(Run.alvh, ["keys", "id", compressed])
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.text.trimmingCharacters(in: .whitespacesAndNewlines) == original.keyID.hex)

        for (name, args) in [("explicit.pem", ["ec", "-pubin", "-in", pub]), ("explicit.key.pem", ["ec", "-in", key])] {
            let path = dir.file(name)
            try Run.openssl(args + ["-param_enc", "explicit", "-out", path])
            chmod(path, 0o600)
            #expect {
                if name.contains(".key.") { _ = try PrivateKey.load(from: path) } else { _ = try PublicKey.load(from: path) }
            } throws: { error in
                guard let error = error as? SigningError else { return false }
                return error.code == .unsupportedKeyType && error.reason.contains("explicit curve parameters")
                    && error.reason.contains("-param_enc named_curve") && error.path == path
            }
        }
    }

    @Test("keys alvh wrote keep their key ids: SHA-256 of openssl's DER SubjectPublicKeyInfo", arguments: KeyType.allCases)
    func existingIDsUnchanged(type: KeyType) throws {
        let dir = TempDir()
        let made = try KeyStore(directory: dir.file("Keys")).generate(name: "k", type: type)
        let der = try Run.openssl(["pkey", "-pubin", "-in", made.publicKeyPath, "-outform", "DER"]).stdout
        #expect(made.keyID.hex == SHA256.hexDigest(der))
        let key = try PublicKey.load(from: made.publicKeyPath)
        #expect(key.spkiDER == der)
        #expect(try key.pemEncoded() == (try SecureFile.read(made.publicKeyPath, limit: 4096)))
    }

    @Test("an Ed25519 key has the same id through PEM and DER, public and private")
    func ed25519PEMAndDER() throws {
        let dir = TempDir()
        let key = dir.file("key.pem"), pub = dir.file("pub.pem")
        try Run.openssl(["genpkey", "-algorithm", "ed25519", "-out", key])
        chmod(key, 0o600)
        try Run.openssl(["pkey", "-in", key, "-pubout", "-out", pub])
        let der = try Run.openssl(["pkey", "-in", key, "-pubout", "-outform", "DER"]).stdout
        let fromPEM = try PublicKey.load(from: pub)
        let fromDER = try PublicKey(spkiDER: der)
        #expect(fromPEM.keyID == fromDER.keyID)
        #expect(try PrivateKey.load(from: key).keyID == fromPEM.keyID)
        #expect(fromPEM.spkiDER == der)
        #expect(fromPEM.spkiDER.count == 44)
    }
}
