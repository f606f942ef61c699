import ArgumentParser
import ALVHSigning

struct KeysID: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id",
        abstract: "Print the key id of a public or private key file (PEM, from alvh or openssl)."
    )

    @Argument(help: "A PEM public key or private key file.", completion: .file())
    var file: String

    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try reportingErrors(json: output.json) {
            let (key, wasPrivate) = try KeyFile.publicKey(at: file, passphrase: passphrase.provider)
            if output.json {
                try Console.json(KeyIDReport(file: file, type: key.type, keyID: key.keyID,
                                             fingerprint: key.keyID.fingerprint, privateKey: wasPrivate))
            } else {
                Console.out(key.keyID.hex)
                Console.err("\(key.type.displayName) \(wasPrivate ? "private" : "public") key, fingerprint \(key.keyID.fingerprint)")
            }
        }
    }
}

struct KeyIDReport: Encodable {
    let file: String
    let type: KeyType
    let keyID: KeyID
    let fingerprint: String
    let privateKey: Bool
}
