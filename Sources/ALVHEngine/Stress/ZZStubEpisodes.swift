// TEMPORARY stub of the stress helper's API; removed when branch `stress-episodes` merges.
import Foundation
public struct StressEpisode: Sendable, Codable, Equatable {
    public var name: String
    public var from: String
    public var to: String
    public var spxFrom: Double, spxTo: Double
    public var vixFrom: Double, vixTo: Double
    public var hypothetical: Bool
    public var source: String
    public var spxMovePercent: Double { (spxTo / spxFrom - 1) * 100 }
    public var vixLogChange: Double { log(vixTo / vixFrom) }
    public var days: Double { 3 }
}
public enum StressCalibration {}
extension StressEpisode {
    public static let catalog: [StressEpisode] = [
        StressEpisode(name: "covid-2020-03-16", from: "2020-02-21", to: "2020-03-16", spxFrom: 3337.75, spxTo: 2386.13, vixFrom: 17.08, vixTo: 82.69, hypothetical: false, source: "x"),
    ]
}
extension StressCalibration {
    public static let maxVIXClose = 82.69
    public static let minVIXClose = 9.14
    public static func maxLogRise(days: Double) -> Double { 1.8 }
    public static func maxPointsRise(days: Double) -> Double { 60 }
    public static func crashPersistence(days: Double) -> Double { exp(-days / 30) }
}
