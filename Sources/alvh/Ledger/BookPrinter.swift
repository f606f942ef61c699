import ALVHEngine

/// The human form of a book.
enum BookPrinter {
    static func print(_ book: Book) {
        let c = book.condor
        Console.out("  condor   \(c.quantity) × \(c.underlying) \(c.expiry) iron condor \(fmt(c.longPut))/\(fmt(c.shortPut)) puts, \(fmt(c.shortCall))/\(fmt(c.longCall)) calls")
        Console.out("           credit \(fmt(c.creditPerUnit)) pts = $\(fmt(c.creditDollars)), max loss $\(fmt(c.maxLossDollars))")
        if book.layers.isEmpty { Console.out("  layers   none") }
        for layer in book.layers {
            Console.out("  layer    \(layer.name)\(layer.kind.map { " (\($0.rawValue))" } ?? "")\(layer.targetCoverageDollars.map { ", target coverage $\(fmt($0))" } ?? "")")
            for p in layer.positions {
                Console.out("             \(p.quantity) × \(p.instrument) \(p.expiry) \(fmt(p.strike)) \(p.right.rawValue) @ \(fmt(p.entryPrice))")
            }
        }
    }

    static func fmt(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e12 ? String(Int(value)) : String(format: "%.2f", value)
    }
}
