import Foundation
import ALVHSigning
import ALVHEngine
import ALVHLedger

extension Ledger {
    /// The workspace's committer key (tests keep it at Keys/private/committer.key.pem).
    public var testCommitter: PrivateKey { get throws { try PrivateKey.load(from: "\(workspace)/Keys/private/committer.key.pem") } }

    /// Commits with the workspace's committer key.
    @discardableResult
    public func commit(id: String, at now: Date) async throws -> LedgerEntry {
        try await commit(id: id, committer: try testCommitter, at: now)
    }

    /// Creates the ledger with the workspace's committer key.
    public static func initialize(workspace: String, policyPath: String, book: Book, at now: Date) async throws -> Ledger {
        try await initialize(workspace: workspace, policyPath: policyPath, book: book,
                             committer: try PrivateKey.load(from: "\(workspace)/Keys/private/committer.key.pem"), at: now)
    }
}
