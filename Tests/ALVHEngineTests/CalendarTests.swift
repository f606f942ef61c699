import Foundation
import Testing
@testable import ALVHEngine

/// The exchange calendar: days, New York time, holidays, expiries, ticks and the shipped releases.
@Suite("Calendar")
struct CalendarTests {
    func day(_ text: String) -> CalendarDay { CalendarDay(text)! }

    func utc(_ text: String) -> Date { EngineDate.parseInstant(text)! }

    // MARK: CalendarDay

    @Test("CalendarDay parses real dates only, formats, counts days and numbers weekdays like Foundation")
    func calendarDay() throws {
        #expect(day("2026-12-16").text == "2026-12-16")
        #expect(day("2026-12-16").weekday == 3)
        #expect(day("1970-01-01").daysSinceEpoch == 0)
        #expect(day("1970-01-01").weekday == 4)
        #expect(CalendarDay(daysSinceEpoch: -1) == day("1969-12-31"))
        #expect(day("2026-12-16").adding(days: 30) == day("2027-01-15"))
        #expect(day("2024-02-28").adding(days: 1) == day("2024-02-29"))
        #expect(CalendarDay(year: 2026, month: 3, day: 8).description == "2026-03-08")
        #expect(day("2026-12-31") < day("2027-01-01"))
        for bad in ["2026-02-29", "2026-13-01", "2026-04-31", "2026-1-01", "26-01-01", "", "2026-01-01T00:00:00Z"] {
            #expect(CalendarDay(bad) == nil, "\(bad)")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for n in stride(from: -25_000, through: 60_000, by: 37) {
            let d = CalendarDay(daysSinceEpoch: n)
            let date = Date(timeIntervalSince1970: TimeInterval(n) * 86400)
            let c = calendar.dateComponents([.year, .month, .day, .weekday], from: date)
            #expect(d.year == c.year && d.month == c.month && d.day == c.day)
            #expect(d.weekday == (c.weekday! + 5) % 7 + 1)   // Foundation: 1 = Sunday
            #expect(CalendarDay(d.text) == d)
        }
        let json = try JSONEncoder().encode([day("2026-12-16")])
        #expect(String(decoding: json, as: UTF8.self) == #"["2026-12-16"]"#)
        #expect(try JSONDecoder().decode([CalendarDay].self, from: json) == [day("2026-12-16")])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([CalendarDay].self, from: Data(#"["2026-02-30"]"#.utf8)) }
        #expect(CalendarDay.nth(3, weekday: 5, year: 2026, month: 12) == day("2026-12-18"))
        #expect(CalendarDay.last(weekday: 1, year: 2026, month: 5) == day("2026-05-25"))
    }

    // MARK: New York time

