import Foundation
import ALVHEngine

/// CNDR's strike rule: on the roll date, the options of the next monthly expiry whose delta is
/// closest to −0.05, −0.20 (puts) and 0.20, 0.05 (calls), on the listed strike grid.
enum CondorRule {
    /// SPX strikes are listed every 5 index points (wider further out; 5 is the finest).
    static let strikeStep = 5.0
    static let putDeltas = (wing: -0.05, short: -0.20)
    static let callDeltas = (short: 0.20, wing: 0.05)

    /// The BSM delta of one SPX option on `market`.
    static func delta(_ right: OptionRight, strike: Double, expiry: String, market: MarketSnapshot) -> Double {
        Pricer.valueUnchecked(spec(right, strike: strike, expiry: expiry, market: market)).delta
    }

    static func spec(_ right: OptionRight, strike: Double, expiry: String, market: MarketSnapshot) -> OptionSpec {
        OptionSpec(model: .bsm, right: right, underlying: market.spx.spot, strike: strike, years: max(market.spxYears(to: expiry), 1e-6),
                   rate: market.spx.rate, dividend: market.spx.dividendYield, vol: market.spxVol(expiry: expiry, strike: strike))
    }

    /// The model mid of one SPX option, index points.
    static func mid(_ right: OptionRight, strike: Double, expiry: String, market: MarketSnapshot) -> Double {
        Pricer.price(spec(right, strike: strike, expiry: expiry, market: market))
    }

    /// The grid strike whose delta is closest to `target` (delta falls as the strike rises, for
    /// puts and calls alike); ties go to the lower strike.
    static func strike(_ right: OptionRight, delta target: Double, expiry: String, market: MarketSnapshot) -> Double {
        let spot = market.spx.spot
        var low = max(1, ((spot * 0.2) / strikeStep).rounded(.down)), high = ((spot * 3) / strikeStep).rounded(.up)
        // Binary search for the first grid strike whose delta is ≤ target.
        while low < high {
            let mid = ((low + high) / 2).rounded(.down)
            if delta(right, strike: mid * strikeStep, expiry: expiry, market: market) <= target { high = mid } else { low = mid + 1 }
        }
        let above = low * strikeStep, below = max(strikeStep, above - strikeStep)
        let dAbove = abs(delta(right, strike: above, expiry: expiry, market: market) - target)
        let dBelow = abs(delta(right, strike: below, expiry: expiry, market: market) - target)
        return dBelow <= dAbove ? below : above
    }

    /// The four strikes; wings at least one step outside the short strikes.
    static func strikes(expiry: String, market: MarketSnapshot) -> (longPut: Double, shortPut: Double, shortCall: Double, longCall: Double) {
        let shortPut = strike(.put, delta: putDeltas.short, expiry: expiry, market: market)
        let longPut = min(shortPut - strikeStep, strike(.put, delta: putDeltas.wing, expiry: expiry, market: market))
        let shortCall = max(shortPut + strikeStep, strike(.call, delta: callDeltas.short, expiry: expiry, market: market))
        let longCall = max(shortCall + strikeStep, strike(.call, delta: callDeltas.wing, expiry: expiry, market: market))
        return (longPut, shortPut, shortCall, longCall)
    }
}

/// VXTH's call rule: on each VIX expiry, the next month's call whose delta is closest to 0.30, bought
/// for a share of the portfolio set by that future: 0 at or below 15, 1 % above 15 up to 30, 0.5 %
/// above 30 up to 50, 0 above 50.
public enum VXTHRule {
    public static let targetDelta = 0.30
    /// VIX strikes are listed every point (half points below 15 in later years; 1 is used throughout).
    public static let strikeStep = 1.0

    /// The share of the portfolio put in calls for a future at `future` VIX points.
    public static func weight(future: Double) -> Double {
        switch future {
        case ...15: return 0
        case ...30: return 0.01
        case ...50: return 0.005
        default: return 0
        }
    }

    /// The strike on the grid whose Black-76 delta is closest to 0.30.
    static func strike(expiry: String, market: MarketSnapshot) throws -> Double {
        let future = try market.vixFuture(expiry: expiry)
        let t = max(market.years(to: expiry), 1e-6)
        func delta(_ k: Double) -> Double {
            Pricer.valueUnchecked(OptionSpec(model: .black76, right: .call, underlying: future, strike: k, years: t, rate: market.spx.rate,
                                             vol: market.vixOptionVol(expiry: expiry, strike: k))).delta
        }
        var best = max(strikeStep, (future / strikeStep).rounded() * strikeStep), bestGap = abs(delta(best) - targetDelta)
        var k = best
        // Walk up the grid while the delta comes closer to 0.30 (a 30-delta call is out of the money).
        while true {
            let next = k + strikeStep
            let gap = abs(delta(next) - targetDelta)
            guard gap < bestGap else { break }
            best = next; bestGap = gap; k = next
        }
        return best
    }
}
