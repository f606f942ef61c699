import Foundation
import Testing
import ALVHSigning
import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHTestSupport
@testable import ALVHSigner

@Suite("Signer limits and review")
struct SignerReviewTests {
    @Test("limits YAML: every field, and errors that name the field")
    func limitsFile() throws {
        let limits = try SignerLimits.parse("""
            max-premium-per-change-dollars: 5000
            max-daily-premium-dollars: 12000
            max-abs-delta-vega: 20000
            stress-must-not-worsen: [covid-2020]
            min-stress-pnl-dollars: { oct-2008: -150000 }
            allowed-kinds: [add-layer, close-layer]
            allowed-hours-utc: "13:30-20:00"
            recompute-tolerance-dollars: 0.5
            """)
        #expect(limits.maxPremiumPerChangeDollars == 5000 && limits.maxDailyPremiumDollars == 12000 && limits.maxAbsDeltaVega == 20000)
        #expect(limits.stressMustNotWorsen == ["covid-2020"] && limits.minStressPnLDollars == ["oct-2008": -150000])
        #expect(limits.allowedKinds == [.addLayer, .closeLayer] && limits.allowedMinutesUTC == 810...1199)
        #expect(limits.recomputeToleranceDollars == 0.5)
        #expect(try SignerLimits.parse("") == .none)

        let bad: [(String, String)] = [
            ("max-premium: 5", "limits.yaml"),
            ("max-premium-per-change-dollars: -5", "limits.yaml: max-premium-per-change-dollars"),
            ("max-premium-per-change-dollars: lots", "limits.yaml: max-premium-per-change-dollars"),
            ("stress-must-not-worsen: [crash-of-1929]", "limits.yaml: stress-must-not-worsen"),
            ("allowed-kinds: [buy-everything]", "limits.yaml: allowed-kinds"),
            ("allowed-hours-utc: \"20:00-13:00\"", "limits.yaml: allowed-hours-utc"),
            ("min-stress-pnl-dollars: { oct-2008: x }", "limits.yaml: min-stress-pnl-dollars.oct-2008"),
            ("- a list", "limits.yaml"),
        ]
        for (text, path) in bad {
            #expect { try SignerLimits.parse(text) } throws: { ($0 as? SignerError)?.path == path && ($0 as? SignerError)?.code == .invalidLimits }
        }
    }