    @Test("09:30 New York is 14:30Z in winter and 13:30Z in summer, across the 2026 DST edges")
    func dstEdges() {
        let cases: [(String, Int, Int, String)] = [
            ("2026-03-06", 9, 30, "2026-03-06T14:30:00Z"),
            ("2026-03-07", 16, 0, "2026-03-07T21:00:00Z"),
            ("2026-03-08", 1, 59, "2026-03-08T06:59:00Z"),
            ("2026-03-08", 2, 30, "2026-03-08T07:30:00Z"),   // skipped: read in standard time (03:30 EDT)
            ("2026-03-08", 3, 0, "2026-03-08T07:00:00Z"),
            ("2026-03-08", 9, 30, "2026-03-08T13:30:00Z"),
            ("2026-03-09", 9, 30, "2026-03-09T13:30:00Z"),
            ("2026-10-30", 9, 30, "2026-10-30T13:30:00Z"),
            ("2026-11-01", 0, 30, "2026-11-01T04:30:00Z"),
            ("2026-11-01", 1, 30, "2026-11-01T05:30:00Z"),   // repeated: the first (EDT)
            ("2026-11-01", 2, 0, "2026-11-01T07:00:00Z"),
            ("2026-11-01", 9, 30, "2026-11-01T14:30:00Z"),
            ("2026-11-02", 16, 0, "2026-11-02T21:00:00Z"),
            ("2026-12-16", 9, 30, "2026-12-16T14:30:00Z"),
            ("2026-07-17", 16, 0, "2026-07-17T20:00:00Z"),
        ]
        for (d, h, m, expected) in cases {
            #expect(NewYorkTime.instant(day(d), hour: h, minute: m) == utc(expected), "\(d) \(h):\(m)")
            #expect(NewYorkTime.instant(day(d), hour: h, minute: m, source: .statutory) == utc(expected), "statutory \(d) \(h):\(m)")
        }
        #expect(NewYorkTime.day(of: utc("2026-12-17T04:59:59Z")) == day("2026-12-16"))
        #expect(NewYorkTime.day(of: utc("2026-12-17T05:00:00Z")) == day("2026-12-17"))
        #expect(NewYorkTime.day(of: utc("2026-07-01T03:59:59Z")) == day("2026-06-30"))
        #expect(NewYorkTime.day(of: utc("2026-07-01T04:00:00Z")) == day("2026-07-01"))
        #expect(NewYorkTime.day(of: Date(timeIntervalSince1970: 0)) == day("1969-12-31"))
    }

    @Test("the tz database and the statutory US rule agree on every day 1990–2035 at 09:30 and 16:00")
    func tzDatabaseAgreesWithStatute() throws {
        guard NewYorkTime.usesTimeZoneDatabase else {
            let message = "America/New_York is missing from the tz database (install tzdata: scripts/ensure-deps)"
            if ProcessInfo.processInfo.environment["CI"] != nil { Issue.record(Comment(rawValue: message)) } else { print("skipped: \(message)") }
            return
        }
        var zoneCalendar = Calendar(identifier: .gregorian)
        zoneCalendar.timeZone = try #require(NewYorkTime.zone)
        var d = day("1990-01-01")
        var checked = 0
        while d <= day("2035-12-31") {
            for (h, m) in [(9, 30), (16, 0)] {
                let db = NewYorkTime.instant(d, hour: h, minute: m, source: .tzDatabase)
                let statute = NewYorkTime.instant(d, hour: h, minute: m, source: .statutory)
                #expect(db == statute, "\(d) \(h):\(m)")
                #expect(NewYorkTime.day(of: db, source: .tzDatabase) == d)
                #expect(NewYorkTime.day(of: db, source: .statutory) == d)
                if d.day == 1 || d.weekday == 7 {   // and Foundation's own calendar arithmetic, spot-checked
                    let foundation = zoneCalendar.date(from: DateComponents(year: d.year, month: d.month, day: d.day, hour: h, minute: m))
                    #expect(foundation == db, "\(d) \(h):\(m) Foundation")
                }
                checked += 1
            }
            d = d.adding(days: 1)
        }
        #expect(checked == 2 * 16_801)   // 46 years, 11 of them leap
    }

    @Test("New York instants are cached: 200,000 lookups stay fast")
    func instantIsFast() {
        let start = Date()
        var sum = 0.0
        for i in 0..<200_000 {
            sum += NewYorkTime.instant(day("2026-01-01").adding(days: i % 730), hour: 9, minute: 30).timeIntervalSince1970
        }
        #expect(sum > 0)
        #expect(Date().timeIntervalSince(start) < 20)
    }

    // MARK: Holidays

