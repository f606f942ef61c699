import Foundation
import ALVHSigning
import ALVHApproval
import ALVHStorage

extension LedgerVerifier.Checkpoint {
    /// The ledger state a proposal is checked against: the verified head.
    public var context: LedgerContext { LedgerContext(ledgerID: ledgerID, head: hash, nextSequence: sequence + 1) }
    /// The verified head, as the storage names the head a write was decided on.
    public var ref: HeadRef { HeadRef(sequence: sequence, hash: hash) }
}

extension Ledger {
    /// What a party pins of a ledger it has seen: its id, and a head that must stay in its history.
    public struct Pins: Sendable, Equatable {
        public var ledgerID: String?
        public var head: LedgerVerifier.ExpectedHead?
        public init(ledgerID: String? = nil, head: LedgerVerifier.ExpectedHead? = nil) {
            self.ledgerID = ledgerID
            self.head = head
        }
    }

    /// Pins the ledger id and a head seen earlier: every later verification refuses another ledger
    /// (a chain forged from a new genesis) or a history without that head (truncated or rewritten).
    public func pin(_ pins: Pins) {
        self.pins.withLock { $0 = pins }
        verifiedHead.withLock { $0 = nil }
    }

    /// The ledger as this object verified it: from genesis the first time (every hash, link,
    /// committer signature, threshold and recomputed figure, the book replayed), then only the
    /// entries appended since — after re-reading the checkpoint's entry, so a rewritten history is
    /// refused, not resumed. Deciding operations (enqueue, sign, commit) use this, not the
    /// database's policy, book or head.
    public func verified(jobs: Int = ProcessInfo.processInfo.activeProcessorCount) async throws -> LedgerVerifier.Checkpoint {
        let current = verifiedHead.withLock { $0 }
        let head = try await self.head()
        if let current, current.sequence == head.sequence, current.hash == head.hash, head.computeHash() == head.hash { return current }
        let pins = self.pins.withLock { $0 }
        let report: LedgerVerifier.Report
        if let current {
            guard head.sequence >= current.sequence else {
                throw LedgerError(.verificationFailed, "the ledger ends at entry \(head.sequence), before entry \(current.sequence) verified earlier: entries were removed")
            }
            let entry = try await self.entry(current.sequence)
            guard entry.hash == current.hash, entry.computeHash() == current.hash else {
                throw LedgerError(.verificationFailed, "entry \(current.sequence), verified earlier as \(current.hash.prefix(16))…, now reads \(entry.hash.prefix(16))…: the ledger's history was rewritten")
            }
            var source = StorageEntrySource(ledger: self, from: current.sequence + 1)
            report = try await LedgerVerifier(jobs: jobs).verify(&source, resumingFrom: current, expectHead: pins.head)
        } else {
            var source = StorageEntrySource(ledger: self)
            report = try await LedgerVerifier(jobs: jobs).verify(&source, expectHead: pins.head)
        }
        guard report.ok, let checkpoint = report.checkpoint else {
            throw LedgerError(.verificationFailed, "the ledger does not verify: "
                              + (report.firstBad.map { "entry \($0.sequence): \($0.problem)" } ?? "empty") + " — nothing was written")
        }
        if let pinned = pins.ledgerID, pinned != checkpoint.ledgerID {
            throw LedgerError(.verificationFailed, "this is ledger \(checkpoint.ledgerID.prefix(16))…, not the pinned \(pinned.prefix(16))… (another ledger, or one forged from a new genesis)")
        }
        verifiedHead.withLock { $0 = checkpoint }
        return checkpoint
    }

    /// A deciding write on the verified head: verifies (or advances the verification) first, decides
    /// on what it verified, and writes only if the stored head is still the verified one (the
    /// storage checks that in the write's own transaction). If another process appended meanwhile
    /// (or the proposal's queue state changed: a rejection, a veto), verifies the new entries and
    /// decides again.
    func onVerifiedHead<T>(_ attempt: (LedgerVerifier.Checkpoint) async throws -> WriteOutcome<T>) async throws -> T {
        for _ in 0..<5 {
            let checkpoint = try await verified()
            switch try await io({ try await attempt(checkpoint) }) {
            case .done(let value): return value
            case .headMoved, .queueChanged: continue
            }
        }
        throw LedgerError(.database, "the ledger's head kept moving while this process verified it; retry", path: location)
    }
}
