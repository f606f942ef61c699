import ALVHApproval
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
            out.append("  vega:      \(fmt(before.total.vega)) → \(fmt(after.total.vega)) $/vol pt")
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

    static func fmt(_ value: Double) -> String {
        value.isNaN ? "n/a" : String(format: "%.2f", value)
    }
}
