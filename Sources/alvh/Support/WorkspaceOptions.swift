import ArgumentParser
import Foundation
import ALVHSigning
import ALVHLedger

/// `--workspace DIR` (env `ALVH_WORKSPACE`, default the current directory): where `Keys/`,
/// `Policies/` and the ledger live. Policy key paths are relative to it.
struct WorkspaceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The workspace directory (default: $ALVH_WORKSPACE, else the current directory).",
                                            valueName: "dir"),
            completion: .directory)
    var workspace: String?

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
