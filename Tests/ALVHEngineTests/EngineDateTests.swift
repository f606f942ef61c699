import Foundation
import Testing
@testable import ALVHEngine

/// The engine's hand date arithmetic against Foundation's calendar and ISO 8601 formatter.
@Suite("Engine dates")
struct EngineDateTests {
    @Test("YYYY-MM-DD parse and format agree with Foundation's Gregorian calendar, 1900–2200, leap days included")
    func civilDates() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var day = try #require(calendar.date(from: DateComponents(year: 1900, month: 1, day: 1)))
        let end = try #require(calendar.date(from: DateComponents(year: 2200, month: 12, day: 31)))
        var checked = 0
        while day <= end {
            let c = calendar.dateComponents([.year, .month, .day], from: day)
            let text = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
            #expect(EngineDate.parse(text) == day, "\(text)")
            #expect(EngineDate.format(day) == text)
            day = day.addingTimeInterval(86400 * 7 + 3600) // every week, off midnight for format
            day = calendar.startOfDay(for: day)
            checked += 1
        }
        #expect(checked > 15_000)
        for bad in ["2026-02-29", "2100-02-29", "2026-13-01", "2026-04-31", "2026-1-01", "20260101xx", "1899-12-31"] {
            #expect(EngineDate.parse(bad) == nil, "\(bad)")
        }
        #expect(EngineDate.parse("2000-02-29") != nil)
    }

    @Test("instants: Z and ±HH:MM by hand, the same as ISO8601DateFormatter")
    func instants() {
        let formatter = ISO8601DateFormatter()
        for text in ["2026-11-18T21:00:00Z", "2026-03-08T07:30:59Z", "2026-11-18T16:00:00-05:00", "2026-06-01T09:15:00+02:00",
                     "2000-02-29T23:59:59Z", "2026-11-18T21:00:00.5Z", "2026-11-18 21:00:00Z", "nonsense"] {
            #expect(EngineDate.parseInstant(text) == formatter.date(from: text), "\(text)")
        }
    }
}
