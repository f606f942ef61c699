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
/// let review = ProposalReview(verified: verified, me: key.publicKey, limits: limits)
/// switch review.decide(envelope, snapshot: bytes, premiumToday: 0, at: Date()) { case .sign(let doc): … }
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

        public init(_ checkpoint: LedgerVerifier.Checkpoint) {
            self.init(policy: checkpoint.policy, context: checkpoint.context, book: checkpoint.book, checkpoint: checkpoint)
        }

        /// Verifies `ledger` (from genesis the first time this `Ledger` object is asked, then from its
        /// checkpoint: a rewritten or truncated history, or another ledger than the pinned one, is refused).
        public static func verify(_ ledger: Ledger, jobs: Int = 1) async throws -> VerifiedLedger {
            VerifiedLedger(try await ledger.verified(jobs: jobs))
        }
    }

    public let verified: VerifiedLedger
    public let me: PublicKey
    public let limits: SignerLimits

    public init(verified: VerifiedLedger, me: PublicKey, limits: SignerLimits) {
        self.verified = verified
        self.me = me
        self.limits = limits
    }

    /// Decides on `envelope` at `now`, with the snapshot `ledger` holds for the hash it cites.
    public func decide(_ envelope: Envelope, in ledger: Ledger, ownMarket: MarketSnapshot? = nil, premiumToday: Double, at now: Date) async -> Verdict {
        let held = try? await ledger.citedSnapshot(of: envelope)
        return decide(envelope, snapshots: { held?.hash == $0 ? held?.bytes : nil }, ownMarket: { _ in ownMarket }, premiumToday: premiumToday, at: now)
    }

    /// Decides on `envelope` at `now`, with `snapshot` (the bytes of the snapshot it cites, if held).
    public func decide(_ envelope: Envelope, snapshot: [UInt8]?, ownMarket: MarketSnapshot? = nil,
                       premiumToday: Double, at now: Date) -> Verdict {
        decide(envelope, snapshots: { hash in snapshot.flatMap { SHA256.hexDigest($0) == hash ? $0 : nil } },
               ownMarket: { _ in ownMarket }, premiumToday: premiumToday, at: now)
    }

    /// Decides on `envelope` at `now`. `snapshots` gives the bytes of the snapshot a verified
    /// proposal cites (by hash); `ownMarket` this signer's own market data for the cited snapshot
    /// (the one it is compared with; nil: none). `premiumToday` is what this signer already signed
    /// today. The envelope is verified and its figures recomputed once.
    public func decide(_ envelope: Envelope, snapshots: @escaping (String) -> [UInt8]?, ownMarket: (MarketSnapshot) -> MarketSnapshot?,
                       premiumToday: Double, at now: Date) -> Verdict {
        let policy = verified.policy
        var recomputation: Recomputation?
        let assessor = LedgerAssessor(book: verified.book, snapshot: snapshots, recomputed: { recomputation = $0 })
        let (report, parsed) = ThresholdEvaluator(policy: policy).evaluateDocument(envelope, at: now, ledger: verified.context, assessor: assessor)
        guard let document = parsed else {
            return .reject("does not verify: " + report.problems.joined(separator: "; "))
        }
        if let refusal = policy.proposerRefusal(document.proposerKeyID) {
            return .reject("its proposer may not propose: \(refusal)")
        }
        guard report.proposerSigned else {
            return .reject("not signed by its proposer \(report.proposer ?? document.proposer.prefix(16) + "…") under policy '\(policy.name)'")
        }
        if document.proposerKeyID == me.keyID && !policy.proposerMayApprove {
            return .wait("this key proposed it; the policy does not count a proposer's approval")
        }
        // Decided on the typed findings: time → wait; another ledger, slot or a false claim → reject.
        for finding in report.findings {
            switch finding {
            case .ledgerMismatch: return .reject("bound to another ledger: \(finding)")
            case .policyHashMismatch: return .reject(finding.description)
            case .sequenceMismatch(let bound, let next) where bound > next:
                return .reject("fast-forward: entry \(bound) is beyond the next entry \(next)")
            default: continue
            }
        }
        if let stale = report.findings.first(where: {
            switch $0 { case .staleBase, .sequenceMismatch: return true; default: return false }
        }) { return .wait(stale.description) }
        if let timing = report.findings.first(where: \.isTiming) { return .wait(timing.description) }
        if let stale = report.findings.first(where: { if case .staleMarket = $0 { return true } else { return false } }) {
            return .reject(stale.description)
        }
        let falseClaims = report.findings.filter(\.isFalseClaim)
        if !falseClaims.isEmpty {
            return .reject("the proposal's figures are not what its signed legs and cited snapshot give: "
                           + falseClaims.prefix(4).map(\.description).joined(separator: "; ")
                           + (falseClaims.count > 4 ? "; and \(falseClaims.count - 4) more" : ""))
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

        // The figures, as recomputed by the assessment above (which proved the claims equal them).
        guard let recomputed = recomputation else { return .reject("the risk cannot be recomputed") }

        // The cited market against this signer's own.
        if let ownMarket = ownMarket(recomputed.market) {
            if let gap = MarketComparison.gap(cited: recomputed.market, own: ownMarket, tolerance: limits.marketTolerance) {
                return .reject("the cited market differs from this signer's own: \(gap)")
            }
            // The policy's limit-price tolerance, measured on this signer's own mid: measured on the
            // cited snapshot's mid, it follows whatever that snapshot says.
            for (index, leg) in recomputed.legs.enumerated() {
                guard let mid = try? Engine.vixMid(market: ownMarket, right: leg.right, expiry: leg.expiry, strike: leg.strike) else {
                    return .reject("change.layer.legs[\(index)] (\(leg.expiry) \(String(format: "%g", leg.strike))) cannot be priced on this signer's own market")
                }
                let allowance = policy.limitPriceTolerance.allowance(mid: mid)
                if !(abs(leg.price - mid) <= allowance) {
                    return .reject("change.layer.legs[\(index)].limitPrice \(leg.price) is more than \(String(format: "%.2f", allowance)) points from this signer's own model mid \(String(format: "%.2f", mid)); the policy's limit-price-tolerance refuses it")
                }
            }
        } else if limits.requireOwnMarket {
            return .wait("no market data of this signer's own to compare the cited snapshot with (give --market)")
        }

        // Limits, on the recomputed figures.
        let premium = recomputed.premiumPaidDollars
        if let max = limits.maxPremiumPerChangeDollars, premium > max {
            return .reject("limits: premium \(money(premium)) is over this signer's per-change limit \(money(max))")
        }
        if let max = limits.maxDailyPremiumDollars, premiumToday + premium > max {
            return .reject("limits: premium \(money(premium)) would take today's total to \(money(premiumToday + premium)), over the daily limit \(money(max))")
        }
        let deltaVega = abs(recomputed.after.total.vega - recomputed.before.total.vega)
        if let max = limits.maxAbsDeltaVega, deltaVega > max {
            return .reject("limits: |Δ vega| \(money(deltaVega)) per VIX point is over the limit \(money(max))")
        }
        let tolerance = limits.recomputeToleranceDollars
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

/// The cited snapshot against a signer's own market data, within the tolerances its limits state.
enum MarketComparison {
    /// The first gap beyond tolerance, in words (nil: the markets agree).
    static func gap(cited: MarketSnapshot, own: MarketSnapshot, tolerance: SignerLimits.MarketTolerance) -> String? {
        let spxGap = abs(cited.spx.spot - own.spx.spot) / max(own.spx.spot, 1e-9) * 100
        if spxGap > tolerance.spxPercent {
            return "SPX \(cited.spx.spot) vs \(own.spx.spot) (\(String(format: "%.2f", spxGap)) % > \(tolerance.spxPercent) %)"
        }
        if abs(cited.vix.spot - own.vix.spot) > tolerance.vixPoints {
            return "VIX \(cited.vix.spot) vs \(own.vix.spot) (more than \(tolerance.vixPoints) points)"
        }
        // When: the cited snapshot must be one this signer's feed has for about that time (its own
        // closest snapshot), not a market dated days away from anything the signer saw.
        if let a = RFC3339.parse(cited.asOf), let b = RFC3339.parse(own.asOf), !(abs(a.timeIntervalSince(b)) <= tolerance.asOfMinutes * 60) {
            return "asOf \(cited.asOf) vs this signer's closest snapshot \(own.asOf) (more than \(String(format: "%g", tolerance.asOfMinutes)) min apart)"
        }
        // Rates: a rate or dividend yield the signer does not see moves every SPX forward and so
        // every condor leg's value (0.95 made a May 28C look worth 1.73 instead of 2.54).
        for (name, a, b) in [("rate", cited.spx.rate, own.spx.rate), ("dividend yield", cited.spx.dividendYield, own.spx.dividendYield)]
            where !(abs(a - b) * 100 <= tolerance.ratePercentPoints) {
            return "SPX \(name) \(a) vs \(b) (more than \(tolerance.ratePercentPoints) percentage points)"
        }
        // Every tenor the cited snapshot quotes must be one this signer quotes too: a future or a
        // vol it cannot check is a refusal, not a skip (a June backstop priced on a June future the
        // signer had no quote for passed a $6,000 limit at $5,882; on a plausible quote, $45,499).
        for future in cited.vix.futures {
            guard let mine = own.vix.futures.first(where: { $0.expiry == future.expiry }) else {
                return "VIX future \(future.expiry) is not in this signer's own market data: a tenor it cannot check is refused (add it to the signer's market)"
            }
            if !(abs(future.price - mine.price) <= tolerance.futuresPoints) {
                return "VIX future \(future.expiry) \(future.price) vs \(mine.price) (more than \(tolerance.futuresPoints) points)"
            }
        }
        // And a tenor only the signer quotes is priced by the cited snapshot's interpolation: that
        // interpolation is compared too.
        for mine in own.vix.futures where !cited.vix.futures.contains(where: { $0.expiry == mine.expiry }) {
            if let theirs = try? cited.vixFuture(expiry: mine.expiry), !(abs(theirs - mine.price) <= tolerance.futuresPoints) {
                return "VIX future \(mine.expiry): the cited snapshot's curve gives \(String(format: "%.2f", theirs)) vs \(mine.price) (more than \(tolerance.futuresPoints) points)"
            }
        }
        // The VIX smile across strikes — the skew a snapshot applies to an at-the-money vol prices the
        // out-of-the-money calls the rules buy, so a flattened one would make them look cheap. Every
        // whole strike from half to three times the future, and every knot of either smile: a smile
        // that matches at a few points and dips between them is caught.
        for smile in cited.vix.optionVols {
            guard let mine = own.vix.optionVols.first(where: { $0.expiry == smile.expiry }) else {
                return "VIX option vols for \(smile.expiry) are not in this signer's own market data: a tenor it cannot check is refused (add it to the signer's market)"
            }
            let future = (try? own.vixFuture(expiry: smile.expiry)) ?? own.vix.spot
            let strikes = Set(stride(from: (future * 0.5).rounded(.down), through: (future * 3).rounded(.up), by: 1))
                .union((smile.points ?? []).map(\.strike)).union((mine.points ?? []).map(\.strike)).sorted()
            for strike in strikes where strike > 0 {
                let a = cited.vixOptionVol(expiry: smile.expiry, strike: strike) * 100, b = own.vixOptionVol(expiry: smile.expiry, strike: strike) * 100
                if !(abs(a - b) <= tolerance.volPoints) {
                    return "VIX option vol \(smile.expiry) at \(String(format: "%g", strike)): \(String(format: "%.1f", a)) vs \(String(format: "%.1f", b)) vol points (more than \(tolerance.volPoints))"
                }
            }
        }
        // Events come from the desk's calendar, not the snapshot alone: an "Emergency FOMC" only the
        // cited snapshot lists would make the engine propose an event layer.
        // Its release time too: a statement moved past an expiry's settlement changes which expiry
        // the event layer spans.
        for event in cited.events where !own.events.contains(where: {
            $0.date == event.date && $0.kind == event.kind && $0.releaseInstant == event.releaseInstant
        }) {
            return "event \(event.kind) on \(event.date)\(event.name.map { " (\($0))" } ?? "") at \(event.releaseInstant.map(RFC3339.format) ?? "no known time") is not in this signer's own market data; events come from the desk's calendar"
        }
        // And the other way: an event of the desk's calendar that the cited snapshot leaves out
        // (from its day up to its last VIX future's expiry) would make the engine skip the event
        // layer it exists for.
        let from = cited.asOfDay?.description ?? cited.asOf
        let through = cited.vix.futures.map(\.expiry).max() ?? from
        for event in own.events where event.date >= from && event.date <= through && !cited.events.contains(where: {
            $0.date == event.date && $0.kind == event.kind && $0.releaseInstant == event.releaseInstant
        }) {
            return "event \(event.kind) on \(event.date)\(event.name.map { " (\($0))" } ?? "") of this signer's own calendar is missing from the cited snapshot; events come from the desk's calendar"
        }
        // What a fill costs: the commission and half-spread the cited snapshot charges.
        let (c, o) = (cited.costs, own.costs)
        if abs(c.commissionPerContract - o.commissionPerContract) > 0.005 || abs(c.halfSpreadPoints - o.halfSpreadPoints) > 0.0005
            || abs(c.halfSpreadFraction - o.halfSpreadFraction) > 0.0005 {
            return "execution costs: commission $\(c.commissionPerContract)/contract, half-spread max(\(c.halfSpreadPoints), \(c.halfSpreadFraction) × mid) vs this signer's $\(o.commissionPerContract), max(\(o.halfSpreadPoints), \(o.halfSpreadFraction) × mid)"
        }
        // The SPX smiles, whole: both are piecewise linear in strike, so their largest difference is
        // at a knot of one of them (or where they are flat beyond the last knot): every knot of both,
        // and the money, are compared.
        for smile in cited.spx.smiles {
            guard let mine = own.spx.smiles.first(where: { $0.expiry == smile.expiry }) else {
                return "SPX smile \(smile.expiry) is not in this signer's own market data: a tenor it cannot check is refused (add it to the signer's market)"
            }
            let strikes = Set([cited.spx.spot, own.spx.spot]).union((smile.points ?? []).map(\.strike)).union((mine.points ?? []).map(\.strike)).sorted()
            for strike in strikes {
                let a = smile.vol(at: strike) * 100, b = mine.vol(at: strike) * 100
                if !(abs(a - b) <= tolerance.volPoints) {
                    return "SPX vol \(smile.expiry) at \(String(format: "%g", strike)): \(String(format: "%.1f", a)) vs \(String(format: "%.1f", b)) vol points (more than \(tolerance.volPoints))"
                }
            }
        }
        return nil
    }

    /// The snapshot among `candidates` closest in time to `asOf`.
    static func closest(to asOf: String, in candidates: [MarketSnapshot]) -> MarketSnapshot? {
        guard let target = RFC3339.parse(asOf) else { return candidates.first }
        return candidates.min { a, b in
            abs((RFC3339.parse(a.asOf) ?? .distantPast).timeIntervalSince(target)) < abs((RFC3339.parse(b.asOf) ?? .distantPast).timeIntervalSince(target))
        }
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
