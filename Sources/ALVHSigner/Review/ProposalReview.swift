import Foundation
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHLedger

/// One signer's independent review of a pending proposal. It trusts no other process: it
/// verifies the ledger from genesis itself, then each entry appended after (the replayed book,
/// not the materialized one), verifies
/// the envelope under the policy in force, recomputes the risk from the proposal's own market
/// snapshot, and checks its own limits.
///
/// ```swift
/// let review = ProposalReview(verified: verified, me: key.publicKey, limits: limits, workspace: ".")
/// switch review.decide(envelope, state: state, at: Date()) { case .sign(let doc): … }
/// ```
public struct ProposalReview: Sendable {
    /// What the signer does with a proposal.
    public enum Verdict: Sendable, Equatable {
        /// Sign it (the document, parsed from the verified bytes).
        case sign(ProposalDocument)
        /// Post a signed rejection with this reason.
        case reject(String)
        /// Decide nothing now (not yet valid, stale, expired, outside hours); look again later.
        case wait(String)
    }

    /// What the signer verified of the ledger: the policy in force, the head, the replayed book.
    public struct VerifiedLedger: Sendable {
        public var policy: Policy
        public var context: LedgerContext
        public var book: Book
        /// Where the verification ended, to go on from when the ledger grows.
        public var checkpoint: LedgerVerifier.Checkpoint?

        public init(policy: Policy, context: LedgerContext, book: Book, checkpoint: LedgerVerifier.Checkpoint? = nil) {
            self.policy = policy
            self.context = context
            self.book = book
            self.checkpoint = checkpoint
        }

        /// Verifies `ledger` from genesis (signatures, thresholds, links) and replays its book.
        public static func verify(_ ledger: Ledger, jobs: Int = 1) throws -> VerifiedLedger {
            var source = DatabaseEntrySource(ledger: ledger)
            return try verified(by: LedgerVerifier(jobs: jobs).verify(&source))
        }

        /// Verifies only the entries appended since this verification, from its checkpoint — after
        /// checking that the checkpoint's entry is still there, unchanged (its stored hash and the
        /// hash of its contents): a ledger whose history was rewritten is refused, not resumed.
        /// Without a checkpoint, verifies from genesis.
        public func advanced(_ ledger: Ledger, jobs: Int = 1) throws -> VerifiedLedger {
            guard let checkpoint else { return try Self.verify(ledger, jobs: jobs) }
            let entry = try ledger.entry(checkpoint.sequence)
            guard entry.hash == checkpoint.hash, entry.computeHash() == checkpoint.hash else {
                throw LedgerError(.verificationFailed, "entry \(checkpoint.sequence), verified earlier as \(checkpoint.hash.prefix(16))…, now reads \(entry.hash.prefix(16))…: the ledger's history was rewritten")
            }
            var source = DatabaseEntrySource(ledger: ledger, from: checkpoint.sequence + 1)
            return try Self.verified(by: LedgerVerifier(jobs: jobs).verify(&source, resumingFrom: checkpoint))
        }

        private static func verified(by report: LedgerVerifier.Report) throws -> VerifiedLedger {
            guard report.ok, let id = report.ledgerID, let head = report.headHash, let seq = report.headSequence,
                  let book = report.replayedBook, let policy = report.policyInForce else {
                throw LedgerError(.verificationFailed, "the ledger does not verify: " + (report.firstBad.map { "entry \($0.sequence): \($0.problem)" } ?? "empty"))
            }
            return VerifiedLedger(policy: policy, context: LedgerContext(ledgerID: id, head: head, nextSequence: seq + 1), book: book,
                                  checkpoint: report.checkpoint)
        }
    }

    public let verified: VerifiedLedger
    public let me: PublicKey
    public let limits: SignerLimits
    public let workspace: String

    public init(verified: VerifiedLedger, me: PublicKey, limits: SignerLimits, workspace: String) {
        self.verified = verified
        self.me = me
        self.limits = limits
        self.workspace = workspace
    }

    /// Decides on `envelope` at `now`. `premiumToday` is what this signer already signed today.
    public func decide(_ envelope: Envelope, premiumToday: Double, at now: Date) -> Verdict {
        let policy = verified.policy
        let (report, parsed) = ThresholdEvaluator(policy: policy).evaluateDocument(envelope, at: now, ledger: verified.context)
        guard let document = parsed else {
            return .reject("does not verify: " + report.problems.joined(separator: "; "))
        }
        guard report.proposerSigned, let proposer = policy.signer(for: document.proposerKeyID), !proposer.revoked else {
            return .reject("not signed by its proposer \(report.proposer ?? document.proposer.prefix(16) + "…") under policy '\(policy.name)' (or the proposer is revoked)")
        }
        if document.proposerKeyID == me.keyID && !policy.proposerMayApprove {
            return .wait("this key proposed it; the policy does not count a proposer's approval")
        }
        let binding = document.ledger
        if binding.ledgerID != verified.context.ledgerID {
            return .reject("bound to another ledger (\(binding.ledgerID.prefix(16))…); this ledger is \(verified.context.ledgerID.prefix(16))…")
        }
        if binding.policyHash != policy.hash {
            return .reject("binds policy \(binding.policyHash.prefix(16))…, the policy in force is \(policy.hash.prefix(16))…")
        }
        if binding.base != verified.context.head || binding.sequence != verified.context.nextSequence {
            if binding.sequence > verified.context.nextSequence {
                return .reject("fast-forward: entry \(binding.sequence) is beyond the next entry \(verified.context.nextSequence)")
            }
            return .wait("stale: built on \(binding.base.prefix(16))… (entry \(binding.sequence - 1)), the head is \(verified.context.head.prefix(16))…")
        }
        let timing = document.problems(at: now, policy: policy, ledger: verified.context)
        if let problem = timing.first {
            return problem.hasPrefix("expired") || problem.hasPrefix("not yet valid") ? .wait(problem) : .reject(problem)
        }
        if let window = limits.allowedMinutesUTC {
            let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: now)
            let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
            if !window.contains(minute) { return .wait("outside this signer's hours (UTC minute \(minute) not in \(window))") }
        }
        if let kinds = limits.allowedKinds, !kinds.contains(document.kind) {
            return .reject("limits: this signer does not approve \(document.kind.rawValue) changes")
        }
        if document.kind == .policyChange {
            // Who may sign what is not a decision for an unattended process unless its limits say so.
            guard limits.allowedKinds?.contains(.policyChange) == true else {
                return .wait("policy changes are left to a person (`alvh sign`); list policy-change in allowed-kinds to sign them here")
            }
            return .sign(document)
        }

