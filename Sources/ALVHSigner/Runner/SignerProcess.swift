import Foundation
import Logging
import ALVHSigning
import ALVHApproval
import ALVHLedger
import ALVHEngine
import ALVHStorage

/// The long-running independent signer: one per key, watching the workspace's pending queue.
///
/// Reads the ledger through its URL (the workspace's `alvh.sqlite`, or a shared PostgreSQL ledger):
/// the cited snapshot comes from the ledger's blobs, never from a workspace path.
/// For each pending proposal it has not decided yet: verify the ledger and the envelope itself,
/// recompute the risk, check its limits, record the decision durably (double-sign protection),
/// then post the signature or a signed rejection. A recorded decision whose post was lost (a
/// crash between the two) is posted again on the next pass — the same decision, never another.
/// (In ``run(pollMilliseconds:once:stop:)``, passes woken early by the service's events look at
/// undecided proposals only; the decided ones are checked for a lost post on the first pass of each
/// poll interval, so a signer does not re-read every proposal it signed on every event.)
///
/// ```swift
/// let signer = try await SignerProcess(workspace: ".", key: key, limits: .none, state: state, logger: logger)
/// try await signer.run(pollMilliseconds: 200, once: false, stop: StopSignal.install())
/// ```
public actor SignerProcess {
    public let workspace: String
    public let key: PrivateKey
    public let limits: SignerLimits
    public let state: SignerState
    /// This signer's own market data (a snapshot file, or a folder of them): the cited snapshot is
    /// compared with the one closest in time. Nil: none.
    public let market: String?
    public let logger: Logger
    let ledger: Ledger
    private var lastWaitReason: [String: String] = [:]
    private var verifiedSequence: UInt64?

    public init(workspace: String, ledger location: LedgerLocation? = nil, key: PrivateKey, limits: SignerLimits, state: SignerState,
                market: String? = nil, expectLedgerID: String? = nil, logger: Logger) async throws {
        self.workspace = workspace
        self.key = key
        self.limits = limits
        self.state = state
        self.market = market
        var logger = logger
        logger[metadataKey: "key"] = "\(key.keyID.fingerprint)"
        self.logger = logger
        self.ledger = try await Ledger.open(workspace: workspace, at: location)
        // The ledger and head this key verified before: another ledger, or a history without that
        // head, is refused.
        // `expectLedgerID` pins the ledger on the first run too (a signer that starts against a
        // service serving a forged ledger refuses it instead of trusting it on first use).
        if let pin = state.pin {
            if let expectLedgerID, expectLedgerID != pin.ledgerID {
                try? await ledger.close()
                throw SignerError(.invalidState, "this signer's record (\(state.path)) is pinned to ledger \(pin.ledgerID.prefix(16))…, not the expected \(expectLedgerID.prefix(16))…; give the right --expect-ledger-id or another --state",
                                  path: "--expect-ledger-id")
            }
            ledger.pin(Ledger.Pins(ledgerID: pin.ledgerID, head: .init(sequence: pin.sequence, hash: pin.hash)))
        } else if let expectLedgerID {
            ledger.pin(Ledger.Pins(ledgerID: expectLedgerID))
        }
        _ = try Self.feed(at: market) // a --market that cannot be read is said at start, not at the first proposal
    }

    /// Runs passes until stopped (or one pass with `once`). Returns the number of decisions posted.
    @discardableResult
    public func run(pollMilliseconds: Int, once: Bool, stop: StopSignal) async throws -> Int {
        var posted = 0
        logger.info("signer started", metadata: ["ledger": "\(ledger.location)", "limits": "\(describe(limits))",
                                                 "market": "\(market ?? "none of its own")"])
        var lastRecheck: ContinuousClock.Instant?
        try await stop.repeatPasses(pollMilliseconds: pollMilliseconds, once: once, logger: logger,
                                  wake: once ? nil : ledger.storage.watchChanges(), on: [.queued, .committed]) {
            // Woken by a queued proposal (work), and by a commit: verifying the new entry then keeps
            // that work out of the next signing pass. Not by others' signatures.
            let now = ContinuousClock.now
            let recheck = lastRecheck.map { now - $0 >= .milliseconds(pollMilliseconds) } ?? true
            if recheck { lastRecheck = now }
            posted += try await self.pass(stop: stop, recheckDecided: recheck)
        }
        logger.info("signer stopped", metadata: ["posted": "\(posted)"])
        return posted
    }

    /// One pass over the queue. Returns the number of signatures and rejections posted. One bad
    /// proposal never stops the signer: it is logged and skipped.
    public func pass(stop: StopSignal? = nil, at clock: @Sendable () -> Date = Date.init) async throws -> Int {
        try await pass(stop: stop, at: clock, recheckDecided: true)
    }

    /// A pass; with `recheckDecided` false, the proposals this key decided already are left alone
    /// (not read back to check that the decision's post is there).
    func pass(stop: StopSignal? = nil, at clock: @Sendable () -> Date = Date.init, recheckDecided: Bool) async throws -> Int {
        let queue = try await ledger.openProposals()
        let verified = try await currentVerifiedLedger()
        guard !queue.isEmpty else { return 0 }
        guard let me = verified.policy.signer(for: key.keyID), !me.revoked else {
            throw SignerError(.notASigner, "key \(key.keyID.fingerprint) is not a signer of policy '\(verified.policy.name)' v\(verified.policy.version) (or is revoked); it cannot approve anything")
        }
        let feed = try ownFeed()
        var posted = 0
        for pending in queue {
            if stop?.requested == true { break }
            if !recheckDecided && state.decision(for: pending.id) != nil { continue }
            do {
                posted += try await handle(pending, verified: verified, feed: feed, at: clock())
            } catch let error as SignerError where error.code == .fileError || error.code == .invalidState {
                throw error // the record that protects against double-signing could not be written: stop
            } catch {
                if lastWaitReason[pending.id] != "\(error)" {
                    logger.warning("skipped", metadata: ["proposal": "\(pending.id.prefix(16))", "error": "\(error)"])
                    lastWaitReason[pending.id] = "\(error)"
                }
            }
        }
        return posted
    }

    private func handle(_ pending: PendingProposal, verified: ProposalReview.VerifiedLedger, feed: [MarketSnapshot], at now: Date) async throws -> Int {
        let envelope: Envelope
        do { envelope = try await ledger.envelope(id: pending.id) }
        catch let error as LedgerError where error.code == .notFound { return 0 } // committed meanwhile
        let id = pending.id
        var log = logger
        log[metadataKey: "proposal"] = "\(id.prefix(16))"
        log[metadataKey: "sequence"] = "\(pending.sequence)"

        // Already decided: make sure the decision was posted (a crash may have lost the post, or a
        // database writer may have removed it).
        if let decision = state.decision(for: id) {
            return try await repost(decision, envelope: envelope, log: log, at: now)
        }

        let review = ProposalReview(verified: verified, me: key.publicKey, limits: limits)
        // The cited snapshot from the ledger's blobs (a ledger that cannot be read now is no reason
        // to reject: the error skips the proposal, undecided).
        let held = try await ledger.citedSnapshot(of: envelope)
        let verdict = review.decide(envelope, snapshots: { held?.hash == $0 ? held?.bytes : nil },
                                    ownMarket: { cited in MarketComparison.closest(to: cited.asOf, in: feed) },
                                    premiumToday: state.premiumSigned(on: now), at: now)
        switch verdict {
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
            try await postRejection(reason, envelope: envelope, at: now, log: log)
            log.notice("rejected", metadata: ["decision": "reject", "reason": "\(reason)"])
            return 1
        case .sign(let document):
            let evaluator = ThresholdEvaluator(policy: verified.policy)
            // The rejections of the proposal this key signed earlier for this entry (the only one the
            // double-sign check asks about), read before deciding; none when it left the queue.
            var earlierRejections: [Envelope] = []
            if let earlier = state.signedProposal(ledgerID: document.ledger.ledgerID, sequence: document.ledger.sequence), earlier != id {
                earlierRejections = (try? await ledger.rejections(id: earlier)) ?? []
            }
            let dead: (String) -> Bool = { earlier in
                // The earlier payload can never be committed: vetoed (verified here, from the signed
                // rejections themselves). An expired one is dead too (the state checks that).
                earlierRejections.contains { evaluator.rejectionLine($0, proposalID: earlier).veto }
            }
            if let conflict = state.slotConflict(ledgerID: document.ledger.ledgerID, sequence: document.ledger.sequence, proposal: id,
                                                 at: now, isDead: dead) {
                if lastWaitReason[id] != conflict {
                    log.warning("refused to sign", metadata: ["decision": "refuse", "reason": "\(conflict)"])
                    lastWaitReason[id] = conflict
                }
                return 0
            }
            let premium = document.kind == .policyChange ? 0 : Recomputation.premiumPaidDollars(of: try ProposalBuilder.layerChange(document).trades)
            let decision = SignerState.Decision(kind: .signed, reason: nil, at: RFC3339.format(now), ledgerID: document.ledger.ledgerID,
                                                sequence: document.ledger.sequence, costDollars: premium)
            try state.record(decision, proposal: id, expires: document.expires, at: now)
            try await postSignature(envelope, at: now, log: log)
            log.notice("signed", metadata: ["decision": "sign", "kind": "\(document.kind.rawValue)",
                                            "premium": "\(money(premium))"])
            return 1
        }
    }

    /// This signer's own market data (`--market`: a snapshot file, or a folder of them), read once
    /// per pass; empty without `--market`.
    private func ownFeed() throws -> [MarketSnapshot] { try Self.feed(at: market) }

    /// The market snapshots at `market` (a snapshot file, or a folder of them); empty for nil.
    public static func feed(at market: String?) throws -> [MarketSnapshot] {
        guard let market else { return [] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: market, isDirectory: &isDirectory) else {
            throw SignerError(.fileError, "no such file or folder (--market)", path: market)
        }
        if !isDirectory.boolValue { return [try MarketSnapshot.load(path: market)] }
        let files = try FileManager.default.contentsOfDirectory(atPath: market).filter { $0.hasSuffix(".json") }.sorted()
        let feed = files.compactMap { try? MarketSnapshot.load(path: "\(market)/\($0)") }
        guard !feed.isEmpty else { throw SignerError(.fileError, "no readable market snapshot (*.json) in this folder (--market)", path: market) }
        return feed
    }

    private func repost(_ decision: SignerState.Decision, envelope: Envelope, log: Logger, at now: Date) async throws -> Int {
        switch decision.kind {
        case .signed:
            guard !envelope.isSigned(by: key.publicKey) else { return 0 }
            try await postSignature(envelope, at: now, log: log)
            log.notice("signature re-posted", metadata: ["decision": "sign"])
            return 1
        case .rejected:
            let mine = try await ledger.rejections(id: envelope.id).contains { $0.isSigned(by: key.publicKey) }
            guard !mine else { return 0 }
            try await postRejection(decision.reason ?? "rejected", envelope: envelope, at: now, log: log)
            log.notice("rejection re-posted (lost in a crash, or removed from the database)", metadata: ["decision": "reject", "reason": "\(decision.reason ?? "")"])
            return 1
        }
    }

    private func postSignature(_ envelope: Envelope, at now: Date, log: Logger) async throws {
        var signed = envelope
        try signed.addSignature(using: key)
        do { try await ledger.addSignature(signed.signatures.last!, to: envelope.id, at: now) }
        catch let error as LedgerError where error.code == .notFound {} // committed or dropped meanwhile
        catch let error as LedgerError where error.code == .invalidInput || error.code == .duplicate {
            log.warning("the ledger refused this signature", metadata: ["reason": "\(error.reason)"])
        }
    }

    private func postRejection(_ reason: String, envelope: Envelope, at now: Date, log: Logger) async throws {
        let clipped = String(decoding: Array(reason.utf8.prefix(RejectionDocument.maxReasonBytes - 8)), as: UTF8.self)
        let rejection = try RejectionDocument.signedEnvelope(rejecting: envelope.id, reason: clipped, key: key, at: now)
        do { try await ledger.addRejection(rejection, to: envelope.id, at: now) }
        catch let error as LedgerError where error.code == .notFound {}
        catch let error as LedgerError where error.code == .invalidInput {
            log.warning("the ledger refused this rejection", metadata: ["reason": "\(error.reason)"])
        }
    }

    /// The ledger as this signer verified it: from genesis at start (against the ledger id and head
    /// it pinned on an earlier run), then, when the head moves, the new entries from the last
    /// verified one. A proposal this key vetoed that shows up committed stops the signer: the
    /// veto was removed before it reached the history.
    private func currentVerifiedLedger() async throws -> ProposalReview.VerifiedLedger {
        let checkpoint = try await ledger.verified(jobs: 1)
        if verifiedSequence != checkpoint.sequence {
            let from = verifiedSequence.map { $0 + 1 } ?? 1
            try await checkVetoesHeld(from: from, to: checkpoint.sequence, policy: checkpoint.policy)
            logger.info(verifiedSequence == nil ? "ledger verified from genesis" : "ledger verified from the last verified entry",
                        metadata: ["head": "\(checkpoint.sequence):\(checkpoint.hash.prefix(16))"])
            verifiedSequence = checkpoint.sequence
            try state.recordPin(.init(ledgerID: checkpoint.ledgerID, sequence: checkpoint.sequence, hash: checkpoint.hash))
            try await witness(checkpoint)
        } else if let last = state.witnessed, Date().timeIntervalSince1970 - Double(last.timestamp) >= Self.rewitnessSeconds {
            // The same tree, seen again now: its newer time bounds the next entry's commit time
            // (an expired proposal cannot then be committed by setting a clock back).
            try await witness(checkpoint)
        }
        return ProposalReview.VerifiedLedger(checkpoint)
    }

    /// As a witness: cosigns the tree it just verified (never another root for a size it
    /// cosigned, nor a tree that does not extend it — a split view stops the signer) and writes
    /// the cosigned checkpoint to ``checkpointPath`` for the desk's auditors.
    private func witness(_ verified: LedgerVerifier.Checkpoint) async throws {
        guard let me = verified.policy.signer(for: key.keyID), !me.revoked else { return }
        let cosigned = try await CheckpointWitness(key: key, state: state).cosign(nil, on: ledger, at: Date())
        do { try SecureFile.writeAtomically(cosigned.encoded(), to: checkpointPath, mode: 0o644) }
        catch let error as SigningError { throw SignerError(.fileError, error.reason, path: error.path ?? checkpointPath) }
        logger.info("cosigned checkpoint", metadata: ["size": "\(cosigned.checkpoint.size)", "root": "\(cosigned.checkpoint.rootHex.prefix(16))",
                                                      "file": "\(checkpointPath)"])
    }

    /// How often a signer cosigns the tree again when the head has not moved (seconds).
    public static let rewitnessSeconds: Double = 60

    /// Where the newest checkpoint this signer cosigned is written: beside its record.
    public var checkpointPath: String { state.path + ".checkpoint" }

    private func checkVetoesHeld(from: UInt64, to: UInt64, policy: Policy) async throws {
        let rejected = state.rejected
        guard !rejected.isEmpty, from <= to, let me = policy.signer(for: key.keyID), !me.roles.isDisjoint(with: policy.vetoRoles) else { return }
        var next = from
        while next <= to {
            let batch = try await ledger.entries(from: next, limit: 256)
            if batch.isEmpty { break }
            for entry in batch where entry.kind != .genesis {
                if let id = try? Envelope.decode(entry.envelope).id, let decision = rejected[id] {
                    throw SignerError(.invalidState,
                        "proposal \(id.prefix(16))…, which this key vetoed (\(decision.reason ?? "")), was committed as entry \(entry.sequence) without the veto: the veto was removed from the queue before the commit — stop and investigate the ledger's database")
                }
            }
            next = batch.last!.sequence + 1
        }
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
