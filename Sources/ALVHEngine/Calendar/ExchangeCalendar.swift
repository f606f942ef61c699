import Foundation

/// US options exchange facts: the NYSE / Cboe full-day closures, trading days, the SPX and VIX
/// monthly expiries, and when each product settles and stops trading. Pure arithmetic on
/// ``CalendarDay``; instants through ``NewYorkTime``. Sources: `docs/calendar.md`.
///
/// Holidays (NYSE Rule 7.2; Cboe Options and CFE observe the same full-day closures):
/// New Year's Day; Martin Luther King Jr. Day (third Monday of January, from 1998); Washington's
/// Birthday (third Monday of February); Good Friday (two days before Gregorian Easter); Memorial Day
/// (last Monday of May); Juneteenth (June 19, from 2022); Independence Day (July 4); Labor Day (first
/// Monday of September); Thanksgiving (fourth Thursday of November); Christmas (December 25).
/// A fixed-date holiday on a Saturday is observed the Friday before and on a Sunday the Monday after,
/// except New Year's Day on a Saturday, which closes nothing (the Friday before ends the year's
/// accounting period, NYSE Rule 7.2). Plus the special closures listed in ``specialClosures``.
/// The rules are checked for 1990–2040; outside that range they are applied as written.
/// Early closes (13:00 on the day after Thanksgiving and some Christmas/Independence eves) are not modelled.
///
/// ```swift
/// ExchangeCalendar.vixExpiry(year: 2026, month: 12)                // 2026-12-16
/// ExchangeCalendar.settlementInstant(.vixOption, expiry: day)      // 09:30 New York that morning
/// ```
public enum ExchangeCalendar {
    /// Unscheduled full-day closures since 1990 (NYSE "closings history").
    public static let specialClosures: [CalendarDay: String] = [
        CalendarDay(year: 1994, month: 4, day: 27): "National Day of Mourning for President Richard Nixon",
        CalendarDay(year: 2001, month: 9, day: 11): "September 11 attacks",
        CalendarDay(year: 2001, month: 9, day: 12): "September 11 attacks",
        CalendarDay(year: 2001, month: 9, day: 13): "September 11 attacks",
        CalendarDay(year: 2001, month: 9, day: 14): "September 11 attacks",
        CalendarDay(year: 2004, month: 6, day: 11): "National Day of Mourning for President Ronald Reagan",
        CalendarDay(year: 2007, month: 1, day: 2): "National Day of Mourning for President Gerald Ford",
        CalendarDay(year: 2012, month: 10, day: 29): "Hurricane Sandy",
        CalendarDay(year: 2012, month: 10, day: 30): "Hurricane Sandy",
        CalendarDay(year: 2018, month: 12, day: 5): "National Day of Mourning for President George H. W. Bush",
        CalendarDay(year: 2025, month: 1, day: 9): "National Day of Mourning for President Jimmy Carter",
    ]

    /// The holidays of 1990…2040 by rule, computed once.
    private static let ruleHolidays: [CalendarDay: String] = {
        var all: [CalendarDay: String] = [:]
        for year in 1990...2040 { all.merge(holidays(year: year)) { a, _ in a } }
        return all
    }()

    // MARK: Holidays and trading days

    /// True when the exchanges are closed all day on a weekday for a holiday or a special closure.
    public static func isHoliday(_ day: CalendarDay) -> Bool { holidayName(day) != nil }

    /// The name of the holiday or special closure on `day` ("Good Friday", "Christmas Day (observed)"…), else nil.
    public static func holidayName(_ day: CalendarDay) -> String? {
        if let special = specialClosures[day] { return special }
        if (1990...2040).contains(day.year) { return ruleHolidays[day] }
        return holidays(year: day.year)[day]
    }

    /// A weekday that is not a holiday.
    public static func isTradingDay(_ day: CalendarDay) -> Bool { !day.isWeekend && !isHoliday(day) }

    /// The last trading day strictly before `day`.
    public static func previousTradingDay(before day: CalendarDay) -> CalendarDay {
        var d = day.adding(days: -1)
        while !isTradingDay(d) { d = d.adding(days: -1) }
        return d
    }

    /// The first trading day strictly after `day`.
    public static func nextTradingDay(after day: CalendarDay) -> CalendarDay {
        var d = day.adding(days: 1)
        while !isTradingDay(d) { d = d.adding(days: 1) }
        return d
    }

