/// A rule that had a reason to act and did not, and why: shown beside the proposals so that a
/// trader sees why no event layer was bought, not only that none was.
public struct HeldRule: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Why, as a typed value (decisions are never made on the description's wording).
    public enum Reason: Sendable, Codable, Equatable {
        /// The premium budget has nothing left for a buy (dollars still available).
        case budgetSpent(availableDollars: Double)
        /// The layer (or the hedge) already makes its share of the stress cap in this named stress.
        case stressCap(scenario: String, hedgeDollars: Double, capDollars: Double)
        /// SPX's RSI(14) is under the strategy's floor: no short-term layer bought into the sell-off.
        case oversoldSPX(rsi: Double, threshold: Double)
        /// No expiry fits (none trading in the design's range, none settling after the release).
        case noExpiry(String)
        /// No strike priced at least `min-limit-price` that the design scenario puts in the money with a gain.
        case noCandidate(minLimitPrice: Double)
    }

    /// The rule: coverage, event, roll.
    public var rule: String
    public var layer: String
    public var reason: Reason

    public init(rule: String, layer: String, reason: Reason) {
        self.rule = rule
        self.layer = layer
        self.reason = reason
    }

    public var description: String {
        let why: String
        switch reason {
        case .budgetSpent(let available):
            why = "the premium budget is spent (\(dollars(available)) left); a take-profit or a close frees it"
        case let .stressCap(scenario, hedge, cap):
            why = "it already makes \(dollars(hedge)) in \(scenario), its cap is \(dollars(cap)) (max-hedge-stress-multiple)"
        case let .oversoldSPX(rsi, threshold):
            why = "SPX RSI(14) is \(rsi), under \(whole(threshold)): not bought into an oversold sell-off"
        case .noExpiry(let text):
            why = text
        case .noCandidate(let price):
            why = "no call priced at least \(price) points ends in the money with a gain in the design scenario (strike-offsets)"
        }
        return "\(rule) \(layer): held — \(why)"
    }
}

/// What one run of the rules gives: the proposals, the most urgent first, and the rules held back.
public struct RuleRun: Sendable, Equatable {
    public var proposals: [EngineProposal]
    public var held: [HeldRule]
}
