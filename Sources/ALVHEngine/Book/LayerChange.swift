/// A change to one hedge layer: what a proposal asks the ledger to apply to the book.
public struct LayerChange: Sendable, Codable, Equatable {
    /// The four layer change kinds (policy changes are not book changes).
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case addLayer = "add-layer"
        case rollLayer = "roll-layer"
        case resizeLayer = "resize-layer"
        case closeLayer = "close-layer"
    }

    public var kind: Kind
    /// The layer's name.
    public var layer: String
    /// For add-layer: what the new layer is for.
    public var layerKind: HedgeLayer.Kind?
    /// The trades, in order: positive quantity buys, negative sells.
    public var trades: [Trade]

    public init(kind: Kind, layer: String, layerKind: HedgeLayer.Kind? = nil, trades: [Trade]) {
        self.kind = kind
        self.layer = layer
        self.layerKind = layerKind
        self.trades = trades
    }
}

/// One trade of a layer change.
public struct Trade: Sendable, Codable, Equatable {
    public var instrument: String
    public var right: OptionRight
    /// YYYY-MM-DD.
    public var expiry: String
    /// VIX points.
    public var strike: Double
    /// Contracts: positive buys, negative sells.
    public var quantity: Int
    /// Limit price, VIX points per unit.
    public var price: Double

    public init(instrument: String = "VIX", right: OptionRight = .call, expiry: String, strike: Double, quantity: Int, price: Double) {
        self.instrument = instrument
        self.right = right
        self.expiry = expiry
        self.strike = strike
        self.quantity = quantity
        self.price = price
    }

    var label: String { "\(instrument) \(expiry) \(strike) \(right.rawValue)" }

    // MARK: - Bounds (see docs/engine.md, "Bounds")

    /// The most contracts a trade may buy or sell, and a position may hold (|quantity| ≤ this).
    public static let maxAbsQuantity = 100_000
    /// The highest price, in index points per unit, of a trade, a position's entry or a condor's credit.
    public static let maxPrice = 10_000.0
    /// The highest strike, in index points, of a trade, a position or a condor leg.
    public static let maxStrike = 100_000.0

    /// A quantity's check: non-zero and within ±`maxAbsQuantity`; nil when it passes, else the reason.
    static func quantityProblem(_ quantity: Int, longOnly: Bool = false) -> String? {
        if longOnly {
            guard quantity > 0, quantity <= maxAbsQuantity else {
                return "must be a positive number of contracts, at most \(maxAbsQuantity) (got \(quantity))"
            }
        } else {
            guard quantity != 0, quantity.magnitude <= UInt(maxAbsQuantity) else {
                return "must be a non-zero number of contracts between -\(maxAbsQuantity) and \(maxAbsQuantity) (got \(quantity)); split a larger order"
            }
        }
        return nil
    }

    /// A price's check: finite, > 0 and ≤ `maxPrice`; nil when it passes, else the reason.
    static func priceProblem(_ price: Double) -> String? {
        guard price.isFinite, price > 0, price <= maxPrice else {
            return "must be a price > 0 and ≤ \(Int(maxPrice)) index points (got \(price))"
        }
        return nil
    }

    /// A strike's check: finite, > 0 and ≤ `maxStrike`; nil when it passes, else the reason.
    static func strikeProblem(_ strike: Double) -> String? {
        guard strike.isFinite, strike > 0, strike <= maxStrike else {
            return "must be a strike > 0 and ≤ \(Int(maxStrike)) index points (got \(strike))"
        }
        return nil
    }

    /// A whole number of contracts from a computed size, clamped to `0...maxAbsQuantity`
    /// (NaN and negatives give 0, +∞ the limit): converting a Double to Int traps when it is out of range.
    static func contracts(_ value: Double) -> Int {
        guard !value.isNaN, value > 0 else { return 0 }
        return value >= Double(maxAbsQuantity) ? maxAbsQuantity : Int(value)
    }

    func validate(path: String) throws {
        guard instrument == "VIX" else { throw EngineError(.invalidChange, "hedge layers trade VIX options", path: "\(path).instrument") }
        guard EngineDate.parse(expiry) != nil else { throw EngineError(.invalidChange, "must be a date YYYY-MM-DD", path: "\(path).expiry") }
        if let problem = Trade.strikeProblem(strike) { throw EngineError(.invalidChange, problem, path: "\(path).strike") }
        if let problem = Trade.quantityProblem(quantity) { throw EngineError(.invalidChange, problem, path: "\(path).quantity") }
        if let problem = Trade.priceProblem(price) { throw EngineError(.invalidChange, problem, path: "\(path).price") }
    }
}
