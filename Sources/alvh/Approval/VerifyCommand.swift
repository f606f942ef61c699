import ArgumentParser
import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHSigning
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a proposal envelope against a policy and print the threshold report; exit 0 only when commit-ready.",
        discussion: """
        Each signature is checked against every key of the policy (the envelope's keyid is only a hint); \
        distinct keys count once; revoked signers, the proposer (unless allowed), unknown keys and invalid \
        signatures do not count. Rejections in FILE.rejection-*.json (and --rejection files) are checked; \
        one from a veto role blocks. A layer change's figures are recomputed from its signed legs on the book \
        (--book, else the workspace ledger's verified book) and the snapshot it cites (--snapshot, else the \
        ledger's copy or WORKSPACE/snapshots/HASH.json); without them it is not commit-ready, and the report says why.
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

    @Option(name: .long, help: "The market snapshot the proposal cites (to recompute its figures).", completion: .file())
    var snapshot: String?

    @Option(name: .long, help: "The book the change applies to (default: the workspace ledger's verified book).", completion: .file())
    var book: String?

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            let now = try EvaluationTime.parse(at)
            let loaded = try PolicyLocator.load(policy, workspace: workspace)
            let envelope = try Envelope.load(path: file)
            var rejections = try RejectionFiles.discover(beside: file).map(\.envelope)
            rejections += try rejection.map { try Envelope.load(path: $0) }
            let (report, document, _) = try await FigureCheck.evaluate(envelope, policy: loaded, rejections: rejections, snapshot: snapshot,
                                                                  book: book, workspace: workspace, at: now)
            let policyDiff = await PolicyChangeDiff.make(document, current: loaded, workspace: workspace)
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
        if let kind = report.changeKind { Console.out("change    \(kind)\(report.changeSize.map { String(format: "  claimed: premium $%.2f, |Δvega| %.2f, %d contracts", $0.premiumDollars, $0.absDeltaVega, $0.contracts) } ?? "")") }
        if let size = report.assessedSize, report.changeKind != "policy-change" {
            Console.out(String(format: "sized on  recomputed gross premium $%.2f, |Δvega| %.2f, %d contracts", size.premiumDollars, size.absDeltaVega, size.contracts))
        }
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
