import Foundation
import Synchronization
import ALVHSigning
import ALVHApproval
import ALVHEngine

/// A layer change's figures recomputed from its signed legs, the book it would apply to and the
/// market snapshot it cites — what every party that decides (enqueue, `alvh sign`, the signer
/// processes, commit, `ledger verify`) uses instead of the proposer's claims.
///
/// ```swift
/// let recomputed = try Recomputation(document, book: book, snapshotBytes: bytes)
/// let assessment = recomputed.assessment(of: document, policy: policy)  // rules match on this
/// ```
public struct Recomputation: Sendable {
    /// The engine's risk before and after, and the net premium at the signed limit prices.
    public let before: RiskReport
    public let after: RiskReport
    /// Net premium in dollars at the legs' limit prices (buys positive).
    public let costDollars: Double
    /// Σ |quantity| × limit price × multiplier: the premium that changes hands, buys and sales alike.
    public let grossPremiumDollars: Double
    /// Premium paid: Σ over the buying legs of quantity × limit price × multiplier (a sale's
    /// credit is not netted against it: limits and budgets apply to what is bought).
    public var premiumPaidDollars: Double { Self.premiumPaidDollars(of: legs) }

    /// Premium paid by `trades` at their limit prices (buys only), to the cent.
    public static func premiumPaidDollars(of trades: [Trade]) -> Double {
        (trades.filter { $0.quantity > 0 }.reduce(0) { $0 + $1.price * Double($1.quantity) * VIXOption.multiplier } * 100).rounded() / 100
    }
    /// The signed legs, as the engine's trades.
    public let legs: [Trade]
    /// The model mid of each leg on the cited snapshot, index points.
    public let modelMids: [Double]
    /// The cited snapshot.
    public let market: MarketSnapshot
    public let marketAsOf: Date?

    /// Recomputes `document` (a verified, parsed layer change) on `book` with the snapshot bytes it cites.
    /// `before`, when given, is the engine's report of `book` on this very snapshot, computed earlier
    /// (the previous entry's after-report): it is used instead of valuing the book again.
    public init(_ document: ProposalDocument, book: Book, snapshotBytes: [UInt8], before knownBefore: RiskReport? = nil) throws {
        guard let reference = document.market else {
            throw LedgerError(.invalidInput, "a layer change names the market snapshot it was computed from", path: "market")
        }
        guard SHA256.hexDigest(snapshotBytes) == reference.snapshotHash else {
            throw LedgerError(.invalidInput, "the snapshot given does not hash to the cited \(reference.snapshotHash.prefix(16))…", path: "market.snapshotHash")
        }
        let market = try Recomputation.snapshot(snapshotBytes, hash: reference.snapshotHash)
        let change = try BookChange.layerChange(document)
        for (index, trade) in change.trades.enumerated() where trade.instrument != "VIX" {
            throw LedgerError(.invalidInput, "instrument '\(trade.instrument)' cannot be priced; hedge layers trade VIX options", path: "change.layer.legs[\(index)].instrument")
        }
        let evaluated: (before: RiskReport, after: RiskReport, costDollars: Double)
        do {
            if let knownBefore {
                let afterBook = try book.applying(change)
                let after = try BookValuer(book: afterBook, market: market).report(book: afterBook, scenarios: Engine.reportScenarios)
                try Engine.checkTradable(change, market: market)
                evaluated = (knownBefore, after, Engine.cost(of: change, market: market))
            } else {
                evaluated = try Engine.evaluate(book: book, change: change, market: market)
            }
        } catch let error as EngineError { throw LedgerError(.invalidInput, error.reason, path: error.path) }
        before = evaluated.before
        after = evaluated.after
        costDollars = evaluated.costDollars
        grossPremiumDollars = (change.trades.reduce(0) { $0 + $1.price * Double($1.quantity.magnitude) * VIXOption.multiplier } * 100).rounded() / 100
        do {
            modelMids = try change.trades.map { try Engine.vixMid(market: market, right: $0.right, expiry: $0.expiry, strike: $0.strike) }
        } catch let error as EngineError { throw LedgerError(.invalidInput, error.reason, path: error.path) }
        self.market = market
        legs = change.trades
        marketAsOf = RFC3339.parse(market.asOf)
    }

    /// Decoded snapshots by the hash of their bytes (content-addressed, so a hit is the same bytes):
    /// a ledger's entries cite a few snapshots many times.
    static let decodedSnapshots = Mutex<[String: MarketSnapshot]>([:])

    static func snapshot(_ bytes: [UInt8], hash: String) throws -> MarketSnapshot {
        if let hit = decodedSnapshots.withLock({ $0[hash] }) { return hit }
        let market = try MarketSnapshot.decode(Data(bytes), path: "snapshot \(hash.prefix(16))")
        decodedSnapshots.withLock { cache in
            if cache.count >= 64 { cache.removeAll() }
            cache[hash] = market
        }
        return market
    }