    /// Gregorian Easter Sunday (the anonymous Gregorian computus, Meeus/Jones/Butcher).
    public static func easter(year: Int) -> CalendarDay {
        let a = year % 19, b = year / 100, c = year % 100
        let d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4, k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return CalendarDay(year: year, month: month, day: day)
    }

    /// The rule holidays observed in `year` (weekdays only; a New Year's Day observed on Monday
    /// January 2 belongs to its own year).
    static func holidays(year: Int) -> [CalendarDay: String] {
        let monday = 1, thursday = 4
        var out: [CalendarDay: String] = [:]
        func fixed(_ month: Int, _ day: Int, _ name: String, saturdayToFriday: Bool = true) {
            let d = CalendarDay(year: year, month: month, day: day)
            switch d.weekday {
            case 6: if saturdayToFriday { out[d.adding(days: -1)] = name + " (observed)" }
            case 7: out[d.adding(days: 1)] = name + " (observed)"
            default: out[d] = name
            }
        }
        fixed(1, 1, "New Year's Day", saturdayToFriday: false)
        if year >= 1998 { out[CalendarDay.nth(3, weekday: monday, year: year, month: 1)] = "Martin Luther King Jr. Day" }
        out[CalendarDay.nth(3, weekday: monday, year: year, month: 2)] = "Washington's Birthday"
        out[easter(year: year).adding(days: -2)] = "Good Friday"
        out[CalendarDay.last(weekday: monday, year: year, month: 5)] = "Memorial Day"
        if year >= 2022 { fixed(6, 19, "Juneteenth National Independence Day") }
        fixed(7, 4, "Independence Day")
        out[CalendarDay.nth(1, weekday: monday, year: year, month: 9)] = "Labor Day"
        out[CalendarDay.nth(4, weekday: thursday, year: year, month: 11)] = "Thanksgiving Day"
        fixed(12, 25, "Christmas Day")
        return out
    }

    // MARK: Expiries

    /// The third Friday of a month.
    public static func thirdFriday(year: Int, month: Int) -> CalendarDay {
        CalendarDay.nth(3, weekday: 5, year: year, month: month)
    }

    /// The standard (AM-settled) SPX expiry of a month: the third Friday, or the trading day before it
    /// when that Friday is a holiday.
    public static func spxMonthlyExpiry(year: Int, month: Int) -> CalendarDay {
        let friday = thirdFriday(year: year, month: month)
        return isTradingDay(friday) ? friday : previousTradingDay(before: friday)
    }

    /// The VIX options / futures expiry (final settlement date) of contract month (`year`, `month`):
    /// the Wednesday 30 days before the third Friday of the following calendar month; if that
    /// Wednesday or that Friday is an exchange holiday, the business day immediately preceding the
    /// Wednesday (Cboe VIX options specifications, CFE Rule 1202 VX contract specifications).
    public static func vixExpiry(year: Int, month: Int) -> CalendarDay {
        let next = month == 12 ? (year + 1, 1) : (year, month + 1)
        let friday = thirdFriday(year: next.0, month: next.1)
        let wednesday = friday.adding(days: -30)
        if isHoliday(friday) || isHoliday(wednesday) { return previousTradingDay(before: wednesday) }
        return wednesday
    }

    /// The VIX monthly expiries falling in `from…through` (inclusive), in order.
    public static func vixExpiries(from: CalendarDay, through: CalendarDay) -> [CalendarDay] {
        monthly(from: from, through: through, vixExpiry)
    }

    /// The SPX standard monthly expiries falling in `from…through` (inclusive), in order.
    public static func spxMonthlyExpiries(from: CalendarDay, through: CalendarDay) -> [CalendarDay] {
        monthly(from: from, through: through, spxMonthlyExpiry)
    }

    private static func monthly(from: CalendarDay, through: CalendarDay, _ expiry: (Int, Int) -> CalendarDay) -> [CalendarDay] {
        guard from <= through else { return [] }
        var out: [CalendarDay] = []
        var (y, m) = from.month == 1 ? (from.year - 1, 12) : (from.year, from.month - 1)
        while (y, m) <= (through.year, through.month) {
            let d = expiry(y, m)
            if d >= from && d <= through { out.append(d) }
            (y, m) = m == 12 ? (y + 1, 1) : (y, m + 1)
        }
        return out
    }

