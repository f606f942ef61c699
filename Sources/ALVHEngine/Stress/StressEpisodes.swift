import Foundation

/// One historical episode stored as its CHANGES, applied from a snapshot's own levels.
///
/// `HistoricalStress` (ScenarioModel.swift) stores absolute VIX levels, so the same name means a different
/// shock from every starting market. An episode here keeps both ends of the window so a caller can apply
/// `spxMovePercent` and `vixLogChange` (capped by `StressCalibration.maxLogRise`) from wherever the book is.
///
/// Each window runs from the last calm close before the shock to the close at the episode's VIX peak.
/// Every non-hypothetical number is a close in `shared/data/spx-daily.csv` / `vix-daily.csv` (see
/// `StressEpisodeTests` and docs/stresses.md for why each window was chosen).
public struct StressEpisode: Sendable, Codable, Equatable {
    /// e.g. "covid-2020".
    public var name: String
    /// YYYY-MM-DD, the last close before the shock.
    public var from: String
    /// YYYY-MM-DD, the close at the episode's VIX peak (or the day, for one-day shocks).
    public var to: String
    /// S&P 500 closes.
    public var spxFrom: Double, spxTo: Double
    /// VIX closes (VXO for the hypothetical 1987 episode).
    public var vixFrom: Double, vixTo: Double
    /// True only for a stylised episode not in the shared files.
    public var hypothetical: Bool
    /// Where the numbers come from.
    public var source: String

    public init(name: String, from: String, to: String, spxFrom: Double, spxTo: Double, vixFrom: Double, vixTo: Double,
                hypothetical: Bool = false, source: String) {
        self.name = name
        self.from = from
        self.to = to
        self.spxFrom = spxFrom
        self.spxTo = spxTo
        self.vixFrom = vixFrom
        self.vixTo = vixTo
        self.hypothetical = hypothetical
        self.source = source
    }

    /// (spxTo/spxFrom − 1)·100.
    public var spxMovePercent: Double { (spxTo / spxFrom - 1) * 100 }
    /// ln(vixTo/vixFrom).
    public var vixLogChange: Double { log(vixTo / vixFrom) }
    /// Calendar days from → to.
    public var days: Double {
        guard let start = EngineDate.parse(from), let end = EngineDate.parse(to) else { return 0 }
        return (end.timeIntervalSince(start) / 86400).rounded()
    }

    static let sharedFiles = "CBOE VIX and S&P 500 closes, shared/data/vix-daily.csv and spx-daily.csv"