    /// The size the rules are matched on, and every claimed figure that is not the recomputed one.
    public func assessment(of document: ProposalDocument, policy: Policy) -> ChangeAssessment {
        let legs = document.change.layer?.legs ?? []
        let size = ChangeSize(premiumDollars: grossPremiumDollars,
                              absDeltaVega: abs(after.total.vega - before.total.vega),
                              contracts: legs.reduce(0) { $0 + Int($1.quantity.magnitude) },
                              layer: document.change.layer?.layer)
        var problems: [ApprovalProblem] = []
        for (index, leg) in legs.enumerated() where leg.instrument == "VIX" && !TickSchedule.isOnGrid(.vix, price: leg.limitPrice) {
            problems.append(.limitPriceOffTick(leg: index, limit: leg.limitPrice, tick: TickSchedule.tick(.vix, price: leg.limitPrice)))
        }
        for (index, leg) in legs.enumerated() where index < modelMids.count {
            let mid = modelMids[index], allowance = policy.limitPriceTolerance.allowance(mid: mid)
            if abs(leg.limitPrice - mid) > allowance {
                problems.append(.limitPriceOffModel(leg: index, limit: leg.limitPrice, mid: (mid * 100).rounded() / 100,
                                                    tolerance: (allowance * 100).rounded() / 100))
            }
        }
        problems += FigureComparison.differences(claimed: document, recomputed: self)
        return ChangeAssessment(size: size, marketAsOf: marketAsOf, problems: problems)
    }
}

/// Every figure of a proposal compared with the recomputed one: the market headline, the cost,
/// each layer's and the total's five Greeks, every stress — both ways (a figure missing on either
/// side is a difference).
enum FigureComparison {
    /// The largest difference tolerated: a cent, or one part in 10⁹ of the figure (the engine is
    /// deterministic; this only absorbs the last bits of floating point).
    static func same(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= max(0.01, 1e-9 * max(abs(a), abs(b))) }

    static func differences(claimed document: ProposalDocument, recomputed: Recomputation) -> [ApprovalProblem] {
        var out: [ApprovalProblem] = []
        func number(_ x: Double?) -> String { x.map { String(format: "%.6g", $0) } ?? "missing" }
        func compare(_ field: String, _ claimed: Double?, _ actual: Double?) {
            switch (claimed, actual) {
            case let (c?, a?) where same(c, a): return
            case (nil, nil): return
            default: out.append(.figureMismatch(field: field, claimed: number(claimed), recomputed: number(actual)))
            }
        }
        if let market = document.market {
            if market.asOf != recomputed.market.asOf {
                out.append(.figureMismatch(field: "market.asOf", claimed: market.asOf, recomputed: recomputed.market.asOf))
            }
            compare("market.spx", market.spx, recomputed.market.spx.spot)
            compare("market.vix", market.vix, recomputed.market.vix.spot)
            compare("market.vixFront", market.vixFront, recomputed.market.vix.futures.first?.price)
        }
        compare("costDollars", document.costDollars, recomputed.costDollars)
        for (label, claimed, actual) in [("riskBefore", document.riskBefore, recomputed.before), ("riskAfter", document.riskAfter, recomputed.after)] {
            guard let claimed else { out.append(.figureMismatch(field: label, claimed: "missing", recomputed: "present")); continue }
            let actualRisk = ProposalBuilder.risk(actual)
            func greeks(_ prefix: String, _ c: ProposalDocument.Greeks?, _ a: ProposalDocument.Greeks?) {
                compare("\(prefix).delta", c?.delta, a?.delta)
                compare("\(prefix).gamma", c?.gamma, a?.gamma)
                compare("\(prefix).vega", c?.vega, a?.vega)
                compare("\(prefix).theta", c?.theta, a?.theta)
                compare("\(prefix).rho", c?.rho, a?.rho)
            }
            greeks("\(label).total", claimed.total, actualRisk.total)
            for name in Set(claimed.layers.keys).union(actualRisk.layers.keys).sorted() {
                greeks("\(label).layers.\(name)", claimed.layers[name], actualRisk.layers[name])
            }
            for name in Set(claimed.stressPnL.keys).union(actualRisk.stressPnL.keys).sorted() {
                compare("\(label).stressPnL.\(name)", claimed.stressPnL[name], actualRisk.stressPnL[name])
            }
        }
        return out
    }
}

/// The ``ChangeAssessor`` of a ledger party: recomputes on a book it verified, with the snapshot
/// bytes the ledger holds for the cited hash.
public struct LedgerAssessor: ChangeAssessor {
    public let book: Book
    /// The snapshot bytes by hash (nil: not held).
    public let snapshot: (String) -> [UInt8]?
    /// The book's report on the cited snapshot when it was already made (the verifier's previous
    /// after-report): used instead of valuing the book again.
    public var before: RiskReport?
    /// Called with the recomputation made, for a caller that needs its figures too (limits, display).
    public var recomputed: ((Recomputation) -> Void)?

    public init(book: Book, before: RiskReport? = nil, snapshot: @escaping (String) -> [UInt8]?,
                recomputed: ((Recomputation) -> Void)? = nil) {
        self.book = book
        self.before = before
        self.snapshot = snapshot
        self.recomputed = recomputed
    }

    public func assess(_ document: ProposalDocument, policy: Policy) -> ChangeAssessment {
        guard let hash = document.market?.snapshotHash else { return .failed("the proposal cites no market snapshot") }
        guard let bytes = snapshot(hash) else {
            return .failed("the cited snapshot \(hash.prefix(16))… is not in the ledger (queue it with the proposal: --snapshot FILE)")
        }
        do {
            let recomputation = try Recomputation(document, book: book, snapshotBytes: bytes, before: before)
            recomputed?(recomputation)
            return recomputation.assessment(of: document, policy: policy)
        }
        catch let error as LedgerError { return .failed((error.path.map { "\($0): " } ?? "") + error.reason) }
        catch { return .failed("\(error)") }
    }
}
