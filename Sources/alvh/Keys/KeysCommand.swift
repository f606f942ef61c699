import ArgumentParser
import ALVHSigning

/// `alvh keys …`: generate, list and inspect keys; detached signatures interoperable with `openssl`.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Generate, list and identify signer keys; sign and verify files (openssl-compatible).",
        subcommands: [KeysGenerate.self, KeysList.self, KeysID.self, KeysSign.self, KeysVerify.self]
    )
}

/// Where a private key's passphrase comes from.
struct PassphraseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Read the private key's passphrase from the first line of this file (mode 0600).",
        discussion: "Without it alvh reads $ALVH_PASSPHRASE, then asks on the terminal (no echo)."),
            completion: .file())
    var passphraseFile: String?

    /// A provider for reading an existing key.
    var provider: Passphrase.Provider? { Passphrase.provider(file: passphraseFile) }
}

extension KeyType: ExpressibleByArgument {}
