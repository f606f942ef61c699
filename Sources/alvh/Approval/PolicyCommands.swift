import ArgumentParser
import ALVHApproval
import ALVHLedger
import ALVHSigning
import Foundation

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check a policy file, or propose a policy change to the ledger.",
        subcommands: [PolicyCheck.self, PolicyPropose.self]
    )
}

struct PolicyCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a policy file and print its hash, signers and rules."
    )

    @Argument(help: "The policy file (YAML).", completion: .file())
    var file: String

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    struct Summary: Encodable {
        struct Signer: Encodable { let id: String; let keyID: String; let roles: [String]; let revoked: Bool }
        let file: String
        let name: String
        let version: Int
        let hash: String
        let signers: [Signer]
        let rules: [Policy.Rule]
        let vetoRoles: [String]
        let proposerMayApprove: Bool
        let requireProposerSignature: Bool
        let maxProposalLifetimeSeconds: Int
        let maxMarketAgeSeconds: Int?
    }

    func run() async throws {
        try reportingErrors(json: output.json) {
            let policy = try Policy.load(path: file, workspace: workspace.path)
            let summary = Summary(file: file, name: policy.name, version: policy.version, hash: policy.hash,
                                  signers: policy.signers.map { .init(id: $0.id, keyID: $0.keyID.hex, roles: $0.roles.sorted(), revoked: $0.revoked) },
                                  rules: policy.rules, vetoRoles: policy.vetoRoles.sorted(), proposerMayApprove: policy.proposerMayApprove,
                                  requireProposerSignature: policy.requireProposerSignature,
                                  maxProposalLifetimeSeconds: policy.maxProposalLifetimeSeconds, maxMarketAgeSeconds: policy.maxMarketAgeSeconds)
            if output.json { try Console.json(summary); return }
            Console.out("OK: policy '\(policy.name)' v\(policy.version), hash \(policy.hash)")
            for signer in policy.signers {
                Console.out("  signer \(signer.id.padding(12)) \(signer.roles.sorted().joined(separator: ",").padding(24)) \(signer.keyID.fingerprint)\(signer.revoked ? "  REVOKED" : "")")
            }
            for rule in policy.rules {
                var when: [String] = []
                if let v = rule.minPremiumDollars { when.append("premium ≥ $\(Int(v))") }
                if let v = rule.minAbsDeltaVega { when.append("|Δvega| ≥ \(v)") }
                if let v = rule.minContracts { when.append("contracts ≥ \(v)") }
                let roles = rule.roleMinimums.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                Console.out("  rule   \(rule.name.padding(20)) \(rule.kinds.map(\.rawValue).sorted().joined(separator: ",")) "
                            + (when.isEmpty ? "" : "when \(when.joined(separator: " and ")) ")
                            + "→ \(rule.threshold) signatures" + (roles.isEmpty ? "" : " incl. \(roles)"))
            }
            if !policy.vetoRoles.isEmpty { Console.out("  veto   \(policy.vetoRoles.sorted().joined(separator: ", "))") }
        }
    }
}

struct PolicyPropose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propose",
        abstract: "Propose adopting a new policy file: a signed policy-change proposal queued on the ledger.",
        discussion: """
        It commits only with the current policy's policy-change rule AND the new policy's rule for it, \
        and only if the new version is higher. Key files the new policy names are archived in the entry.
        """
    )

    @Argument(help: "The new policy file (YAML).", completion: .file())
    var file: String

    @Option(name: .long, help: "The proposer's private key.", completion: .file())
    var key: String

    @Option(name: .long, help: "Hours until the proposal expires (within the policy's maximum).")
    var expiresInHours: Double = 24

    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            guard expiresInHours > 0, expiresInHours <= 24 * 30 else {
                throw CLIError("invalid-option", "--expires-in-hours must be between 0 and 720", path: "--expires-in-hours")
            }
            let proposer = try PrivateKey.load(from: key, passphrase: passphrase.provider)
            let newPolicy = try Policy.load(path: file, workspace: workspace.path)
            let result = try await workspace.withLedger { ledger in
            let current = try await ledger.policyInForce()
            guard newPolicy.version > current.version else {
                throw LedgerError(.policyRollback, "the new policy's version \(newPolicy.version) must be above the current \(current.version)", path: file)
            }
            let context = try await ledger.context()
            let now = Date()
            let doc = ProposalDocument(
                ledger: LedgerBinding(ledgerID: context.ledgerID, base: context.head, sequence: context.nextSequence, policyHash: current.hash),
                created: now, expires: now.addingTimeInterval(expiresInHours * 3600), proposer: proposer.keyID,
                change: .init(kind: .policyChange, policy: .init(bytes: newPolicy.bytes, version: newPolicy.version)))
            var envelope = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.proposal)
            try envelope.addSignature(using: proposer)
            return try await ledger.enqueue(envelope, at: now)
            }
            try QueueFile.print(result, json: output.json)
        }
    }
}
