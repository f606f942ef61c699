import Foundation

/// The standard normal distribution, accurate to double precision in the tails (erfc-based).
public enum Normal {
    /// N(x) = ½·erfc(−x/√2).
    @inlinable
    public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x * 0.7071067811865475244) }

    /// n(x) = e^(−x²/2)/√(2π).
    @inlinable
    public static func pdf(_ x: Double) -> Double { 0.3989422804014326779 * exp(-0.5 * x * x) }
}
