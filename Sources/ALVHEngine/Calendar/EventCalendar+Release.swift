import Foundation

extension EventCalendar {
    /// One scheduled release.
    public struct Release: Sendable, Codable, Equatable {
        /// "FOMC" (policy statement) or "CPI".
        public var kind: String
        /// The New York calendar day of the release.
        public var date: CalendarDay
        /// The release instant (FOMC 14:00 ET, CPI 08:30 ET).
        public var instant: Date
        /// True for an FOMC meeting with a Summary of Economic Projections.
        public var projections: Bool
        /// A human name ("CPI for January 2026").
        public var name: String

        public init(kind: String, date: CalendarDay, instant: Date, projections: Bool, name: String) {
            self.kind = kind
            self.date = date
            self.instant = instant
            self.projections = projections
            self.name = name
        }
    }
}
