import ArgumentParser
import ALVHSigning

struct KeysVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a detached raw signature over a file's bytes; exit 0 only when it is valid.",
        discussion: """
        Accepts the byte formats of `openssl pkeyutl -sign -rawin` (Ed25519) and \
        `openssl dgst -sha256 -sign` (P-256 DER). P-256 signatures must be strict DER with low S.
        """
    )

    @Argument(help: "The signed file.", completion: .file())
    var file: String

    @Option(name: .long, help: "The signature file.", completion: .file())
    var sig: String

    @Option(name: .long, help: "The public key (PEM; a private key file also works).", completion: .file())
    var pub: String

    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try reportingErrors(json: output.json) {
            let (key, _) = try KeyFile.publicKey(at: pub, passphrase: passphrase.provider)
            let message = try SecureFile.read(file, limit: detachedMessageLimit)
            let signature = try SecureFile.read(sig, limit: 1024)
            do {
                try key.verify(signature, for: message)
            } catch var error as SigningError {
                error.path = error.path ?? sig
                throw error
            }
            if output.json {
                try Console.json(VerifyReport(file: file, signature: sig, valid: true, type: key.type, keyID: key.keyID))
            } else {
                Console.out("OK: \(sig) is a valid \(key.type.displayName) signature of \(file) by key \(key.keyID.hex)")
            }
        }
    }
}

struct VerifyReport: Encodable {
    let file: String
    let signature: String
    let valid: Bool
    let type: KeyType
    let keyID: KeyID
}
