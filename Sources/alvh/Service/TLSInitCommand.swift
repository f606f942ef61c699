import ArgumentParser
import Foundation
import ALVHSigning

/// `alvh tls init DIR [CLIENT…]`: the desk's transport PKI for `alvh serve`, made with the
/// `openssl` CLI (the same commands as `scripts/tls-init`, documented in docs/service.md).
struct TLSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "The desk's transport certificates for `alvh serve` (mTLS).",
        subcommands: [TLSInitCommand.self]
    )
}

struct TLSInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make the desk CA, the server certificate and client certificates (EC P-256) with the openssl CLI.",
        discussion: """
        Writes DIR/ca.pem + ca.key.pem (the desk CA, kept if there), DIR/server.pem + server.key.pem (for localhost, \
        127.0.0.1, ::1 and every --server-name), and for each CLIENT a folder DIR/clients/CLIENT/ holding ca.pem, \
        client.pem and client.key.pem — the layout `--tls-dir` reads. Keys are mode 0600. These are transport keys: \
        never the keys that sign proposals, approvals or ledger entries.
        """
    )

    @Argument(help: "The directory to write.", completion: .directory)
    var directory: String

    @Argument(help: "Client names (letters, digits, . _ -): one certificate each (CN=NAME).")
    var clients: [String] = []

    @Option(name: .customLong("server-name"), help: "Another name of the server: DNS:alvh.desk or IP:10.0.0.5 (repeatable).")
    var serverNames: [String] = []

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        try await reportingErrors(json: json) {
            let made = try DeskTLS.initialize(directory: directory, clients: clients, serverNames: serverNames)
            if json {
                try Console.json(made)
            } else {
                Console.out("desk CA:  \(made.ca)\(made.caCreated ? "" : " (kept)")")
                Console.out("server:   \(made.server) (\(made.serverNames.joined(separator: ", ")))")
                for client in made.clients { Console.out("client:   \(client) (--tls-dir \(client))") }
                Console.out("serve:    alvh serve --tls-cert \(made.server) --tls-key \(made.serverKey) --client-ca \(made.ca) …")
            }
        }
    }
}

/// The desk's transport PKI through the `openssl` CLI.
enum DeskTLS {
    struct Made: Codable {
        var ca: String
        var caCreated: Bool
        var server: String
        var serverKey: String
        var serverNames: [String]
        /// Each client's `--tls-dir`.
        var clients: [String]
    }

    static func initialize(directory: String, clients: [String], serverNames: [String]) throws -> Made {
        for name in clients where name.isEmpty || !name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }) {
            throw CLIError("usage", "client name '\(name)': letters, digits, . _ - only", path: "CLIENT")
        }
        for name in serverNames where !(name.hasPrefix("DNS:") || name.hasPrefix("IP:")) || name.contains(",") || name.contains("\n") {
            throw CLIError("usage", "server name '\(name)': write DNS:name or IP:address", path: "--server-name")
        }
        try SecureFile.makeDirectory(directory, mode: 0o755)
        let ca = "\(directory)/ca.pem", caKey = "\(directory)/ca.key.pem"
        let caCreated = !SecureFile.exists(ca)
        if caCreated {
            try key(caKey)
            try openssl(["req", "-x509", "-new", "-key", caKey, "-sha256", "-days", "3650", "-subj", "/O=alvh desk/CN=alvh desk CA",
                         "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", ca])
            chmod(ca, 0o644)
        }
        let names = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"] + serverNames
        let server = "\(directory)/server.pem", serverKey = "\(directory)/server.key.pem"
        try issue(cn: "alvh serve", key: serverKey, certificate: server, ca: ca, caKey: caKey, days: 730,
                  extensions: "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=\(names.joined(separator: ","))\n")
        var made: [String] = []
        for name in clients {
            let folder = "\(directory)/clients/\(name)"
            try SecureFile.makeDirectory("\(directory)/clients", mode: 0o755)
            try SecureFile.makeDirectory(folder, mode: 0o700)
            try issue(cn: name, key: "\(folder)/client.key.pem", certificate: "\(folder)/client.pem", ca: ca, caKey: caKey, days: 365,
                      extensions: "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
            try SecureFile.writeAtomically(try SecureFile.read(ca, limit: SecureFile.keyFileLimit), to: "\(folder)/ca.pem", mode: 0o644)
            made.append(folder)
        }
        return Made(ca: ca, caCreated: caCreated, server: server, serverKey: serverKey, serverNames: names, clients: made)
    }

    static func key(_ path: String) throws {
        unlink(path)
        let old = umask(0o077)
        defer { umask(old) }
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path])
        chmod(path, 0o600)
    }

    static func issue(cn: String, key keyPath: String, certificate: String, ca: String, caKey: String, days: Int, extensions: String) throws {
        try key(keyPath)
        let csr = certificate + ".csr", ext = certificate + ".ext"
        defer { unlink(csr); unlink(ext); unlink("\((ca as NSString).deletingLastPathComponent)/ca.srl") }
        try SecureFile.writeAtomically(Array(extensions.utf8), to: ext, mode: 0o600)
        try openssl(["req", "-new", "-key", keyPath, "-subj", "/O=alvh desk/CN=\(cn)", "-out", csr])
        try openssl(["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-set_serial", "0x" + Hex.encode(try SecureRandom.bytes(16)),
                     "-sha256", "-days", "\(days)", "-extfile", ext, "-out", certificate])
        chmod(certificate, 0o644)
    }

    /// Runs the openssl CLI; its stderr is in the error when it fails.
    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw CLIError("tls-init", "cannot run openssl: \(error); install it (apt-get install -y openssl)", path: "openssl")
        }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("tls-init", "openssl \(arguments.first ?? "") failed: \(text.trimmingCharacters(in: .whitespacesAndNewlines))", path: arguments.last)
        }
    }
}
