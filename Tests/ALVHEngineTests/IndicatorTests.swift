import Foundation
import Testing
@testable import ALVHEngine

@Suite("Indicators")
struct IndicatorTests {
    /// Wilder's classic RSI series (values hand-computed with the definitions, see comments).
    static let series = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28, 46.28,
                         46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25, 45.71, 46.45, 45.78, 45.35, 44.03, 44.18, 44.22, 44.57,
                         43.42, 42.66, 43.13]

    static func wave(_ i: Int) -> Double {
        let x: Double = Double(i) / 5
        return 100 + 10 * sin(x)
    }

    @Test("EMA is seeded with the simple average and uses α = 2/(n+1)")
    func ema() {
        let e = Indicators.ema([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], period: 3)
        #expect(e[0] == nil && e[1] == nil)
        #expect(e[2] == 2.0)  // (1+2+3)/3
        #expect(e[3] == 3.0)  // 2 + 0.5·(4 − 2)
        #expect(e[9] == 9.0)
    }

    @Test("Wilder RSI(14): 70.464 on the 15th value, 37.789 on the last")
    func rsi() {
        let r = Indicators.rsi(Self.series)
        #expect(r[13] == nil)
        #expect(abs(r[14]! - 70.46413502109705) < 1e-9)
        #expect(abs(r.last!! - 37.788771982057824) < 1e-9)
    }

    @Test("MACD(12,26,9) on a deterministic series matches the hand computation")
    func macd() {
        let s: [Double] = (0..<60).map { (i: Int) -> Double in Self.wave(i) + Double(i) * 0.1 }
        let m = Indicators.macd(s)
        #expect(m[24] == nil)
        #expect(m[25]?.signal == nil)
        #expect(abs(m[33]!.signal! - (-4.2005204646077186)) < 1e-9)
        #expect(abs(m[59]!.macd - (-2.549125800218846)) < 1e-9)
        #expect(abs(m[59]!.signal! - (-2.0309636012503325)) < 1e-9)
    }

    @Test("a bearish MACD crossover is seen on the day it happens, and only then")
    func crossover() {
        let s: [Double] = (0..<80).map { (i: Int) -> Double in Self.wave(i) }
        let crossings = (30..<80).filter { Indicators.macdBearishCrossover(Array(s[0...$0])) }
        #expect(!crossings.isEmpty)
        for day in crossings {
            let m = Indicators.macd(Array(s[0...day]))
            #expect(m[day - 1]!.histogram! >= 0 && m[day]!.histogram! < 0)
        }
    }

    @Test("percentile and term structure")
    func percentileAndCurve() throws {
        #expect(Indicators.percentile([1, 2, 3, 4], lookback: 4) == 100)
        #expect(Indicators.percentile([4, 3, 2, 1], lookback: 4) == 25)
        #expect(Indicators.percentile([9, 1, 2, 3], lookback: 3) == 100)
        let calm = try #require(TermStructure(try Fixtures.snapshot("calm")))
        #expect(!calm.isBackwardation && abs(calm.slopePoints - 2.2) < 1e-9)
        #expect(try #require(TermStructure(try Fixtures.snapshot("spike"))).isBackwardation)
    }

    @Test("the real VIX file: 9,235 days, 2020-03-16 closed at 82.69, the record; percentile of that day is 100",
          .enabled(if: Fixtures.sharedDataPresent))
    func realVIX() throws {
        let vix = try DailyHistory.load(path: Fixtures.shared.appendingPathComponent("vix-daily.csv").path)
        #expect(vix.days.count == 9235)
        #expect(vix.close(on: "2020-03-16") == 82.69)
        #expect(vix.close(on: "2008-11-20") == 80.86)
        let upTo = vix.upTo("2020-03-16").closes
        #expect(Indicators.percentile(upTo, lookback: upTo.count) == 100)
        let rsi = Indicators.rsi(upTo).last!!
        #expect(rsi > 70, "VIX RSI on 2020-03-16 was \(rsi)")
        let spx = try DailyHistory.load(path: Fixtures.shared.appendingPathComponent("spx-daily.csv").path)
        #expect(spx.close(on: "2020-03-16") == 2386.13)
    }

    @Test("history CSV errors name file:line:column")
    func csvErrors() throws {
        let cases: [(String, String)] = [
            ("DATE,CLOSE\n2020-01-02,x\n", "h.csv:2:2"),
            ("DATE,CLOSE\n2020-13-02,1\n", "h.csv:2:1"),
            ("DATE,CLOSE\n2020-01-03,1\n2020-01-02,1\n", "h.csv:3:1"),
            ("DAY,CLOSE\n", "h.csv:1"),
            ("DATE,CLOSE\n2020-01-02\n", "h.csv:2"),
            ("", "h.csv"),
        ]
        for (text, path) in cases {
            #expect { try DailyHistory.parse(Data(text.utf8), path: "h.csv") } throws: { ($0 as? EngineError)?.path == path }
        }
        #expect(try DailyHistory.parse(Data("DATE,CLOSE\r\n2020-01-02,3.5\r\n".utf8)).days.first?.close == 3.5)
    }
}
