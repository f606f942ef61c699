import Foundation

/// What a fill costs beyond the model mid: the half-spread a limit order gives up and the
/// commission per contract. A snapshot carries it (`"execution": {…}`) so that a signer
/// recomputes a proposal's cost from the snapshot the proposal cites.
///
/// - Limit prices: a buy at mid + half-spread rounded *up* to the exchange's tick grid, a sale at
///   mid − half-spread rounded *down* (at least one tick) — ``TickSchedule``.
/// - Half-spread: max(`halfSpreadPoints`, `halfSpreadFraction` × mid), VIX points.
/// - Commission: dollars per contract, all-in (broker, exchange and regulatory fees), on every
///   contract bought or sold.
///
/// The standard figures are a desk default (a nickel-wide market on cheap VIX options, 3 % of the
/// mid on dearer ones; $1.00 a contract all-in), not a quote: set your own.
public struct Execution: Sendable, Codable, Equatable {
    /// Dollars per contract, every leg.
    public var commissionPerContract: Double
    /// The least half-spread, VIX points.
    public var halfSpreadPoints: Double
    /// The half-spread as a fraction of the mid, when larger.
    public var halfSpreadFraction: Double

    public init(commissionPerContract: Double, halfSpreadPoints: Double, halfSpreadFraction: Double) {
        self.commissionPerContract = commissionPerContract
        self.halfSpreadPoints = halfSpreadPoints
        self.halfSpreadFraction = halfSpreadFraction
    }

    public static let standard = Execution(commissionPerContract: 1.00, halfSpreadPoints: 0.025, halfSpreadFraction: 0.03)

    /// The half-spread at `mid`, VIX points.
    public func halfSpread(mid: Double) -> Double { max(halfSpreadPoints, halfSpreadFraction * mid) }

    /// The limit price for buying (`quantity` > 0) or selling at a model `mid`: on the VIX tick grid.
    public func limitPrice(mid: Double, buying: Bool) -> Double {
        buying ? TickSchedule.roundUp(.vix, price: mid + halfSpread(mid: mid))
               : TickSchedule.roundDown(.vix, price: mid - halfSpread(mid: mid))
    }

    /// Commissions in dollars for `contracts` contracts (bought or sold).
    public func commissionDollars(contracts: Int) -> Double {
        commissionPerContract * Double(contracts.magnitude)
    }

    func validate(path: String) throws {
        guard commissionPerContract.isFinite, (0...100).contains(commissionPerContract) else {
            throw EngineError(.invalidSnapshot, "must be dollars per contract between 0 and 100", path: "\(path).commissionPerContract")
        }
        guard halfSpreadPoints.isFinite, (0...10).contains(halfSpreadPoints) else {
            throw EngineError(.invalidSnapshot, "must be VIX points between 0 and 10", path: "\(path).halfSpreadPoints")
        }
        guard halfSpreadFraction.isFinite, (0...1).contains(halfSpreadFraction) else {
            throw EngineError(.invalidSnapshot, "must be a fraction of the mid between 0 and 1", path: "\(path).halfSpreadFraction")
        }
    }
}

/// A release the engine plans around: FOMC statement or CPI, at its instant.
public struct ScheduledRelease: Sendable, Codable, Equatable {
    public enum Source: String, Sendable, Codable { case shipped, snapshot }
    public var kind: String
    /// YYYY-MM-DD, New York.
    public var date: String
    public var instant: Date
    public var name: String
    /// An FOMC meeting with a Summary of Economic Projections.
    public var projections: Bool
    /// The shipped calendar or the snapshot's own events.
    public var source: Source
}
