import Foundation
import ALVHEngine

/// The market snapshot a desk would have had at the 16:00 New York close of a day, synthesised from
/// that day's closes and the proxies (``ProxyModel``) — the engine, the marks and the fills all
/// price from it. Uses nothing after the day.
public struct MarketSynthesizer: Sendable {
    public let history: MarketHistory
    public let estimates: ProxyEstimates
    public let proxy: ProxyModel
    public let scenario: ScenarioModel
    public let rates: RateHistory
    public let releases: ReleaseHistory

    /// VIX expiries are listed this many calendar days ahead (the backstop buys up to 190).
    static let vixHorizonDays = 230
    /// SPX smiles: standard deviations of log-moneyness at which the smile is given.
    static let smileGrid: [Double] = [-8, -6, -5, -4, -3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5]

    public init(history: MarketHistory, proxy: ProxyModel = .standard, scenario: ScenarioModel = .standard,
                rates: RateHistory = .shipped, releases: ReleaseHistory = .shipped) {
        self.history = history
        self.estimates = ProxyEstimates(history: history)
        self.proxy = proxy
        self.scenario = scenario
        self.rates = rates
        self.releases = releases
    }

    /// The 16:00 New York close of `day`.
    public static func closeInstant(_ day: CalendarDay) -> Date { NewYorkTime.instant(day, hour: 16, minute: 0) }

    /// The risk-free rate on day `index` (continuously compounded).
    public func rate(at index: Int) -> Double { rates.rate(on: history.days[index].day) }

    /// The snapshot at the close of day `index`.
    public func snapshot(at index: Int) -> MarketSnapshot {
        let d = history.days[index]
        let asOf = Self.closeInstant(d.day)
        let rate = rate(at: index)
        let spot = d.spxClose
        let atm = proxy.spxATMVol(vix: d.vixClose)
        var smiles: [MarketSnapshot.Smile] = []
        for k in 0..<3 {
            let (y, m) = Self.month(d.day, plus: k)
            let expiry = ExchangeCalendar.spxMonthlyExpiry(year: y, month: m)
            let settles = ExchangeCalendar.settlementInstant(.spxMonthly, expiry: expiry)
            guard settles > asOf else { continue }
            let t = settles.timeIntervalSince(asOf) / (365 * 86400)
            let forward = spot * exp((rate - proxy.dividendYield) * t)
            let width = atm * t.squareRoot()
            var points: [MarketSnapshot.SmilePoint] = []
            points.reserveCapacity(Self.smileGrid.count)
            for z in Self.smileGrid {
                let strike = forward * exp(z * width)
                guard strike <= Trade.maxStrike, points.last.map({ strike > $0.strike }) ?? true else { continue }
                points.append(MarketSnapshot.SmilePoint(strike: strike, vol: proxy.spxVol(atm: atm, strike: strike, forward: forward, years: t)))
            }
            smiles.append(MarketSnapshot.Smile(expiry: expiry.text, points: points))
        }
        var futures: [MarketSnapshot.Future] = [], vols: [MarketSnapshot.Smile] = []
        for expiry in ExchangeCalendar.vixExpiries(from: d.day, through: d.day.adding(days: Self.vixHorizonDays)) {
            let settles = ExchangeCalendar.settlementInstant(.vixOption, expiry: expiry)
            guard settles > asOf else { continue }
            let days = settles.timeIntervalSince(asOf) / 86400
            let price = proxy.vixFuture(vix: d.vixClose, mean: estimates.vixMean[index], days: days, scenario: scenario)
            futures.append(MarketSnapshot.Future(expiry: expiry.text, price: (price * 100).rounded() / 100))
            vols.append(MarketSnapshot.Smile(expiry: expiry.text, vol: proxy.vixOptionVol(realised: estimates.vixRealisedVol[index], days: days, scenario: scenario)))
        }
        let events = releases.upcoming(after: asOf, within: 60).map { MarketSnapshot.Event(date: $0.date.text, kind: $0.kind, name: $0.name) }
        return MarketSnapshot(execution: nil, asOf: EngineDate.formatInstant(asOf),
                              spx: MarketSnapshot.SPX(spot: spot, dividendYield: proxy.dividendYield, rate: rate, smiles: smiles),
                              vix: MarketSnapshot.VIX(spot: d.vixClose, futures: futures, optionVols: vols, skew: nil),
                              events: events)
    }

    /// (year, month) `plus` months after `day`'s month.
    static func month(_ day: CalendarDay, plus: Int) -> (Int, Int) {
        let zero = day.year * 12 + (day.month - 1) + plus
        return (zero / 12, zero % 12 + 1)
    }
}
