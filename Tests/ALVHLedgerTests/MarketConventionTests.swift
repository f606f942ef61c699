import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHTestSupport
@testable import ALVHEngine
@testable import ALVHLedger

/// The exchange's conventions, enforced by every party that recomputes a proposal: a limit price is
/// on the VIX tick grid (0.01 below $3.00, 0.05 from $3.00), and a leg trades an option that is still
/// trading as of the cited snapshot (a VIX option's last trade is the 16:15 New York close of the
/// business day before its Wednesday-morning settlement).
@Suite("Market conventions")
struct MarketConventionTests {

    // MARK: - Helpers

    /// A layer proposal whose figures are recomputed honestly on `market` — risk before and after,
    /// cost at the legs' limit prices — without the engine's own tradability check (so a test can
    /// build the proposal a hostile proposer would sign), bound to the ledger's head.
    static func proposal(_ f: LedgerFixture, trades: [Trade], market: MarketSnapshot, snapshotBytes: [UInt8],
                         created: Date) async throws -> ProposalDocument {
        let ledger = try await f.ledger()
        let context = try await ledger.context()
        let book = try await ledger.book()
        let change = LayerChange(kind: .addLayer, layer: "short-term", layerKind: .shortTerm, trades: trades)
        let after = try book.applying(change)
        let before = try BookValuer(book: book, market: market).report(book: book, scenarios: Engine.reportScenarios)
        let afterReport = try BookValuer(book: after, market: market).report(book: after, scenarios: Engine.reportScenarios)
        let proposal = EngineProposal(rule: "manual", change: change, rationale: [SignalReading(name: "manual", value: 0, note: "test")],
                                      riskBefore: before, riskAfter: afterReport, costDollars: Engine.cost(of: change, market: market),
                                      summary: "test")
        let binding = LedgerBinding(ledgerID: context.ledgerID, base: context.head, sequence: context.nextSequence,
                                    policyHash: try await ledger.policyInForce().hash)
        var doc = ProposalBuilder.document(for: proposal, binding: binding, proposer: f.key("tom").keyID, market: market,
                                           snapshotBytes: snapshotBytes, created: created, lifetime: 3600)
        doc.notBefore = RFC3339.format(created)
        return doc
    }

    /// A strike of the December 2026 calls whose limit price on the calm snapshot is at or above
    /// $3.00 (where the VIX tick is 0.05), and that grid price.
    static func strikeAboveThreeDollars(_ f: LedgerFixture) throws -> (strike: Double, onGrid: Double) {
        for strike in stride(from: 20.0, through: 5, by: -1) {
            let price = try Engine.vixLimitPrice(market: f.market, expiry: "2026-12-16", strike: strike, buying: true)
            if price >= 3 && price < 20 { return (strike, price) }
        }
        throw LedgerError(.invalidInput, "no December strike prices at $3.00 or more on the calm snapshot")
    }

    /// The fixture's calm snapshot with its `asOf` moved to `asOf`, stored where enqueue finds it.
    static func snapshot(_ f: LedgerFixture, asOf: String) throws -> (market: MarketSnapshot, bytes: [UInt8]) {
        let text = String(decoding: f.snapshotBytes, as: UTF8.self)
        let original = "\"asOf\": \"\(f.market.asOf)\""
        try #require(text.contains(original), "the calm snapshot's asOf is not written as \(original)")
        let bytes = Array(text.replacingOccurrences(of: original, with: "\"asOf\": \"\(asOf)\"").utf8)
        try SnapshotStore.store(bytes, workspace: f.root)
        return (try MarketSnapshot.decode(Data(bytes)), bytes)
    }

    // MARK: - The tick grid

    @Test("a limit price off the VIX tick grid (a 0.05 step from $3.00) is refused at enqueue, naming limit-price-off-tick")
    func offTickRefusedAtEnqueue() async throws {
        let f = try await LedgerFixture()
        let (strike, onGrid) = try Self.strikeAboveThreeDollars(f)
        let offTick = (onGrid * 100 + 2).rounded() / 100 // e.g. 3.25 → 3.27: within the model tolerance, off the 0.05 grid
        #expect(TickSchedule.isOnGrid(.vix, price: onGrid))
        #expect(!TickSchedule.isOnGrid(.vix, price: offTick))
        let doc = try await Self.proposal(f, trades: [Trade(expiry: "2026-12-16", strike: strike, quantity: 10, price: offTick)],
                                    market: f.market, snapshotBytes: f.snapshotBytes, created: f.start)
        // What every deciding party's assessment says: the one problem, by its code.
        let assessment = LedgerAssessor(book: try await f.ledger().book(), snapshot: { _ in f.snapshotBytes })
            .assess(doc, policy: try await f.ledger().policyInForce())
        #expect(assessment.problems.map(\.code) == ["limit-price-off-tick"], "\(assessment.problems)")
        try await refused(f, "change.layer.legs[0].limitPrice \(offTick) is not on the exchange's tick grid") {
            try await f.ledger().enqueue(try f.envelope(doc, signedBy: ["tom", "alice", "carol"]), at: f.start)
        }
        #expect(try await f.ledger().pending().isEmpty)
        // The same leg at the grid price goes through.
        let honest = try await Self.proposal(f, trades: [Trade(expiry: "2026-12-16", strike: strike, quantity: 10, price: onGrid)],
                                       market: f.market, snapshotBytes: f.snapshotBytes, created: f.start)
        #expect(try await f.commitLayer(honest).sequence == 1)
    }

