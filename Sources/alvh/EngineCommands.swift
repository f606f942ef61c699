import ArgumentParser

extension ALVH {
    /// Engine subcommands (price, risk, stress). Add new engine commands here.
    static let engineCommands: [any ParsableCommand.Type] = []
}