    @Test("the full-day closures of 2026 and 2027, each rule and the observed shifts")
    func holidaysByRule() {
        let closed2026 = ["2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25",
                          "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25"]
        let closed2027 = ["2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31",
                          "2027-06-18", "2027-07-05", "2027-09-06", "2027-11-25", "2027-12-24"]
        for (year, expected) in [(2026, closed2026), (2027, closed2027)] {
            var found: [String] = []
            var d = CalendarDay(year: year, month: 1, day: 1)
            while d.year == year {
                if ExchangeCalendar.isHoliday(d) { found.append(d.text) }
                d = d.adding(days: 1)
            }
            #expect(found == expected, "\(year)")
        }
        #expect(ExchangeCalendar.holidayName(day("2026-04-03")) == "Good Friday")
        #expect(ExchangeCalendar.holidayName(day("2026-07-03")) == "Independence Day (observed)")
        #expect(ExchangeCalendar.holidayName(day("2027-06-18")) == "Juneteenth National Independence Day (observed)")
        #expect(ExchangeCalendar.holidayName(day("2026-12-24")) == nil)
        // New Year's Day on a Saturday closes nothing; on a Sunday, the Monday.
        for open in ["2010-12-31", "2021-12-31", "2027-12-31", "2032-12-31", "2038-12-31"] {
            #expect(ExchangeCalendar.isTradingDay(day(open)), "\(open)")
        }
        #expect(ExchangeCalendar.holidayName(day("2023-01-02")) == "New Year's Day (observed)")
        #expect(ExchangeCalendar.holidayName(day("2017-01-02")) == "New Year's Day (observed)")
        // Christmas and Independence Day shifts.
        #expect(ExchangeCalendar.isHoliday(day("2021-12-24")))
        #expect(ExchangeCalendar.isHoliday(day("2022-12-26")))
        #expect(ExchangeCalendar.isHoliday(day("2021-07-05")))
        #expect(ExchangeCalendar.isHoliday(day("2015-07-03")))
        // MLK from 1998; Juneteenth from 2022.
        #expect(!ExchangeCalendar.isHoliday(day("1997-01-20")))
        #expect(ExchangeCalendar.holidayName(day("1998-01-19")) == "Martin Luther King Jr. Day")
        #expect(!ExchangeCalendar.isHoliday(day("2021-06-18")))
        #expect(ExchangeCalendar.holidayName(day("2022-06-20")) == "Juneteenth National Independence Day (observed)")
        #expect(ExchangeCalendar.isHoliday(day("2024-06-19")))
        // Good Friday by the computus.
        for (year, easter) in [(1990, "1990-04-15"), (2000, "2000-04-23"), (2008, "2008-03-23"), (2019, "2019-04-21"),
                               (2024, "2024-03-31"), (2025, "2025-04-20"), (2038, "2038-04-25"), (2040, "2040-04-01")] {
            #expect(ExchangeCalendar.easter(year: year) == day(easter), "\(year)")
            #expect(ExchangeCalendar.holidayName(day(easter).adding(days: -2)) == "Good Friday")
        }
        // Monday/Thursday rules.
        #expect(ExchangeCalendar.holidayName(day("2026-02-16")) == "Washington's Birthday")
        #expect(ExchangeCalendar.holidayName(day("2026-05-25")) == "Memorial Day")
        #expect(ExchangeCalendar.holidayName(day("2026-09-07")) == "Labor Day")
        #expect(ExchangeCalendar.holidayName(day("2026-11-26")) == "Thanksgiving Day")
    }

    @Test("special closures, and every closure 1990–2040 falls on a weekday, 8–13 a year")
    func specialClosures() {
        for d in ["1994-04-27", "2001-09-11", "2001-09-12", "2001-09-13", "2001-09-14", "2004-06-11",
                  "2007-01-02", "2012-10-29", "2012-10-30", "2018-12-05", "2025-01-09"] {
            #expect(ExchangeCalendar.isHoliday(day(d)), "\(d)")
            #expect(!ExchangeCalendar.isTradingDay(day(d)))
        }
        #expect(ExchangeCalendar.holidayName(day("2025-01-09")) == "National Day of Mourning for President Jimmy Carter")
        for year in 1990...2040 {
            var count = 0
            var d = CalendarDay(year: year, month: 1, day: 1)
            while d.year == year {
                if ExchangeCalendar.isHoliday(d) {
                    count += 1
                    #expect(!d.isWeekend, "\(d)")
                }
                d = d.adding(days: 1)
            }
            #expect((8...13).contains(count), "\(year): \(count)")
        }
    }

