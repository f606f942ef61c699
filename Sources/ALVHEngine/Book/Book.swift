import Foundation

/// The desk's book: one SPX iron condor and named ALVH hedge layers of long VIX calls.
///
/// JSON (see `docs/engine.md`):
/// ```json
/// { "condor": { "underlying": "SPX", "expiry": "2027-01-15", "quantity": 10,
///               "longPut": 5400, "shortPut": 5600, "shortCall": 6250, "longCall": 6450,
///               "creditPerUnit": 28.5 },
///   "layers": [ { "name": "short-term", "kind": "short-term", "targetCoverageDollars": 40000,
///                 "positions": [ { "instrument": "VIX", "right": "call", "expiry": "2026-12-16",
///                                  "strike": 20, "quantity": 20, "entryPrice": 1.35 } ] } ] }
/// ```
///
/// ```swift
/// let next = try book.applying(LayerChange(kind: .addLayer, layer: "event", trades: [...]))
/// ```
public struct Book: Sendable, Codable, Equatable {
    public var condor: IronCondor
    public var layers: [HedgeLayer]
    /// Dollars realised by the layers' sales: Σ (sale limit − entry) × contracts × $100, replayed
    /// from the signed legs. Its gains are credited back to the premium budget (take-profits pay
    /// for later hedges). Absent from the JSON while 0.
    public var realizedHedgeDollars: Double

    public init(condor: IronCondor, layers: [HedgeLayer] = [], realizedHedgeDollars: Double = 0) {
        self.condor = condor
        self.layers = layers
        self.realizedHedgeDollars = realizedHedgeDollars
    }

