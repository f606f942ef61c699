import ArgumentParser

extension ALVH {
    /// Approval subcommands (file-based, air-gapped friendly).
    static let approvalCommands: [any ParsableCommand.Type] = [
        SignCommand.self, RejectCommand.self, CombineCommand.self, VerifyCommand.self, PolicyCommand.self,
    ]
}