    @Test("previous and next trading days step over weekends and holidays")
    func tradingDays() {
        #expect(ExchangeCalendar.previousTradingDay(before: day("2026-04-06")) == day("2026-04-02"))
        #expect(ExchangeCalendar.nextTradingDay(after: day("2026-12-24")) == day("2026-12-28"))
        #expect(ExchangeCalendar.nextTradingDay(after: day("2001-09-10")) == day("2001-09-17"))
        #expect(ExchangeCalendar.previousTradingDay(before: day("2012-10-31")) == day("2012-10-26"))
        #expect(ExchangeCalendar.isTradingDay(day("2026-12-16")))
        #expect(!ExchangeCalendar.isTradingDay(day("2026-12-19")))
    }

    // MARK: Expiries

    @Test("VIX expiries: the Wednesday 30 days before the next month's third Friday, holiday-adjusted")
    func vixExpiries() {
        let known: [(Int, Int, String)] = [
            (2026, 12, "2026-12-16"), (2027, 1, "2027-01-20"), (2027, 3, "2027-03-17"),
            // June 18, 2027 (the third Friday) is Juneteenth observed: the business day before the Wednesday.
            (2027, 5, "2027-05-18"),
            // Historical holiday adjustments: Good Friday as the following third Friday…
            (2008, 2, "2008-02-19"), (2014, 3, "2014-03-18"), (2019, 3, "2019-03-19"), (2022, 3, "2022-03-15"),
            // …Juneteenth on the Wednesday itself (2024) and on the third Friday (2026).
            (2024, 6, "2024-06-18"), (2026, 5, "2026-05-19"),
            // Unadjusted.
            (2024, 5, "2024-05-22"), (2026, 6, "2026-06-17"), (2026, 11, "2026-11-18"),
        ]
        for (y, m, expected) in known {
            #expect(ExchangeCalendar.vixExpiry(year: y, month: m) == day(expected), "\(y)-\(m)")
        }
        for year in 1990...2040 {
            for month in 1...12 {
                let e = ExchangeCalendar.vixExpiry(year: year, month: month)
                #expect(ExchangeCalendar.isTradingDay(e), "\(e)")
                #expect(e.year == year && e.month == month, "\(year)-\(month): \(e)")
                let friday = ExchangeCalendar.thirdFriday(year: month == 12 ? year + 1 : year, month: month % 12 + 1)
                #expect(e == friday.adding(days: -30) || e < friday.adding(days: -30))
            }
        }
        let list = ExchangeCalendar.vixExpiries(from: day("2026-12-01"), through: day("2027-05-31"))
        #expect(list.map(\.text) == ["2026-12-16", "2027-01-20", "2027-02-17", "2027-03-17", "2027-04-21", "2027-05-18"])
        #expect(ExchangeCalendar.vixExpiries(from: day("2026-12-17"), through: day("2027-01-19")).isEmpty)
        #expect(ExchangeCalendar.vixExpiries(from: day("2026-12-16"), through: day("2026-12-16")) == [day("2026-12-16")])
    }

    @Test("SPX monthlies: the third Friday, the Thursday before when it is Good Friday or Juneteenth")
    func spxExpiries() {
        #expect(ExchangeCalendar.thirdFriday(year: 2026, month: 12) == day("2026-12-18"))
        #expect(ExchangeCalendar.spxMonthlyExpiry(year: 2026, month: 12) == day("2026-12-18"))
        #expect(ExchangeCalendar.spxMonthlyExpiry(year: 2025, month: 4) == day("2025-04-17"))   // Good Friday 2025-04-18
        #expect(ExchangeCalendar.spxMonthlyExpiry(year: 2022, month: 4) == day("2022-04-14"))
        #expect(ExchangeCalendar.spxMonthlyExpiry(year: 2019, month: 4) == day("2019-04-18"))
        #expect(ExchangeCalendar.spxMonthlyExpiry(year: 2026, month: 6) == day("2026-06-18"))   // Juneteenth
        #expect(ExchangeCalendar.spxMonthlyExpiry(year: 2027, month: 6) == day("2027-06-17"))   // Juneteenth observed
        let list = ExchangeCalendar.spxMonthlyExpiries(from: day("2026-11-21"), through: day("2027-01-15"))
        #expect(list.map(\.text) == ["2026-12-18", "2027-01-15"])
    }