    // MARK: Settlement and last trade

    /// When an expiring contract's settlement value is struck: VIX options and futures at the
    /// Special Opening Quotation on the expiry morning and SPX standard (AM) options at the open,
    /// both 09:30 New York; SPX weeklies (SPXW, PM-settled) at the 16:00 close.
    public static func settlementInstant(_ product: Product, expiry: CalendarDay) -> Date {
        switch product {
        case .vixOption, .vixFuture, .spxMonthly: return NewYorkTime.instant(expiry, hour: 9, minute: 30)
        case .spxWeekly: return NewYorkTime.instant(expiry, hour: 16, minute: 0)
        }
    }

    /// The last day an expiring contract trades: for VIX options and SPX AM monthlies the business
    /// day before the expiry; for VIX futures (since December 2011) and SPXW the expiry day itself.
    public static func lastTradingDay(_ product: Product, expiry: CalendarDay) -> CalendarDay {
        switch product {
        case .vixOption, .spxMonthly: return previousTradingDay(before: expiry)
        case .vixFuture, .spxWeekly: return expiry
        }
    }

    /// When trading in an expiring contract ends, in New York time on ``lastTradingDay(_:expiry:)``:
    /// VIX options and SPX AM monthlies 16:15 (3:15 p.m. Chicago); SPXW 16:00 (3:00 p.m. Chicago);
    /// VIX futures 09:00 on the final settlement date (8:00 a.m. Chicago, before the 09:30 SOQ).
    public static func lastTradeInstant(_ product: Product, expiry: CalendarDay) -> Date {
        let day = lastTradingDay(product, expiry: expiry)
        switch product {
        case .vixOption, .spxMonthly: return NewYorkTime.instant(day, hour: 16, minute: 15)
        case .spxWeekly: return NewYorkTime.instant(day, hour: 16, minute: 0)
        case .vixFuture: return NewYorkTime.instant(day, hour: 9, minute: 0)
        }
    }

    // MARK: Classification

    /// Nil when `day` is a VIX monthly expiry; else why not, naming the nearest real expiry
    /// ("2026-12-18 is not a VIX expiry: VIX options of December 2026 settle on Wednesday 2026-12-16").
    public static func classify(vixExpiry day: CalendarDay) -> String? {
        var candidates: [(year: Int, month: Int, day: CalendarDay)] = []
        for shift in -1...1 {
            var m = day.month + shift, y = day.year
            if m == 0 { m = 12; y -= 1 } else if m == 13 { m = 1; y += 1 }
            candidates.append((y, m, vixExpiry(year: y, month: m)))
        }
        if candidates.contains(where: { $0.day == day }) { return nil }
        let nearest = candidates.min {
            let a = abs($0.day.daysSinceEpoch - day.daysSinceEpoch), b = abs($1.day.daysSinceEpoch - day.daysSinceEpoch)
            return a != b ? a < b : $0.day < $1.day
        }!
        return "\(day) is not a VIX expiry: VIX options of \(monthName(nearest.month)) \(nearest.year) settle on \(weekdayName(nearest.day)) \(nearest.day)"
    }

    /// Nil when `day` is a valid SPX expiry (a standard monthly, or any trading day for SPXW);
    /// else why not (a weekend or a holiday), naming the neighbouring trading days and, for a
    /// holiday third Friday, the moved monthly.
    public static func classify(spxExpiry day: CalendarDay) -> String? {
        if isTradingDay(day) { return nil }
        let why = holidayName(day).map { "\($0) is an exchange holiday" } ?? "it is a \(weekdayName(day))"
        let before = previousTradingDay(before: day), after = nextTradingDay(after: day)
        var text = "\(day) is not an SPX expiry: \(why); the nearest trading days are \(weekdayName(before)) \(before) and \(weekdayName(after)) \(after)"
        if day == thirdFriday(year: day.year, month: day.month) {
            let monthly = spxMonthlyExpiry(year: day.year, month: day.month)
            text += "; SPX options of \(monthName(day.month)) \(day.year) expire on \(weekdayName(monthly)) \(monthly)"
        }
        return text
    }

    static func weekdayName(_ day: CalendarDay) -> String {
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][day.weekday - 1]
    }

    static func monthName(_ month: Int) -> String {
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"][month - 1]
    }
}
