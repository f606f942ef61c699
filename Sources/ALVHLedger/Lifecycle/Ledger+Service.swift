import Foundation
import ALVHSigning
import ALVHApproval
import ALVHStorage

extension Ledger {
    /// What ``appendCommitted(_:committing:decidedOn:at:)`` did. Typed: the service answers each case with its own code.
    public enum CommittedAppend: Sendable {
        /// Verified and appended: the new head.
        case appended(LedgerEntry)
        /// The head is no longer the one the committer decided on: nothing written.
        case headMoved(current: HeadRef?)
        /// A rejection for the entry's slot arrived (or the proposal's status changed) after the
        /// committer read the queue: nothing written; the committer reads it again and decides again.
        case queueChanged
    }

    /// Appends an entry that a committer on another host built and signed (`alvh coordinator run
    /// --server …`), after verifying it exactly as an auditor verifies the ledger: it must continue
    /// this ledger's verified head (`decidedOn`), hash and link right, carry a committer signature of
    /// the policy in force, the committed envelope must meet the threshold with its figures
    /// recomputed from the ledger's book and the cited snapshot blob, and no veto may be attached.
    /// Beyond what an auditor can see, the service checks what only the queue knows: the entry
    /// commits the queued, still pending proposal `id`, and attaches **every** rejection stored for
    /// its slot (a committer cannot leave a veto out); its commit time is the service's now within the
    /// policy's clock skew (an expired proposal cannot be committed by backdating). The book and the
    /// blobs stored with it are derived here from the verified entry, never taken from the committer.
    public func appendCommitted(_ entries: [StoredEntry], committing id: String, decidedOn: HeadRef, at now: Date) async throws -> CommittedAppend {
        guard entries.count == 1, let stored = entries.first else {
            throw LedgerError(.invalidInput, "a commit appends exactly one entry (got \(entries.count))", path: "entries")
        }
        guard let kind = LedgerEntry.Kind(rawValue: stored.kind) else {
            throw LedgerError(.invalidInput, "kind '\(stored.kind.prefix(40))' is not layer-change or policy-change", path: "entries[0].kind")
        }
        let entry = try LedgerEntry(stored: stored)
        guard kind != .genesis else {
            throw LedgerError(.invalidInput, "a genesis entry is never appended", path: "entries[0].kind")
        }
        let verified = try await self.verified()
        guard verified.ref == decidedOn else { return .headMoved(current: verified.ref) }
        guard entry.sequence == verified.sequence + 1, entry.previousHash == verified.hash else {
            throw LedgerError(.invalidInput, "entry \(entry.sequence) does not continue the head \(verified.ref) it names", path: "entries[0]")
        }
        // The commit time is the service's now (within the policy's clock skew): an expired proposal
        // cannot be committed by backdating, nor a future one by postdating.
        let skew = TimeInterval(verified.policy.maxClockSkewSeconds)
        guard let committedAt = RFC3339.parse(entry.committedAt), abs(committedAt.timeIntervalSince(now)) <= skew else {
            throw LedgerError(.invalidInput, "entry committed at \(entry.committedAt), not now (\(RFC3339.format(now))) within the policy's \(verified.policy.maxClockSkewSeconds) s clock skew (check the committer's clock)",
                              path: "entries[0].committedAt")
        }

        var source = PostedEntrySource(entries: [entry], ledger: self)
        let report = try await LedgerVerifier(jobs: 1).verify(&source, resumingFrom: verified)
        guard report.ok, let next = report.checkpoint, next.sequence == entry.sequence else {
            throw LedgerError(.notApproved, "entry refused: " + (report.firstBad.map { "entry \($0.sequence): \($0.problem)" } ?? "it does not verify"),
                              path: "entries[0]")
        }
        let envelope = try Envelope.decode(entry.envelope, path: "entries[0].envelope")
        guard envelope.id == id else {
            throw LedgerError(.invalidInput, "the entry commits proposal \(envelope.id.prefix(16))…, not \(id.prefix(16))…", path: "proposal")
        }
        let pending = try await storedPending(id: id)
        guard pending.status == .pending else {
            throw LedgerError(.notApproved, "proposal \(id.prefix(16))… is \(pending.status.rawValue); it is not committed", path: "proposal")
        }
        let slot = try await io { try await storage.slotRejections(sequence: entry.sequence) }
        let held = Set(try slot.map { Base64.encode(try Envelope.decode($0, path: "rejection").encoded()) })
        let attachments = try EntryAttachments.decode(entry.attachments)
        guard held == Set(attachments.rejections ?? []) else { return .queueChanged }

        let blobs = entry.kind == .policyChange ? [next.policy.bytes] + attachments.keyAttachments.blobs : []
        let written = try await io {
            try await storage.append([entry.stored], book: try Ledger.encodeBook(next.book), blobs: blobs,
                                     removing: PendingRemoval(id: id, slotRejections: slot.count), decidedOn: verified.ref)
        }
        switch written {
        case .done:
            verifiedHead.withLock { $0 = next }
            return .appended(entry)
        case .headMoved(let current): return .headMoved(current: current)
        case .queueChanged: return .queueChanged
        }
    }

    /// Where a proposal stands after ``decideStatuses(_:at:)``.
    public struct StatusLine: Sendable, Equatable {
        public var id: String
        /// Its status now (nil: not in the queue).
        public var status: PendingStatus?
        /// Whether this call moved it there.
        public var marked: Bool
    }

    /// Status marks asked for by a coordinator on another host, decided here on this process's own
    /// clock and verified ledger: expired and stale proposals are marked (all of them, as a
    /// coordinator's pass does), a proposal is marked vetoed only when this ledger's own evaluation
    /// finds a valid veto among its rejections. Answers where each asked-for proposal stands.
    public func decideStatuses(_ asked: [(id: String, status: PendingStatus)], at now: Date) async throws -> [StatusLine] {
        var marked = Set(try await markExpiredAndStale(at: now).map(\.id))
        for (id, status) in asked where status == .vetoed && !marked.contains(id) {
            guard let row = try await io({ try await storage.pending(id: id) }), row.status == .pending else { continue }
            let report = try await evaluate(id: id, at: now)
            if report.findings.contains(where: { if case .vetoed = $0 { true } else { false } }), try await markVetoed(id: id) {
                marked.insert(id)
            }
        }
        var lines: [StatusLine] = []
        for (id, _) in asked {
            let status = try await io { try await storage.pending(id: id) }?.status
            lines.append(StatusLine(id: id, status: status, marked: marked.contains(id)))
        }
        return lines
    }
}

/// Entries posted to the service, verified before they are stored; the blobs they cite are the ledger's.
struct PostedEntrySource: EntrySource {
    var entries: [LedgerEntry]
    let ledger: Ledger

    mutating func next(max: Int) async throws -> [LedgerEntry] {
        let batch = Array(entries.prefix(max))
        entries.removeFirst(batch.count)
        return batch
    }

    func blob(_ hash: String) async throws -> [UInt8]? { try await ledger.blob(hash) }
}
