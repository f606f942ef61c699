import Foundation
import Logging
import ALVHSigning
import ALVHApproval
import ALVHLedger

/// The long-running independent signer: one per key, watching the workspace's pending queue.
///
/// For each pending proposal it has not decided yet: verify the ledger and the envelope itself,
/// recompute the risk, check its limits, record the decision durably (double-sign protection),
/// then post the signature or a signed rejection. A recorded decision whose post was lost (a
/// crash between the two) is posted again on the next pass — the same decision, never another.
///
/// ```swift
/// let signer = try SignerProcess(workspace: ".", key: key, limits: .none, state: state, logger: logger)
/// try signer.run(pollMilliseconds: 200, once: false, stop: StopSignal.install())
/// ```
public final class SignerProcess: @unchecked Sendable {
    public let workspace: String
    public let key: PrivateKey
    public let limits: SignerLimits
    public let state: SignerState
    public var logger: Logger
    let ledger: Ledger
    private var verified: ProposalReview.VerifiedLedger?
    private var lastWaitReason: [String: String] = [:]

    public init(workspace: String, key: PrivateKey, limits: SignerLimits, state: SignerState, logger: Logger) throws {
        self.workspace = workspace
        self.key = key
        self.limits = limits
        self.state = state
        self.logger = logger
        self.ledger = try Ledger.open(workspace: workspace)
        self.logger[metadataKey: "key"] = "\(key.keyID.fingerprint)"
    }

    /// Runs passes until stopped (or one pass with `once`). Returns the number of decisions posted.
    @discardableResult
    public func run(pollMilliseconds: Int, once: Bool, stop: StopSignal) throws -> Int {
        var posted = 0
        logger.info("signer started", metadata: ["workspace": "\(workspace)", "limits": "\(describe(limits))"])
        try stop.repeatPasses(pollMilliseconds: pollMilliseconds, once: once, logger: logger) {
            posted += try pass(stop: stop)
        }
        logger.info("signer stopped", metadata: ["posted": "\(posted)"])
        return posted
    }

    /// One pass over the queue. Returns the number of signatures and rejections posted.
    public func pass(stop: StopSignal? = nil, at clock: () -> Date = Date.init) throws -> Int {
        let queue = try ledger.openProposals()
        guard !queue.isEmpty else { return 0 }
        let verified = try currentVerifiedLedger()
        guard let me = verified.policy.signer(for: key.keyID), !me.revoked else {
            throw SignerError(.notASigner, "key \(key.keyID.fingerprint) is not a signer of policy '\(verified.policy.name)' v\(verified.policy.version) (or is revoked); it cannot approve anything")
        }
        var posted = 0
        for pending in queue {
            if stop?.requested == true { break }
            posted += try handle(pending, verified: verified, at: clock())
        }
        return posted
    }

    private func handle(_ pending: PendingProposal, verified: ProposalReview.VerifiedLedger, at now: Date) throws -> Int {
        let envelope: Envelope
        do { envelope = try ledger.envelope(id: pending.id) }
        catch let error as LedgerError where error.code == .notFound { return 0 } // committed meanwhile
        let id = pending.id
        var log = logger
        log[metadataKey: "proposal"] = "\(id.prefix(16))"
        log[metadataKey: "sequence"] = "\(pending.sequence)"

        // Already decided: make sure the decision was posted (a crash may have lost the post).
        if let decision = state.decision(for: id) {
            return try repost(decision, envelope: envelope, log: log, at: now)
        }

        let review = ProposalReview(verified: verified, me: key.publicKey, limits: limits, workspace: workspace)
        switch review.decide(envelope, premiumToday: state.premiumSigned(on: now), at: now) {
        case .wait(let reason):
            if lastWaitReason[id] != reason {
                log.info("waiting", metadata: ["decision": "wait", "reason": "\(reason)"])
                lastWaitReason[id] = reason
            }
            return 0
        case .reject(let reason):
            let decision = SignerState.Decision(kind: .rejected, reason: reason, at: RFC3339.format(now),
                                                ledgerID: verified.context.ledgerID, sequence: pending.sequence, costDollars: 0)
            try state.record(decision, proposal: id, expires: pending.expires, at: now)
            try postRejection(reason, envelope: envelope, at: now)
            log.notice("rejected", metadata: ["decision": "reject", "reason": "\(reason)"])
            return 1
        case .sign(let document):
            let evaluator = ThresholdEvaluator(policy: verified.policy)
            let vetoed: (String) -> Bool = { earlier in
                // Verified here, from the signed rejections themselves: a valid veto of the earlier payload.
                ((try? self.ledger.rejections(id: earlier)) ?? []).contains { evaluator.rejectionLine($0, proposalID: earlier).veto }
            }
            if let conflict = state.slotConflict(ledgerID: document.ledger.ledgerID, sequence: document.ledger.sequence, proposal: id,
                                                 at: now, isDead: vetoed) {
                if lastWaitReason[id] != conflict {
                    log.warning("refused to sign", metadata: ["decision": "refuse", "reason": "\(conflict)"])
                    lastWaitReason[id] = conflict
                }
                return 0
            }
            let decision = SignerState.Decision(kind: .signed, reason: nil, at: RFC3339.format(now), ledgerID: document.ledger.ledgerID,
                                                sequence: document.ledger.sequence, costDollars: document.costDollars)
            try state.record(decision, proposal: id, expires: document.expires, at: now)
            try postSignature(envelope, at: now)
            log.notice("signed", metadata: ["decision": "sign", "kind": "\(document.kind.rawValue)",
                                            "cost": "\(money(document.costDollars))"])
            return 1
        }
    }

