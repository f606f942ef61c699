import ArgumentParser
import ALVHSigning

struct KeysList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the keys in a key directory: name, type, key id, fingerprint, private key present."
    )

    @Option(name: .long, help: "The key directory.", completion: .directory)
    var dir = "Keys"

    @OptionGroup var output: OutputOptions

    func run() async throws {
        try reportingErrors(json: output.json) {
            let keys = try KeyStore(directory: dir).list()
            if output.json {
                try Console.json(keys)
                return
            }
            if keys.isEmpty {
                Console.err("no keys in \(dir) (make one with `alvh keys generate NAME --dir \(dir)`)")
                return
            }
            let nameWidth = max(4, keys.map(\.name.count).max() ?? 0)
            Console.out("NAME".padding(nameWidth) + "  TYPE     KEY ID                                                            FINGERPRINT               PRIVATE")
            for key in keys {
                Console.out(key.name.padding(nameWidth) + "  " + key.type.rawValue.padding(7) + "  " + key.keyID.hex + "  "
                            + key.fingerprint.padding(24) + "  " + (key.hasPrivateKey ? "yes" : "no"))
            }
        }
    }
}

extension String {
    /// Left-aligned in a column of `width` characters.
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