    /// The named episodes, oldest first. Windows: last calm close before the shock → the VIX peak close.
    public static let all: [StressEpisode] = [
        // Hypothetical: the VIX file starts in 1990. Cboe's VXO (old-formula VIX on S&P 100 options) closes as
        // published by Cboe; S&P 500 closes 282.70 → 224.84 (−57.86 points, −20.47 %).
        StressEpisode(name: "oct-1987-style", from: "1987-10-16", to: "1987-10-19", spxFrom: 282.70, spxTo: 224.84,
                      vixFrom: 36.37, vixTo: 150.19, hypothetical: true,
                      source: "Cboe VXO daily closes 16-Oct-1987 36.37, 19-Oct-1987 150.19 (Cboe, \"25 Years Ago the VXO Index Topped 150\", "
                          + "cboeoptionshub.com 2012-10-22); S&P 500 282.70 → 224.84 (CNNfn, \"The blackest of Mondays\", 1997-10-13). "
                          + "VXO, not VIX: a stylised one-day crash, not in the shared files"),
        // Friday 2008-09-12 is the last close before Lehman's bankruptcy filing (weekend of 13–14 Sep);
        // 2008-10-27 is the October VIX peak close (the 2008-11-20 close of 80.86 is a later second leg).
        StressEpisode(name: "oct-2008", from: "2008-09-12", to: "2008-10-27", spxFrom: 1251.70, spxTo: 848.92,
                      vixFrom: 25.66, vixTo: 80.06, source: sharedFiles),
        // 2011-07-22: last close before the debt-ceiling talks collapsed (that weekend); S&P's downgrade came
        // after the close of 2011-08-05; 2011-08-08 is the 2011 VIX peak close.
        StressEpisode(name: "us-downgrade-2011", from: "2011-07-22", to: "2011-08-08", spxFrom: 1345.02, spxTo: 1119.46,
                      vixFrom: 17.52, vixTo: 48.00, source: sharedFiles),
        // 2018-02-01: last calm close (VIX 13.47); 2018-02-02 was already the first shock day (SPX −2.1 %, VIX +28.5 %);
        // 2018-02-05 is the peak close (short-vol ETP blow-up).
        StressEpisode(name: "volmageddon-2018", from: "2018-02-01", to: "2018-02-05", spxFrom: 2821.98, spxTo: 2648.94,
                      vixFrom: 13.47, vixTo: 37.32, source: sharedFiles),
        // 2020-02-19: the S&P 500 record close, the last close before the run-up (VIX 14.38 → 40.11 by 2020-02-28);
        // 2020-03-16 is the record VIX close in the file.
        StressEpisode(name: "covid-2020", from: "2020-02-19", to: "2020-03-16", spxFrom: 3386.15, spxTo: 2386.13,
                      vixFrom: 14.38, vixTo: 82.69, source: sharedFiles),
        // 2024-07-31: the BoJ hike / FOMC day close, the last calm close before the 1–5 August unwind
        // (weak ISM 08-01, payrolls 08-02, Nikkei −12 % 08-05); 2024-08-05 is the peak close.
        StressEpisode(name: "yen-carry-2024", from: "2024-07-31", to: "2024-08-05", spxFrom: 5522.30, spxTo: 5186.33,
                      vixFrom: 16.36, vixTo: 38.57, source: sharedFiles),
        // 2025-04-02: tariffs announced after this close; 2025-04-08 is the VIX peak close (the pause came 04-09).
        StressEpisode(name: "tariff-2025", from: "2025-04-02", to: "2025-04-08", spxFrom: 5670.97, spxTo: 4982.77,
                      vixFrom: 21.51, vixTo: 52.33, source: sharedFiles),
    ]

    public static func named(_ name: String) -> StressEpisode? { all.first { $0.name == name } }
}

/// Calibration of regime-relative stresses, computed from the shared CBOE VIX and S&P 500 daily files
/// (VIX 1990-01-02 … 2026-07-23, 9 235 closes). Every stored number is recomputed by `StressEpisodeTests`;
/// docs/stresses.md explains each definition.
public enum StressCalibration {
    /// One point of a table against a horizon in calendar days.
    public struct Point: Sendable, Codable, Equatable {
        public var days: Double
        public var value: Double
        public init(_ days: Double, _ value: Double) {
            self.days = days
            self.value = value
        }
    }

    /// A value and the close it was seen on.
    public struct DatedValue: Sendable, Codable, Equatable {
        public var value: Double
        public var date: String
    }

    /// The highest VIX close in the file.
    public static let maxVIXClose = DatedValue(value: 82.69, date: "2020-03-16")
    /// The lowest VIX close in the shared file: a falling VIX in a stress stops there.
    public static let minVIXClose = DatedValue(value: 9.14, date: "2017-11-03")

    /// The horizons (calendar days) of `maxLogRise` and `maxPointsRise`.
    public static let riseHorizons: [Double] = [1, 2, 3, 5, 7, 10, 15, 21, 30, 45, 60, 90]

    /// The largest ln(VIX[b]/VIX[a]) over any two closes a < b at most `days` calendar days apart.
    /// (1 day: consecutive weekdays only; windows: 1 2024-12-17→18, 2 2025-04-02→04, 3 2018-02-02→05,
    /// 5 2018-02-01→05, 7 2015-08-17→24, 10 2018-01-26→02-05, 15 2018-01-22→02-05, 21 2020-02-20→03-12,
    /// 30 2020-02-19→03-16, 45 2020-02-14→03-16, 60 and 90 2020-01-17→03-16.)
    public static let maxLogRise: [Point] = [
        Point(1, 0.5541), Point(2, 0.7450), Point(3, 0.7682), Point(5, 1.0191), Point(7, 1.1407), Point(10, 1.2144),
        Point(15, 1.2189), Point(21, 1.5790), Point(30, 1.7493), Point(45, 1.7992), Point(60, 1.9219), Point(90, 1.9219),
    ]

