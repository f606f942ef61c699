import Foundation
@testable import ALVHEngine

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = root.deletingLastPathComponent().appendingPathComponent("shared/data")
    static var sharedDataPresent: Bool { FileManager.default.fileExists(atPath: shared.appendingPathComponent("vix-daily.csv").path) }

    static func snapshot(_ name: String) throws -> MarketSnapshot {
        try MarketSnapshot.load(path: root.appendingPathComponent("Examples/market/\(name).json").path)
    }

    static func book() throws -> Book { try Book.load(path: root.appendingPathComponent("Examples/book/condor.json").path) }

    static func close(_ a: Double, _ b: Double, _ tolerance: Double) -> Bool { abs(a - b) <= tolerance }
}
