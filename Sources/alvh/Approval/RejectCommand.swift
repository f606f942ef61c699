import ArgumentParser
import ALVHApproval
import ALVHSigning
import Foundation

struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Write a signed rejection of a proposal (a DSSE envelope binding the proposal's id and your reason).",
        discussion: """
        For a FILE the rejection goes to FILE.rejection-KEYID16.json (or -o), where `alvh verify FILE` and \
        `alvh import FILE` pick it up; for a pending id it goes into the ledger's queue. A rejection by a \
        holder of a veto role blocks the proposal.
        """
    )

    @Argument(help: "The proposal envelope file, or the id (prefix) of a pending proposal.", completion: .file())
    var file: String

    @Option(name: .long, help: "Your private key (PEM; mode 0600).", completion: .file())
    var key: String

    @Option(name: .long, help: "Why you reject it (recorded and signed).")
    var reason: String

    @Option(name: [.customShort("o"), .long], help: "Where to write the rejection.", completion: .file())
    var output: String?

    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var format: OutputOptions

    func validate() throws {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("--reason must not be empty")
        }
        guard reason.utf8.count <= RejectionDocument.maxReasonBytes else {
            throw ValidationError("--reason is longer than \(RejectionDocument.maxReasonBytes) bytes")
        }
    }

    func run() async throws {
        try await reportingErrors(json: format.json) {
            let pending = PendingTarget(file, workspace: workspace)
            let envelope = try await pending.envelope()
            guard PayloadTypes.isProposal(envelope.payloadType) else {
                throw ApprovalError(.wrongPayloadType, "payloadType is '\(envelope.payloadType)', not an alvh proposal", path: file)
            }
            let privateKey = try PrivateKey.load(from: key, passphrase: passphrase.provider)
            let rejection = try RejectionFiles.make(for: envelope, reason: reason, key: privateKey, at: Date())
            let target = try await pending.storeRejection(rejection, keyID: privateKey.keyID, output: output, at: Date())
            if format.json {
                try Console.json(RejectedReport(file: target, proposalID: envelope.id, keyID: privateKey.keyID.hex, reason: reason))
            } else {
                Console.out(target)
                Console.err("rejected \(envelope.id) with key \(privateKey.keyID.fingerprint): \(reason)")
            }
        }
    }
}

struct RejectedReport: Encodable {
    let file: String
    let proposalID: String
    let keyID: String
    let reason: String
}

/// Rejection envelopes beside a proposal file.
enum RejectionFiles {
    static func make(for envelope: Envelope, reason: String, key: PrivateKey, at now: Date) throws -> Envelope {
        try RejectionDocument.signedEnvelope(rejecting: envelope.id, reason: reason, key: key, at: now)
    }

    static func defaultPath(for proposal: String, keyID: KeyID) -> String {
        "\(proposal).rejection-\(keyID.hex.prefix(16)).json"
    }

    /// Every `PROPOSAL.rejection-*.json` beside the proposal file.
    static func discover(beside proposal: String) throws -> [(path: String, envelope: Envelope)] {
        let directory = (proposal as NSString).deletingLastPathComponent
        let base = (proposal as NSString).lastPathComponent + ".rejection-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        return try names.filter { $0.hasPrefix(base) && $0.hasSuffix(".json") }.sorted().map { name in
            let path = directory.isEmpty ? name : "\(directory)/\(name)"
            return (path, try Envelope.load(path: path))
        }
    }
}
