/// The exchange's minimum price increments (ticks) for simple (single-leg) orders in VIX and SPX
/// options, as Cboe publishes them today (sources and dates: `docs/calendar.md`):
///
/// | Instrument | premium below 3.00 | premium 3.00 and above |
/// |------------|--------------------|------------------------|
/// | VIX        | 0.01               | 0.05                   |
/// | SPX        | 0.05               | 0.10                   |
///
/// (Complex-order legs may trade in 0.01; this table is for what one leg is quoted in.)
/// Prices are read to the micro-unit and every result is computed in integer cents, so a result
/// is exactly the `Double` of its decimal (0.15, not 0.15000000000000002).
///
/// ```swift
/// TickSchedule.roundUp(.spx, price: 2.91)     // 2.95 (buy at or above)
/// TickSchedule.roundDown(.vix, price: 3.07)   // 3.05 (sell at or below)
/// ```
public enum TickSchedule {
    /// The price (in cents) from which the larger tick applies.
    static let breakCents = 300

    /// The tick in cents below and from ``breakCents``.
    static func ticks(_ instrument: Instrument) -> (below: Int, above: Int) {
        switch instrument {
        case .vix: return (1, 5)
        case .spx: return (5, 10)
        }
    }

    /// The largest price, in points, the grid arithmetic handles; beyond it (or for NaN/±∞) a
    /// price is left as it is and is not on the grid — the bounds of the caller refuse it.
    static let maxGridPrice = 1_000_000_000.0

    /// Micro-units (1e-6) of a price, rounded to the nearest; nil beyond ``maxGridPrice`` or not
    /// finite (converting such a Double to Int would trap).
    static func micros(_ price: Double) -> Int? {
        guard price.isFinite, price.magnitude <= maxGridPrice else { return nil }
        return Int((price * 1_000_000).rounded())
    }

    static func dollars(_ cents: Int) -> Double { Double(cents) / 100 }

    /// The minimum increment for an option quoted at `price`.
    public static func tick(_ instrument: Instrument, price: Double) -> Double {
        dollars(tickCents(instrument, micros: micros(price) ?? Int.max))
    }

    static func tickCents(_ instrument: Instrument, micros: Int) -> Int {
        let t = ticks(instrument)
        return micros < breakCents * 10_000 ? t.below : t.above
    }

    /// The price a buyer pays: the grid price at or above `price`, and at least one minimum tick.
    public static func roundUp(_ instrument: Instrument, price: Double) -> Double {
        let t = ticks(instrument)
        guard let p = micros(price) else { return price }
        guard p > t.below * 10_000 else { return dollars(t.below) }
        let step = tickCents(instrument, micros: p) * 10_000
        let up = (p + step - 1) / step * step       // p > 0 here, so integer division is a floor
        return dollars(up / 10_000)
    }

    /// The price a seller accepts: the grid price at or below `price`, and at least one minimum tick.
    public static func roundDown(_ instrument: Instrument, price: Double) -> Double {
        let t = ticks(instrument)
        guard let p = micros(price) else { return price }
        guard p > t.below * 10_000 else { return dollars(t.below) }
        let step = tickCents(instrument, micros: p) * 10_000
        return dollars(p / step * step / 10_000)
    }

    /// True when `price` is positive and a whole number of ticks (to the micro-unit).
    public static func isOnGrid(_ instrument: Instrument, price: Double) -> Bool {
        guard let p = micros(price), p > 0 else { return false }
        return p % (tickCents(instrument, micros: p) * 10_000) == 0
    }
}
