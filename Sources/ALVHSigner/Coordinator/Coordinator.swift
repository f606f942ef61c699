import Foundation
import Logging
import ALVHSigning
import ALVHApproval
import ALVHLedger
import ALVHStorage

/// Commits each pending proposal as soon as it is commit-ready; marks expired, stale and vetoed
/// ones. It proposes nothing and signs nothing. Two coordinators may run at once (on one host or
/// many, on a shared PostgreSQL ledger): each commit re-checks everything on the verified head and
/// is written only if the head is still that one, so a proposal is committed once and the loser
/// sees it gone (or stale).
///
/// ```swift
/// let coordinator = try await Coordinator(workspace: ".", committer: key, logger: Logger(label: "alvh.coordinator"))
/// try await coordinator.run(pollMilliseconds: 200, once: false, stop: StopSignal.install())
/// ```
public actor Coordinator {
    /// What one pass did.
    public struct PassResult: Sendable, Equatable, Codable {
        public var committed: [UInt64] = []
        public var expired: [String] = []
        public var stale: [String] = []
        public var vetoed: [String] = []
    }

    public let workspace: String
    public let logger: Logger
    /// The key that signs the entries this coordinator appends (a committer of the policy).
    public let committer: PrivateKey
    let ledger: Ledger

    /// `pins`: the ledger id (and a head) this coordinator must find; the ledger is verified from
    /// genesis at the first pass and then from its checkpoint, and commits decide on that.
    public init(workspace: String, ledger location: LedgerLocation? = nil, committer: PrivateKey, pins: Ledger.Pins = Ledger.Pins(),
                logger: Logger) async throws {
        self.workspace = workspace
        self.logger = logger
        self.committer = committer
        self.ledger = try await Ledger.open(workspace: workspace, at: location)
        ledger.pin(pins)
    }

    @discardableResult
    public func run(pollMilliseconds: Int, once: Bool, stop: StopSignal) async throws -> PassResult {
        var total = PassResult()
        logger.info("coordinator started", metadata: ["ledger": "\(ledger.location)"])
        try await stop.repeatPasses(pollMilliseconds: pollMilliseconds, once: once, logger: logger,
                                  wake: once ? nil : ledger.storage.watchChanges()) {
            let result = try await self.pass(stop: stop)
            total.committed += result.committed
            total.expired += result.expired
            total.stale += result.stale
            total.vetoed += result.vetoed
        }
        logger.info("coordinator stopped", metadata: ["committed": "\(total.committed.count)"])
        return total
    }

    /// One pass: mark, then commit what is ready, oldest first.
    public func pass(stop: StopSignal? = nil, at clock: @Sendable () -> Date = Date.init) async throws -> PassResult {
        var result = PassResult()
        // The ledger as this coordinator verified it (from its checkpoint), even with nothing to
        // commit: a rewritten history or another ledger stops it at once. The pass decides on that
        // head and one read of the open queue (a commit verifies and decides again).
        let verified = try await ledger.verified()
        let open = try await ledger.openProposals()
        var marked: Set<String> = []
        for (id, status) in try await ledger.markExpiredAndStale(at: clock(), seen: (verified.ref, open)) {
            marked.insert(id)
            logger.notice("\(status.rawValue)", metadata: ["proposal": "\(id.prefix(16))", "status": "\(status.rawValue)"])
            switch status {
            case .expired: result.expired.append(id)
            case .stale: result.stale.append(id)
            case .vetoed: result.vetoed.append(id)
            case .pending: break
            }
        }
        for pending in open where pending.status == .pending && !marked.contains(pending.id) {
            if stop?.requested == true { break }
            let now = clock()
            let report: ApprovalReport
            do { report = try await ledger.evaluate(id: pending.id, at: now, on: verified) }
            catch let error as LedgerError where error.code == .notFound { continue }
            var log = logger
            log[metadataKey: "proposal"] = "\(pending.id.prefix(16))"
            if let veto = report.findings.first(where: { if case .vetoed = $0 { return true } else { return false } }) {
                if try await ledger.markVetoed(id: pending.id) {
                    log.notice("vetoed", metadata: ["status": "vetoed", "reason": "\(veto)"])
                    result.vetoed.append(pending.id)
                }
                continue
            }
            guard report.commitReady else { continue }
            do {
                let entry = try await ledger.commit(id: pending.id, committer: committer, at: now)
                log.notice("committed", metadata: ["entry": "\(entry.sequence)", "hash": "\(entry.hash.prefix(16))", "tally": "\(report.tally)"])
                result.committed.append(entry.sequence)
            } catch let error as LedgerError where error.code == .notFound || error.code == .staleProposal {
                log.info("not committed here: another coordinator was first", metadata: ["reason": "\(error.reason)"])
            }
        }
        return result
    }
}
