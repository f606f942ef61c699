import Foundation
import Synchronization

/// The progress line of a long audit on a terminal: entries done / total, rate, time left — on
/// stderr, rewritten in place at most a few times a second, and cleared when done. Disabled
/// (nothing written) off a terminal and with `--json`.
final class ProgressMeter: Sendable {
    let label: String
    let total: Int?
    let enabled: Bool
    let started = Date()
    private let lastDraw = Mutex<Date>(.distantPast)

    init(_ label: String, total: Int?, enabled: Bool) {
        self.label = label
        self.total = total
        self.enabled = enabled
    }

    /// Called with the count of entries verified so far.
    func update(_ done: Int) { update(done, of: total) }

    /// Called with the count done so far and the total (when it is known only as the work goes).
    func update(_ done: Int, of total: Int?) {
        guard enabled else { return }
        let now = Date()
        guard lastDraw.withLock({ last in
            guard now.timeIntervalSince(last) >= 0.2 else { return false }
            last = now
            return true
        }) else { return }
        FileHandleStderr.write("\r\u{1B}[K" + label + ": " + Self.line(done: done, total: total ?? self.total, seconds: now.timeIntervalSince(started)))
    }

    /// Clears the line.
    func finish() {
        if enabled { FileHandleStderr.write("\r\u{1B}[K") }
    }

    /// "12,000 / 100,000 entries · 8,100/s · 11s left" (after the label: "verifying: …").
    static func line(done: Int, total: Int?, seconds: Double) -> String {
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var text = "\(grouped(done))" + (total.map { " / \(grouped($0))" } ?? "") + " entries"
        if rate > 0 { text += " · \(grouped(Int(rate)))/s" }
        if let total, rate > 0, total > done { text += " · \(Int((Double(total - done) / rate).rounded(.up)))s left" }
        return text
    }

    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }
}
