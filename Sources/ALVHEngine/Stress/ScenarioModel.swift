import Foundation

/// How a joint SPX / VIX shock with time passing moves every input the book is priced from.
///
/// - SPX spot moves by `spxMovePercent`; SPX implied vols shift in parallel (sticky strike) by
///   `spxVolPerVixPoint` vol points per VIX point of the VIX move.
/// - VIX spot goes to the scenario's level; each VIX future moves by ΔVIX × β(T), with
///   β(T) = exp(−T / `termBetaDays`), T in calendar days to its expiry — the front moves most.
/// - VIX option vols (vol of vol) move by `vixVolPerVixPoint` per VIX point, floored at
///   `minimumVIXOptionVol`.
/// - Time passes by `days`; an option past expiry pays its intrinsic value (VIX options settle
///   on the scenario's VIX level).
/// - When a scenario gives no VIX level, VIX moves by `vixPointsPerSPXPercent` per −1 % of SPX.
public struct ScenarioModel: Sendable, Codable, Equatable {
    public var termBetaDays: Double
    public var spxVolPerVixPoint: Double
    public var vixVolPerVixPoint: Double
    public var minimumVIXOptionVol: Double
    public var vixPointsPerSPXPercent: Double

    public init(termBetaDays: Double = 120, spxVolPerVixPoint: Double = 1.0, vixVolPerVixPoint: Double = 0.01,
                minimumVIXOptionVol: Double = 0.2, vixPointsPerSPXPercent: Double = 1.0) {
        self.termBetaDays = termBetaDays
        self.spxVolPerVixPoint = spxVolPerVixPoint
        self.vixVolPerVixPoint = vixVolPerVixPoint
        self.minimumVIXOptionVol = minimumVIXOptionVol
        self.vixPointsPerSPXPercent = vixPointsPerSPXPercent
    }

    public static let standard = ScenarioModel()

    /// β of a future `days` from expiry.
    public func beta(days: Double) -> Double { exp(-max(0, days) / termBetaDays) }
}

/// One joint shock.
public struct Scenario: Sendable, Codable, Equatable {
    public var name: String
    /// SPX move in percent (−12 = down 12 %).
    public var spxMovePercent: Double
    /// VIX spot level after the shock (nil: implied by the SPX move through the model).
    public var vixLevel: Double?
    /// VIX move in points, used when `vixLevel` is nil and this is set.
    public var vixShockPoints: Double?
    /// Calendar days that pass.
    public var days: Double
    /// Where the numbers come from.
    public var source: String?

    public init(name: String, spxMovePercent: Double, vixLevel: Double? = nil, vixShockPoints: Double? = nil, days: Double = 0, source: String? = nil) {
        self.name = name
        self.spxMovePercent = spxMovePercent
        self.vixLevel = vixLevel
        self.vixShockPoints = vixShockPoints
        self.days = days
        self.source = source
    }

    /// VIX after the shock, from spot `vix`.
    public func vixAfter(spot vix: Double, model: ScenarioModel) -> Double {
        if let vixLevel { return vixLevel }
        if let vixShockPoints { return max(1, vix + vixShockPoints) }
        return max(1, vix - spxMovePercent * model.vixPointsPerSPXPercent)
    }
}

/// Named historical stresses, with the numbers taken from history (closes, the day before → the day):
/// the shared CBOE VIX and S&P 500 files give them, and a test checks them against the files.
public enum HistoricalStress {
    public struct Episode: Sendable, Codable, Equatable {
        public var name: String
        public var from: String
        public var to: String
        public var spxFrom: Double
        public var spxTo: Double
        public var vixTo: Double
        /// The scenario: SPX move from→to, VIX to its close on `to`, calendar days between.
        public var scenario: Scenario {
            let days = (EngineDate.parse(to)!.timeIntervalSince(EngineDate.parse(from)!) / 86400).rounded()
            return Scenario(name: name, spxMovePercent: (spxTo / spxFrom - 1) * 100, vixLevel: vixTo, days: days,
                            source: "S&P 500 \(from) \(spxFrom) → \(to) \(spxTo); VIX close \(to) \(vixTo)")
        }
    }

    public static let episodes: [Episode] = [
        Episode(name: "oct-2008", from: "2008-09-30", to: "2008-10-27", spxFrom: 1166.36, spxTo: 848.92, vixTo: 80.06),
        Episode(name: "volmageddon-2018-02-05", from: "2018-02-02", to: "2018-02-05", spxFrom: 2762.13, spxTo: 2648.94, vixTo: 37.32),
        Episode(name: "covid-2020-03-16", from: "2020-03-13", to: "2020-03-16", spxFrom: 2711.02, spxTo: 2386.13, vixTo: 82.69),
        Episode(name: "yen-carry-2024-08-05", from: "2024-08-02", to: "2024-08-05", spxFrom: 5346.56, spxTo: 5186.33, vixTo: 38.57),
    ]

    public static var scenarios: [Scenario] { episodes.map(\.scenario) }
}
