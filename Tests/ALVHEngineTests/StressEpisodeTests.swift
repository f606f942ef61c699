import Foundation
import Testing
@testable import ALVHEngine

/// Every number in StressEpisodes.swift, recomputed from the shared CBOE VIX and S&P 500 files.
/// Tolerances: closes exact; log rises and slopes 1e-3 (stored to 4–5 decimals); points rises 0.005.
@Suite("Stress episodes and their calibration")
struct StressEpisodeTests {
    static func histories() throws -> (vix: DailyHistory, spx: DailyHistory) {
        (try DailyHistory.load(path: Fixtures.shared.appendingPathComponent("vix-daily.csv").path),
         try DailyHistory.load(path: Fixtures.shared.appendingPathComponent("spx-daily.csv").path))
    }

    static func dayNumbers(_ history: DailyHistory) -> [Int] {
        history.days.map { Int((EngineDate.parse($0.date)!.timeIntervalSince1970 / 86400).rounded()) }
    }

    /// OLS slope (with intercept) of y on x.
    static func slope(_ x: [Double], _ y: [Double]) -> Double {
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        var sxy = 0.0, sxx = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx) }
        return sxy / sxx
    }

    /// OLS with intercept on the given regressors; returns coefficients (intercept first) and R².
    static func ols(_ columns: [[Double]], _ y: [Double]) -> (beta: [Double], r2: Double) {
        let k = columns.count + 1, n = y.count
        func row(_ i: Int) -> [Double] { [1] + columns.map { $0[i] } }
        var a = [[Double]](repeating: [Double](repeating: 0, count: k + 1), count: k)
        for i in 0..<n {
            let x = row(i)
            for p in 0..<k {
                for q in 0..<k { a[p][q] += x[p] * x[q] }
                a[p][k] += x[p] * y[i]
            }
        }
        for p in 0..<k {   // Gauss–Jordan with partial pivoting
            let pivot = (p..<k).max { abs(a[$0][p]) < abs(a[$1][p]) }!
            a.swapAt(p, pivot)
            for r in 0..<k where r != p {
                let f = a[r][p] / a[p][p]
                for c in p...k { a[r][c] -= f * a[p][c] }
            }
        }
        let beta = (0..<k).map { a[$0][k] / a[$0][$0] }
        let mean = y.reduce(0, +) / Double(n)
        var ssr = 0.0, sst = 0.0
        for i in 0..<n {
            let fit = zip(beta, row(i)).reduce(0) { $0 + $1.0 * $1.1 }
            ssr += (y[i] - fit) * (y[i] - fit)
            sst += (y[i] - mean) * (y[i] - mean)
        }
        return (beta, 1 - ssr / sst)
    }

    @Test("every non-hypothetical episode's four closes are the files' closes", .enabled(if: Fixtures.sharedDataPresent))
    func episodeCloses() throws {
        let (vix, spx) = try Self.histories()
        let real = StressEpisode.all.filter { !$0.hypothetical }
        #expect(real.count == 6)
        for e in real {
            #expect(spx.close(on: e.from) == e.spxFrom, "\(e.name) spxFrom")
            #expect(spx.close(on: e.to) == e.spxTo, "\(e.name) spxTo")
            #expect(vix.close(on: e.from) == e.vixFrom, "\(e.name) vixFrom")
            #expect(vix.close(on: e.to) == e.vixTo, "\(e.name) vixTo")
            // `to` is the highest VIX close of the window (the episode's peak).
            let window = vix.days.filter { $0.date >= e.from && $0.date <= e.to }.map(\.close)
            #expect(window.max() == e.vixTo, "\(e.name) peak")
        }
        // The hypothetical one is not in the files: the VIX file starts in 1990.
        for e in StressEpisode.all where e.hypothetical {
            #expect(vix.close(on: e.from) == nil && vix.close(on: e.to) == nil, "\(e.name)")
        }
    }

    @Test("episode arithmetic: moves, log changes, days; names unique")
    func episodeArithmetic() throws {
        for e in StressEpisode.all where e.vixTo > e.vixFrom { #expect(e.vixLogChange > 0, "\(e.name)") }
        #expect(Set(StressEpisode.all.map(\.name)).count == StressEpisode.all.count)
        let crash87 = try #require(StressEpisode.named("oct-1987-style"))
        #expect(crash87.hypothetical)
        #expect(abs(crash87.spxMovePercent - (-20.467)) < 0.001)
        #expect(crash87.days == 3)
        let covid = try #require(StressEpisode.named("covid-2020"))
        #expect(abs(covid.vixLogChange - log(82.69 / 14.38)) < 1e-12)
        #expect(covid.days == 26)
        #expect(StressEpisode.named("oct-2008")?.days == 45)
        #expect(StressEpisode.named("volmageddon-2018")?.days == 4)
        // Codable round trip.
        let data = try JSONEncoder().encode(StressEpisode.all)
        #expect(try JSONDecoder().decode([StressEpisode].self, from: data) == StressEpisode.all)
    }

    @Test("max VIX close and the max rises over 1…90 calendar days", .enabled(if: Fixtures.sharedDataPresent))
    func maxRises() throws {
        let (vix, _) = try Self.histories()
        let top = try #require(vix.days.max { $0.close < $1.close })
        #expect(top.close == StressCalibration.maxVIXClose.value && top.date == StressCalibration.maxVIXClose.date)
        let bottom = try #require(vix.days.min { $0.close < $1.close })
        #expect(bottom.close == StressCalibration.minVIXClose.value && bottom.date == StressCalibration.minVIXClose.date)

        let horizons = StressCalibration.riseHorizons
        #expect(StressCalibration.maxLogRise.map(\.days) == horizons && StressCalibration.maxPointsRise.map(\.days) == horizons)
        let day = Self.dayNumbers(vix), close = vix.closes
        var bestLog = [Double](repeating: -.infinity, count: horizons.count)
        var bestPoints = bestLog
        for a in close.indices {
            var b = a + 1
            while b < close.count, day[b] - day[a] <= Int(horizons.last!) {
                let gap = Double(day[b] - day[a]), l = log(close[b] / close[a]), p = close[b] - close[a]
                for (i, h) in horizons.enumerated() where gap <= h {
                    bestLog[i] = max(bestLog[i], l)
                    bestPoints[i] = max(bestPoints[i], p)
                }
                b += 1
            }
        }
        for (i, h) in horizons.enumerated() {
            #expect(abs(StressCalibration.maxLogRise[i].value - bestLog[i]) < 1e-3, "log rise \(h) d: \(bestLog[i])")
            #expect(abs(StressCalibration.maxPointsRise[i].value - bestPoints[i]) < 0.005, "points rise \(h) d: \(bestPoints[i])")
        }
        #expect(abs(StressCalibration.maxPointsRise(days: 3) - 28.17) < 1e-9)
    }

    @Test("crash and normal persistence tables; crash 30/60 d ≈ 0.34/0.21", .enabled(if: Fixtures.sharedDataPresent))
    func persistence() throws {
        let (vix, _) = try Self.histories()
        let close = vix.closes
        for (table, crash) in [(StressCalibration.crashPersistence, true), (StressCalibration.normalPersistence, false)] {
            #expect(table.map(\.days) == StressCalibration.persistenceHorizons)
            for point in table {
                let n = StressCalibration.closesAhead(calendarDays: point.days)
                var x: [Double] = [], y: [Double] = []
                for t in close.indices where t + n < close.count && (close[t] > StressCalibration.crashThreshold) == crash {
                    x.append(close[t])
                    y.append(close[t + n])
                }
                let value = n == 0 ? 1 : Self.slope(x, y)
                #expect(abs(point.value - value) < 1e-3, "\(crash ? "crash" : "normal") \(point.days) d: \(value)")
            }
        }
        let at30 = try #require(StressCalibration.crashPersistence.first { $0.days == 30 })
        let at60 = try #require(StressCalibration.crashPersistence.first { $0.days == 60 })
        #expect(abs(at30.value - 0.34) <= 0.05 && abs(at60.value - 0.21) <= 0.05)
        #expect(StressCalibration.closesAhead(calendarDays: 30) == 21 && StressCalibration.closesAhead(calendarDays: 60) == 41)
        // The interpolating accessor: non-increasing, crash table above 45.
        #expect(abs(StressCalibration.persistence(days: 30, vixAfterShock: 60) - 0.3398) < 1e-9)
        #expect(abs(StressCalibration.persistence(days: 90, vixAfterShock: 60) - 0.2102) < 1e-9)
        #expect(abs(StressCalibration.persistence(days: 45, vixAfterShock: 30) - (0.7850 + 0.6637) / 2) < 1e-9)
        var previous = 1.0
        for d in stride(from: 0.0, through: 300, by: 5) {
            let p = StressCalibration.persistence(days: d, vixAfterShock: 50)
            #expect(p <= previous + 1e-12)
            previous = p
        }
    }

    @Test("SPX → ln VIX response: hinge fit and down-only slopes at 1, 5, 21 trading days", .enabled(if: Fixtures.sharedDataPresent))
    func spxResponse() throws {
        let (vix, spx) = try Self.histories()
        let spxByDate = Dictionary(uniqueKeysWithValues: spx.days.map { ($0.date, $0.close) })
        let joined = vix.days.compactMap { day in spxByDate[day.date].map { (vix: day.close, spx: $0) } }
        #expect(joined.count == 9202)
        #expect(StressCalibration.vixLogResponsePerSPXPercent.map(\.horizonTradingDays) == [1, 5, 21])
        for fit in StressCalibration.vixLogResponsePerSPXPercent {
            let h = fit.horizonTradingDays
            var r: [Double] = [], y: [Double] = []
            for t in 0..<(joined.count - h) {
                r.append((joined[t + h].spx / joined[t].spx - 1) * 100)
                y.append(log(joined[t + h].vix / joined[t].vix))
            }
            let hinge = Self.ols([r.map { min($0, 0) }, r.map { max($0, 0) }], y)
            #expect(abs(hinge.beta[0] - fit.intercept) < 1e-3, "h \(h) intercept \(hinge.beta[0])")
            #expect(abs(hinge.beta[1] - fit.slopeDown) < 1e-3, "h \(h) down \(hinge.beta[1])")
            #expect(abs(hinge.beta[2] - fit.slopeUp) < 1e-3, "h \(h) up \(hinge.beta[2])")
            #expect(abs(hinge.r2 - fit.r2) < 1e-3, "h \(h) R² \(hinge.r2)")
            let down = r.indices.filter { r[$0] < 0 }
            let plain = Self.ols([down.map { r[$0] }], down.map { y[$0] })
            #expect(abs(plain.beta[1] - fit.downOnlySlope) < 1e-3, "h \(h) down-only \(plain.beta[1])")
            #expect(abs(plain.r2 - fit.downOnlyR2) < 1e-3, "h \(h) down-only R² \(plain.r2)")
        }
        // Ladder: monotone in the move, zero at zero, capped by the historical max log rise.
        #expect(StressCalibration.vixLogResponse(spxMovePercent: 0, horizonTradingDays: 1) == 0)
        #expect(abs(StressCalibration.vixLogResponse(spxMovePercent: -10, horizonTradingDays: 1) - 0.5081) < 1e-9)
        #expect(StressCalibration.vixLogResponse(spxMovePercent: -30, horizonTradingDays: 1) <= StressCalibration.maxLogRise(days: 365.0 / 252))
        let ladder = [-30.0, -20, -10, -5, 0, 5, 10].map { StressCalibration.vixLogResponse(spxMovePercent: $0, horizonTradingDays: 21) }
        #expect(zip(ladder, ladder.dropFirst()).allSatisfy { $0 >= $1 })
    }
}
