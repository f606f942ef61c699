import ArgumentParser
import ALVHSigning
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the alvh walkthrough in a fresh workspace, with no input needed.",
        discussion: "Leaves the workspace on disk and prints its path."
    )

    @Option(name: .long, help: "Where to build the demo workspace (default: a new temporary directory).", completion: .directory)
    var workspace: String?

    func run() async throws {
        try reportingErrors(json: false) {
            let root = try workspace ?? DemoWorkspace.makeTemporary()
            try SecureFile.makeDirectory(root, mode: 0o755)
            Console.out("alvh demo — workspace \(root)")
            Console.out("OpenSSL: \(OpenSSLInfo.versionText)")
            Console.out("")
            let store = KeyStore(directory: "\(root)/Keys")
            let signers: [(String, KeyType)] = [("ro-alice", .ed25519), ("ro-bob", .p256), ("ro-dana", .ed25519),
                                                ("cro-carol", .ed25519), ("limits-bot", .p256)]
            Console.out("1. Signer keys")
            var keys: [(String, PrivateKey)] = []
            for (name, type) in signers {
                let made = try store.generate(name: name, type: type, force: true)
                let key = try PrivateKey.load(from: made.privateKeyPath)
                keys.append((name, key))
                Console.out("   \(name.padding(11)) \(type.rawValue.padding(8)) \(made.keyID.fingerprint)  \(made.publicKeyPath)")
            }
            Console.out("")
            Console.out("2. Each signer signs the same message; everyone verifies everyone")
            let message = Array("ALVH demo: add short-term layer, 20 x VIX call\n".utf8)
            let messagePath = "\(root)/message.txt"
            try SecureFile.writeAtomically(message, to: messagePath, mode: 0o644)
            var valid = 0
            for (name, key) in keys {
                let signature = try key.signature(for: message)
                let sigPath = "\(root)/message.\(name).sig"
                try SecureFile.writeAtomically(signature, to: sigPath, mode: 0o644)
                let ok = keys.allSatisfy { $0.1.publicKey.isValidSignature(signature, for: message) == ($0.0 == name) }
                if ok { valid += 1 }
                Console.out("   \(name.padding(11)) \(signature.count)-byte signature → \(sigPath): \(ok ? "verifies under its own key only" : "UNEXPECTED")")
            }
            var tampered = message
            tampered[0] ^= 1
            let rejected = keys.allSatisfy { !$0.1.publicKey.isValidSignature(try! $0.1.signature(for: message), for: tampered) }
            Console.out("   tampered message refused by every key: \(rejected ? "yes" : "NO")")
            Console.out("")
            Console.out("3. \(valid) of \(keys.count) signatures valid — check one with OpenSSL yourself:")
            Console.out("   openssl pkeyutl -verify -rawin -pubin -inkey \(root)/Keys/ro-alice.pub.pem -in \(messagePath) -sigfile \(root)/message.ro-alice.sig")
            Console.out("   alvh --workspace \(root) keys list --dir \(root)/Keys")
            guard valid == keys.count, rejected else { throw ExitCode.failure }
        }
    }
}

enum DemoWorkspace {
    static func makeTemporary() throws -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/alvh-demo-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CLIError("demo-workspace", "cannot create a temporary directory under \(base)", path: base)
        }
        return String(cString: made)
    }
}
