import Foundation

/// A market snapshot: everything the engine prices from. JSON, documented in `docs/engine.md`.
///
/// ```json
/// { "asOf": "2026-11-25T21:00:00Z",
///   "spx": { "spot": 6020.5, "dividendYield": 0.013, "rate": 0.042,
///            "smiles": [ { "expiry": "2027-01-15", "points": [ { "strike": 5400, "vol": 0.24 }, { "strike": 6000, "vol": 0.16 } ] } ] },
///   "vix": { "spot": 13.8,
///            "futures": [ { "expiry": "2026-12-16", "price": 15.1 } ],
///            "optionVols": [ { "expiry": "2026-12-16", "vol": 0.95 } ] },
///   "events": [ { "date": "2026-12-09", "kind": "FOMC", "name": "December FOMC" } ] }
/// ```
public struct MarketSnapshot: Sendable, Codable, Equatable {
    public struct SPX: Sendable, Codable, Equatable {
        public var spot: Double
        /// Continuous dividend yield.
        public var dividendYield: Double
        /// Continuously compounded risk-free rate (also used for VIX options).
        public var rate: Double
        public var smiles: [Smile]
    }

    /// Implied vols for one expiry: a flat `vol`, or `points` interpolated linearly in strike (flat outside).
    public struct Smile: Sendable, Codable, Equatable {
        public var expiry: String
        public var vol: Double?
        public var points: [SmilePoint]?

        public init(expiry: String, vol: Double? = nil, points: [SmilePoint]? = nil) {
            self.expiry = expiry
            self.vol = vol
            self.points = points
        }

        /// The vol at `strike`.
        public func vol(at strike: Double) -> Double {
            guard let points, !points.isEmpty else { return vol ?? 0 }
            if strike <= points[0].strike { return points[0].vol }
            if strike >= points[points.count - 1].strike { return points[points.count - 1].vol }
            var i = 1
            while points[i].strike < strike { i += 1 }
            let a = points[i - 1], b = points[i]
            return a.vol + (b.vol - a.vol) * (strike - a.strike) / (b.strike - a.strike)
        }
    }

    public struct SmilePoint: Sendable, Codable, Equatable {
        public var strike: Double
        public var vol: Double
        public init(strike: Double, vol: Double) {
            self.strike = strike
            self.vol = vol
        }
    }

    public struct VIX: Sendable, Codable, Equatable {
        public var spot: Double
        public var futures: [Future]
        /// Black-76 implied vols (vol of vol) of VIX options per expiry.
        public var optionVols: [Smile]
    }

    public struct Future: Sendable, Codable, Equatable {
        public var expiry: String
        /// VIX points.
        public var price: Double
        public init(expiry: String, price: Double) {
            self.expiry = expiry
            self.price = price
        }
    }

    public struct Event: Sendable, Codable, Equatable {
        /// YYYY-MM-DD.
        public var date: String
        /// "FOMC" or "CPI".
        public var kind: String
        public var name: String?
    }

    /// RFC 3339 UTC.
    public var asOf: String
    public var spx: SPX
    public var vix: VIX
    public var events: [Event]

    /// The largest snapshot file alvh reads (4 MiB).
    public static let maxBytes = 4 << 20

    /// Options expire at 20:00 UTC on their expiry date (the 4 pm New York close, roughly).
    static let expiryHourUTC = 20.0

    // MARK: - Loading

    /// Loads and validates a snapshot file.
    public static func load(path: String) throws -> MarketSnapshot {
        try decode(EngineFiles.read(path, limit: maxBytes), path: path)
    }

    /// Decodes and validates snapshot JSON; errors name `path: field`.
    public static func decode(_ data: Data, path: String = "snapshot") throws -> MarketSnapshot {
        guard data.count <= maxBytes else {
            throw EngineError(.invalidSnapshot, "snapshot is \(data.count) bytes, over the \(maxBytes)-byte limit", path: path)
        }
        let snapshot: MarketSnapshot
        do {
            snapshot = try JSONDecoder().decode(MarketSnapshot.self, from: data)
        } catch let error as DecodingError {
            throw EngineError(.invalidSnapshot, EngineFiles.describe(error), path: "\(path): \(EngineFiles.codingPath(error))")
        } catch {
            throw EngineError(.invalidSnapshot, "not valid JSON: \(error)", path: path)
        }
        try snapshot.validate(path: path)
        return snapshot
    }