    enum CodingKeys: String, CodingKey { case condor, layers, realizedHedgeDollars }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        condor = try c.decode(IronCondor.self, forKey: .condor)
        layers = try c.decode([HedgeLayer].self, forKey: .layers)
        realizedHedgeDollars = try c.decodeIfPresent(Double.self, forKey: .realizedHedgeDollars) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(condor, forKey: .condor)
        try c.encode(layers, forKey: .layers)
        if realizedHedgeDollars != 0 { try c.encode(realizedHedgeDollars, forKey: .realizedHedgeDollars) }
    }

    /// The layer named `name`, if any.
    public func layer(named name: String) -> HedgeLayer? { layers.first { $0.name == name } }

    /// Checks the book's own consistency; errors name the field.
    public func validate(path: String = "book") throws {
        try condor.validate(path: "\(path).condor")
        guard realizedHedgeDollars.isFinite, realizedHedgeDollars.magnitude <= 1e12 else {
            throw EngineError(.invalidBook, "must be a finite dollar amount", path: "\(path).realizedHedgeDollars")
        }
        var names = Set<String>()
        for (index, layer) in layers.enumerated() {
            let field = "\(path).layers[\(index)]"
            guard !layer.name.isEmpty else { throw EngineError(.invalidBook, "a layer needs a name", path: "\(field).name") }
            guard names.insert(layer.name).inserted else {
                throw EngineError(.invalidBook, "layer name '\(layer.name)' is used twice", path: "\(field).name")
            }
            for (p, position) in layer.positions.enumerated() {
                try position.validate(path: "\(field).positions[\(p)]")
            }
        }
    }

    /// The book after `change`: its trades applied to the named layer's positions.
    ///
    /// - add-layer creates the layer (refused if it exists);
    /// - resize-layer, roll-layer and close-layer need the layer to exist;
    /// - a trade on an existing position changes its quantity (a buy averages the entry price);
    ///   a position at zero is removed, and a layer with no positions is removed;
    /// - hedge layers hold long options only: a trade that would leave a position short is refused;
    /// - every trade is checked against the bounds (`Trade.maxAbsQuantity`, `maxPrice`, `maxStrike`) and
    ///   quantities are added with overflow checks: a position above `Trade.maxAbsQuantity` is refused.
    public func applying(_ change: LayerChange) throws -> Book {
        guard !change.trades.isEmpty else {
            throw EngineError(.invalidChange, "a layer change needs at least one trade", path: "change.legs")
        }
        var next = self
        var layerIndex = next.layers.firstIndex { $0.name == change.layer }
        switch change.kind {
        case .addLayer:
            guard layerIndex == nil else {
                throw EngineError(.invalidChange, "layer '\(change.layer)' already exists; propose a resize-layer instead", path: "change.layer")
            }
            next.layers.append(HedgeLayer(name: change.layer, kind: change.layerKind ?? HedgeLayer.Kind(rawValue: change.layer), positions: []))
            layerIndex = next.layers.count - 1
        case .resizeLayer, .rollLayer, .closeLayer:
            guard layerIndex != nil else {
                throw EngineError(.invalidChange, "there is no layer '\(change.layer)' to \(change.kind.rawValue.replacingOccurrences(of: "-layer", with: ""))", path: "change.layer")
            }
        }
        var layer = next.layers[layerIndex!]
        for (index, trade) in change.trades.enumerated() {
            try trade.validate(path: "change.legs[\(index)]")
            if let p = layer.positions.firstIndex(where: { $0.sameContract(as: trade) }) {
                var position = layer.positions[p]
                let field = "change.legs[\(index)].quantity"
                let (quantity, overflow) = position.quantity.addingReportingOverflow(trade.quantity)
                guard !overflow, quantity <= Trade.maxAbsQuantity else {
                    throw EngineError(.invalidChange, "buying \(trade.quantity) on top of \(position.quantity) contracts of \(position.label) exceeds the limit of \(Trade.maxAbsQuantity) contracts per position; buy at most \((0...Trade.maxAbsQuantity).contains(position.quantity) ? Trade.maxAbsQuantity - position.quantity : 0) more", path: field)
                }
                guard quantity >= 0 else {
                    throw EngineError(.invalidChange, "selling \(trade.quantity.magnitude) would leave \(quantity) contracts of \(position.label); hedge layers hold long options only", path: field)
                }
                if trade.quantity < 0 {
                    next.realizedHedgeDollars = Money.cents(next.realizedHedgeDollars
                        + (trade.price - position.entryPrice) * Double(trade.quantity.magnitude) * VIXOption.multiplier)
                }
                if trade.quantity > 0 {
                    // Both quantities are within ±maxAbsQuantity here, and quantity > 0: the
                    // weighted average is finite and cannot trap.
                    position.entryPrice = (position.entryPrice * Double(position.quantity) + trade.price * Double(trade.quantity)) / Double(quantity)
                }
                position.quantity = quantity
                if quantity == 0 { layer.positions.remove(at: p) } else { layer.positions[p] = position }
            } else {
                guard trade.quantity > 0 else {
                    throw EngineError(.invalidChange, "selling \(trade.quantity.magnitude) of \(trade.label), which layer '\(change.layer)' does not hold", path: "change.legs[\(index)]")
                }
                layer.positions.append(Position(instrument: trade.instrument, right: trade.right, expiry: trade.expiry,
                                                strike: trade.strike, quantity: trade.quantity, entryPrice: trade.price))
            }
        }
        if change.kind == .closeLayer || layer.positions.isEmpty, layer.positions.isEmpty {
            next.layers.remove(at: layerIndex!)
        } else {
            layer.positions.sort { ($0.expiry, $0.strike) < ($1.expiry, $1.strike) }
            next.layers[layerIndex!] = layer
        }
        return next
    }

    /// Loads a book JSON file (at most 4 MiB) and validates it.
    public static func load(path: String) throws -> Book {
        let data = try EngineFiles.read(path, limit: 4 << 20)
        let book: Book
        do {
            book = try JSONDecoder().decode(Book.self, from: data)
        } catch let error as DecodingError {
            throw EngineError(.invalidBook, EngineFiles.describe(error), path: "\(path): \(EngineFiles.codingPath(error))")
        } catch {
            throw EngineError(.invalidBook, "not valid JSON: \(error)", path: path)
        }
        try book.validate(path: path)
        return book
    }
}
