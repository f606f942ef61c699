extension ExchangeCalendar {
    /// An expiring product whose settlement and last trade ``ExchangeCalendar`` dates.
    public enum Product: String, Sendable, Codable, CaseIterable {
        /// Cboe VIX options (monthly, AM-settled at the Special Opening Quotation).
        case vixOption
        /// CFE VX futures (monthly, settled at the Special Opening Quotation).
        case vixFuture
        /// SPX standard third-Friday options (AM-settled at the open).
        case spxMonthly
        /// SPXW weekly/daily options (PM-settled at the close).
        case spxWeekly
    }
}
