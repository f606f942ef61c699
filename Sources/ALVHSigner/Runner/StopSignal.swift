import Foundation
import Dispatch
import Synchronization
import Logging
import ALVHLedger
import ALVHStorage

/// Turns SIGTERM and SIGINT into a flag a loop checks between units of work, so the work in
/// progress (a decision, a commit) finishes before the process exits.
///
/// ```swift
/// let stop = StopSignal.install()
/// while !stop.requested { … }
/// ```
public final class StopSignal: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    /// Set once, in `install`, before the object is shared; kept alive with the flag.
    private var sources: [any DispatchSourceSignal] = []

    public init() {}

    /// Whether a stop was asked for.
    public var requested: Bool { flag.load(ordering: .acquiring) }

    /// Asks for a stop (as a signal does).
    public func request() { flag.store(true, ordering: .releasing) }

    /// Installs handlers for SIGTERM and SIGINT that set the flag.
    public static func install() -> StopSignal {
        let stop = StopSignal()
        var installed: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.request() }
            source.resume()
            installed.append(source)
        }
        stop.sources = installed
        return stop
    }

    /// Runs `pass` until a stop is asked for (once with `once`), sleeping `pollMilliseconds` between
    /// passes. A busy or unavailable ledger is logged and retried; any other error ends the loop.
    /// With `wake` (a service's event stream), a change of one of the kinds `wakeOn` seen during a
    /// pass or the sleep after it starts the next pass at once.
    public func repeatPasses(isolation: isolated (any Actor)? = #isolation, pollMilliseconds: Int, once: Bool, logger: Logger,
                             wake: ChangeSignal? = nil, on wakeOn: Set<LedgerChange> = Set(LedgerChange.allCases),
                             _ pass: () async throws -> Void) async throws {
        while !requested {
            let seen = wake?.value(of: wakeOn)
            do {
                try await pass()
            } catch let error as LedgerError where error.code == .database {
                logger.warning("ledger busy or unavailable; retrying", metadata: ["error": "\(error)"])
            }
            if once { break }
            await sleep(milliseconds: pollMilliseconds, wake: wake, on: wakeOn, seen: seen)
        }
    }

    /// Sleeps up to `milliseconds`, waking early when a stop is asked for (or `wake`'s count of the
    /// changes `wakeOn` moved past `seen`).
    public func sleep(milliseconds: Int, wake: ChangeSignal? = nil, on wakeOn: Set<LedgerChange> = Set(LedgerChange.allCases),
                      seen: UInt64? = nil) async {
        var left = milliseconds
        let granularity = wake == nil ? 25 : 2
        while left > 0 && !requested {
            if let wake, let seen, wake.value(of: wakeOn) != seen { return }
            let step = min(left, granularity)
            try? await Task.sleep(for: .milliseconds(step))
            left -= step
        }
    }
}
