/// A signal value that fired a rule: its name, value and the threshold it crossed.
public struct SignalReading: Sendable, Codable, Equatable {
    public var name: String
    public var value: Double
    public var threshold: Double?
    public var note: String?

    public init(name: String, value: Double, threshold: Double? = nil, note: String? = nil) {
        self.name = name
        self.value = (value * 10_000).rounded() / 10_000
        self.threshold = threshold
        self.note = note
    }
}

/// What the engine proposes: the change, why, what it costs and what it does to the risk.
public struct EngineProposal: Sendable, Codable, Equatable {
    /// The rule that fired: take-profit, roll, event, coverage, close.
    public var rule: String
    public var change: LayerChange
    public var rationale: [SignalReading]
    public var riskBefore: RiskReport
    public var riskAfter: RiskReport
    /// Premium paid in dollars at the limit prices (negative: credit received).
    public var costDollars: Double
    /// One line for humans.
    public var summary: String
}