    @Test("settlement instants and last trades per product")
    func settlementAndLastTrade() {
        let vix = day("2026-12-16")
        #expect(ExchangeCalendar.settlementInstant(.vixOption, expiry: vix) == utc("2026-12-16T14:30:00Z"))
        #expect(ExchangeCalendar.settlementInstant(.vixFuture, expiry: vix) == utc("2026-12-16T14:30:00Z"))
        #expect(ExchangeCalendar.lastTradingDay(.vixOption, expiry: vix) == day("2026-12-15"))
        #expect(ExchangeCalendar.lastTradeInstant(.vixOption, expiry: vix) == utc("2026-12-15T21:15:00Z"))
        #expect(ExchangeCalendar.lastTradingDay(.vixFuture, expiry: vix) == vix)
        #expect(ExchangeCalendar.lastTradeInstant(.vixFuture, expiry: vix) == utc("2026-12-16T14:00:00Z"))
        // A Tuesday VIX expiry trades last on the Monday; summer time.
        #expect(ExchangeCalendar.lastTradingDay(.vixOption, expiry: day("2026-05-19")) == day("2026-05-18"))
        #expect(ExchangeCalendar.lastTradeInstant(.vixOption, expiry: day("2026-05-19")) == utc("2026-05-18T20:15:00Z"))
        #expect(ExchangeCalendar.settlementInstant(.vixOption, expiry: day("2026-05-19")) == utc("2026-05-19T13:30:00Z"))
        let spx = day("2027-01-15")
        #expect(ExchangeCalendar.settlementInstant(.spxMonthly, expiry: spx) == utc("2027-01-15T14:30:00Z"))
        #expect(ExchangeCalendar.lastTradingDay(.spxMonthly, expiry: spx) == day("2027-01-14"))
        #expect(ExchangeCalendar.lastTradeInstant(.spxMonthly, expiry: spx) == utc("2027-01-14T21:15:00Z"))
        #expect(ExchangeCalendar.lastTradingDay(.spxMonthly, expiry: day("2025-04-17")) == day("2025-04-16"))
        let weekly = day("2026-07-17")
        #expect(ExchangeCalendar.settlementInstant(.spxWeekly, expiry: weekly) == utc("2026-07-17T20:00:00Z"))
        #expect(ExchangeCalendar.lastTradingDay(.spxWeekly, expiry: weekly) == weekly)
        #expect(ExchangeCalendar.lastTradeInstant(.spxWeekly, expiry: weekly) == utc("2026-07-17T20:00:00Z"))
        #expect(ExchangeCalendar.settlementInstant(.spxWeekly, expiry: day("2026-12-18")) == utc("2026-12-18T21:00:00Z"))
        #expect(ExchangeCalendar.Product(rawValue: "vixOption") == .vixOption)
    }