    /// The largest VIX[b] − VIX[a] (points) over any two closes a < b at most `days` calendar days apart.
    /// (1 2020-03-11→12, 2–3 2020-03-10→12, 5 2020-03-11→16, 7 2020-03-05→12, 10 2020-03-04→12, 15 2020-03-04→16,
    /// 21 2020-02-20→03-12, 30 2020-02-19→03-16, 45 2020-02-14→03-16, 60 and 90 2020-01-17→03-16.)
    public static let maxPointsRise: [Point] = [
        Point(1, 21.57), Point(2, 28.17), Point(3, 28.17), Point(5, 28.79), Point(7, 35.85), Point(10, 43.48),
        Point(15, 50.70), Point(21, 59.91), Point(30, 68.31), Point(45, 69.01), Point(60, 70.59), Point(90, 70.59),
    ]

    /// VIX closes above this are the crash state.
    public static let crashThreshold = 45.0
    /// Trading closes per calendar year used to turn a calendar horizon into closes.
    public static let closesPerYear = 252.0
    /// The horizons (calendar days) of the persistence tables.
    public static let persistenceHorizons: [Double] = [0, 7, 14, 30, 60, 90, 120, 180, 270]

    /// The number of closes ahead that stands for `calendarDays`: round(days · 252 / 365).
    public static func closesAhead(calendarDays: Double) -> Int { Int((calendarDays * closesPerYear / 365).rounded()) }

    /// Persistence of a VIX shock in the crash state (VIX close > 45): the OLS slope (with intercept) of
    /// VIX[t+n] on VIX[t] over the 115 closes t with VIX[t] > 45, n = `closesAhead(calendarDays:)`.
    /// It is d E[VIX(t+h)] / d VIX(t) inside the state: how much of an extra point of spot VIX is still there
    /// h days later, i.e. how much a future h days out moves per point of spot. 30 d 0.340, 60 d 0.210.
    /// Not monotone (2008 and 2020 dominate; 115 overlapping closes); `persistence(days:vixAfterShock:)`
    /// uses its non-increasing envelope.
    public static let crashPersistence: [Point] = [
        Point(0, 1.0), Point(7, 0.6980), Point(14, 0.5920), Point(30, 0.3398), Point(60, 0.2102),
        Point(90, 0.4230), Point(120, 0.3895), Point(180, 0.2113), Point(270, 0.0891),
    ]

    /// The same slope over the closes with VIX ≤ 45 (≈ 9 100 closes). Close to exp(−T/120) out to 60 days,
    /// flatter beyond.
    public static let normalPersistence: [Point] = [
        Point(0, 1.0), Point(7, 0.9202), Point(14, 0.8791), Point(30, 0.7850), Point(60, 0.6637),
        Point(90, 0.5679), Point(120, 0.5112), Point(180, 0.4495), Point(270, 0.4183),
    ]

    /// The persistence table for a VIX level after the shock: crash table above `crashThreshold`.
    public static func persistenceTable(vixAfterShock: Double) -> [Point] {
        vixAfterShock > crashThreshold ? crashPersistence : normalPersistence
    }

    /// Persistence at `days`, linearly interpolated on the table's non-increasing envelope (running minimum),
    /// flat beyond the last horizon. A future `days` out moves by ΔVIX × this.
    public static func persistence(days: Double, vixAfterShock: Double) -> Double {
        interpolate(vixAfterShock > crashThreshold ? crashEnvelope : normalEnvelope, at: days)
    }

