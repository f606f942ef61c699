/// A named ALVH layer of long VIX calls.
public struct HedgeLayer: Sendable, Codable, Equatable {
    /// What the layer is for.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Front expiries, for immediate spikes.
        case shortTerm = "short-term"
        /// An expiry spanning the next FOMC / CPI date.
        case event
        /// 3–6 months out, far out of the money.
        case backstop
    }

    public var name: String
    public var kind: Kind?
    public var positions: [Position]
    /// The P&L in dollars the layer should make in its design scenario.
    public var targetCoverageDollars: Double?

    public init(name: String, kind: Kind? = nil, positions: [Position], targetCoverageDollars: Double? = nil) {
        self.name = name
        self.kind = kind
        self.positions = positions
        self.targetCoverageDollars = targetCoverageDollars
    }

    /// What the layer's positions cost at entry, dollars: Σ entry price × contracts × $100.
    public var entryPremiumDollars: Double {
        positions.reduce(0.0) { $0 + $1.entryPrice * VIXOption.multiplier * Double($1.quantity) }
    }

    /// Total long contracts in the layer (saturating: a book that was never validated cannot trap it).
    public var contracts: Int {
        positions.reduce(0) { sum, position in
            let (total, overflow) = sum.addingReportingOverflow(position.quantity)
            return overflow ? (position.quantity > 0 ? .max : .min) : total
        }
    }
}

/// Call or put.
public enum OptionRight: String, Sendable, Codable, CaseIterable {
    case call
    case put
}

/// A held option position in a hedge layer.
public struct Position: Sendable, Codable, Equatable {
    /// "VIX".
    public var instrument: String
    public var right: OptionRight
    /// YYYY-MM-DD.
    public var expiry: String
    /// Strike in VIX points.
    public var strike: Double
    /// Contracts held (1…`Trade.maxAbsQuantity`).
    public var quantity: Int
    /// Average entry price, VIX points per unit (× $100 per contract).
    public var entryPrice: Double

    public init(instrument: String = "VIX", right: OptionRight = .call, expiry: String, strike: Double, quantity: Int, entryPrice: Double) {
        self.instrument = instrument
        self.right = right
        self.expiry = expiry
        self.strike = strike
        self.quantity = quantity
        self.entryPrice = entryPrice
    }

    var label: String { "\(instrument) \(expiry) \(strike) \(right.rawValue)" }

    func sameContract(as trade: Trade) -> Bool {
        instrument == trade.instrument && right == trade.right && expiry == trade.expiry && strike == trade.strike
    }

    func validate(path: String) throws {
        guard instrument == "VIX" else { throw EngineError(.invalidBook, "hedge layers hold VIX options", path: "\(path).instrument") }
        guard EngineDate.parse(expiry) != nil else { throw EngineError(.invalidBook, "must be a date YYYY-MM-DD", path: "\(path).expiry") }
        if let problem = Trade.strikeProblem(strike) { throw EngineError(.invalidBook, problem, path: "\(path).strike") }
        if let problem = Trade.quantityProblem(quantity, longOnly: true) { throw EngineError(.invalidBook, problem, path: "\(path).quantity") }
        if let problem = Trade.priceProblem(entryPrice) { throw EngineError(.invalidBook, problem, path: "\(path).entryPrice") }
    }
}
