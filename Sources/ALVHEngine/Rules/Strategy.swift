import Foundation
import Yams
import ALVHYAML

/// The ALVH rules' parameters, from a YAML strategy file (`Examples/strategy.yaml`); every field
/// has a default, so an empty file is the default strategy.
public struct Strategy: Sendable, Codable, Equatable {
    /// One layer's design: the scenario it must cover, by how much, and where it buys.
    public struct LayerDesign: Sendable, Codable, Equatable {
        /// The shock the layer exists for.
        public var designScenario: Scenario
        /// Target P&L of the layer in its design scenario, as a fraction of the condor's max loss.
        public var targetCoverageFraction: Double
        /// Days to expiry allowed for new positions.
        public var minExpiryDays: Int
        public var maxExpiryDays: Int
        /// Strikes tried: VIX points above the future of the expiry (rounded to whole points).
        public var strikeOffsets: [Double]
        /// Roll when the layer's nearest expiry is fewer days away than this.
        public var rollBelowDays: Int

        enum CodingKeys: String, CodingKey, CaseIterable {
            case designScenario = "design-scenario", targetCoverageFraction = "target-coverage-fraction"
            case minExpiryDays = "min-expiry-days", maxExpiryDays = "max-expiry-days"
            case strikeOffsets = "strike-offsets", rollBelowDays = "roll-below-days"
        }
    }

