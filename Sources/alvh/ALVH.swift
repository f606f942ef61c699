import ArgumentParser

/// The `alvh` command: the root of every subcommand.
///
/// Results go to stdout, diagnostics to stderr; `--json` gives machine output;
/// exit 0 is success, 1 failure, 64 usage.
@main
struct ALVH: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alvh",
        abstract: "Adaptive Layered VIX Hedge: engine-proposed hedge changes, M-of-N signed, committed to a hash-chained ledger.",
        version: ALVHVersion.string,
        groupedSubcommands: [
            CommandGroup(name: "Keys and signatures", subcommands: [KeysCommand.self]),
            CommandGroup(name: "Engine", subcommands: ALVH.engineCommands),
        ]
    )
}

enum ALVHVersion {
    static let string = "0.1.0"
}
