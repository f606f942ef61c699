import Foundation
import ALVHSigning

/// The proposal: what is signed. JSON, schema version 1, documented in `docs/proposal.md`.
///
/// Inside the signed bytes it binds the ledger slot (ledger id, base, sequence, policy hash),
/// its validity window, the proposer, the change, why (signals), what it does to the risk
/// (Greeks and stress before and after, cost) and the market snapshot it was computed from.
///
/// ```swift
/// let doc = try ProposalDocument.decode(envelope.payload)   // only after verifying the envelope
/// print(doc.kind, doc.size.premiumDollars)
/// ```
public struct ProposalDocument: Sendable, Codable, Equatable {
    public static let schemaVersion = 1
    /// Bounds on a leg's numbers (the engine's book applies the same ones).
    public static let maxAbsQuantity = 100_000
    public static let maxPrice = 10_000.0
    public static let maxStrike = 100_000.0
    public static let maxLegs = 16
    /// The largest payload alvh parses (512 KiB).
    public static let maxPayloadBytes = 512 * 1024

    /// What changes: a hedge layer, or the policy itself.
    public struct Change: Sendable, Codable, Equatable {
        public var kind: ChangeKind
        /// For layer kinds: the layer, its legs and limit prices.
        public var layer: LayerChangeBody?
        /// For `policy-change`: the new policy.
        public var policy: PolicyChange?

        public init(kind: ChangeKind, layer: LayerChangeBody? = nil, policy: PolicyChange? = nil) {
            self.kind = kind
            self.layer = layer
            self.policy = policy
        }
    }

    /// A new policy, carried whole so the ledger can adopt it.
    public struct PolicyChange: Sendable, Codable, Equatable {
        /// The new policy's `version` (must exceed the current one).
        public var version: Int
        /// The new policy file's bytes, base64.
        public var policyBase64: String
        /// Hex SHA-256 of the new policy bytes.
        public var policyHash: String

        public init(bytes: [UInt8], version: Int) {
            self.version = version
            policyBase64 = Base64.encode(bytes)
            policyHash = SHA256.hexDigest(bytes)
        }

        /// The policy bytes, checked against ``policyHash``.
        public func bytes() throws -> [UInt8] {
            guard let bytes = Base64.decode(policyBase64) else {
                throw ApprovalError(.malformedPayload, "not valid base64", path: "change.policy.policyBase64")
            }
            guard SHA256.hexDigest(bytes) == policyHash else {
                throw ApprovalError(.malformedPayload, "the policy bytes do not hash to policyHash", path: "change.policy.policyHash")
            }
            return bytes
        }
    }

    /// The market snapshot the figures were computed from: its hash and headline figures.
    public struct MarketReference: Sendable, Codable, Equatable {
        /// Hex SHA-256 of the snapshot file's bytes.
        public var snapshotHash: String
        /// The snapshot's as-of time (RFC 3339).
        public var asOf: String
        /// SPX spot, index points.
        public var spx: Double
        /// VIX spot, vol points.
        public var vix: Double
        /// Front VIX future, vol points.
        public var vixFront: Double?

        public init(snapshotHash: String, asOf: String, spx: Double, vix: Double, vixFront: Double?) {
            self.snapshotHash = snapshotHash
            self.asOf = asOf
            self.spx = spx
            self.vix = vix
            self.vixFront = vixFront
        }
    }

    public var schema: Int
    public var ledger: LedgerBinding
    /// RFC 3339 UTC.
    public var created: String
    /// RFC 3339 UTC: not valid before.
    public var notBefore: String
    /// RFC 3339 UTC: not valid from this instant on.
    public var expires: String
    /// Hex key id of the proposer.
    public var proposer: String
    public var change: Change
    /// The signals that fired, with their values and thresholds.
    public var rationale: [Signal]
    /// Book risk before and after the change (nil for a policy change).
    public var riskBefore: Risk?
    public var riskAfter: Risk?
    /// Premium paid for the change in dollars (negative: credit received).
    public var costDollars: Double
    /// The market the figures come from (nil for a policy change).
    public var market: MarketReference?