    @Test("a limit price off the tick grid below $3.00 (a 0.01 step) is refused too: half a cent off")
    func offTickBelowThreeDollars() async throws {
        let f = try await LedgerFixture()
        let onGrid = try Engine.vixLimitPrice(market: f.market, expiry: "2026-12-16", strike: 20, buying: true)
        try #require(onGrid < 3)
        let offTick = onGrid + 0.005
        let doc = try await Self.proposal(f, trades: [Trade(expiry: "2026-12-16", strike: 20, quantity: 10, price: offTick)],
                                    market: f.market, snapshotBytes: f.snapshotBytes, created: f.start)
        try await refused(f, "is not on the exchange's tick grid (0.01-point steps at that price)") {
            try await f.ledger().enqueue(try f.envelope(doc, signedBy: ["tom", "alice", "carol"]), at: f.start)
        }
    }

    @Test("an entry committing an off-tick limit price, forced into the ledger with the committer's key, does not verify")
    func offTickForcedEntryFailsVerify() async throws {
        let f = try await LedgerFixture()
        let (strike, onGrid) = try Self.strikeAboveThreeDollars(f)
        let offTick = (onGrid * 100 + 2).rounded() / 100
        let doc = try await Self.proposal(f, trades: [Trade(expiry: "2026-12-16", strike: strike, quantity: 10, price: offTick)],
                                    market: f.market, snapshotBytes: f.snapshotBytes, created: f.start)
        try await f.forceFirstEntry(try f.envelope(doc, signedBy: ["tom", "alice", "carol"]), blobs: [f.snapshotBytes])
        let report = try await f.verify()
        #expect(!report.ok)
        #expect(report.firstBad?.sequence == 1)
        #expect(report.firstBad?.problem.contains("is not on the exchange's tick grid") == true, "\(report.firstBad?.problem ?? "")")
        let cli = try Tools.run(Tools.alvh, ["ledger", "verify", "--workspace", f.root])
        #expect(cli.status != 0)
        #expect((cli.stdout + cli.stderr).contains("tick grid"), "\(cli.stdout)\(cli.stderr)")
    }

    // MARK: - Options that stopped trading

    @Test("December 2026 VIX options (last trade 2026-12-15 16:15 New York = 21:15Z) cited on a snapshot as of 21:20Z are refused")
    func stoppedTradingRefused() async throws {
        let f = try await LedgerFixture()
        let (market, bytes) = try Self.snapshot(f, asOf: "2026-12-15T21:20:00Z")
        let price = try Engine.vixLimitPrice(market: market, expiry: "2026-12-16", strike: 20, buying: true)
        let created = RFC3339.parse("2026-12-15T21:25:00Z")!
        let doc = try await Self.proposal(f, trades: [Trade(expiry: "2026-12-16", strike: 20, quantity: 10, price: price)],
                                    market: market, snapshotBytes: bytes, created: created)
        // The engine itself refuses to evaluate the change …
        let lateBook = try await f.ledger().book()
        #expect { try Engine.manual(book: lateBook, change: try BookChange.layerChange(doc), market: market, note: "late") } throws: {
            ($0 as? EngineError)?.path == "change.legs[0].expiry"
        }
        // … and the ledger will not queue it: the recomputation fails, naming the leg.
        try await refused(f, "change.legs[0].expiry") {
            try await f.ledger().enqueue(try f.envelope(doc, signedBy: ["tom", "alice", "carol"]), at: created)
        }
        try await refused(f, "stopped trading at 2026-12-15T21:15:00Z") {
            try await f.ledger().enqueue(try f.envelope(doc, signedBy: ["tom", "alice", "carol"]), at: created)
        }
        let assessment = LedgerAssessor(book: try await f.ledger().book(), snapshot: { _ in bytes }).assess(doc, policy: try await f.ledger().policyInForce())
        #expect(assessment.problems.map(\.code) == ["not-recomputed"], "\(assessment.problems)")
        #expect(try await f.ledger().pending().isEmpty)
    }

    @Test("the same December 2026 options cited on a snapshot as of 2026-12-15T20:00Z (still trading) are accepted and commit")
    func stillTradingAccepted() async throws {
        let f = try await LedgerFixture()
        let (market, bytes) = try Self.snapshot(f, asOf: "2026-12-15T20:00:00Z")
        let price = try Engine.vixLimitPrice(market: market, expiry: "2026-12-16", strike: 20, buying: true)
        let created = RFC3339.parse("2026-12-15T20:05:00Z")!
        let doc = try await Self.proposal(f, trades: [Trade(expiry: "2026-12-16", strike: 20, quantity: 10, price: price)],
                                    market: market, snapshotBytes: bytes, created: created)
        let entry = try await f.commitLayer(doc, at: created)
        #expect(entry.sequence == 1)
        #expect(try await f.verify().ok)
    }
}
