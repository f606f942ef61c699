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

    func validate(path: String) throws {
        guard instrument == "VIX" else { throw EngineError(.invalidChange, "hedge layers trade VIX options", path: "\(path).instrument") }
        guard EngineDate.parse(expiry) != nil else { throw EngineError(.invalidChange, "must be a date YYYY-MM-DD", path: "\(path).expiry") }
        guard strike.isFinite, strike > 0 else { throw EngineError(.invalidChange, "must be a positive strike", path: "\(path).strike") }
        guard quantity != 0 else { throw EngineError(.invalidChange, "must be a non-zero number of contracts", path: "\(path).quantity") }
        guard price.isFinite, price >= 0 else { throw EngineError(.invalidChange, "must be a price ≥ 0", path: "\(path).price") }
    }
}
