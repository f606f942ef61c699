import ALVHApproval
import ALVHLedger
import Foundation

/// The human summary a signer reads before signing.
enum ProposalSummary {
    static func lines(_ doc: ProposalDocument, envelope: Envelope) -> [String] {
        var out: [String] = []
        out.append("Proposal \(envelope.id)")
        out.append("  change:    \(doc.kind.rawValue)\(doc.change.layer.map { " of layer '\($0.layer)'" } ?? "")")
        if let layer = doc.change.layer {
            for leg in layer.legs {
                out.append("    leg: \(leg.quantity > 0 ? "BUY " : "SELL") \(leg.quantity.magnitude) × \(leg.instrument) \(leg.right) \(leg.expiry) strike \(fmt(leg.strike)) @ limit \(fmt(leg.limitPrice))")
            }
        }
        if let policy = doc.change.policy {
            out.append("    new policy version \(policy.version), hash \(policy.policyHash)")
        }
        out.append("  cost:      $\(fmt(doc.costDollars)) (negative = credit)")
        if let before = doc.riskBefore, let after = doc.riskAfter {
            out.append("  vega:      \(fmt(before.total.vega)) → \(fmt(after.total.vega)) $/VIX pt")
            out.append("  delta:     \(fmt(before.total.delta)) → \(fmt(after.total.delta))")
            out.append("  theta:     \(fmt(before.total.theta)) → \(fmt(after.total.theta)) $/day")
            for (name, pnl) in after.stressPnL.sorted(by: { $0.key < $1.key }) {
                out.append("  stress \(name): \(fmt(before.stressPnL[name] ?? .nan)) → \(fmt(pnl)) $")
            }
        }
        if !doc.rationale.isEmpty {
            out.append("  signals:   " + doc.rationale.map { "\($0.name)=\(fmt($0.value))" }.joined(separator: ", "))
        }
        if let market = doc.market {
            out.append("  market:    as of \(market.asOf), SPX \(fmt(market.spx)), VIX \(fmt(market.vix)) (snapshot \(market.snapshotHash.prefix(16))…)")
        }
        out.append("  ledger:    \(doc.ledger.ledgerID.prefix(16))… entry \(doc.ledger.sequence) on base \(doc.ledger.base.prefix(16))…")
        out.append("  valid:     \(doc.notBefore) … \(doc.expires)")
        out.append("  proposer:  \(doc.proposer)")
        return out
    }

    /// What the ledger recomputed (the figures a signer decides on; the claims above must equal them).
    static func recomputedLines(_ recomputed: Recomputation, report: ApprovalReport?) -> [String] {
        var out = ["Recomputed from the signed legs, the verified book and the cited snapshot:"]
        let market = recomputed.market
        out.append("  market:    as of \(market.asOf), SPX \(fmt(market.spx.spot)), VIX \(fmt(market.vix.spot))"
                   + (market.vix.futures.first.map { ", front future \(fmt($0.price))" } ?? ""))
        out.append("  cost:      $\(fmt(recomputed.costDollars)) net, $\(fmt(recomputed.grossPremiumDollars)) gross, $\(fmt(recomputed.premiumPaidDollars)) paid")
        for (index, mid) in recomputed.modelMids.enumerated() where index < recomputed.legs.count {
            out.append("    leg \(index): limit \(fmt(recomputed.legs[index].price)) vs model mid \(fmt(mid))")
        }
        out.append("  vega:      \(fmt(recomputed.before.total.vega)) → \(fmt(recomputed.after.total.vega)) $/VIX pt")
        out.append("  delta:     \(fmt(recomputed.before.total.delta)) → \(fmt(recomputed.after.total.delta))")
        for (name, pnl) in recomputed.after.stressPnL.sorted(by: { $0.key < $1.key }) {
            out.append("  stress \(name): \(fmt(recomputed.before.stressPnL[name] ?? .nan)) → \(fmt(pnl)) $")
        }
        if let report {
            out.append("  rules:     \(report.rules.isEmpty ? "none matches" : report.rules.joined(separator: ", ")) — \(report.tally)")
        }
        return out
    }

    static func fmt(_ value: Double) -> String {
        value.isNaN ? "n/a" : String(format: "%.2f", value)
    }
}