    private func repost(_ decision: SignerState.Decision, envelope: Envelope, log: Logger, at now: Date) throws -> Int {
        switch decision.kind {
        case .signed:
            guard !envelope.isSigned(by: key.publicKey) else { return 0 }
            try postSignature(envelope, at: now)
            log.notice("signature re-posted after a restart", metadata: ["decision": "sign"])
            return 1
        case .rejected:
            let mine = try ledger.rejections(id: envelope.id).contains { $0.isSigned(by: key.publicKey) }
            guard !mine else { return 0 }
            try postRejection(decision.reason ?? "rejected", envelope: envelope, at: now)
            log.notice("rejection re-posted after a restart", metadata: ["decision": "reject", "reason": "\(decision.reason ?? "")"])
            return 1
        }
    }

    private func postSignature(_ envelope: Envelope, at now: Date) throws {
        var signed = envelope
        try signed.addSignature(using: key)
        do { try ledger.addSignature(signed.signatures.last!, to: envelope.id, at: now) }
        catch let error as LedgerError where error.code == .notFound {} // committed or dropped meanwhile
    }

    private func postRejection(_ reason: String, envelope: Envelope, at now: Date) throws {
        let clipped = String(decoding: Array(reason.utf8.prefix(RejectionDocument.maxReasonBytes - 8)), as: UTF8.self)
        let rejection = try RejectionDocument.signedEnvelope(rejecting: envelope.id, reason: clipped, key: key, at: now)
        do { try ledger.addRejection(rejection, to: envelope.id, at: now) }
        catch let error as LedgerError where error.code == .notFound {}
    }

    /// The ledger as this signer verified it: from genesis at start, then, when the head moves, the
    /// new entries from the last verified one (O(new entries), not O(ledger) per commit).
    private func currentVerifiedLedger() throws -> ProposalReview.VerifiedLedger {
        let head = try ledger.head()
        if let verified, verified.context.head == head.hash { return verified }
        let fresh: ProposalReview.VerifiedLedger
        if let verified {
            fresh = try verified.advanced(ledger)
            logger.info("ledger verified from the last verified entry", metadata: [
                "from": "\(verified.context.nextSequence - 1)", "head": "\(fresh.context.nextSequence - 1):\(fresh.context.head.prefix(16))"])
        } else {
            fresh = try ProposalReview.VerifiedLedger.verify(ledger)
            logger.info("ledger verified from genesis", metadata: ["head": "\(fresh.context.nextSequence - 1):\(fresh.context.head.prefix(16))"])
        }
        verified = fresh
        return fresh
    }

    private func describe(_ limits: SignerLimits) -> String {
        var parts: [String] = []
        if let v = limits.maxPremiumPerChangeDollars { parts.append("premium/change ≤ \(money(v))") }
        if let v = limits.maxDailyPremiumDollars { parts.append("premium/day ≤ \(money(v))") }
        if let v = limits.maxAbsDeltaVega { parts.append("|Δvega| ≤ \(money(v))") }
        if !limits.stressMustNotWorsen.isEmpty { parts.append("no worse: \(limits.stressMustNotWorsen.joined(separator: ","))") }
        for (k, v) in limits.minStressPnLDollars.sorted(by: { $0.key < $1.key }) { parts.append("\(k) ≥ \(money(v))") }
        if let kinds = limits.allowedKinds { parts.append("kinds: \(kinds.map(\.rawValue).sorted().joined(separator: ","))") }
        return parts.isEmpty ? "none" : parts.joined(separator: "; ")
    }
}
