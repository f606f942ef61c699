import ArgumentParser
import Foundation

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
