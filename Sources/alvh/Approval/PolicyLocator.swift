import ALVHApproval
import Foundation

/// Finds the policy a command should use: `--policy FILE`, else the only `Policies/*.yaml`.
enum PolicyLocator {
    static func load(_ explicit: String?, workspace: WorkspaceOptions) throws -> Policy {
        if let explicit {
            return try Policy.load(path: explicit, workspace: workspace.path)
        }
        let directory = workspace.resolve("Policies")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        guard files.count == 1 else {
            throw CLIError("policy-required",
                files.isEmpty ? "no policy given and none found in \(directory); pass --policy FILE"
                              : "several policies in \(directory) (\(files.joined(separator: ", "))); pass --policy FILE",
                path: "--policy")
        }
        return try Policy.load(path: "\(directory)/\(files[0])", workspace: workspace.path)
    }
}