    public var layers: [String: LayerDesign]
    /// Total hedge premium allowed, as a fraction of the condor's credit.
    public var budgetFractionOfCredit: Double
    /// Add an event layer this many days before an FOMC/CPI date.
    public var eventDaysAhead: Int
    /// Take profit when a layer position's intrinsic value (future − strike) is at least this multiple of its entry price.
    public var takeProfitIntrinsicMultiple: Double
    /// The share of such a position to sell.
    public var takeProfitCloseFraction: Double
    /// Take profit only with the VIX curve in backwardation.
    public var takeProfitRequiresBackwardation: Bool
    /// Roll the short-term layer on a bearish MACD crossover of SPX.
    public var rollOnMACDBearishCrossover: Bool
    /// The scenario model used for sizing and stress.
    public var scenarioModel: ScenarioModel
    /// The releases an event layer is bought for: "FOMC", "CPI".
    public var eventKinds: [String]
    /// The most the hedge layers may make in any named stress, as a multiple of the condor's max
    /// loss (0: no cap) — layers cover the condor instead of becoming a VIX bet.
    public var maxHedgeStressMultiple: Double
    /// Trim the layers when the hedge makes more than the cap by over this fraction in a named stress.
    public var trimToleranceFraction: Double
    /// VIX points: no call is bought below this limit price (no lottery tickets).
    public var minLimitPrice: Double
    /// VIX points: in backwardation a roll buys calls at least this far above the new expiry's future.
    public var rollOTMPoints: Double
    /// No new short-term layer while SPX's RSI(14) is under this (0: never held back; needs --spx-history).
    public var shortTermMinSPXRSI: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case layers, budgetFractionOfCredit = "budget-fraction-of-credit", eventDaysAhead = "event-days-ahead"
        case takeProfitIntrinsicMultiple = "take-profit-intrinsic-multiple", takeProfitCloseFraction = "take-profit-close-fraction"
        case takeProfitRequiresBackwardation = "take-profit-requires-backwardation"
        case rollOnMACDBearishCrossover = "roll-on-macd-bearish-crossover", scenarioModel = "scenario-model"
        case eventKinds = "event-kinds", maxHedgeStressMultiple = "max-hedge-stress-multiple", minLimitPrice = "min-limit-price"
        case rollOTMPoints = "roll-otm-points", shortTermMinSPXRSI = "short-term-min-spx-rsi", trimToleranceFraction = "trim-tolerance-fraction"
    }

    public static let standard = Strategy(
        layers: [
            "short-term": LayerDesign(designScenario: Scenario(name: "short-term design: VIX +15 in a week", spxMovePercent: -6, vixShockPoints: 15, days: 7),
                                      targetCoverageFraction: 0.35, minExpiryDays: 20, maxExpiryDays: 60, strikeOffsets: [0, 2, 4, 6, 8, 10], rollBelowDays: 10),
            "event": LayerDesign(designScenario: Scenario(name: "event design: VIX +8 on the day", spxMovePercent: -3, vixShockPoints: 8, days: 1),
                                 targetCoverageFraction: 0.15, minExpiryDays: 1, maxExpiryDays: 45, strikeOffsets: [0, 2, 4, 6], rollBelowDays: 0),
            "backstop": LayerDesign(designScenario: Scenario(name: "backstop design: crash, VIX +35 over a month", spxMovePercent: -20, vixShockPoints: 35, days: 30),
                                    targetCoverageFraction: 0.5, minExpiryDays: 90, maxExpiryDays: 190, strikeOffsets: [2, 4, 6], rollBelowDays: 45),
        ],
        budgetFractionOfCredit: 0.35, eventDaysAhead: 14, takeProfitIntrinsicMultiple: 3, takeProfitCloseFraction: 0.5,
        takeProfitRequiresBackwardation: true, rollOnMACDBearishCrossover: true, scenarioModel: .standard,
        eventKinds: ["FOMC", "CPI"], maxHedgeStressMultiple: 2, trimToleranceFraction: 0.1, minLimitPrice: 0.10, rollOTMPoints: 2, shortTermMinSPXRSI: 30)

    /// Loads a strategy YAML file; missing fields take the defaults of ``standard``.
    public static func load(path: String) throws -> Strategy {
        let data = try EngineFiles.read(path, limit: maxBytes)
        guard let text = String(data: data, encoding: .utf8) else {
            throw EngineError(.invalidStrategy, "not UTF-8 text", path: path)
        }
        return try parse(text, path: path)
    }

    /// The largest strategy file accepted (256 KiB).
    public static let maxBytes = 256 * 1024

    public static func parse(_ text: String, path: String = "strategy.yaml") throws -> Strategy {
        // Size, syntax, nesting, and no anchors or aliases: checked before composing, as for policies.
        do { try YAMLGuard.check(text, maxBytes: maxBytes, what: "strategy") }
        catch let refusal as YAMLGuard.Refusal { throw EngineError(.invalidStrategy, refusal.reason, path: path) }
        let strategy: Strategy
        do {
            strategy = try YAMLDecoder().decode(Strategy.self, from: text.isEmpty ? "{}" : text)
        } catch let error as DecodingError {
            throw EngineError(.invalidStrategy, YAMLGuard.excerpt(EngineFiles.describe(error)),
                              path: "\(path): \(YAMLGuard.excerpt(EngineFiles.codingPath(error)))")
        } catch {
            throw EngineError(.invalidStrategy, "not valid YAML: \(YAMLGuard.excerpt("\(error)"))", path: path)
        }
        try strategy.validate(path: path)
        return strategy
    }

    public func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> EngineError { EngineError(.invalidStrategy, reason, path: "\(path): \(field)") }
        guard budgetFractionOfCredit >= 0, budgetFractionOfCredit <= 5 else { throw fail("budget-fraction-of-credit", "must be between 0 and 5") }
        guard eventDaysAhead >= 0 else { throw fail("event-days-ahead", "must be ≥ 0") }
        guard takeProfitIntrinsicMultiple > 0 else { throw fail("take-profit-intrinsic-multiple", "must be > 0") }
        guard takeProfitCloseFraction > 0, takeProfitCloseFraction <= 1 else { throw fail("take-profit-close-fraction", "must be in (0, 1]") }
        try scenarioModel.validate(path: "\(path): scenario-model")
        for (i, kind) in eventKinds.enumerated() where !["FOMC", "CPI"].contains(kind) { throw fail("event-kinds[\(i)]", "must be FOMC or CPI") }
        guard maxHedgeStressMultiple.isFinite, (0...20).contains(maxHedgeStressMultiple) else { throw fail("max-hedge-stress-multiple", "must be between 0 (no cap) and 20 times the condor's max loss") }
        guard trimToleranceFraction.isFinite, (0...10).contains(trimToleranceFraction) else { throw fail("trim-tolerance-fraction", "must be a fraction between 0 and 10") }
        guard minLimitPrice.isFinite, (0...100).contains(minLimitPrice) else { throw fail("min-limit-price", "must be between 0 and 100 VIX points") }
        guard rollOTMPoints.isFinite, (0...50).contains(rollOTMPoints) else { throw fail("roll-otm-points", "must be between 0 and 50 VIX points") }
        guard shortTermMinSPXRSI.isFinite, (0...100).contains(shortTermMinSPXRSI) else { throw fail("short-term-min-spx-rsi", "must be an RSI between 0 (off) and 100") }
        for (name, layer) in layers {
            guard layer.targetCoverageFraction >= 0 else { throw fail("layers.\(name).target-coverage-fraction", "must be ≥ 0") }
            guard layer.minExpiryDays >= 0, layer.maxExpiryDays >= layer.minExpiryDays else {
                throw fail("layers.\(name).max-expiry-days", "must be ≥ min-expiry-days ≥ 0")
            }
            guard !layer.strikeOffsets.isEmpty else { throw fail("layers.\(name).strike-offsets", "needs at least one offset") }
        }
    }
}