    public init(ledger: LedgerBinding, created: Date, notBefore: Date? = nil, expires: Date, proposer: KeyID,
                change: Change, rationale: [Signal] = [], riskBefore: Risk? = nil,
                riskAfter: Risk? = nil, costDollars: Double = 0, market: MarketReference? = nil) {
        self.init(schema: Self.schemaVersion, ledger: ledger, created: RFC3339.format(created),
                  notBefore: RFC3339.format(notBefore ?? created), expires: RFC3339.format(expires), proposer: proposer.hex,
                  change: change, rationale: rationale, riskBefore: riskBefore, riskAfter: riskAfter,
                  costDollars: costDollars, market: market)
    }

    // MARK: - Derived

    public var kind: ChangeKind { change.kind }
    public var proposerKeyID: KeyID { KeyID(hex: proposer)! } // validated by decode
    public var createdDate: Date { RFC3339.parse(created)! }
    public var notBeforeDate: Date { RFC3339.parse(notBefore)! }
    public var expiresDate: Date { RFC3339.parse(expires)! }

    /// Size for rule matching: |cost|, |Δ vega| of the book total, total |contracts| of the legs.
    public var size: ChangeSize {
        let contracts = change.layer?.legs.reduce(0) { $0 + abs($1.quantity) } ?? 0
        var deltaVega = 0.0
        if let before = riskBefore, let after = riskAfter { deltaVega = abs(after.total.vega - before.total.vega) }
        return ChangeSize(premiumDollars: abs(costDollars), absDeltaVega: deltaVega, contracts: contracts, layer: change.layer?.layer)
    }

    // MARK: - Encoding

    /// Canonical bytes: compact JSON with sorted keys.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }


    /// Parses and validates payload bytes (call only on verified bytes).
    public static func decode(_ bytes: [UInt8], path: String = "payload") throws -> ProposalDocument {
        guard bytes.count <= maxPayloadBytes else {
            throw ApprovalError(.tooLarge, "payload is \(bytes.count) bytes, over the \(maxPayloadBytes)-byte limit", path: path)
        }
        // One pass with the strict reader (Foundation's JSONDecoder was a sixth of ledger verification).
        let doc: ProposalDocument
        do {
            doc = try StrictJSONReader.read(bytes) { try read(&$0) }
        } catch let failure as StrictJSONReader.Failure {
            throw failure.approvalError(.malformedPayload, path: path)
        }
        try doc.validate(path: path)
        return doc
    }

    /// Field checks beyond types.
    public func validate(path: String = "payload") throws {
        func fail(_ field: String, _ reason: String) -> ApprovalError {
            ApprovalError(.malformedPayload, reason, path: "\(path): \(field)")
        }
        for (name, value) in [("ledger.ledgerID", ledger.ledgerID), ("ledger.base", ledger.base), ("ledger.policyHash", ledger.policyHash)] {
            guard Hex.isLowercase(value, count: 64) else {
                throw fail(name, "must be 64 lowercase hex digits")
            }
        }
        guard Hex.isLowercase(proposer, count: 64) else { throw fail("proposer", "must be a key id (64 lowercase hex digits)") }
        guard let createdAt = RFC3339.parse(created) else { throw fail("created", "must be an RFC 3339 time, e.g. 2026-11-25T14:30:00Z") }
        guard let notBeforeAt = RFC3339.parse(notBefore) else { throw fail("notBefore", "must be an RFC 3339 time") }
        guard let expiresAt = RFC3339.parse(expires) else { throw fail("expires", "must be an RFC 3339 time") }
        guard expiresAt > notBeforeAt, expiresAt > createdAt else { throw fail("expires", "must be after created and notBefore") }
        guard costDollars.isFinite else { throw fail("costDollars", "must be a finite number") }
        switch change.kind {
        case .policyChange:
            guard let policy = change.policy, change.layer == nil else {
                throw fail("change", "a policy-change carries 'policy' and no 'layer'")
            }
            guard costDollars == 0, market == nil, riskBefore == nil, riskAfter == nil else {
                throw fail("costDollars", "a policy-change costs nothing and carries no market or risk figures")
            }
            _ = try policy.bytes()
        default:
            guard let layer = change.layer, change.policy == nil else {
                throw fail("change", "a \(change.kind.rawValue) carries 'layer' and no 'policy'")
            }
            guard !layer.legs.isEmpty else { throw fail("change.layer.legs", "must have at least one leg") }
            guard layer.legs.count <= Self.maxLegs else { throw fail("change.layer.legs", "at most \(Self.maxLegs) legs") }
            for (index, leg) in layer.legs.enumerated() {
                let field = "change.layer.legs[\(index)]"
                guard leg.quantity != 0, leg.quantity.magnitude <= UInt(Self.maxAbsQuantity) else {
                    throw fail("\(field).quantity", "must be a whole number of contracts, nonzero, at most \(Self.maxAbsQuantity) either way")
                }
                guard leg.limitPrice.isFinite, leg.limitPrice > 0, leg.limitPrice <= Self.maxPrice else {
                    throw fail("\(field).limitPrice", "must be a price above 0 and at most \(Int(Self.maxPrice)) index points")
                }
                guard leg.strike.isFinite, leg.strike > 0, leg.strike <= Self.maxStrike else {
                    throw fail("\(field).strike", "must be a strike above 0 and at most \(Int(Self.maxStrike)) index points")
                }
            }
            guard riskBefore != nil, riskAfter != nil else { throw fail("riskBefore", "a layer change carries riskBefore and riskAfter") }
            guard let market else { throw fail("market", "a layer change names the market snapshot it was computed from") }
            guard market.snapshotHash.utf8.count == 64, Hex.decode(market.snapshotHash) != nil else {
                throw fail("market.snapshotHash", "must be 64 hex digits")
            }
            guard RFC3339.parse(market.asOf) != nil else { throw fail("market.asOf", "must be an RFC 3339 time") }
        }
    }

