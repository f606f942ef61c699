import Foundation
import Yams
import ALVHYAML
import ALVHSigning
import ALVHApproval
import ALVHEngine

/// One signer's own limits: what it will sign, checked on the figures it recomputed itself.
///
/// Every field is optional; an empty file means "no limits beyond a correct recomputation".
///
/// ```yaml
/// # Keys/limits/limits-bot.yaml
/// max-premium-per-change-dollars: 5000      # premium paid in one change (sales are not limited)
/// max-daily-premium-dollars: 12000          # premium paid in the changes it signed per UTC day
/// max-abs-delta-vega: 20000                 # |Δ vega| of the book total, $ per VIX point
/// stress-must-not-worsen: [covid-2020]
/// min-stress-pnl-dollars: { oct-2008: -150000 }
/// allowed-kinds: [add-layer, roll-layer, resize-layer, close-layer]
/// allowed-hours-utc: "13:30-20:00"
/// recompute-tolerance-dollars: 1.0
/// market-tolerance: { spx-percent: 0.5, vix-points: 0.5, futures-points: 0.5, vol-points: 2, rate-percent-points: 0.1, as-of-minutes: 60 }
/// require-own-market: true                  # wait (sign nothing) without --market data to compare with
/// ```
public struct SignerLimits: Sendable, Equatable {
    /// How far the cited snapshot may be from the signer's own market data.
    public struct MarketTolerance: Sendable, Equatable {
        /// SPX spot, percent of the signer's level.
        public var spxPercent: Double
        /// VIX spot, VIX points.
        public var vixPoints: Double
        /// Each VIX future both list, VIX points.
        public var futuresPoints: Double
        /// Implied vols (VIX options at every whole strike from 0.5 to 3 × their future and every knot
        /// of either smile, skew included; SPX at every knot of either smile and the money), vol
        /// points. Execution costs (commission, half-spread) must match exactly; every tenor and
        /// event the cited snapshot lists must be in the signer's own market.
        public var volPoints: Double
        /// The SPX rate and dividend yield, percentage points (0.1: ten basis points).
        public var ratePercentPoints: Double
        /// The cited snapshot's `asOf` against the signer's closest snapshot, minutes.
        public var asOfMinutes: Double
        public init(spxPercent: Double = 0.5, vixPoints: Double = 0.5, futuresPoints: Double = 0.5, volPoints: Double = 2,
                    ratePercentPoints: Double = 0.1, asOfMinutes: Double = 60) {
            self.spxPercent = spxPercent
            self.vixPoints = vixPoints
            self.futuresPoints = futuresPoints
            self.volPoints = volPoints
            self.ratePercentPoints = ratePercentPoints
            self.asOfMinutes = asOfMinutes
        }
    }

    /// The cited market against the signer's own (`--market`).
    public var marketTolerance = MarketTolerance()
    /// Whether the signer waits instead of signing when it has no market data of its own.
    public var requireOwnMarket = false
    /// Largest premium paid (positive cost) in one change, dollars; sales are not limited.
    public var maxPremiumPerChangeDollars: Double?
    /// Largest premium paid in the changes this signer signs in one UTC day, dollars.
    public var maxDailyPremiumDollars: Double?
    /// Largest |Δ vega| of the book total, dollars per VIX point (the one risk basis).
    public var maxAbsDeltaVega: Double?
    /// Scenarios whose book P&L must not get worse (after ≥ before − tolerance).
    public var stressMustNotWorsen: [String]
    /// Scenario → the lowest book P&L after the change the signer accepts, dollars.
    public var minStressPnLDollars: [String: Double]
    /// Change kinds the signer may approve (nil: every layer change; a policy change only when listed).
    public var allowedKinds: Set<ChangeKind>?
    /// UTC minutes-of-day window [start, end) in which the signer decides (nil: always).
    public var allowedMinutesUTC: ClosedRange<Int>?
    /// How far the proposal's dollar figures may be from the recomputed ones.
    public var recomputeToleranceDollars: Double

