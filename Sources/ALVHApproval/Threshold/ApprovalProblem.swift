/// One reason a proposal is not commit-ready, as a typed value: decisions (wait, reject, mark
/// vetoed, show a status) are made on the case, never on the wording of ``description``.
public enum ApprovalProblem: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The envelope's payloadType is not the proposal type (compared byte for byte).
    case wrongPayloadType(String)
    /// No signature verifies under any key of the policy; the payload was not parsed.
    case noVerifiedSignature(policy: String)
    /// The verified payload is not a valid proposal.
    case malformedPayload(String)
    /// No rule of the policy matches the change (fail closed).
    case noMatchingRule(kind: String)
    /// A rule's threshold of distinct counted signatures is unmet.
    case thresholdUnmet(rule: String, have: Int, need: Int)
    /// A rule's role minimum is unmet: one signature fills at most one role slot.
    case roleMinimumUnmet(rule: String, role: String, have: Int, need: Int)
    /// The proposer's own valid signature is missing and the policy requires it.
    case proposerSignatureMissing(proposer: String)
    /// The proposer is not a current, unrevoked policy signer allowed to propose.
    case proposerNotAllowed(proposer: String, why: String)
    /// `notBefore` is in the future.
    case notYetValid(notBefore: String, now: String)
    /// Expired (or within the policy's clock skew of expiring).
    case expired(expires: String, now: String)
    /// The validity window is malformed or longer than the policy allows.
    case badValidityWindow(String)
    /// The proposal binds another policy than the one in force.
    case policyHashMismatch(bound: String, inForce: String)
    /// The cited market snapshot (its own `asOf`) is older than the policy allows.
    case staleMarket(asOf: String, maxAgeSeconds: Int)
    /// The proposal is for another ledger.
    case ledgerMismatch(bound: String, ledger: String)
    /// The head moved since the proposal was built.
    case staleBase(bound: String, head: String)
    /// The proposal is for another entry number than the next one.
    case sequenceMismatch(bound: UInt64, next: UInt64)
    /// A valid signed rejection by a holder of a veto role.
    case vetoed(signer: String, roles: [String], reason: String)
    /// A figure the proposer claims differs from the one recomputed from the signed legs and the cited snapshot.
    case figureMismatch(field: String, claimed: String, recomputed: String)
    /// A leg's limit price is too far from the cited snapshot's model mid.
    case limitPriceOffModel(leg: Int, limit: Double, mid: Double, tolerance: Double)
    /// A leg's limit price is not on the exchange's tick grid: no exchange would take the order.
    case limitPriceOffTick(leg: Int, limit: Double, tick: Double)
    /// The figures could not be recomputed (snapshot missing or invalid, legs not applicable).
    case notRecomputed(String)

    /// A stable code per case (for `--json` and scripts).
    public var code: String {
        switch self {
        case .wrongPayloadType: return "wrong-payload-type"
        case .noVerifiedSignature: return "no-verified-signature"
        case .malformedPayload: return "malformed-payload"
        case .noMatchingRule: return "no-matching-rule"
        case .thresholdUnmet: return "threshold-unmet"
        case .roleMinimumUnmet: return "role-minimum-unmet"
        case .proposerSignatureMissing: return "proposer-signature-missing"
        case .proposerNotAllowed: return "proposer-not-allowed"
        case .notYetValid: return "not-yet-valid"
        case .expired: return "expired"
        case .badValidityWindow: return "bad-validity-window"
        case .policyHashMismatch: return "policy-hash-mismatch"
        case .staleMarket: return "stale-market"
        case .ledgerMismatch: return "ledger-mismatch"
        case .staleBase: return "stale"
        case .sequenceMismatch: return "sequence-mismatch"
        case .vetoed: return "vetoed"
        case .figureMismatch: return "figure-mismatch"
        case .limitPriceOffModel: return "limit-price-off-model"
        case .limitPriceOffTick: return "limit-price-off-tick"
        case .notRecomputed: return "not-recomputed"
        }
    }

    /// Problems of time alone (not yet valid, expired): a signer waits instead of rejecting.
    public var isTiming: Bool {
        switch self {
        case .notYetValid, .expired: return true
        default: return false
        }
    }

    /// Problems that a later head or more signatures cannot cure: the claimed figures are false,
    /// the prices are off the model, the window or proposer is invalid.
    public var isFalseClaim: Bool {
        switch self {
        case .figureMismatch, .limitPriceOffModel, .limitPriceOffTick, .notRecomputed, .badValidityWindow, .proposerNotAllowed: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .wrongPayloadType(let type): return "wrong payloadType '\(type)'; expected '\(PayloadTypes.proposal)'"
        case .noVerifiedSignature(let policy): return "no signature verifies under any key of policy '\(policy)'; the payload was not parsed"
        case .malformedPayload(let why): return "payload is not a valid proposal: \(why)"
        case .noMatchingRule(let kind): return "no rule of the policy matches a \(kind) of this size; it cannot be approved"
        case let .thresholdUnmet(rule, have, need): return "threshold unmet: \(have) of \(need) signatures counted (rule \(rule))"
        case let .roleMinimumUnmet(rule, role, have, need):
            return "role minimum unmet: \(have) of \(need) '\(role)' (rule \(rule); one signature fills one role slot)"
        case .proposerSignatureMissing(let proposer): return "the proposer's signature (\(proposer)) is missing; the policy requires it"
        case let .proposerNotAllowed(proposer, why): return "the proposer \(proposer) may not propose: \(why)"
        case let .notYetValid(notBefore, now): return "not yet valid: notBefore is \(notBefore), now is \(now)"
        case let .expired(expires, now): return "expired at \(expires) (now \(now), with the policy's clock skew); re-propose"
        case .badValidityWindow(let why): return "validity window refused: \(why)"
        case let .policyHashMismatch(bound, inForce):
            return "policy hash mismatch: proposal binds \(bound.prefix(16))…, policy in force is \(inForce.prefix(16))…"
        case let .staleMarket(asOf, maxAge):
            return "market snapshot is stale: the cited snapshot is as of \(asOf), older than the policy's \(maxAge / 60) min"
        case let .ledgerMismatch(bound, ledger):
            return "ledger id mismatch: proposal is for ledger \(bound.prefix(16))…, this is \(ledger.prefix(16))…"
        case let .staleBase(bound, head): return "stale proposal: head moved from \(bound.prefix(16))… to \(head.prefix(16))…; re-propose"
        case let .sequenceMismatch(bound, next): return "sequence mismatch: proposal is for entry \(bound), the next entry is \(next)"
        case let .vetoed(signer, roles, reason): return "vetoed by \(signer) (\(roles.joined(separator: ", "))): \(reason)"
        case let .figureMismatch(field, claimed, recomputed):
            return "claimed \(field) \(claimed) is not the recomputed \(recomputed) (from the signed legs and the cited snapshot)"
        case let .limitPriceOffModel(leg, limit, mid, tolerance):
            return "change.layer.legs[\(leg)].limitPrice \(limit) is more than \(tolerance) points from the snapshot's model mid \(mid); the policy's limit-price-tolerance refuses it"
        case let .limitPriceOffTick(leg, limit, tick):
            return "change.layer.legs[\(leg)].limitPrice \(limit) is not on the exchange's tick grid (\(tick)-point steps at that price); round it to a tick"
        case .notRecomputed(let why): return "the figures cannot be recomputed: \(why)"
        }
    }
}