    /// Why this proposal may not be committed at `now` under `policy` (and the ledger state).
    ///
    /// The window: `notBefore ≥ created`, `created` at most the policy's clock skew ahead of `now`,
    /// `expires − created` within the policy's lifetime (so the window from now is too), and it is
    /// expired from `expires − skew` on — a clock a little behind cannot commit what has expired.
    /// Market age is judged on `marketAsOf`, the cited snapshot's own time (not the claimed one).
    public func problems(at now: Date, policy: Policy, ledger context: LedgerContext?, policyHashInForce: String? = nil,
                         marketAsOf: Date? = nil) -> [ApprovalProblem] {
        var problems: [ApprovalProblem] = []
        let skew = TimeInterval(policy.maxClockSkewSeconds)
        if now < notBeforeDate { problems.append(.notYetValid(notBefore: notBefore, now: RFC3339.format(now))) }
        if now.addingTimeInterval(skew) >= expiresDate { problems.append(.expired(expires: expires, now: RFC3339.format(now))) }
        if notBeforeDate < createdDate {
            problems.append(.badValidityWindow("notBefore \(notBefore) is before created \(created)"))
        }
        if createdDate > now.addingTimeInterval(skew) {
            problems.append(.badValidityWindow("created \(created) is ahead of the clock (\(RFC3339.format(now))) by more than the policy's \(policy.maxClockSkewSeconds) s skew"))
        }
        let lifetime = expiresDate.timeIntervalSince(createdDate)
        if lifetime > Double(policy.maxProposalLifetimeSeconds) {
            problems.append(.badValidityWindow("lifetime \(Int(lifetime) / 60) min exceeds the policy's maximum of \(policy.maxProposalLifetimeSeconds / 60) min"))
        }
        let expectedPolicy = policyHashInForce ?? policy.hash
        if ledger.policyHash != expectedPolicy {
            problems.append(.policyHashMismatch(bound: ledger.policyHash, inForce: expectedPolicy))
        }
        if let maxAge = policy.maxMarketAgeSeconds, let asOf = marketAsOf, now.timeIntervalSince(asOf) > Double(maxAge) {
            problems.append(.staleMarket(asOf: RFC3339.format(asOf), maxAgeSeconds: maxAge))
        }
        if let context {
            if ledger.ledgerID != context.ledgerID {
                problems.append(.ledgerMismatch(bound: ledger.ledgerID, ledger: context.ledgerID))
            }
            if ledger.base != context.head {
                problems.append(.staleBase(bound: ledger.base, head: context.head))
            }
            if ledger.sequence != context.nextSequence {
                problems.append(.sequenceMismatch(bound: ledger.sequence, next: context.nextSequence))
            }
        }
        return problems
    }
}