    @Test("classify names the real expiry when a date is not one")
    func classify() {
        #expect(ExchangeCalendar.classify(vixExpiry: day("2026-12-16")) == nil)
        #expect(ExchangeCalendar.classify(vixExpiry: day("2026-12-18"))
                == "2026-12-18 is not a VIX expiry: VIX options of December 2026 settle on Wednesday 2026-12-16")
        #expect(ExchangeCalendar.classify(vixExpiry: day("2026-05-20"))
                == "2026-05-20 is not a VIX expiry: VIX options of May 2026 settle on Tuesday 2026-05-19")
        #expect(ExchangeCalendar.classify(vixExpiry: day("2027-01-02"))
                == "2027-01-02 is not a VIX expiry: VIX options of December 2026 settle on Wednesday 2026-12-16")
        #expect(ExchangeCalendar.classify(vixExpiry: day("2027-05-18")) == nil)
        #expect(ExchangeCalendar.classify(spxExpiry: day("2026-12-18")) == nil)
        #expect(ExchangeCalendar.classify(spxExpiry: day("2026-12-16")) == nil)   // SPXW trades every day
        #expect(ExchangeCalendar.classify(spxExpiry: day("2026-12-19"))
                == "2026-12-19 is not an SPX expiry: it is a Saturday; the nearest trading days are Friday 2026-12-18 and Monday 2026-12-21")
        #expect(ExchangeCalendar.classify(spxExpiry: day("2025-04-18"))
                == "2025-04-18 is not an SPX expiry: Good Friday is an exchange holiday; the nearest trading days are Thursday 2025-04-17 and Monday 2025-04-21; SPX options of April 2025 expire on Thursday 2025-04-17")
    }

    // MARK: Ticks

    @Test("ticks, rounding up to buy and down to sell, in exact cents", arguments: [
        // instrument, price, tick, roundUp, roundDown, onGrid
        (TickSchedule.Instrument.vix, 0.0, 0.01, 0.01, 0.01, false),
        (.vix, 0.004, 0.01, 0.01, 0.01, false),
        (.vix, 0.01, 0.01, 0.01, 0.01, true),
        (.vix, 0.15, 0.01, 0.15, 0.15, true),
        (.vix, 0.151, 0.01, 0.16, 0.15, false),
        (.vix, 2.99, 0.01, 2.99, 2.99, true),
        (.vix, 2.995, 0.01, 3.0, 2.99, false),
        (.vix, 3.0, 0.05, 3.0, 3.0, true),
        (.vix, 3.01, 0.05, 3.05, 3.0, false),
        (.vix, 3.07, 0.05, 3.1, 3.05, false),
        (.vix, 12.35, 0.05, 12.35, 12.35, true),
        (.spx, 0.0, 0.05, 0.05, 0.05, false),
        (.spx, 0.03, 0.05, 0.05, 0.05, false),
        (.spx, 0.05, 0.05, 0.05, 0.05, true),
        (.spx, 0.12, 0.05, 0.15, 0.1, false),
        (.spx, 0.15, 0.05, 0.15, 0.15, true),
        (.spx, 2.91, 0.05, 2.95, 2.9, false),
        (.spx, 2.97, 0.05, 3.0, 2.95, false),
        (.spx, 3.0, 0.1, 3.0, 3.0, true),
        (.spx, 3.05, 0.1, 3.1, 3.0, false),
        (.spx, 14.23, 0.1, 14.3, 14.2, false),
        (.spx, 14.3, 0.1, 14.3, 14.3, true),
        (.spx, 0.1 + 0.2, 0.05, 0.3, 0.3, true),   // 0.30000000000000004 is 0.30
    ])
    func ticks(instrument: TickSchedule.Instrument, price: Double, tick: Double, up: Double, down: Double, onGrid: Bool) {
        #expect(TickSchedule.tick(instrument, price: price) == tick)
        #expect(TickSchedule.roundUp(instrument, price: price) == up)
        #expect(TickSchedule.roundDown(instrument, price: price) == down)
        #expect(TickSchedule.isOnGrid(instrument, price: price) == onGrid)
        // Results are on the grid and exactly the Double of their decimal text.
        #expect(TickSchedule.isOnGrid(instrument, price: TickSchedule.roundUp(instrument, price: price)))
        #expect(TickSchedule.isOnGrid(instrument, price: TickSchedule.roundDown(instrument, price: price)))
        #expect(Double(String(TickSchedule.roundUp(instrument, price: price))) == TickSchedule.roundUp(instrument, price: price))
        #expect(String(TickSchedule.roundUp(instrument, price: price)).count <= 6)
    }

    // MARK: Releases

    @Test("the shipped releases file parses; every row is a trading day at its kind's time")
    func shippedReleases() throws {
        let parsed = try EventCalendar.parse(String(decoding: PackageResources.releases_csv, as: UTF8.self))
        #expect(parsed == EventCalendar.shipped)
        #expect(!parsed.isEmpty)
        for r in parsed {
            #expect(ExchangeCalendar.isTradingDay(r.date), "\(r.name)")
            #expect(r.instant == EventCalendar.releaseInstant(kind: r.kind, date: r.date))
            #expect(NewYorkTime.day(of: r.instant) == r.date)
            let seconds = Int(r.instant.timeIntervalSince1970) - r.date.daysSinceEpoch * 86400
            let summer = NewYorkTime.instant(r.date, hour: 12, minute: 0).timeIntervalSince1970.truncatingRemainder(dividingBy: 86400) == 16 * 3600
            switch r.kind {
            case "FOMC":
                #expect(r.date.weekday == 3, "\(r.name)")
                #expect(seconds == (summer ? 18 : 19) * 3600, "\(r.name)")
            case "CPI":
                #expect(!r.projections)
                #expect(seconds == (summer ? 12 : 13) * 3600 + 1800, "\(r.name)")
            default:
                Issue.record("unknown kind \(r.kind)")
            }
        }
        let fomc = parsed.filter { $0.kind == "FOMC" }
        for year in [2026, 2027] {
            #expect(fomc.filter { $0.date.year == year }.count == 8)
            #expect(fomc.filter { $0.date.year == year && $0.projections }.map(\.date.month) == [3, 6, 9, 12])
        }
        #expect(fomc.first { $0.date == day("2026-01-28") }?.instant == utc("2026-01-28T19:00:00Z"))
        #expect(fomc.first { $0.date == day("2026-06-17") }?.instant == utc("2026-06-17T18:00:00Z"))
        #expect(parsed.first { $0.kind == "CPI" && $0.date == day("2026-02-13") }?.instant == utc("2026-02-13T13:30:00Z"))
        let december = EventCalendar.releases(from: utc("2026-12-01T00:00:00Z"), through: utc("2026-12-31T23:59:59Z"))
        #expect(december.map(\.date) == [day("2026-12-09")])
        let all = EventCalendar.releases(from: .distantPast, through: .distantFuture)
        #expect(all.count == parsed.count)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.instant <= $1.instant })
    }

    @Test("a malformed releases row is refused with its line")
    func malformedReleases() {
        let header = "kind,date,time_et,projections,name\n"
        for (text, fragment) in [
            ("kind,date,time,projections,name\n", "header"),
            (header + "FOMC,2026-01-28,14:00,no\n", "5 fields"),
            (header + "ECB,2026-01-28,14:00,no,x\n", "FOMC or CPI"),
            (header + "CPI,2026-02-30,08:30,no,x\n", "not a YYYY-MM-DD"),
            (header + "CPI,2026-02-13,08:45,no,x\n", "08:30"),
            (header + "FOMC,2026-01-28,14:00,maybe,x\n", "yes or no"),
            (header + "CPI,2026-02-13,08:30,yes,x\n", "only FOMC"),
            (header + "CPI,2026-02-13,08:30,no, \n", "empty"),
            ("# only a comment\n", "no header"),
        ] {
            #expect {
                _ = try EventCalendar.parse(text)
            } throws: { error in
                guard let e = error as? EngineError else { return false }
                return e.code == .invalidCSV && e.reason.contains(fragment)
            }
        }
        #expect((try? EventCalendar.parse("# c\n\n" + header + "CPI,2026-02-13,08:30,no,CPI for January 2026\r\n"))?.count == 1)
    }
}