    /// A table's non-increasing envelope (its running minimum), built once per table.
    static func envelope(_ table: [Point]) -> [Point] {
        var envelope: [Point] = []
        for point in table { envelope.append(Point(point.days, min(point.value, envelope.last?.value ?? point.value))) }
        return envelope
    }

    static let crashEnvelope = envelope(crashPersistence)
    static let normalEnvelope = envelope(normalPersistence)

    /// The cap on a VIX log rise over `days` calendar days: `maxLogRise` interpolated (flat beyond 1 and 90 days).
    public static func maxLogRise(days: Double) -> Double { interpolate(maxLogRise, at: days) }

    /// The cap on a VIX points rise over `days` calendar days: `maxPointsRise` interpolated.
    public static func maxPointsRise(days: Double) -> Double { interpolate(maxPointsRise, at: days) }

    static func interpolate(_ table: [Point], at days: Double) -> Double {
        guard let first = table.first, let last = table.last else { return 0 }
        if days <= first.days { return first.value }
        if days >= last.days { return last.value }
        for (a, b) in zip(table, table.dropFirst()) where days <= b.days {
            return a.value + (b.value - a.value) * (days - a.days) / (b.days - a.days)
        }
        return last.value
    }

    /// The response of ln VIX to an S&P 500 move over the same window, for scenario ladders.
    ///
    /// Fit on the dates present in both files (9 202), overlapping windows of `horizonTradingDays` closes:
    /// ln(VIX[t+h]/VIX[t]) = intercept + slopeDown·min(r, 0) + slopeUp·max(r, 0), r = SPX return in percent
    /// (a hinge fit; R² is that fit's). `downOnlySlope`/`downOnlyR2`: plain OLS on the windows with r < 0.
    public struct SPXResponse: Sendable, Codable, Equatable {
        public var horizonTradingDays: Int
        public var intercept: Double
        /// ln-VIX change per 1 % SPX move, for SPX down moves (negative: VIX rises).
        public var slopeDown: Double
        /// ln-VIX change per 1 % SPX move, for SPX up moves.
        public var slopeUp: Double
        public var r2: Double
        public var downOnlySlope: Double
        public var downOnlyR2: Double
    }

    /// h = 1, 5, 21 trading days. SPX −10 % over 1 day → ln VIX +0.51 (×1.66); over 21 days +0.38 (×1.46).
    public static let vixLogResponsePerSPXPercent: [SPXResponse] = [
        SPXResponse(horizonTradingDays: 1, intercept: -0.00438, slopeDown: -0.05081, slopeUp: -0.03479, r2: 0.5185,
                    downOnlySlope: -0.04448, downOnlyR2: 0.3710),
        SPXResponse(horizonTradingDays: 5, intercept: 0.00094, slopeDown: -0.04464, slopeUp: -0.03645, r2: 0.5108,
                    downOnlySlope: -0.03940, downOnlyR2: 0.3299),
        SPXResponse(horizonTradingDays: 21, intercept: 0.01364, slopeDown: -0.03798, slopeUp: -0.03012, r2: 0.5018,
                    downOnlySlope: -0.03520, downOnlyR2: 0.3530),
    ]

    /// The ln-VIX response to an SPX move of `spxMovePercent` over about `horizonTradingDays` (the nearest fitted
    /// horizon): slope × move, without the intercept (so a zero move is zero), capped at `maxLogRise` for the
    /// window's calendar days (trading days · 365/252). Beyond the fitted range (|r| > ≈ 12 % a day, 33 % a month)
    /// this is an extrapolation; the cap is what binds.
    public static func vixLogResponse(spxMovePercent: Double, horizonTradingDays: Int) -> Double {
        let fit = vixLogResponsePerSPXPercent.min { abs($0.horizonTradingDays - horizonTradingDays) < abs($1.horizonTradingDays - horizonTradingDays) }!
        let response = spxMovePercent < 0 ? fit.slopeDown * spxMovePercent : fit.slopeUp * spxMovePercent
        return min(response, maxLogRise(days: Double(max(horizonTradingDays, 1)) * 365 / closesPerYear))
    }
}