    /// Field checks: positive prices and vols, real dates, expiries after asOf, sorted and unique.
    public func validate(path: String = "snapshot") throws {
        func fail(_ field: String, _ reason: String) -> EngineError { EngineError(.invalidSnapshot, reason, path: "\(path): \(field)") }
        guard let asOfDate else { throw fail("asOf", "must be an RFC 3339 time, e.g. 2026-11-25T21:00:00Z") }
        guard spx.spot.isFinite, spx.spot > 0 else { throw fail("spx.spot", "must be a positive index level") }
        guard spx.rate.isFinite, abs(spx.rate) < 1 else { throw fail("spx.rate", "must be a rate like 0.042") }
        guard spx.dividendYield.isFinite, abs(spx.dividendYield) < 1 else { throw fail("spx.dividendYield", "must be a yield like 0.013") }
        guard vix.spot.isFinite, vix.spot > 0 else { throw fail("vix.spot", "must be a positive VIX level") }
        try validateSmiles(spx.smiles, field: "spx.smiles", asOf: asOfDate, path: path)
        guard !spx.smiles.isEmpty else { throw fail("spx.smiles", "at least one expiry is needed") }
        guard !vix.futures.isEmpty else { throw fail("vix.futures", "the VIX futures curve needs at least one future") }
        var previous: Date?
        for (i, future) in vix.futures.enumerated() {
            guard let date = EngineDate.parse(future.expiry) else { throw fail("vix.futures[\(i)].expiry", "must be a date YYYY-MM-DD") }
            guard date.addingTimeInterval(Self.expiryHourUTC * 3600) > asOfDate else { throw fail("vix.futures[\(i)].expiry", "expired before asOf") }
            if let previous, date <= previous { throw fail("vix.futures[\(i)].expiry", "futures must be sorted by expiry, without duplicates") }
            guard future.price.isFinite, future.price > 0 else { throw fail("vix.futures[\(i)].price", "must be a positive price") }
            previous = date
        }
        try validateSmiles(vix.optionVols, field: "vix.optionVols", asOf: asOfDate, path: path)
        for (i, smile) in vix.optionVols.enumerated() where (try? vixFuture(expiry: smile.expiry)) == nil {
            throw fail("vix.optionVols[\(i)].expiry", "no VIX future on or around \(smile.expiry) to price its options on; add it to vix.futures")
        }
        for (i, event) in events.enumerated() {
            guard EngineDate.parse(event.date) != nil else { throw fail("events[\(i)].date", "must be a date YYYY-MM-DD") }
            guard ["FOMC", "CPI"].contains(event.kind) else { throw fail("events[\(i)].kind", "must be FOMC or CPI") }
        }
    }

    private func validateSmiles(_ smiles: [Smile], field: String, asOf: Date, path: String) throws {
        var seen = Set<String>()
        for (i, smile) in smiles.enumerated() {
            let f = "\(field)[\(i)]"
            guard let date = EngineDate.parse(smile.expiry) else { throw EngineError(.invalidSnapshot, "must be a date YYYY-MM-DD", path: "\(path): \(f).expiry") }
            guard date.addingTimeInterval(Self.expiryHourUTC * 3600) > asOf else { throw EngineError(.invalidSnapshot, "expired before asOf", path: "\(path): \(f).expiry") }
            guard seen.insert(smile.expiry).inserted else { throw EngineError(.invalidSnapshot, "expiry listed twice", path: "\(path): \(f).expiry") }
            switch (smile.vol, smile.points) {
            case (let vol?, nil):
                guard vol.isFinite, vol > 0, vol < 10 else { throw EngineError(.invalidSnapshot, "must be a vol in (0, 10)", path: "\(path): \(f).vol") }
            case (nil, let points?):
                guard !points.isEmpty else { throw EngineError(.invalidSnapshot, "needs at least one point", path: "\(path): \(f).points") }
                for (j, point) in points.enumerated() {
                    guard point.strike.isFinite, point.strike > 0 else { throw EngineError(.invalidSnapshot, "must be a positive strike", path: "\(path): \(f).points[\(j)].strike") }
                    guard point.vol.isFinite, point.vol > 0, point.vol < 10 else { throw EngineError(.invalidSnapshot, "must be a vol in (0, 10)", path: "\(path): \(f).points[\(j)].vol") }
                    if j > 0, point.strike <= points[j - 1].strike { throw EngineError(.invalidSnapshot, "strikes must increase", path: "\(path): \(f).points[\(j)].strike") }
                }
            default:
                throw EngineError(.invalidSnapshot, "give either 'vol' (flat) or 'points' (a smile)", path: "\(path): \(f)")
            }
        }
    }

