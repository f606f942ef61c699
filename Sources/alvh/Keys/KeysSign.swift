import ArgumentParser
import ALVHSigning

/// The largest file `keys sign` / `keys verify` reads (Ed25519 signs the whole message, not a hash).
let detachedMessageLimit = 64 * 1024 * 1024

struct KeysSign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Write a detached raw signature over a file's bytes.",
        discussion: """
        Ed25519: the 64 raw bytes of `openssl pkeyutl -sign -rawin -inkey KEY -in FILE`.
        P-256: the DER signature of `openssl dgst -sha256 -sign KEY FILE`, always with low S.
        """
    )

    @Argument(help: "The file to sign (at most 64 MiB).", completion: .file())
    var file: String

    @Option(name: .long, help: "The private key (PEM; mode 0600).", completion: .file())
    var key: String

    @Option(name: [.customShort("o"), .long], help: "Where to write the signature (default: FILE.sig).", completion: .file())
    var output: String?

    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var format: OutputOptions

    func run() async throws {
        try reportingErrors(json: format.json) {
            let privateKey = try PrivateKey.load(from: key, passphrase: passphrase.provider)
            let message = try SecureFile.read(file, limit: detachedMessageLimit)
            let signature = try privateKey.signature(for: message)
            let target = output ?? file + ".sig"
            try SecureFile.writeAtomically(signature, to: target, mode: 0o644)
            if format.json {
                try Console.json(SignReport(file: file, signature: target, type: privateKey.type, keyID: privateKey.keyID,
                                            signatureHex: Hex.encode(signature)))
            } else {
                Console.out(target)
                Console.err("signed \(file) (\(message.count) bytes) with \(privateKey.type.displayName) key \(privateKey.keyID.fingerprint)")
            }
        }
    }
}

struct SignReport: Encodable {
    let file: String
    let signature: String
    let type: KeyType
    let keyID: KeyID
    let signatureHex: String
}
