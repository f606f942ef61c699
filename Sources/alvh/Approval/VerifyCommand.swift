import ArgumentParser
import ALVHApproval
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a proposal envelope against a policy and print the threshold report; exit 0 only when commit-ready.",
        discussion: """
        Each signature is checked against every key of the policy (the envelope's keyid is only a hint); \
        distinct keys count once; revoked signers, the proposer (unless allowed), unknown keys and invalid \
        signatures do not count. Rejections in FILE.rejection-*.json (and --rejection files) are checked; \
        one from a veto role blocks.
        """
    )

    @Argument(help: "The proposal envelope.", completion: .file())
    var file: String

    @Option(name: .long, help: "The policy (default: the only file in WORKSPACE/Policies/).", completion: .file())
    var policy: String?

    @Option(name: .long, help: "A signed rejection to take into account (repeatable).", completion: .file())
    var rejection: [String] = []

    @Option(name: .long, help: "Evaluation time (RFC 3339) instead of now.")
    var at: String?

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try reportingErrors(json: output.json) {
            let now = try EvaluationTime.parse(at)
            let loaded = try PolicyLocator.load(policy, workspace: workspace)
            let envelope = try Envelope.load(path: file)
            var rejections = try RejectionFiles.discover(beside: file).map(\.envelope)
            rejections += try rejection.map { try Envelope.load(path: $0) }
            let (report, document) = ThresholdEvaluator(policy: loaded).evaluateDocument(envelope, at: now, rejections: rejections)
            let policyDiff = PolicyChangeDiff.make(document, current: loaded, workspace: workspace)
            if output.json {
                try Console.json(WithPolicyDiff(report: report, policyDiff: policyDiff))
            } else {
                ReportPrinter.print(report)
                policyDiff?.lines.forEach(Console.out)
            }
            if !report.commitReady { throw ExitCode.failure }
        }
    }
}

/// The human form of an ``ApprovalReport``.
enum ReportPrinter {
    static func print(_ report: ApprovalReport) {
        Console.out("proposal  \(report.proposalID)")
        if let kind = report.changeKind { Console.out("change    \(kind)\(report.changeSize.map { String(format: "  premium $%.2f, |Δvega| %.2f, %d contracts", $0.premiumDollars, $0.absDeltaVega, $0.contracts) } ?? "")") }
        if let proposer = report.proposer { Console.out("proposer  \(proposer) (signed: \(report.proposerSigned ? "yes" : "no"))") }
        Console.out("policy    \(report.policyName) v\(report.policyVersion) (\(report.policyHash.prefix(16))…)")
        Console.out("rule      \(report.rules.isEmpty ? "none matches" : report.rules.joined(separator: " + "))")
        Console.out("")
        Console.out("  #  SIGNER          ROLES                     STATUS       NOTE")
        for line in report.signatures {
            Console.out("  " + "\(line.index)".padding(2) + " " + (line.signer ?? "?").padding(15) + " "
                        + line.roles.joined(separator: ",").padding(25) + " " + line.status.rawValue.padding(12) + " " + (line.detail ?? ""))
        }
        for line in report.rejections {
            let status = line.veto ? "VETO" : (line.ignored != nil ? "ignored" : "rejected")
            Console.out("  R  " + (line.signer ?? "?").padding(15) + " " + line.roles.joined(separator: ",").padding(25) + " "
                        + status.padding(12) + " " + (line.reason ?? "") + (line.ignored.map { " (\($0))" } ?? ""))
        }
        Console.out("")
        Console.out("tally     \(report.tally)")
        for problem in report.problems { Console.out("problem   \(problem)") }
        Console.out("commit-ready: \(report.commitReady ? "yes" : "no")")
    }
}
