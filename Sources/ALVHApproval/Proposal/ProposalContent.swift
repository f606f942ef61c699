/// The hedge-change content of a proposal, as signed: the wire schema of `docs/proposal.md`.
///
/// These types are the approval module's own, so that the signed schema stays stable while the
/// engine evolves; the engine's results are converted into them when a proposal is built, and a
/// signer recomputing the risk compares its own figures with these.
extension ProposalDocument {
    /// One leg of a layer change.
    public struct Leg: Sendable, Codable, Equatable {
        /// "VIX" for the hedge layers.
        public var instrument: String
        /// "call" or "put".
        public var right: String
        /// Expiry date, `YYYY-MM-DD`.
        public var expiry: String
        /// Strike, in the underlying's points (VIX points).
        public var strike: Double
        /// Contracts: positive buys, negative sells.
        public var quantity: Int
        /// Limit price per unit of the underlying (VIX points; × multiplier for dollars).
        public var limitPrice: Double

        public init(instrument: String, right: String, expiry: String, strike: Double, quantity: Int, limitPrice: Double) {
            self.instrument = instrument
            self.right = right
            self.expiry = expiry
            self.strike = strike
            self.quantity = quantity
            self.limitPrice = limitPrice
        }
    }

    /// A change to one named layer.
    public struct LayerChangeBody: Sendable, Codable, Equatable {
        /// The layer's name, e.g. `short-term`, `event`, `backstop`.
        public var layer: String
        /// The legs to trade, in order. Exactly these are applied to the book at commit: what
        /// the signers read is what happens.
        public var legs: [Leg]

        public init(layer: String, legs: [Leg]) {
            self.layer = layer
            self.legs = legs
        }
    }

    /// A signal that fired: its name, value and the threshold it crossed.
    public struct Signal: Sendable, Codable, Equatable {
        public var name: String
        public var value: Double
        public var threshold: Double?
        public var note: String?

        public init(name: String, value: Double, threshold: Double? = nil, note: String? = nil) {
            self.name = name
            self.value = value
            self.threshold = threshold
            self.note = note
        }
    }

    /// Greeks in dollars, in the engine's one risk basis (docs/engine.md): delta ($ per SPX point along the model's joint path), gamma ($ per SPX point²), vega ($ per VIX point), theta ($ per day), rho ($ per 1 %).
    public struct Greeks: Sendable, Codable, Equatable {
        public var delta: Double
        public var gamma: Double
        public var vega: Double
        public var theta: Double
        public var rho: Double

        public init(delta: Double, gamma: Double, vega: Double, theta: Double, rho: Double) {
            self.delta = delta
            self.gamma = gamma
            self.vega = vega
            self.theta = theta
            self.rho = rho
        }

        public static let zero = Greeks(delta: 0, gamma: 0, vega: 0, theta: 0, rho: 0)
    }

    /// The book's risk at one moment: Greeks per layer and total, stress P&L per named scenario.
    public struct Risk: Sendable, Codable, Equatable {
        /// Layer name (and "condor") → Greeks.
        public var layers: [String: Greeks]
        public var total: Greeks
        /// Scenario name → P&L of the whole book in dollars.
        public var stressPnL: [String: Double]

        public init(layers: [String: Greeks], total: Greeks, stressPnL: [String: Double]) {
            self.layers = layers
            self.total = total
            self.stressPnL = stressPnL
        }
    }
}
