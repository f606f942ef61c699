import ArgumentParser
import Foundation
import ALVHSigning
import ALVHLedger
import ALVHStorage

/// `--workspace DIR` (env `ALVH_WORKSPACE`, default the current directory): where `Keys/`,
/// `Policies/` and, by default, the ledger live. Policy key paths are relative to it.
/// `--ledger URL` (env `ALVH_LEDGER`): another ledger — `sqlite:PATH` or a shared PostgreSQL
/// server, `postgres://user@host[:port]/db[?sslmode=require]`, its password from the URL,
/// `--ledger-password-file` (mode 0600) or `PGPASSWORD`, never printed.
struct WorkspaceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The workspace directory (default: $ALVH_WORKSPACE, else the current directory).",
                                            valueName: "dir"),
            completion: .directory)
    var workspace: String?

    @Option(name: .long, help: ArgumentHelp(
        "The ledger: sqlite:PATH or postgres://user@host[:port]/db[?sslmode=require] (default: $ALVH_LEDGER, else the workspace's alvh.sqlite).",
        valueName: "url"))
    var ledger: String?

    @Option(name: .long, help: ArgumentHelp(
        "A file (mode 0600) holding the PostgreSQL password (default: $ALVH_LEDGER_PASSWORD_FILE, else the URL's or $PGPASSWORD).",
        valueName: "file"), completion: .file())
    var ledgerPasswordFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "An `alvh serve` service to work through instead of a database: https://host:port (default: $ALVH_SERVER). Trusted no more than a database: everything it serves is verified here.",
        valueName: "url"))
    var server: String?

    @Option(name: .long, help: ArgumentHelp(
        "This client's TLS identity for --server: a folder with ca.pem (the desk CA), client.pem and client.key.pem (default: $ALVH_TLS_DIR, else the workspace's tls/).",
        valueName: "dir"), completion: .directory)
    var tlsDir: String?

    /// The ledger asked for, or nil for the workspace's own `alvh.sqlite`.
    func ledgerLocation() throws -> LedgerLocation? {
        let environment = ProcessInfo.processInfo.environment
        let passwordFile = ledgerPasswordFile ?? environment["ALVH_LEDGER_PASSWORD_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        // An explicit option wins over the environment: --ledger with $ALVH_SERVER set is a database.
        let serverText = server ?? (ledger == nil ? environment["ALVH_SERVER"].flatMap { $0.isEmpty ? nil : $0 } : nil)
        if let serverText {
            if ledger != nil {
                throw CLIError("usage", "give --ledger (a database) or --server (a service), not both", path: "--server")
            }
            let field = server != nil ? "--server" : "ALVH_SERVER"
            guard serverText.hasPrefix("https://") || serverText.hasPrefix("http://") else {
                throw CLIError("usage", "--server is an `alvh serve` address, https://host:port; a database is --ledger", path: field)
            }
            let directory = tlsDir ?? environment["ALVH_TLS_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? resolve("tls")
            do {
                return try LedgerLocation.parse(serverText, field: field, environment: environment, passwordFile: passwordFile,
                                                clientTLS: LedgerLocation.ClientTLS(directory: directory))
            } catch let error as StorageError { throw LedgerError(storage: error) }
        }
        if tlsDir != nil {
            throw CLIError("usage", "--tls-dir is this client's identity for --server https://…; give --server too", path: "--tls-dir")
        }
        let field = ledger != nil ? "--ledger" : "ALVH_LEDGER"
        guard let text = ledger ?? environment["ALVH_LEDGER"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            if passwordFile != nil {
                throw CLIError("usage", "--ledger-password-file needs a postgres:// ledger: give --ledger postgres://user@host/db", path: "--ledger-password-file")
            }
            return nil
        }
        let directory = environment["ALVH_TLS_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? resolve("tls")
        do {
            return try LedgerLocation.parse(text, field: field, environment: environment, passwordFile: passwordFile,
                                            clientTLS: LedgerLocation.ClientTLS(directory: directory))
        } catch let error as StorageError { throw LedgerError(storage: error) }
    }

    /// The ledger location in force, for messages (never with a password).
    func ledgerDescription() throws -> String {
        (try ledgerLocation() ?? Ledger.defaultLocation(workspace: path)).description
    }

    /// Opens the ledger, runs `body` on it and closes it (its connections released) however `body` ends.
    @discardableResult
    func withLedger<T>(readOnly: Bool = false, pins: Ledger.Pins? = nil, _ body: (Ledger) async throws -> T) async throws -> T {
        try await Ledger.withOpened(workspace: path, at: try ledgerLocation(), readOnly: readOnly, pins: pins, body)
    }

    /// The resolved workspace path.
    var path: String {
        if let workspace, !workspace.isEmpty { return workspace }
        if let env = ProcessInfo.processInfo.environment["ALVH_WORKSPACE"], !env.isEmpty { return env }
        return "."
    }

    /// `relative` inside the workspace (absolute paths are kept).
    func resolve(_ relative: String) -> String {
        if relative.hasPrefix("/") || path == "." { return relative }
        return "\(path)/\(relative)"
    }
}

/// `--committer-key`: the key that signs the ledger entries this process appends.
struct CommitterOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The committer's private key (a key listed under the policy's 'committers:'; PEM, mode 0600).",
        discussion: "Without it alvh reads $ALVH_COMMITTER_KEY."), completion: .file())
    var committerKey: String?

    func load(passphrase: Passphrase.Provider?) throws -> PrivateKey {
        guard let path = committerKey ?? ProcessInfo.processInfo.environment["ALVH_COMMITTER_KEY"], !path.isEmpty else {
            throw CLIError("missing-committer-key", "every ledger entry is signed by a committer: give --committer-key FILE (or ALVH_COMMITTER_KEY), a key the policy lists under 'committers:'",
                           path: "--committer-key")
        }
        return try PrivateKey.load(from: path, passphrase: passphrase)
    }
}

/// `--expect-ledger-id`: the ledger this process must find (a chain forged from a new genesis is refused).
struct PinOptions: ParsableArguments {
    @Option(name: .long, help: "The ledger id this ledger must have (printed by `alvh init`); also $ALVH_LEDGER_ID.")
    var expectLedgerID: String?

    var pins: Ledger.Pins {
        Ledger.Pins(ledgerID: expectLedgerID ?? ProcessInfo.processInfo.environment["ALVH_LEDGER_ID"].flatMap { $0.isEmpty ? nil : $0 })
    }
}
