import Foundation
import GRDB
import ALVHSigning
import ALVHApproval

extension LedgerVerifier.Checkpoint {
    /// The ledger state a proposal is checked against: the verified head.
    public var context: LedgerContext { LedgerContext(ledgerID: ledgerID, head: hash, nextSequence: sequence + 1) }
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
    public func verified(jobs: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> LedgerVerifier.Checkpoint {
        let current = verifiedHead.withLock { $0 }
        let head = try self.head()
        if let current, current.sequence == head.sequence, current.hash == head.hash, head.computeHash() == head.hash { return current }
        let pins = self.pins.withLock { $0 }
        let report: LedgerVerifier.Report
        if let current {
            guard head.sequence >= current.sequence else {
                throw LedgerError(.verificationFailed, "the ledger ends at entry \(head.sequence), before entry \(current.sequence) verified earlier: entries were removed")
            }
            let entry = try self.entry(current.sequence)
            guard entry.hash == current.hash, entry.computeHash() == current.hash else {
                throw LedgerError(.verificationFailed, "entry \(current.sequence), verified earlier as \(current.hash.prefix(16))…, now reads \(entry.hash.prefix(16))…: the ledger's history was rewritten")
            }
            var source = DatabaseEntrySource(ledger: self, from: current.sequence + 1)
            report = try LedgerVerifier(jobs: jobs).verify(&source, resumingFrom: current, expectHead: pins.head)
        } else {
            var source = DatabaseEntrySource(ledger: self)
            report = try LedgerVerifier(jobs: jobs).verify(&source, expectHead: pins.head)
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

    /// A write transaction on the verified head: verifies (or advances the verification) first, then
    /// takes the write lock and checks that the stored head is still the verified one; if another
    /// process appended meanwhile, verifies the new entries and tries again.
    func writeVerified<T>(_ body: (Database, LedgerVerifier.Checkpoint) throws -> T) throws -> T {
        for _ in 0..<5 {
            let checkpoint = try verified()
            do {
                return try writeImmediate { db in
                    guard let head = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.head)),
                          (head["entry_hash"] as String) == checkpoint.hash, UInt64(head["seq"] as Int64) == checkpoint.sequence else {
                        throw LedgerError(.headMoved, "the head moved while it was being verified")
                    }
                    return try body(db, checkpoint)
                }
            } catch let error as LedgerError where error.code == .headMoved {
                continue
            }
        }
        throw LedgerError(.database, "the ledger's head kept moving while this process verified it; retry", path: store.path)
    }
}
