extension TickSchedule {
    /// An option class with its own tick table.
    public enum Instrument: String, Sendable, Codable, CaseIterable {
        /// Cboe VIX index options.
        case vix = "VIX"
        /// Cboe S&P 500 index options (SPX and SPXW).
        case spx = "SPX"
    }
}