    @Test("review: signs an honest proposal; each limit refuses with its reason; wrong ledger and fast-forward are refused")
    func review() async throws {
        let fixture = try await SignerFixture()
        let id = try await fixture.queue()
        let ledger = try await fixture.ledger()
        let envelope = try await ledger.envelope(id: id)
        let verified = try await ProposalReview.VerifiedLedger.verify(ledger)
        let me = fixture.keys["s1"]!.publicKey
        func decide(_ limits: SignerLimits, _ env: Envelope? = nil, today: Double = 0, verified v: ProposalReview.VerifiedLedger? = nil) async -> ProposalReview.Verdict {
            await ProposalReview(verified: v ?? verified, me: me, limits: limits).decide(env ?? envelope, in: ledger, premiumToday: today, at: Date())
        }
        guard case .sign(let doc) = await decide(.none) else { Issue.record("an honest proposal is signed"); return }
        #expect(doc.costDollars > 0)

        func rejected(_ verdict: ProposalReview.Verdict, _ text: String) -> Bool {
            if case .reject(let reason) = verdict { return reason.contains(text) }
            return false
        }
        // The limits apply to the premium paid on the buys (the cost less commissions).
        let premium = (doc.change.layer?.legs ?? []).filter { $0.quantity > 0 }.reduce(0.0) { $0 + $1.limitPrice * Double($1.quantity) * 100 }
        #expect(premium > 0 && premium < doc.costDollars)
        #expect(rejected(await decide(SignerLimits(maxPremiumPerChangeDollars: premium - 1)), "per-change limit"))
        #expect(!rejected(await decide(SignerLimits(maxPremiumPerChangeDollars: premium + 1)), "per-change limit"))
        #expect(rejected(await decide(SignerLimits(maxDailyPremiumDollars: premium + 10), today: 20), "daily limit"))
        #expect(rejected(await decide(SignerLimits(maxAbsDeltaVega: 1)), "|Δ vega|"))
        #expect(rejected(await decide(SignerLimits(allowedKinds: [.closeLayer])), "does not approve add-layer"))
        #expect(rejected(await decide(SignerLimits(minStressPnLDollars: ["oct-2008": 1e9])), "below the floor"))
        if case .sign = await decide(SignerLimits(stressMustNotWorsen: ["covid-2020"])) {} else { Issue.record("buying calls improves the crash stress") }

        // The proposer's own key waits (its approval never counts).
        if case .wait = await ProposalReview(verified: verified, me: fixture.keys["trader"]!.publicKey, limits: .none)
            .decide(envelope, in: ledger, premiumToday: 0, at: Date()) {} else { Issue.record("the proposer does not approve itself") }

        // Bound to another ledger.
        var other = verified
        other.context.ledgerID = String(repeating: "a", count: 64)
        #expect(rejected(await decide(.none, verified: other), "another ledger"))
        // A sequence ahead of the head.
        var behind = verified
        behind.context.nextSequence = 0
        behind.context.head = String(repeating: "b", count: 64)
        #expect(rejected(await decide(.none, verified: behind), "fast-forward"))
        // Not signed by its proposer: another policy signer's signature alone does not make it a proposal.
        var unsignedByProposer = Envelope(payload: envelope.payload, payloadType: envelope.payloadType)
        try unsignedByProposer.addSignature(using: fixture.keys["s2"]!)
        #expect(rejected(await decide(.none, unsignedByProposer), "not signed by its proposer"))
        // A policy change is left to people unless the limits list it.
        let policyDoc = ProposalDocument(ledger: LedgerBinding(ledgerID: verified.context.ledgerID, base: verified.context.head, sequence: verified.context.nextSequence,
                                                               policyHash: verified.policy.hash),
                                         created: Date(), expires: Date().addingTimeInterval(600), proposer: fixture.keys["trader"]!.keyID,
                                         change: .init(kind: .policyChange, policy: .init(bytes: Array(verified.policy.bytes), version: 2)))
        var policyEnvelope = Envelope(payload: try policyDoc.encoded(), payloadType: PayloadTypes.proposal)
        try policyEnvelope.addSignature(using: fixture.keys["trader"]!)
        if case .wait(let reason) = await decide(.none, policyEnvelope) { #expect(reason.contains("left to a person")) } else { Issue.record("a bot signed a policy change") }
        if case .sign = await decide(SignerLimits(allowedKinds: [.policyChange]), policyEnvelope) {} else { Issue.record("an explicit allowance is honoured") }

        // Without the cited snapshot it cannot be recomputed, so it is not signed.
        #expect(rejected(ProposalReview(verified: verified, me: me, limits: .none).decide(envelope, snapshot: nil, premiumToday: 0, at: Date()),
                         "cannot be recomputed"))
    }

    @Test("a verified ledger advances over new entries to the verdict from genesis, and refuses a rewritten history")
    func advance() async throws {
        let fixture = try await SignerFixture()
        let ledger = try await fixture.ledger()
        let start = try await ProposalReview.VerifiedLedger.verify(ledger)
        #expect(start.checkpoint?.sequence == 0)
        for (index, add) in [true, false].enumerated() {
            let id = try await fixture.queue(change: try fixture.buyShortTerm(5 + index, add: add))
            var envelope = try await ledger.envelope(id: id)
            for name in ["s1", "s2", "s3"] { try envelope.addSignature(using: fixture.keys[name]!) }
            _ = try await ledger.enqueue(envelope, at: Date())
            try await ledger.commit(id: id, at: Date())
        }
        let advanced = try await ProposalReview.VerifiedLedger.verify(ledger)
        let full = try await ProposalReview.VerifiedLedger.verify(ledger)
        #expect(advanced.context == full.context)
        #expect(advanced.context.nextSequence == 3)
        #expect(advanced.book == full.book)
        #expect(advanced.policy.hash == full.policy.hash)
        #expect(advanced.checkpoint?.sequence == 2)

        // Entry 2, verified above, rewritten underneath: the next advance refuses instead of resuming.
        let entry = try await ledger.entry(2)
        let sql = "DROP TRIGGER entries_append_only_update; UPDATE entries SET committed_at = '\(entry.committedAt.replacingOccurrences(of: ":", with: ";"))' WHERE seq = 2;"
        let result = try TestProcess.run("/usr/bin/env", ["sqlite3", "\(fixture.root)/alvh.sqlite", sql])
        try #require(result.status == 0, "\(result.stderr)")
        await #expect {
            try await ProposalReview.VerifiedLedger.verify(ledger)
        } throws: { error in
            (error as? LedgerError)?.reason.contains("history was rewritten") == true
        }
    }

    @Test("double-sign record: one live payload per slot, released by expiry or a veto, locked to one process")
    func stateRecord() throws {
        var template = Array("/tmp/alvh-state-XXXXXX".utf8CString)
        let dir = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = try PrivateKey.generate()
        let path = "\(dir)/s.state.json"
        let now = Date()
        do {
            let state = try SignerState.open(path: path, keyID: key.keyID)
            #expect(throws: SignerError.self) { try SignerState.open(path: path, keyID: key.keyID) }
            let decision = SignerState.Decision(kind: .signed, reason: nil, at: RFC3339.format(now), ledgerID: "L", sequence: 4, costDollars: 700)
            try state.record(decision, proposal: "P1", expires: RFC3339.format(now.addingTimeInterval(60)), at: now)
            #expect(state.slotConflict(ledgerID: "L", sequence: 4, proposal: "P1", at: now) == nil)
            #expect(state.slotConflict(ledgerID: "L", sequence: 4, proposal: "P2", at: now)?.contains("double-sign protection") == true)
            #expect(state.slotConflict(ledgerID: "L", sequence: 5, proposal: "P2", at: now) == nil)
            #expect(state.slotConflict(ledgerID: "L", sequence: 4, proposal: "P2", at: now.addingTimeInterval(61)) == nil)
            #expect(state.slotConflict(ledgerID: "L", sequence: 4, proposal: "P2", at: now, isDead: { $0 == "P1" }) == nil)
            #expect(state.premiumSigned(on: now) == 700)
        }
        // Survives a restart; the file is 0600.
        do {
            let reopened = try SignerState.open(path: path, keyID: key.keyID)
            #expect(reopened.decision(for: "P1")?.kind == .signed)
            #expect(reopened.slotConflict(ledgerID: "L", sequence: 4, proposal: "P2", at: now) != nil)
            #expect(try SecureFile.permissions(path) == 0o600)
        }
        // Another key's record is refused.
        let other = try PrivateKey.generate()
        #expect { try SignerState.open(path: path, keyID: other.keyID) } throws: { ($0 as? SignerError)?.code == .invalidState }
    }

    @Test("the cited snapshot against the signer's own market: a fabricated market is refused; without one of its own a cautious signer waits")
    func ownMarket() async throws {
        let fixture = try await SignerFixture()
        let id = try await fixture.queue() // cites the calm market
        let ledger = try await fixture.ledger()
        let envelope = try await ledger.envelope(id: id)
        let verified = try await ProposalReview.VerifiedLedger.verify(ledger)
        let review = ProposalReview(verified: verified, me: fixture.keys["s1"]!.publicKey, limits: .none)
        // The signer's own feed says the market is the spike one: the calm snapshot the trader cites is not the market.
        let spike = try fixture.market("spike").snapshot
        guard case .reject(let reason) = await review.decide(envelope, in: ledger, ownMarket: spike, premiumToday: 0, at: Date()) else {
            Issue.record("signed on a market its own feed contradicts"); return
        }
        #expect(reason.contains("differs from this signer's own"))
        // Its own feed agrees: signed.
        if case .sign = await review.decide(envelope, in: ledger, ownMarket: try fixture.market("calm").snapshot, premiumToday: 0, at: Date()) {} else {
            Issue.record("an agreeing market is signed")
        }
        var cautious = SignerLimits()
        cautious.requireOwnMarket = true
        if case .wait(let why) = await ProposalReview(verified: verified, me: fixture.keys["s1"]!.publicKey, limits: cautious)
            .decide(envelope, in: ledger, premiumToday: 0, at: Date()) {
            #expect(why.contains("--market"))
        } else { Issue.record("a signer requiring its own market signed without one") }
        #expect(try SignerLimits.parse("require-own-market: true\nmarket-tolerance: { vix-points: 1.5 }\n").marketTolerance.vixPoints == 1.5)
    }

    @Test("the signer's own market also checks the VIX skew across strikes and the execution costs a snapshot charges")
    func ownMarketSkewAndCosts() async throws {
        let fixture = try await SignerFixture()
        let own = try fixture.market("calm").snapshot
        #expect(MarketComparison.gap(cited: own, own: own, tolerance: SignerLimits.MarketTolerance()) == nil)
        // A flat skew leaves every at-the-money vol alone but makes out-of-the-money calls cheap.
        var flat = own
        flat.vix.skew = VIXSkew(callSlope: 0, putSlope: 0)
        let skewGap = try #require(MarketComparison.gap(cited: flat, own: own, tolerance: SignerLimits.MarketTolerance()))
        #expect(skewGap.contains("VIX option vol") && !skewGap.contains("at 15:"))
        // No commission understates every cost.
        var free = own
        free.execution = Execution(commissionPerContract: 0, halfSpreadPoints: 0.025, halfSpreadFraction: 0.03)
        #expect(MarketComparison.gap(cited: free, own: own, tolerance: SignerLimits.MarketTolerance())?.contains("execution costs") == true)
    }
    @Test("the limit-price tolerance is measured on the signer's own mid, not the cited snapshot's")
    func limitPriceOnOwnMid() async throws {
        let fixture = try await SignerFixture()
        let id = try await fixture.queue() // cites the calm market, limit prices at its mids
        let ledger = try await fixture.ledger()
        let envelope = try await ledger.envelope(id: id)
        let verified = try await ProposalReview.VerifiedLedger.verify(ledger)
        // A signer whose vol tolerance is loose (100 points) still refuses a limit price far from its
        // own mid: its feed has every VIX vol 40 points higher, so the calls are worth more.
        var loose = SignerLimits()
        loose.marketTolerance.volPoints = 100
        var rich = try fixture.market("calm").snapshot
        rich.vix.optionVols = rich.vix.optionVols.map { .init(expiry: $0.expiry, vol: ($0.vol ?? 0) + 0.4, points: $0.points) }
        let review = ProposalReview(verified: verified, me: fixture.keys["s1"]!.publicKey, limits: loose)
        guard case .reject(let reason) = await review.decide(envelope, in: ledger, ownMarket: rich, premiumToday: 0, at: Date()) else {
            Issue.record("signed a limit price far from its own mid"); return
        }
        #expect(reason.contains("from this signer's own model mid"), "\(reason)")
        if case .sign = await review.decide(envelope, in: ledger, ownMarket: try fixture.market("calm").snapshot, premiumToday: 0, at: Date()) {} else {
            Issue.record("a limit at its own mid is signed")
        }
    }

    /// Issue 25, point 1: every input the figures depend on is compared with the signer's own feed.
    @Test("the signer's own market: a tenor or smile it lacks is a refusal; the whole smile, the rate, the dividend yield and the events are compared")
    func ownMarketEveryInput() async throws {
        let fixture = try await SignerFixture()
        let own = try fixture.market("calm").snapshot
        let tolerance = SignerLimits.MarketTolerance()
        func gap(_ cited: MarketSnapshot) -> String? { MarketComparison.gap(cited: cited, own: own, tolerance: tolerance) }
        #expect(gap(own) == nil)

        // A June future and vol the signer has no quote for (the 173-lot backstop at $5,882).
        var june = own
        june.vix.futures.append(.init(expiry: "2027-06-16", price: 12.0))
        #expect(gap(june)?.contains("VIX future 2027-06-16 is not in this signer's own market data") == true, "\(gap(june) ?? "nil")")
        var juneVol = own
        juneVol.vix.optionVols.append(.init(expiry: "2027-06-16", vol: 0.3))
        #expect(gap(juneVol)?.contains("VIX option vols for 2027-06-16 are not in this signer's own market data") == true, "\(gap(juneVol) ?? "nil")")
        var spxTenor = own
        spxTenor.spx.smiles.append(.init(expiry: "2027-06-18", vol: 0.1))
        #expect(gap(spxTenor)?.contains("SPX smile 2027-06-18 is not in this signer's own market data") == true, "\(gap(spxTenor) ?? "nil")")

        // spx.rate 0.95, and a dividend yield off by a percentage point.
        var rate = own
        rate.spx.rate = 0.95
        #expect(gap(rate)?.contains("SPX rate 0.95") == true, "\(gap(rate) ?? "nil")")
        var dividend = own
        dividend.spx.dividendYield += 0.01
        #expect(gap(dividend)?.contains("SPX dividend yield") == true, "\(gap(dividend) ?? "nil")")
        var nearRate = own
        nearRate.spx.rate += 0.0005 // 5 bp: within the default 10
        #expect(gap(nearRate) == nil)

        // A VIX smile equal to the signer's at 0.8, 1, 1.25, 1.5 and 2 × the future, dipping between.
        let expiry = "2027-01-20"
        let knots: [Double] = [13, 16, 20, 24, 33]
        var points = knots.map { MarketSnapshot.SmilePoint(strike: $0, vol: own.vixOptionVol(expiry: expiry, strike: $0)) }
        points.insert(.init(strike: 28, vol: own.vixOptionVol(expiry: expiry, strike: 28) - 0.25), at: 4)
        var dip = own
        dip.vix.optionVols = own.vix.optionVols.map { $0.expiry == expiry ? .init(expiry: expiry, points: points) : $0 }
        for strike in knots { #expect(abs(dip.vixOptionVol(expiry: expiry, strike: strike) - own.vixOptionVol(expiry: expiry, strike: strike)) < 1e-12) }
        #expect(gap(dip)?.contains("VIX option vol \(expiry)") == true, "\(gap(dip) ?? "nil")")

        // An SPX smile equal at the money and at the signer's knots, with a knot of its own far below.
        var spxDip = own
        spxDip.spx.smiles[0].points?.insert(.init(strike: 5100, vol: 0.10), at: 1)
        #expect(abs(spxDip.spx.smiles[0].vol(at: own.spx.spot) - own.spx.smiles[0].vol(at: own.spx.spot)) < 1e-12)
        #expect(gap(spxDip)?.contains("SPX vol 2026-12-18 at 5100") == true, "\(gap(spxDip) ?? "nil")")

        // An "Emergency FOMC" only the cited snapshot lists.
        var emergency = own
        emergency.events.append(.init(date: "2026-12-01", kind: "FOMC", name: "Emergency FOMC"))
        #expect(gap(emergency)?.contains("Emergency FOMC") == true, "\(gap(emergency) ?? "nil")")
        // An event of the signer's calendar left out of the cited snapshot: refused too.
        var omitted = own
        let dropped = try #require(omitted.events.first)
        omitted.events.removeFirst()
        #expect(gap(omitted)?.contains("\(dropped.kind) on \(dropped.date)") == true && gap(omitted)?.contains("missing from the cited snapshot") == true,
                "\(gap(omitted) ?? "nil")")
        // The December FOMC statement moved a day later: same date and kind, another release time.
        var moved = own
        moved.events[0].time = "2026-12-10T19:00:00Z"
        #expect(gap(moved)?.contains("event FOMC on 2026-12-09 (December FOMC decision) at 2026-12-10T19:00:00Z") == true, "\(gap(moved) ?? "nil")")

        // A snapshot dated 30 days after the signer's closest one.
        var future = own
        future.asOf = "2026-12-18T21:00:00Z"
        #expect(gap(future)?.contains("asOf 2026-12-18T21:00:00Z") == true, "\(gap(future) ?? "nil")")

        // The tolerance is the signer's to set.
        #expect(try SignerLimits.parse("market-tolerance: { rate-percent-points: 0.25 }\n").marketTolerance.ratePercentPoints == 0.25)
        #expect(try SignerLimits.parse("market-tolerance: { as-of-minutes: 5 }\n").marketTolerance.asOfMinutes == 5)
    }
}

