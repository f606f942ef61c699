import ArgumentParser
import Foundation

/// The `alvh` command: the root of every subcommand.
///
/// Results go to stdout, diagnostics to stderr; `--json` gives machine output;
/// exit 0 is success, 1 failure, 64 usage.
@main
struct ALVH: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alvh",
        abstract: "Adaptive Layered VIX Hedge: engine-proposed hedge changes, M-of-N signed, committed to a hash-chained ledger.",
        discussion: """
        Global option: --workspace DIR (before or after the subcommand; env ALVH_WORKSPACE; default the current \
        directory) — where Keys/, Policies/ and the ledger alvh.sqlite live.
        """,
        version: ALVHVersion.string,
        groupedSubcommands: [
            CommandGroup(name: "Start here", subcommands: [DemoCommand.self]),
            CommandGroup(name: "Keys and signatures", subcommands: [KeysCommand.self]),
            CommandGroup(name: "Engine", subcommands: ALVH.engineCommands),
            CommandGroup(name: "Approval", subcommands: ALVH.approvalCommands),
            CommandGroup(name: "Ledger", subcommands: ALVH.ledgerCommands),
            CommandGroup(name: "Signer processes", subcommands: ALVH.processCommands),
        ]
    )

    /// Accepts `--workspace DIR`, `--ledger URL`, `--server URL` and `--tls-dir DIR` before the
    /// subcommand (`alvh --workspace DIR --server URL ledger log`) by moving each into the environment
    /// variable its subcommand option defaults to (`ALVH_WORKSPACE`, `ALVH_LEDGER`, `ALVH_SERVER`, `ALVH_TLS_DIR`).
    static func main() async {
        // No core dumps: a crash must not write private key or passphrase bytes to disk.
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        #if os(Linux)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        #else
        _ = setrlimit(RLIMIT_CORE, &noCore)
        #endif
        var arguments = Array(CommandLine.arguments.dropFirst())
        // Options that name where to work may come before the subcommand; each moves into the
        // environment variable that the subcommand's own option defaults to.
        let globals = ["--workspace": "ALVH_WORKSPACE", "--ledger": "ALVH_LEDGER", "--server": "ALVH_SERVER", "--tls-dir": "ALVH_TLS_DIR"]
        parsing: while let first = arguments.first, first.hasPrefix("--") {
            for (option, variable) in globals {
                if first == option, arguments.count >= 2 {
                    setenv(variable, arguments[1], 1)
                    arguments.removeFirst(2)
                    continue parsing
                } else if first.hasPrefix(option + "=") {
                    setenv(variable, String(first.dropFirst(option.count + 1)), 1)
                    arguments.removeFirst()
                    continue parsing
                }
            }
            break
        }
        // ArgumentParser's own main, except that an error message (which may quote an argument)
        // goes through Console.err's escaping; help and version text on stdout are ours, kept as is.
        do {
            var command = try await asyncParseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if code == .success { print(message) } else { Console.err(message) }
            }
            Foundation.exit(code.rawValue)
        }
    }
}

extension ALVH {
    static let ledgerCommands: [any ParsableCommand.Type] = [
        InitCommand.self, PendingCommand.self, CommitCommand.self, ExportCommand.self, ImportCommand.self,
        BookCommand.self, LedgerCommand.self,
    ]
}

enum ALVHVersion {
    static let string = "0.1.0"
}