    public init(maxPremiumPerChangeDollars: Double? = nil, maxDailyPremiumDollars: Double? = nil, maxAbsDeltaVega: Double? = nil,
                stressMustNotWorsen: [String] = [], minStressPnLDollars: [String: Double] = [:], allowedKinds: Set<ChangeKind>? = nil,
                allowedMinutesUTC: ClosedRange<Int>? = nil, recomputeToleranceDollars: Double = 1.0) {
        self.maxPremiumPerChangeDollars = maxPremiumPerChangeDollars
        self.maxDailyPremiumDollars = maxDailyPremiumDollars
        self.maxAbsDeltaVega = maxAbsDeltaVega
        self.stressMustNotWorsen = stressMustNotWorsen
        self.minStressPnLDollars = minStressPnLDollars
        self.allowedKinds = allowedKinds
        self.allowedMinutesUTC = allowedMinutesUTC
        self.recomputeToleranceDollars = recomputeToleranceDollars
    }

    /// No limits beyond the recomputation check.
    public static let none = SignerLimits()

    /// The largest limits file accepted.
    public static let maxBytes = 64 * 1024

    static let fields: Set<String> = ["max-premium-per-change-dollars", "max-daily-premium-dollars", "max-abs-delta-vega",
                                      "stress-must-not-worsen", "min-stress-pnl-dollars", "allowed-kinds", "allowed-hours-utc",
                                      "recompute-tolerance-dollars", "market-tolerance", "require-own-market"]

