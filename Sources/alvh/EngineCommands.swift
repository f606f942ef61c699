import ArgumentParser

extension ALVH {
    /// Engine subcommands.
    static let engineCommands: [any ParsableCommand.Type] = [PriceCommand.self, RiskCommand.self, StressCommand.self, ProposeCommand.self, BacktestCommand.self]
}
