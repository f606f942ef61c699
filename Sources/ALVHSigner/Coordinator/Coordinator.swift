import Foundation
import Logging
import ALVHSigning
import ALVHApproval
import ALVHLedger

/// Commits each pending proposal as soon as it is commit-ready; marks expired, stale and vetoed
/// ones. It proposes nothing and signs nothing. Two coordinators may run at once: each commit is
/// one BEGIN IMMEDIATE transaction that re-checks everything, so a proposal is committed once and
/// the loser sees it gone.
///
/// ```swift
/// let coordinator = try Coordinator(workspace: ".", committer: key, logger: Logger(label: "alvh.coordinator"))
/// try coordinator.run(pollMilliseconds: 200, once: false, stop: StopSignal.install())
/// ```
public final class Coordinator: @unchecked Sendable {
    /// What one pass did.
    public struct PassResult: Sendable, Equatable, Codable {
        public var committed: [UInt64] = []
        public var expired: [String] = []
        public var stale: [String] = []
        public var vetoed: [String] = []
    }

    public let workspace: String
    public var logger: Logger
    /// The key that signs the entries this coordinator appends (a committer of the policy).
    public let committer: PrivateKey
    let ledger: Ledger

    /// `pins`: the ledger id (and a head) this coordinator must find; the ledger is verified from
    /// genesis at the first pass and then from its checkpoint, and commits decide on that.
    public init(workspace: String, committer: PrivateKey, pins: Ledger.Pins = Ledger.Pins(), logger: Logger) throws {
        self.workspace = workspace
        self.logger = logger
        self.committer = committer
        self.ledger = try Ledger.open(workspace: workspace)
        ledger.pin(pins)
    }

    @discardableResult
    public func run(pollMilliseconds: Int, once: Bool, stop: StopSignal) throws -> PassResult {
        var total = PassResult()
        logger.info("coordinator started", metadata: ["workspace": "\(workspace)"])
        try stop.repeatPasses(pollMilliseconds: pollMilliseconds, once: once, logger: logger) {
            let result = try pass(stop: stop)
            total.committed += result.committed
            total.expired += result.expired
            total.stale += result.stale
            total.vetoed += result.vetoed
        }
        logger.info("coordinator stopped", metadata: ["committed": "\(total.committed.count)"])
        return total
    }

    /// One pass: mark, then commit what is ready, oldest first.
    public func pass(stop: StopSignal? = nil, at clock: () -> Date = Date.init) throws -> PassResult {
        var result = PassResult()
        for (id, status) in try ledger.markExpiredAndStale(at: clock()) {
            logger.notice("\(status)", metadata: ["proposal": "\(id.prefix(16))", "status": "\(status)"])
            if status == "expired" { result.expired.append(id) } else { result.stale.append(id) }
        }
        let queue = try ledger.openProposals()
        for pending in queue {
            if stop?.requested == true { break }
            let now = clock()
            let report: ApprovalReport
            do { report = try ledger.evaluate(id: pending.id, at: now) }
            catch let error as LedgerError where error.code == .notFound { continue }
            var log = logger
            log[metadataKey: "proposal"] = "\(pending.id.prefix(16))"
            if let veto = report.findings.first(where: { if case .vetoed = $0 { return true } else { return false } }) {
                if try ledger.markVetoed(id: pending.id) {
                    log.notice("vetoed", metadata: ["status": "vetoed", "reason": "\(veto)"])
                    result.vetoed.append(pending.id)
                }
                continue
            }
            guard report.commitReady else { continue }
            do {
                let entry = try ledger.commit(id: pending.id, committer: committer, at: now)
                log.notice("committed", metadata: ["entry": "\(entry.sequence)", "hash": "\(entry.hash.prefix(16))", "tally": "\(report.tally)"])
                result.committed.append(entry.sequence)
            } catch let error as LedgerError where error.code == .notFound || error.code == .staleProposal {
                log.info("not committed here: another coordinator was first", metadata: ["reason": "\(error.reason)"])
            }
        }
        return result
    }
}
