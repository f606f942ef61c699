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

        public init(spot: Double, dividendYield: Double, rate: Double, smiles: [Smile]) {
            self.spot = spot
            self.dividendYield = dividendYield
            self.rate = rate
            self.smiles = smiles
        }
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
        /// Black-76 implied vols (vol of vol) of VIX options per expiry: `points` per strike (VIX
        /// points, like SPX), or an at-the-money `vol` that ``VIXSkew`` turns into a smile.
        public var optionVols: [Smile]
        /// The skew applied to an expiry given only its at-the-money vol (nil: ``VIXSkew/standard``).
        public var skew: VIXSkew?

        public init(spot: Double, futures: [Future], optionVols: [Smile], skew: VIXSkew? = nil) {
            self.spot = spot
            self.futures = futures
            self.optionVols = optionVols
            self.skew = skew
        }
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
        /// YYYY-MM-DD, New York.
        public var date: String
        /// "FOMC" or "CPI".
        public var kind: String
        public var name: String?
        /// The release instant, RFC 3339 (nil: the kind's standard time — FOMC 14:00, CPI 08:30 New York).
        public var time: String?

        public init(date: String, kind: String, name: String? = nil, time: String? = nil) {
            self.date = date
            self.kind = kind
            self.name = name
            self.time = time
        }

        /// When the number comes out.
        public var releaseInstant: Date? {
            if let time { return EngineDate.parseInstant(time) }
            return CalendarDay(date).flatMap { EventCalendar.releaseInstant(kind: kind, date: $0) }
        }
    }

    /// What a fill costs beyond the premium (nil: ``Execution/standard``). In the snapshot because a
    /// signer recomputes a proposal's cost from the snapshot it cites.
    public var execution: Execution?

    /// The execution costs in force: the snapshot's, else the standard ones.
    public var costs: Execution { execution ?? .standard }

    /// RFC 3339 UTC.
    public var asOf: String
    public var spx: SPX
    public var vix: VIX
    public var events: [Event]

    public init(execution: Execution? = nil, asOf: String, spx: SPX, vix: VIX, events: [Event] = []) {
        self.execution = execution
        self.asOf = asOf
        self.spx = spx
        self.vix = vix
        self.events = events
    }

    /// The highest VIX level (spot or future) a snapshot may quote, VIX points: ten times the record
    /// close, far beyond any market, and small enough that every price derived from it stays finite.
    public static let maxVIXLevel = 1_000.0

    /// The largest snapshot file alvh reads (4 MiB).
    public static let maxBytes = 4 << 20

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
        guard spx.spot.isFinite, spx.spot > 0, spx.spot <= Trade.maxStrike else { throw fail("spx.spot", "must be a positive index level, at most \(Int(Trade.maxStrike))") }
        guard spx.rate.isFinite, abs(spx.rate) < 1 else { throw fail("spx.rate", "must be a rate like 0.042") }
        guard spx.dividendYield.isFinite, abs(spx.dividendYield) < 1 else { throw fail("spx.dividendYield", "must be a yield like 0.013") }
        guard vix.spot.isFinite, vix.spot > 0, vix.spot <= Self.maxVIXLevel else { throw fail("vix.spot", "must be a positive VIX level, at most \(Int(Self.maxVIXLevel))") }
        try validateSmiles(spx.smiles, field: "spx.smiles", asOf: asOfDate, path: path, vix: false)
        guard !spx.smiles.isEmpty else { throw fail("spx.smiles", "at least one expiry is needed") }
        guard !vix.futures.isEmpty else { throw fail("vix.futures", "the VIX futures curve needs at least one future") }
        var previous: Date?
        for (i, future) in vix.futures.enumerated() {
            guard let date = EngineDate.parse(future.expiry), let day = CalendarDay(future.expiry) else { throw fail("vix.futures[\(i)].expiry", "must be a date YYYY-MM-DD") }
            if let wrong = ExchangeCalendar.classify(vixExpiry: day) { throw fail("vix.futures[\(i)].expiry", wrong) }
            guard ExchangeCalendar.settlementInstant(.vixFuture, expiry: day) > asOfDate else { throw fail("vix.futures[\(i)].expiry", "settled before asOf (VIX futures settle at the opening of their expiry day)") }
            if let previous, date <= previous { throw fail("vix.futures[\(i)].expiry", "futures must be sorted by expiry, without duplicates") }
            guard future.price.isFinite, future.price > 0, future.price <= Self.maxVIXLevel else {
                throw fail("vix.futures[\(i)].price", "must be a positive price, at most \(Int(Self.maxVIXLevel)) VIX points")
            }
            previous = date
        }
        try validateSmiles(vix.optionVols, field: "vix.optionVols", asOf: asOfDate, path: path, vix: true)
        guard !vix.optionVols.isEmpty else { throw fail("vix.optionVols", "at least one expiry is needed: the hedge layers' VIX options are priced from these vols") }
        if let skew = vix.skew { try skew.validate(path: "\(path): vix.skew") }
        if let execution { try execution.validate(path: "\(path): execution") }
        for (i, smile) in vix.optionVols.enumerated() where (try? vixFuture(expiry: smile.expiry)) == nil {
            throw fail("vix.optionVols[\(i)].expiry", "no VIX future on or around \(smile.expiry) to price its options on; add it to vix.futures")
        }
        for (i, event) in events.enumerated() {
            guard let day = CalendarDay(event.date) else { throw fail("events[\(i)].date", "must be a date YYYY-MM-DD") }
            guard ["FOMC", "CPI"].contains(event.kind) else { throw fail("events[\(i)].kind", "must be FOMC or CPI") }
            if let time = event.time {
                guard let instant = EngineDate.parseInstant(time) else { throw fail("events[\(i)].time", "must be an RFC 3339 time, e.g. 2026-12-09T19:00:00Z (14:00 New York)") }
                guard NewYorkTime.day(of: instant) == day else {
                    throw fail("events[\(i)].time", "\(time) falls on \(NewYorkTime.day(of: instant)) in New York, not on the event's date \(event.date)")
                }
            }
        }
    }

    private func validateSmiles(_ smiles: [Smile], field: String, asOf: Date, path: String, vix: Bool) throws {
        var seen = Set<String>()
        for (i, smile) in smiles.enumerated() {
            let f = "\(field)[\(i)]"
            guard let day = CalendarDay(smile.expiry) else { throw EngineError(.invalidSnapshot, "must be a date YYYY-MM-DD", path: "\(path): \(f).expiry") }
            if let wrong = vix ? ExchangeCalendar.classify(vixExpiry: day) : ExchangeCalendar.classify(spxExpiry: day) {
                throw EngineError(.invalidSnapshot, wrong, path: "\(path): \(f).expiry")
            }
            let product = vix ? ExchangeCalendar.Product.vixOption : Self.spxProduct(day)
            guard ExchangeCalendar.settlementInstant(product, expiry: day) > asOf else {
                throw EngineError(.invalidSnapshot, "settled before asOf (\(vix ? "VIX options settle at the opening of their expiry day" : product == .spxMonthly ? "SPX monthlies are AM-settled at the opening" : "SPX weeklies settle at the 4 p.m. close"))", path: "\(path): \(f).expiry")
            }
            guard seen.insert(smile.expiry).inserted else { throw EngineError(.invalidSnapshot, "expiry listed twice", path: "\(path): \(f).expiry") }
            switch (smile.vol, smile.points) {
            case (let vol?, nil):
                guard vol.isFinite, vol > 0, vol < 10 else { throw EngineError(.invalidSnapshot, "must be a vol in (0, 10)", path: "\(path): \(f).vol") }
            case (nil, let points?):
                guard !points.isEmpty else { throw EngineError(.invalidSnapshot, "needs at least one point", path: "\(path): \(f).points") }
                for (j, point) in points.enumerated() {
                    guard point.strike.isFinite, point.strike > 0, point.strike <= Trade.maxStrike else {
                        throw EngineError(.invalidSnapshot, "must be a positive strike, at most \(Int(Trade.maxStrike))", path: "\(path): \(f).points[\(j)].strike")
                    }
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

    /// Which SPX product settles on `day`: the month's AM-settled monthly on its expiry (the third
    /// Friday, or the trading day before it when that is a holiday), else a PM-settled weekly.
    public static func spxProduct(_ day: CalendarDay) -> ExchangeCalendar.Product {
        ExchangeCalendar.spxMonthlyExpiry(year: day.year, month: day.month) == day ? .spxMonthly : .spxWeekly
    }

    /// The settlement instant of `product` expiring on `expiry` (nil: not a date).
    public static func settlement(_ product: ExchangeCalendar.Product, expiry: String) -> Date? {
        CalendarDay(expiry).map { ExchangeCalendar.settlementInstant(product, expiry: $0) }
    }

    /// Years (ACT/365) from asOf to the settlement of a VIX option or future expiring on `expiry`:
    /// the Special Opening Quotation on the morning of the expiry day; 0 if past.
    public func years(to expiry: String) -> Double {
        years(to: expiry, product: .vixOption)
    }

    /// Years (ACT/365) from asOf to the settlement instant of `product` expiring on `expiry`; 0 if past.
    public func years(to expiry: String, product: ExchangeCalendar.Product) -> Double {
        guard let settles = Self.settlement(product, expiry: expiry), let asOfDate else { return 0 }
        return max(0, settles.timeIntervalSince(asOfDate) / (365 * 86400))
    }

    /// Years (ACT/365) from asOf to the settlement of the SPX option expiring on `expiry` (AM for the
    /// monthly, PM for a weekly); 0 if past.
    public func spxYears(to expiry: String) -> Double {
        guard let day = CalendarDay(expiry) else { return 0 }
        return years(to: expiry, product: Self.spxProduct(day))
    }

    /// asOf's calendar day in New York.
    public var asOfDay: CalendarDay? { asOfDate.map(NewYorkTime.day(of:)) }

    /// Calendar days from asOf's New York date to `date`.
    public func days(to date: String) -> Int {
        guard let target = CalendarDay(date), let today = asOfDay else { return 0 }
        return target.daysSinceEpoch - today.daysSinceEpoch
    }

    /// The SPX implied vol for `expiry` at `strike`: the smile of that expiry, else linear in
    /// total variance between neighbouring expiries (flat beyond the ends).
    public func spxVol(expiry: String, strike: Double) -> Double {
        Self.interpolateVol(spx.smiles, expiry: expiry, strike: strike, years: spxYears(to:))
    }

    /// The VIX option vol (vol of vol) for `expiry` at `strike`: the expiry's `points` when the
    /// snapshot gives a smile for it (sticky strike); otherwise the at-the-money vol (the listed `vol`,
    /// or interpolated in total variance) shaped by the skew (``VIXSkew``) around the future.
    public func vixOptionVol(expiry: String, strike: Double) -> Double {
        if let exact = vix.optionVols.first(where: { $0.expiry == expiry }), exact.points != nil { return exact.vol(at: strike) }
        guard let future = try? vixFuture(expiry: expiry) else { return vixATMVol(expiry: expiry) }
        return vixVol(atm: vixATMVol(expiry: expiry, future: future), strike: strike, future: future)
    }

    /// The at-the-money VIX option vol of `expiry` (at its future).
    public func vixATMVol(expiry: String, future: Double? = nil) -> Double {
        let f = future ?? (try? vixFuture(expiry: expiry)) ?? vix.spot
        return Self.interpolateVol(vix.optionVols, expiry: expiry, strike: f, years: years(to:))
    }

    /// The skewed vol at `strike` for an at-the-money vol `atm` on a future `future`.
    public func vixVol(atm: Double, strike: Double, future: Double) -> Double {
        (vix.skew ?? .standard).vol(atm: atm, strike: strike, future: future)
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

    /// Every known release: the shipped calendar (``EventCalendar``) and the snapshot's own events
    /// (which override a shipped one of the same kind and date), by release instant.
    public var releases: [ScheduledRelease] {
        guard !events.isEmpty else { return Self.shippedReleases }
        var byKey = Self.shippedReleasesByKey
        for event in events {
            guard let instant = event.releaseInstant else { continue }
            let key = "\(event.kind) \(event.date)"
            byKey[key] = ScheduledRelease(kind: event.kind, date: event.date, instant: instant, name: event.name ?? byKey[key]?.name ?? "\(event.kind) \(event.date)",
                                          projections: byKey[key]?.projections ?? false, source: .snapshot)
        }
        return byKey.values.sorted { ($0.instant, $0.kind) < ($1.instant, $1.kind) }
    }

    /// The shipped calendar as releases, keyed by "KIND YYYY-MM-DD" and sorted (built once: every rule run reads it).
    static let shippedReleasesByKey: [String: ScheduledRelease] = {
        var byKey: [String: ScheduledRelease] = [:]
        for release in EventCalendar.shipped {
            byKey["\(release.kind) \(release.date.text)"] = ScheduledRelease(kind: release.kind, date: release.date.text, instant: release.instant,
                                                                            name: release.name, projections: release.projections, source: .shipped)
        }
        return byKey
    }()
    static let shippedReleases = shippedReleasesByKey.values.sorted { ($0.instant, $0.kind) < ($1.instant, $1.kind) }

    /// The releases of `kinds` still to come: released after asOf.
    public func upcomingReleases(kinds: Set<String> = ["FOMC", "CPI"]) -> [ScheduledRelease] {
        guard let asOfDate else { return [] }
        return releases.filter { kinds.contains($0.kind) && $0.instant > asOfDate }
    }

    /// The next FOMC or CPI release after asOf.
    public func nextRelease(kinds: Set<String> = ["FOMC", "CPI"]) -> ScheduledRelease? {
        upcomingReleases(kinds: kinds).first
    }
}