extension Strategy {
    /// Every field optional: a missing one takes ``standard``'s value; `layers` are merged over the
    /// standard layers by name.
    public init(from decoder: any Decoder) throws {
        try EngineFiles.refuseUnknownFields(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Strategy.standard
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T { try c.decodeIfPresent(T.self, forKey: key) ?? fallback }
        var layers = d.layers
        for (name, layer) in try c.decodeIfPresent([String: LayerDesign].self, forKey: .layers) ?? [:] { layers[name] = layer }
        self.init(layers: layers, budgetFractionOfCredit: try value(.budgetFractionOfCredit, d.budgetFractionOfCredit),
                  eventDaysAhead: try value(.eventDaysAhead, d.eventDaysAhead),
                  takeProfitIntrinsicMultiple: try value(.takeProfitIntrinsicMultiple, d.takeProfitIntrinsicMultiple),
                  takeProfitCloseFraction: try value(.takeProfitCloseFraction, d.takeProfitCloseFraction),
                  takeProfitRequiresBackwardation: try value(.takeProfitRequiresBackwardation, d.takeProfitRequiresBackwardation),
                  rollOnMACDBearishCrossover: try value(.rollOnMACDBearishCrossover, d.rollOnMACDBearishCrossover),
                  scenarioModel: try value(.scenarioModel, d.scenarioModel), eventKinds: try value(.eventKinds, d.eventKinds),
                  maxHedgeStressMultiple: try value(.maxHedgeStressMultiple, d.maxHedgeStressMultiple),
                  trimToleranceFraction: try value(.trimToleranceFraction, d.trimToleranceFraction),
                  minLimitPrice: try value(.minLimitPrice, d.minLimitPrice), rollOTMPoints: try value(.rollOTMPoints, d.rollOTMPoints),
                  shortTermMinSPXRSI: try value(.shortTermMinSPXRSI, d.shortTermMinSPXRSI))
    }
}

extension Strategy.LayerDesign {
    /// Every field required, none unknown.
    public init(from decoder: any Decoder) throws {
        try EngineFiles.refuseUnknownFields(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(designScenario: try c.decode(Scenario.self, forKey: .designScenario),
                  targetCoverageFraction: try c.decode(Double.self, forKey: .targetCoverageFraction),
                  minExpiryDays: try c.decode(Int.self, forKey: .minExpiryDays), maxExpiryDays: try c.decode(Int.self, forKey: .maxExpiryDays),
                  strikeOffsets: try c.decode([Double].self, forKey: .strikeOffsets), rollBelowDays: try c.decode(Int.self, forKey: .rollBelowDays))
    }
}
