import ArgumentParser
import ALVHSigning

struct KeysGenerate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a key pair: DIR/NAME.pub.pem (commit it) and DIR/private/NAME.key.pem (mode 0600, never commit).",
        discussion: """
        Prints the key id: the lowercase hex SHA-256 of the public key's DER SubjectPublicKeyInfo, \
        the same as `openssl pkey -pubout -outform DER -in KEY | sha256sum`.
        With --encrypt the private key is PKCS#8 encrypted with AES-256-CBC under PBKDF2-HMAC-SHA256 \
        (600,000 iterations); the passphrase comes from --passphrase-file, $ALVH_PASSPHRASE, or the terminal (asked twice).
        """
    )

    @Argument(help: "The key's name: letters, digits, '.', '_', '-'.")
    var name: String

    @Option(name: .long, help: "Key type: ed25519 (default) or p256 (ECDSA P-256/SHA-256).")
    var type: KeyType = .ed25519

    @Option(name: .long, help: "The key directory.", completion: .directory)
    var dir = "Keys"

    @Flag(name: .long, help: "Encrypt the private key with a passphrase.")
    var encrypt = false

    @Option(name: .long, help: "With --encrypt: read the new passphrase from this file (mode 0600).", completion: .file())
    var passphraseFile: String?

    @Flag(name: .long, help: "Replace an existing key of the same name.")
    var force = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if passphraseFile != nil && !encrypt {
            throw ValidationError("--passphrase-file is only used with --encrypt")
        }
    }

    func run() async throws {
        try reportingErrors(json: output.json) {
            var passphrase: [UInt8]?
            if encrypt {
                guard let provider = Passphrase.newPassphraseProvider(file: passphraseFile) else {
                    throw SigningError(.passphraseRequired,
                        "--encrypt needs a passphrase: give --passphrase-file FILE, set \(Passphrase.environmentVariable), or run on a terminal")
                }
                passphrase = try provider()
            }
            defer { if passphrase != nil { Passphrase.wipe(&passphrase!) } }
            let made = try KeyStore(directory: dir).generate(name: name, type: type, passphrase: passphrase, force: force)
            if output.json {
                try Console.json(GeneratedReport(made))
            } else {
                Console.out(made.keyID.hex)
                Console.err("generated \(made.type.displayName) key '\(made.name)' (\(made.keyID.fingerprint))\(made.encrypted ? ", encrypted" : "")")
                Console.err("  public:  \(made.publicKeyPath)")
                Console.err("  private: \(made.privateKeyPath) (mode 0600; keep it out of git)")
            }
        }
    }
}

struct GeneratedReport: Encodable {
    let name: String
    let type: KeyType
    let keyID: KeyID
    let fingerprint: String
    let publicKeyPath: String
    let privateKeyPath: String
    let encrypted: Bool

    init(_ made: KeyStore.Generated) {
        name = made.name
        type = made.type
        keyID = made.keyID
        fingerprint = made.keyID.fingerprint
        publicKeyPath = made.publicKeyPath
        privateKeyPath = made.privateKeyPath
        encrypted = made.encrypted
    }
}
