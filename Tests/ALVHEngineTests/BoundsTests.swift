import Foundation
import Testing
@testable import ALVHEngine

/// Hostile numbers in a layer change or a book are refused with the field named — never a trap
/// (an `Int.max` quantity used to crash `Book.applying` on `+` before any decision was recorded).
@Suite("Bounded numbers, checked arithmetic")
struct BoundsTests {
    static func change(quantity: Int = 1, price: Double = 1, strike: Double = 20, layer: String = "short-term",
                       kind: LayerChange.Kind = .addLayer) -> LayerChange {
        LayerChange(kind: kind, layer: layer, trades: [Trade(expiry: "2026-12-16", strike: strike, quantity: quantity, price: price)])
    }

    static func refusal(_ body: () throws -> Book) -> EngineError? {
        do { _ = try body(); return nil } catch { return error as? EngineError }
    }

    @Test("the bounds are the documented ones")
    func constants() {
        #expect(Trade.maxAbsQuantity == 100_000)
        #expect(Trade.maxPrice == 10_000)
        #expect(Trade.maxStrike == 100_000)
    }

    @Test("a trade's quantity: Int.max, Int.min, 0 and just over the limit are refused naming the leg's quantity",
          arguments: [Int.max, Int.min, 0, 100_001, -100_001, Int.max - 1, Int.min + 1])
    func quantity(_ quantity: Int) throws {
        let book = try Fixtures.book()
        let error = Self.refusal { try book.applying(Self.change(quantity: quantity)) }
        #expect(error?.code == .invalidChange)
        #expect(error?.path == "change.legs[0].quantity")
        #expect(error?.reason.contains("100000") == true)
    }

    @Test("a trade's price: 0, negative, NaN, ±∞ and over 10,000 are refused naming the leg's price",
          arguments: [0, -1, -0.0, Double.nan, Double.infinity, -Double.infinity, 10_000.01, 1e300, Double.greatestFiniteMagnitude])
    func price(_ price: Double) throws {
        let book = try Fixtures.book()
        let error = Self.refusal { try book.applying(Self.change(price: price)) }
        #expect(error?.code == .invalidChange)
        #expect(error?.path == "change.legs[0].price")
    }

    @Test("a trade's strike: 0, negative, NaN, ∞ and over 100,000 are refused naming the leg's strike",
          arguments: [0, -5, Double.nan, Double.infinity, 100_000.5, 1e300])
    func strike(_ strike: Double) throws {
        let book = try Fixtures.book()
        let error = Self.refusal { try book.applying(Self.change(strike: strike)) }
        #expect(error?.code == .invalidChange)
        #expect(error?.path == "change.legs[0].strike")
    }

    @Test("the limits themselves are accepted")
    func atTheLimits() throws {
        let book = try Fixtures.book()
        let next = try book.applying(Self.change(quantity: Trade.maxAbsQuantity, price: Trade.maxPrice, strike: Trade.maxStrike))
        #expect(next.layer(named: "short-term")?.positions.first?.quantity == Trade.maxAbsQuantity)
    }

    @Test("adding to an existing position past the limit is refused, not overflowed")
    func overflowOnExistingPosition() throws {
        let book = try Fixtures.book().applying(Self.change(quantity: 60_000))
        let error = Self.refusal { try book.applying(Self.change(quantity: 60_000, kind: .resizeLayer)) }
        #expect(error?.code == .invalidChange)
        #expect(error?.path == "change.legs[0].quantity")
        #expect(error?.reason.contains("buy at most 40000 more") == true)

        // A book that was never validated (decoded straight from JSON) holding Int.max contracts:
        // a further buy would overflow `+`; it is refused.
        var hostile = try Fixtures.book()
        hostile.layers.append(HedgeLayer(name: "short-term", positions: [
            Position(expiry: "2026-12-16", strike: 20, quantity: .max, entryPrice: 1)]))
        let overflow = Self.refusal { try hostile.applying(Self.change(quantity: 1, kind: .resizeLayer)) }
        #expect(overflow?.path == "change.legs[0].quantity")
        #expect(hostile.layer(named: "short-term")?.contracts == .max)
    }

    @Test("a book's positions and condor are bounded too, naming the field",
          arguments: [
            (#""quantity": 30"#, #""quantity": 9223372036854775807"#, "layers[0].positions[0].quantity"),
            (#""entryPrice": 0.35"#, #""entryPrice": 0"#, "layers[0].positions[0].entryPrice"),
            (#""strike": 30"#, #""strike": 1e6"#, "layers[0].positions[0].strike"),
            (#""quantity": 10"#, #""quantity": -9223372036854775808"#, "condor.quantity"),
            (#""quantity": 10"#, #""quantity": 100001"#, "condor.quantity"),
            (#""longCall": 6500"#, #""longCall": 1e9"#, "condor.longCall"),
            (#""creditPerUnit": 43.4"#, #""creditPerUnit": 20000"#, "condor.creditPerUnit"),
          ])
    func bookBounds(_ original: String, _ replacement: String, _ field: String) throws {
        let source = Fixtures.root.appendingPathComponent("Examples/book/condor.json")
        let text = try String(contentsOf: source, encoding: .utf8)
        #expect(text.contains(original))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("alvh-bounds-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try text.replacingOccurrences(of: original, with: replacement).write(to: url, atomically: true, encoding: .utf8)
        do {
            _ = try Book.load(path: url.path)
            Issue.record("accepted \(replacement)")
        } catch let error as EngineError {
            #expect(error.code == .invalidBook)
            #expect(error.path == "\(url.path).\(field)")
        }
    }

    @Test("sizing clamps a huge computed contract count instead of trapping Int(_:)")
    func sizingClamps() {
        #expect(Trade.contracts(1e300) == Trade.maxAbsQuantity)
        #expect(Trade.contracts(.infinity) == Trade.maxAbsQuantity)
        #expect(Trade.contracts(.nan) == 0)
        #expect(Trade.contracts(-3) == 0)
        #expect(Trade.contracts(41.9) == 41)
        #expect(whole(.nan) == "nan")
        #expect(whole(1e300) == "1e+300")
        #expect(whole(42.7) == "42")
    }
}
