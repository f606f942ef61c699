import Foundation
import Testing
@testable import ALVHSigning

/// Interop with the real `openssl` CLI, both directions.
@Suite("OpenSSL CLI interop", .enabled(if: Run.opensslAvailable))
struct OpenSSLInteropTests {
    enum Kind: String, CaseIterable, Sendable { case ed25519, p256 }

    static func genpkey(_ kind: Kind, to path: String, passphrase: String? = nil) throws {
        var args = ["genpkey"]
        args += kind == .ed25519 ? ["-algorithm", "ed25519"] : ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        if let passphrase { args += ["-aes-256-cbc", "-pass", "pass:\(passphrase)"] }
        args += ["-out", path]
        try Run.openssl(args)
        chmod(path, 0o600)
    }

    /// `openssl pkey -pubout -outform DER | sha256sum`, computed from openssl's DER.
    static func opensslKeyID(_ path: String, passphrase: String? = nil) throws -> String {
        var args = ["pkey", "-in", path, "-pubout", "-outform", "DER"]
        if let passphrase { args += ["-passin", "pass:\(passphrase)"] }
        return SHA256.hexDigest(try Run.openssl(args).stdout)
    }

    @Test("keys made by openssl genpkey load in alvh with openssl's key id (plain and encrypted)",
          arguments: Kind.allCases, [false, true])
    func opensslKeysLoad(kind: Kind, encrypted: Bool) throws {
        let dir = TempDir()
        let path = dir.file("key.pem")
        try Self.genpkey(kind, to: path, passphrase: encrypted ? "correct horse" : nil)
        let expected = try Self.opensslKeyID(path, passphrase: encrypted ? "correct horse" : nil)
        let provider: Passphrase.Provider? = encrypted ? { @Sendable in Array("correct horse".utf8) } : nil
        let key = try PrivateKey.load(from: path, passphrase: provider)
        #expect(key.keyID.hex == expected)
        #expect(key.type == (kind == .ed25519 ? KeyType.ed25519 : KeyType.p256))
        let pubPath = dir.file("key.pub.pem")
        try Run.openssl(["pkey", "-in", path, "-pubout", "-out", pubPath] + (encrypted ? ["-passin", "pass:correct horse"] : []))
        #expect(try PublicKey.load(from: pubPath).keyID.hex == expected)
        // And through the CLI.
        try dir.write("pass", Array("correct horse\n".utf8), mode: 0o600)
        let cli = try Run.process(Run.alvh, ["keys", "id", path] + (encrypted ? ["--passphrase-file", dir.file("pass")] : []))
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.text.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
    }

    @Test("alvh Ed25519 signatures verify with openssl pkeyutl; openssl's verify in alvh")
    func ed25519BothWays() throws {
        let dir = TempDir()
        let key = try PrivateKey.generate(.ed25519)
        try dir.write("key.pem", try key.pkcs8PEM(), mode: 0o600)
        try dir.write("pub.pem", try key.publicKey.pemEncoded())
        let message = Array("layer change: add 20 x VIX Dec 20 call\n".utf8)
        try dir.write("msg", message)
        try dir.write("alvh.sig", try key.signature(for: message))
        let verified = try Run.process(Run.openssl, ["pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", dir.file("pub.pem"),
                                                     "-in", dir.file("msg"), "-sigfile", dir.file("alvh.sig")])
        #expect(verified.status == 0, "\(verified.stderr)")

        try Run.openssl(["pkeyutl", "-sign", "-rawin", "-inkey", dir.file("key.pem"), "-in", dir.file("msg"), "-out", dir.file("openssl.sig")])
        let opensslSig = try dir.read("openssl.sig")
        #expect(opensslSig == (try dir.read("alvh.sig"))) // Ed25519 is deterministic
        try key.publicKey.verify(opensslSig, for: message)
        let cli = try Run.process(Run.alvh, ["keys", "verify", dir.file("msg"), "--sig", dir.file("openssl.sig"), "--pub", dir.file("pub.pem")])
        #expect(cli.status == 0, "\(cli.stderr)")
    }

    @Test("alvh P-256 signatures verify with openssl dgst; openssl's low-S ones verify in alvh, high-S ones are refused")
    func p256BothWays() throws {
        let dir = TempDir()
        let key = try PrivateKey.generate(.p256)
        try dir.write("key.pem", try key.pkcs8PEM(), mode: 0o600)
        try dir.write("pub.pem", try key.publicKey.pemEncoded())
        let message = Array("roll event layer to the January expiry\n".utf8)
        try dir.write("msg", message)
        for round in 0..<8 {
            let sig = try key.signature(for: message)
            #expect(try !P256SignatureEncoding.isHighS(sig))
            try dir.write("alvh.sig", sig)
            let verified = try Run.process(Run.openssl, ["dgst", "-sha256", "-verify", dir.file("pub.pem"), "-signature", dir.file("alvh.sig"), dir.file("msg")])
            #expect(verified.status == 0, "round \(round): \(verified.stderr)")
        }
        var sawLow = false, sawHigh = false
        for _ in 0..<64 where !(sawLow && sawHigh) {
            try Run.openssl(["dgst", "-sha256", "-sign", dir.file("key.pem"), "-out", dir.file("openssl.sig"), dir.file("msg")])
            let sig = try dir.read("openssl.sig")
            if try P256SignatureEncoding.isHighS(sig) {
                sawHigh = true
                #expect { try key.publicKey.verify(sig, for: message) } throws: { ($0 as? SigningError)?.code == .signatureMalformed }
                try key.publicKey.verify(try P256SignatureEncoding.flippingS(sig), for: message)
                let cli = try Run.process(Run.alvh, ["keys", "verify", dir.file("msg"), "--sig", dir.file("openssl.sig"), "--pub", dir.file("pub.pem")])
                #expect(cli.status == 1)
                #expect(cli.stderr.contains("high S"))
            } else {
                sawLow = true
                try key.publicKey.verify(sig, for: message)
                let cli = try Run.process(Run.alvh, ["keys", "verify", dir.file("msg"), "--sig", dir.file("openssl.sig"), "--pub", dir.file("pub.pem")])
                #expect(cli.status == 0, "\(cli.stderr)")
            }
        }
        #expect(sawLow && sawHigh, "64 openssl signatures were all on one side of n/2")
    }

    @Test("an alvh-encrypted key opens with openssl and uses PBKDF2-HMAC-SHA256 with 600,000 rounds and AES-256")
    func encryptedKeyForOpenSSL() throws {
        let dir = TempDir()
        let key = try PrivateKey.generate(.p256)
        try dir.write("enc.pem", try key.pkcs8PEM(passphrase: Array("s3cret".utf8)), mode: 0o600)
        let der = try Run.openssl(["pkey", "-in", dir.file("enc.pem"), "-passin", "pass:s3cret", "-pubout", "-outform", "DER"]).stdout
        #expect(SHA256.hexDigest(der) == key.keyID.hex)
        let asn1 = try Run.openssl(["asn1parse", "-in", dir.file("enc.pem")]).text
        #expect(asn1.contains("PBES2") && asn1.contains("PBKDF2") && asn1.contains("hmacWithSHA256") && asn1.contains("aes-256-cbc"))
        #expect(asn1.contains("INTEGER           :0927C0"), "iteration count is not 600000:\n\(asn1)")
        let wrong = try Run.process(Run.openssl, ["pkey", "-in", dir.file("enc.pem"), "-passin", "pass:nope", "-noout"])
        #expect(wrong.status != 0)
    }
}
