/// An SPX iron condor: long put < short put < short call < long call, same expiry and quantity.
public struct IronCondor: Sendable, Codable, Equatable {
    /// "SPX".
    public var underlying: String
    /// Expiry date, YYYY-MM-DD.
    public var expiry: String
    /// Contracts per leg (1…`Trade.maxAbsQuantity`; the condor is sold: short the inner strikes, long the wings).
    public var quantity: Int
    public var longPut: Double
    public var shortPut: Double
    public var shortCall: Double
    public var longCall: Double
    /// Net credit received when the condor was sold, in index points per unit (× $100 × quantity = dollars).
    public var creditPerUnit: Double

    /// SPX options are $100 per index point.
    public static let multiplier = 100.0

    public init(underlying: String = "SPX", expiry: String, quantity: Int, longPut: Double, shortPut: Double,
                shortCall: Double, longCall: Double, creditPerUnit: Double) {
        self.underlying = underlying
        self.expiry = expiry
        self.quantity = quantity
        self.longPut = longPut
        self.shortPut = shortPut
        self.shortCall = shortCall
        self.longCall = longCall
        self.creditPerUnit = creditPerUnit
    }

    /// Credit received in dollars.
    public var creditDollars: Double { creditPerUnit * IronCondor.multiplier * Double(quantity) }

    /// The largest loss at expiry in dollars: the wider wing less the credit.
    public var maxLossDollars: Double {
        let wing = max(shortPut - longPut, longCall - shortCall)
        return (wing - creditPerUnit) * IronCondor.multiplier * Double(quantity)
    }

    /// The four legs as signed positions (negative = short).
    public var legs: [(right: OptionRight, strike: Double, quantity: Int)] {
        [(.put, longPut, quantity), (.put, shortPut, -quantity), (.call, shortCall, -quantity), (.call, longCall, quantity)]
    }

    public func validate(path: String) throws {
        if let problem = Trade.quantityProblem(quantity, longOnly: true) { throw EngineError(.invalidBook, problem, path: "\(path).quantity") }
        guard EngineDate.parse(expiry) != nil else { throw EngineError(.invalidBook, "must be a date YYYY-MM-DD", path: "\(path).expiry") }
        for (field, strike) in [("longPut", longPut), ("shortPut", shortPut), ("shortCall", shortCall), ("longCall", longCall)] {
            if let problem = Trade.strikeProblem(strike) { throw EngineError(.invalidBook, problem, path: "\(path).\(field)") }
        }
        if let problem = Trade.priceProblem(creditPerUnit) { throw EngineError(.invalidBook, problem, path: "\(path).creditPerUnit") }
        guard longPut < shortPut, shortPut < shortCall, shortCall < longCall else {
            throw EngineError(.invalidBook, "strikes must satisfy longPut < shortPut < shortCall < longCall", path: path)
        }
    }
}