        // Recompute.
        let recomputed: (before: ProposalDocument.Risk, after: ProposalDocument.Risk, cost: Double)
        do {
            guard let market = document.market else { return .reject("no market snapshot named; the risk cannot be recomputed") }
            let snapshot = try SnapshotStore.load(hash: market.snapshotHash, workspace: workspace).snapshot
            let change = try ProposalBuilder.layerChange(document)
            let result = try Engine.evaluate(book: verified.book, change: change, market: snapshot)
            recomputed = (ProposalBuilder.risk(result.before), ProposalBuilder.risk(result.after), result.costDollars)
        } catch {
            return .reject("cannot recompute the risk: \(error)")
        }
        let tolerance = limits.recomputeToleranceDollars
        var mismatches: [String] = []
        func compare(_ label: String, _ claimed: Double?, _ actual: Double?) {
            guard let claimed, let actual else {
                if claimed != nil || actual != nil { mismatches.append("\(label): \(claimed.map(money) ?? "missing") vs recomputed \(actual.map(money) ?? "missing")") }
                return
            }
            if abs(claimed - actual) > max(tolerance, 1e-6 * abs(actual)) {
                mismatches.append("\(label) \(money(claimed)) vs recomputed \(money(actual))")
            }
        }
        compare("cost", document.costDollars, recomputed.cost)
        for (label, claimed, actual) in [("before", document.riskBefore, recomputed.before), ("after", document.riskAfter, recomputed.after)] {
            guard let claimed else { mismatches.append("risk \(label) is missing"); continue }
            for name in Set(claimed.stressPnL.keys).union(actual.stressPnL.keys).sorted() {
                compare("\(label) stress \(name)", claimed.stressPnL[name], actual.stressPnL[name])
            }
            for name in Set(claimed.layers.keys).union(actual.layers.keys).sorted() {
                compare("\(label) \(name) vega", claimed.layers[name]?.vega, actual.layers[name]?.vega)
                compare("\(label) \(name) delta", claimed.layers[name]?.delta, actual.layers[name]?.delta)
                compare("\(label) \(name) theta", claimed.layers[name]?.theta, actual.layers[name]?.theta)
            }
            compare("\(label) total vega", claimed.total.vega, actual.total.vega)
            compare("\(label) total delta", claimed.total.delta, actual.total.delta)
        }
        if !mismatches.isEmpty {
            return .reject("proposal's risk figures do not match: " + mismatches.prefix(4).joined(separator: "; ")
                           + (mismatches.count > 4 ? "; and \(mismatches.count - 4) more" : ""))
        }

        // Limits, on the recomputed figures.
        let premium = max(0, recomputed.cost) // paid; a sale's credit is no premium
        if let max = limits.maxPremiumPerChangeDollars, premium > max {
            return .reject("limits: premium \(money(premium)) is over this signer's per-change limit \(money(max))")
        }
        if let max = limits.maxDailyPremiumDollars, premiumToday + premium > max {
            return .reject("limits: premium \(money(premium)) would take today's total to \(money(premiumToday + premium)), over the daily limit \(money(max))")
        }
        let deltaVega = abs(recomputed.after.total.vega - recomputed.before.total.vega)
        if let max = limits.maxAbsDeltaVega, deltaVega > max {
            return .reject("limits: |Δ vega| \(money(deltaVega)) per vol point is over the limit \(money(max))")
        }
        for name in limits.stressMustNotWorsen {
            let before = recomputed.before.stressPnL[name] ?? 0, after = recomputed.after.stressPnL[name] ?? 0
            if after < before - tolerance {
                return .reject("limits: stress \(name) gets worse: \(money(before)) → \(money(after))")
            }
        }
        for (name, floor) in limits.minStressPnLDollars.sorted(by: { $0.key < $1.key }) {
            let after = recomputed.after.stressPnL[name] ?? 0
            if after < floor {
                return .reject("limits: stress \(name) after the change is \(money(after)), below the floor \(money(floor))")
            }
        }
        return .sign(document)
    }
}

func money(_ value: Double) -> String {
    // Int(_:) traps on NaN, ±∞ and beyond ±2⁶³: a signed figure that large is shown as it is.
    guard value.isFinite, value.magnitude < 1e15 else { return "$\(value)" }
    let sign = value < 0 ? "-" : ""
    let cents = Int((abs(value) * 100).rounded())
    var whole = String(cents / 100)
    var grouped = ""
    while whole.count > 3 {
        grouped = "," + whole.suffix(3) + grouped
        whole = String(whole.dropLast(3))
    }
    return "\(sign)$\(whole)\(grouped).\(String(format: "%02d", cents % 100))"
}
