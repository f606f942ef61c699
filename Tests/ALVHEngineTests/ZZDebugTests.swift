import Foundation
import Testing
@testable import ALVHEngine

@Suite struct ZZDebug {
    @Test func dump() throws {
        let env = ProcessInfo.processInfo.environment
        guard let bookPath = env["DBG_BOOK"], let market = env["DBG_MARKET"] else { return }
        let props = try Engine.propose(book: try Book.load(path: bookPath), market: try MarketSnapshot.load(path: market))
        for p in props {
            print("RULE", p.rule, p.summary, "cost", p.costDollars)
            for t in p.change.trades { print("   ", t.quantity, t.expiry, t.strike, t.price) }
            for s in p.rationale { print("   signal", s.name, s.value, s.threshold ?? 0, s.note ?? "") }
            print("   stress after", p.riskAfter.stressPnL.sorted { $0.key < $1.key }.map { "\($0.key)=\(Int($0.value))" }.joined(separator: " "))
            print("   hedge by stress", p.riskAfter.stressByLayer.sorted { $0.key < $1.key }.map { "\($0.key)=\(Int($0.value.filter { $0.key != "condor" }.values.reduce(0, +)))" }.joined(separator: " "))
        }
    }
}
extension ZZDebug {
    @Test func headroom() throws {
        let env = ProcessInfo.processInfo.environment
        guard let bookPath = env["DBG_BOOK"], let market = env["DBG_MARKET"] else { return }
        let book = try Book.load(path: bookPath)
        let rules = try RuleSet(book: book, market: try MarketSnapshot.load(path: market), strategy: .standard, spxHistory: nil)
        for (s, room) in try rules.stressHeadroom(on: book) { print("ROOM", s.name, Int(room), "vixAfter", s.vixAfter(spot: rules.market.vix.spot, model: .standard)) }
    }
}