    // MARK: - Lookups

    public var asOfDate: Date? { EngineDate.parseInstant(asOf) }

    /// Years from asOf to the 20:00 UTC close of `expiry` (ACT/365); 0 if past.
    public func years(to expiry: String) -> Double {
        guard let date = EngineDate.parse(expiry), let asOfDate else { return 0 }
        return max(0, date.addingTimeInterval(Self.expiryHourUTC * 3600).timeIntervalSince(asOfDate) / (365 * 86400))
    }

    /// Calendar days from asOf's date to `date`.
    public func days(to date: String) -> Int {
        guard let target = EngineDate.parse(date), let asOfDate, let today = EngineDate.parse(EngineDate.format(asOfDate)) else { return 0 }
        return Int((target.timeIntervalSince(today) / 86400).rounded())
    }

    /// The SPX implied vol for `expiry` at `strike`: the smile of that expiry, else linear in
    /// total variance between neighbouring expiries (flat beyond the ends).
    public func spxVol(expiry: String, strike: Double) -> Double {
        Self.interpolateVol(spx.smiles, expiry: expiry, strike: strike, years: years(to:))
    }

    /// The VIX option vol (vol of vol) for `expiry` at `strike`, interpolated the same way.
    public func vixOptionVol(expiry: String, strike: Double) -> Double {
        Self.interpolateVol(vix.optionVols, expiry: expiry, strike: strike, years: years(to:))
    }

    static func interpolateVol(_ smiles: [Smile], expiry: String, strike: Double, years: (String) -> Double) -> Double {
        if let exact = smiles.first(where: { $0.expiry == expiry }) { return exact.vol(at: strike) }
        let t = years(expiry)
        let sorted = smiles.sorted { years($0.expiry) < years($1.expiry) }
        guard let first = sorted.first, let last = sorted.last else { return 0 }
        if t <= years(first.expiry) { return first.vol(at: strike) }
        if t >= years(last.expiry) { return last.vol(at: strike) }
        let upper = sorted.firstIndex { years($0.expiry) >= t }!
        let a = sorted[upper - 1], b = sorted[upper]
        let ta = years(a.expiry), tb = years(b.expiry)
        let va = a.vol(at: strike), vb = b.vol(at: strike)
        let variance = (va * va * ta + (vb * vb * tb - va * va * ta) * (t - ta) / (tb - ta))
        return (variance / t).squareRoot()
    }

    /// The VIX future for `expiry`: the listed one, else linear in time between neighbours.
    /// Throws when `expiry` lies outside the curve.
    public func vixFuture(expiry: String) throws -> Double {
        if let exact = vix.futures.first(where: { $0.expiry == expiry }) { return exact.price }
        let t = years(to: expiry)
        let curve = vix.futures.map { (years(to: $0.expiry), $0.price) }
        guard let first = curve.first, let last = curve.last, t >= 0 else {
            throw EngineError(.invalidSnapshot, "no VIX futures curve", path: "vix.futures")
        }
        if t <= first.0 {
            // Before the front future: between spot (t = 0) and the front.
            return vix.spot + (first.1 - vix.spot) * (first.0 > 0 ? t / first.0 : 1)
        }
        guard t <= last.0 else {
            throw EngineError(.invalidSnapshot, "expiry \(expiry) is beyond the last VIX future (\(vix.futures.last!.expiry))", path: "vix.futures")
        }
        let upper = curve.firstIndex { $0.0 >= t }!
        let a = curve[upper - 1], b = curve[upper]
        return a.1 + (b.1 - a.1) * (t - a.0) / (b.0 - a.0)
    }

    /// The next FOMC or CPI event on or after asOf's date.
    public func nextEvent(kinds: Set<String> = ["FOMC", "CPI"]) -> Event? {
        events.filter { kinds.contains($0.kind) && days(to: $0.date) >= 0 }.min { $0.date < $1.date }
    }
}