    public static func load(path: String) throws -> SignerLimits {
        let bytes: [UInt8]
        do { bytes = try SecureFile.read(path, limit: maxBytes) }
        catch let error as SigningError { throw SignerError(.fileError, error.reason, path: error.path ?? path) }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw SignerError(.invalidLimits, "not UTF-8 text", path: path)
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String = "limits.yaml") throws -> SignerLimits {
        // Size, syntax, nesting, and no anchors or aliases: checked before composing, as for policies.
        do { try YAMLGuard.check(text, maxBytes: maxBytes, what: "limits file") }
        catch let refusal as YAMLGuard.Refusal { throw SignerError(.invalidLimits, refusal.reason, path: path) }
        let node: Node?
        do { node = try Yams.compose(yaml: text) }
        catch { throw SignerError(.invalidLimits, "not valid YAML: \(YAMLGuard.excerpt("\(error)"))", path: path) }
        guard let node else { return .none }
        guard case .mapping(let mapping) = node else {
            throw SignerError(.invalidLimits, "must be a mapping of limit names to values", path: path)
        }
        var limits = SignerLimits()
        let scenarioNames = Set(HistoricalStress.episodes.map(\.name))
        for (keyNode, value) in mapping {
            guard let key = keyNode.string, fields.contains(key) else {
                throw SignerError(.invalidLimits, "unknown field '\(YAMLGuard.excerpt(keyNode.string ?? "?"))'; known: \(fields.sorted().joined(separator: ", "))", path: path)
            }
            let field = "\(path): \(key)"
            func number() throws -> Double {
                guard case .scalar = value, let v = value.float ?? value.int.map(Double.init), v.isFinite, v >= 0 else {
                    throw SignerError(.invalidLimits, "must be a number ≥ 0 (dollars)", path: field)
                }
                return v
            }
            func strings() throws -> [String] {
                guard case .sequence(let items) = value else { throw SignerError(.invalidLimits, "must be a list", path: field) }
                return try items.map {
                    guard let s = $0.string, !s.isEmpty else { throw SignerError(.invalidLimits, "must be a list of names", path: field) }
                    return s
                }
            }
            switch key {
            case "max-premium-per-change-dollars": limits.maxPremiumPerChangeDollars = try number()
            case "max-daily-premium-dollars": limits.maxDailyPremiumDollars = try number()
            case "max-abs-delta-vega": limits.maxAbsDeltaVega = try number()
            case "recompute-tolerance-dollars": limits.recomputeToleranceDollars = try number()
            case "stress-must-not-worsen":
                limits.stressMustNotWorsen = try strings()
                if let unknown = limits.stressMustNotWorsen.first(where: { !scenarioNames.contains($0) }) {
                    throw SignerError(.invalidLimits, "unknown scenario '\(YAMLGuard.excerpt(unknown))'; use one of \(scenarioNames.sorted().joined(separator: ", "))", path: field)
                }
            case "min-stress-pnl-dollars":
                guard case .mapping(let floors) = value else {
                    throw SignerError(.invalidLimits, "must map scenario names to dollar floors", path: field)
                }
                for (name, floor) in floors {
                    guard let scenario = name.string, scenarioNames.contains(scenario) else {
                        throw SignerError(.invalidLimits, "unknown scenario '\(YAMLGuard.excerpt(name.string ?? "?"))'; use one of \(scenarioNames.sorted().joined(separator: ", "))", path: field)
                    }
                    guard case .scalar = floor, let v = floor.float ?? floor.int.map(Double.init), v.isFinite else {
                        throw SignerError(.invalidLimits, "must be a number of dollars (negative for a loss)", path: "\(field).\(scenario)")
                    }
                    limits.minStressPnLDollars[scenario] = v
                }
            case "allowed-kinds":
                var kinds = Set<ChangeKind>()
                for name in try strings() {
                    guard let kind = ChangeKind(rawValue: name) else {
                        throw SignerError(.invalidLimits, "unknown change kind '\(YAMLGuard.excerpt(name))'; use \(ChangeKind.allCases.map(\.rawValue).joined(separator: ", "))", path: field)
                    }
                    kinds.insert(kind)
                }
                limits.allowedKinds = kinds
            case "require-own-market":
                guard case .scalar = value, let flag = value.bool else {
                    throw SignerError(.invalidLimits, "must be true or false", path: field)
                }
                limits.requireOwnMarket = flag
            case "market-tolerance":
                guard case .mapping(let entries) = value else {
                    throw SignerError(.invalidLimits, "must map spx-percent, vix-points, futures-points, vol-points, rate-percent-points, as-of-minutes to numbers", path: field)
                }
                for (name, amount) in entries {
                    guard case .scalar = amount, let v = amount.float ?? amount.int.map(Double.init), v.isFinite, v >= 0 else {
                        throw SignerError(.invalidLimits, "must be a number ≥ 0", path: "\(field).\(name.string ?? "?")")
                    }
                    switch name.string {
                    case "spx-percent": limits.marketTolerance.spxPercent = v
                    case "vix-points": limits.marketTolerance.vixPoints = v
                    case "futures-points": limits.marketTolerance.futuresPoints = v
                    case "vol-points": limits.marketTolerance.volPoints = v
                    case "rate-percent-points": limits.marketTolerance.ratePercentPoints = v
                    case "as-of-minutes": limits.marketTolerance.asOfMinutes = v
                    default:
                        throw SignerError(.invalidLimits, "unknown tolerance '\(name.string ?? "?")'; known: spx-percent, vix-points, futures-points, vol-points, rate-percent-points, as-of-minutes", path: field)
                    }
                }
            case "allowed-hours-utc":
                guard let window = value.string.flatMap(Self.parseWindow) else {
                    throw SignerError(.invalidLimits, "must be \"HH:MM-HH:MM\" (UTC, start before end), e.g. \"13:30-20:00\"", path: field)
                }
                limits.allowedMinutesUTC = window
            default: break
            }
        }
        return limits
    }

    /// "13:30-20:00" → 810...1199 (minutes of the UTC day; the end minute is excluded).
    static func parseWindow(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { return nil }
        func minutes(_ s: String) -> Int? {
            let hm = s.split(separator: ":")
            guard hm.count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440 else { return nil }
            return h * 60 + m
        }
        guard let start = minutes(parts[0]), let end = minutes(parts[1]), start < end else { return nil }
        return start...(end - 1)
    }
}
