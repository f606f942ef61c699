import Foundation
import ALVHEngine

/// The book as the genesis entry signs it: a wire type of the ledger's own, not the engine's
/// `Book`, so that a change to the engine's types (a field renamed, a case added) never breaks the
/// verification of a ledger written before it. Its JSON (sorted keys) is the format the first
/// ledgers were written in; ``book()`` maps it onto today's engine type, field by field.
///
/// ```json
/// {"condor":{"creditPerUnit":43.4,"expiry":"2027-01-15","longCall":6500,"longPut":5500,"quantity":10,
///            "shortCall":6300,"shortPut":5700,"underlying":"SPX"},
///  "layers":[{"kind":"short-term","name":"short-term","positions":[{"entryPrice":1,"expiry":"2026-12-16",
///             "instrument":"VIX","quantity":100,"right":"call","strike":20}]}]}
/// ```
public struct GenesisBook: Sendable, Codable, Equatable {
    public struct Condor: Sendable, Codable, Equatable {
        public var underlying: String
        /// YYYY-MM-DD.
        public var expiry: String
        /// Contracts.
        public var quantity: Int
        /// Strikes, index points.
        public var longPut: Double
        public var shortPut: Double
        public var shortCall: Double
        public var longCall: Double
        /// Credit received per condor, index points.
        public var creditPerUnit: Double
    }

    public struct Position: Sendable, Codable, Equatable {
        public var instrument: String
        /// "call" or "put".
        public var right: String
        public var expiry: String
        public var strike: Double
        /// Contracts (positive: long).
        public var quantity: Int
        /// Index points per contract.
        public var entryPrice: Double
    }

    public struct Layer: Sendable, Codable, Equatable {
        public var name: String
        /// "short-term", "event", "backstop", or absent.
        public var kind: String?
        public var positions: [Position]
        public var targetCoverageDollars: Double?
    }

    public var condor: Condor
    public var layers: [Layer]
    /// Dollars realised by layer sales (absent while 0).
    public var realizedHedgeDollars: Double?

    /// The wire form of an engine book.
    public init(_ book: Book) {
        let c = book.condor
        condor = Condor(underlying: c.underlying, expiry: c.expiry, quantity: c.quantity, longPut: c.longPut, shortPut: c.shortPut,
                        shortCall: c.shortCall, longCall: c.longCall, creditPerUnit: c.creditPerUnit)
        layers = book.layers.map { layer in
            Layer(name: layer.name, kind: layer.kind?.rawValue,
                  positions: layer.positions.map { Position(instrument: $0.instrument, right: $0.right.rawValue, expiry: $0.expiry,
                                                            strike: $0.strike, quantity: $0.quantity, entryPrice: $0.entryPrice) },
                  targetCoverageDollars: layer.targetCoverageDollars)
        }
        realizedHedgeDollars = book.realizedHedgeDollars == 0 ? nil : book.realizedHedgeDollars
    }

    /// Today's engine book for this wire book; a value the engine no longer knows is named.
    public func book() throws -> Book {
        let c = condor
        let engineLayers = try layers.enumerated().map { index, layer -> HedgeLayer in
            var kind: HedgeLayer.Kind?
            if let text = layer.kind {
                guard let known = HedgeLayer.Kind(rawValue: text) else {
                    throw LedgerError(.verificationFailed, "unknown layer kind '\(text)'", path: "genesis.book.layers[\(index)].kind")
                }
                kind = known
            }
            let positions = try layer.positions.enumerated().map { p, position -> ALVHEngine.Position in
                guard let right = OptionRight(rawValue: position.right) else {
                    throw LedgerError(.verificationFailed, "unknown option right '\(position.right)'", path: "genesis.book.layers[\(index)].positions[\(p)].right")
                }
                return ALVHEngine.Position(instrument: position.instrument, right: right, expiry: position.expiry, strike: position.strike,
                                           quantity: position.quantity, entryPrice: position.entryPrice)
            }
            return HedgeLayer(name: layer.name, kind: kind, positions: positions, targetCoverageDollars: layer.targetCoverageDollars)
        }
        return Book(condor: IronCondor(underlying: c.underlying, expiry: c.expiry, quantity: c.quantity, longPut: c.longPut, shortPut: c.shortPut,
                                       shortCall: c.shortCall, longCall: c.longCall, creditPerUnit: c.creditPerUnit),
                    layers: engineLayers, realizedHedgeDollars: realizedHedgeDollars ?? 0)
    }
}
