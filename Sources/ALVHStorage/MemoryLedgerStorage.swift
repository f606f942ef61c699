import ALVHSigning

/// A ledger storage in memory: the test double, and the reference the conformance suite holds
/// the database backends to. An actor: each write is one isolated step, as a transaction is.
public actor MemoryLedgerStorage: LedgerStorage {
    public nonisolated let location: String

    private var metaValues: [String: String] = [:]
    private var entryRows: [StoredEntry] = []
    private var blobRows: [String: [UInt8]] = [:]
    private var bookRow: (sequence: UInt64, json: [UInt8])?
    private var pendingRows: [String: StoredPending] = [:]
    private var signatureRows: [String: [StoredSignature]] = [:]
    private var rejectionRows: [(pendingID: String, signerKey: String, envelope: [UInt8])] = []

    public init(location: String = "memory:") { self.location = location }

    // MARK: Reading

    public func meta(_ key: String) -> String? { metaValues[key] }
    public func head() -> StoredEntry? { entryRows.last }
    public func entry(at sequence: UInt64) -> StoredEntry? { sequence < entryRows.count ? entryRows[Int(sequence)] : nil }

    public func entries(from sequence: UInt64, limit: Int) -> [StoredEntry] {
        guard sequence < entryRows.count, limit > 0 else { return [] }
        let start = Int(sequence)
        return Array(entryRows[start..<min(entryRows.count, start + min(limit, entryRows.count))])
    }

    public func lastPolicyEntry(before sequence: UInt64?) -> StoredEntry? {
        entryRows.last { entry in entry.adoptsPolicy && (sequence.map { entry.sequence < $0 } ?? true) }
    }

    public func blob(_ hash: String) -> [UInt8]? { blobRows[hash] }

    public func blobs(after hash: String?, limit: Int) -> [(hash: String, bytes: [UInt8])] {
        blobRows.keys.sorted().filter { hash == nil || $0 > hash! }.prefix(max(0, limit)).map { ($0, blobRows[$0]!) }
    }

    public func book() -> (sequence: UInt64, json: [UInt8])? { bookRow }

    public func pending(id: String) -> StoredPending? {
        guard var row = pendingRows[id] else { return nil }
        row.signatureCount = signatureRows[id]?.count ?? 0
        row.rejectionCount = rejectionRows.filter { $0.pendingID == id }.count
        return row
    }

    public func allPending() -> [StoredPending] {
        pendingRows.values.sorted { ($0.queuedAt, $0.id) < ($1.queuedAt, $1.id) }.compactMap { pending(id: $0.id) }
    }

    public func openPending() -> [StoredPending] {
        pendingRows.values.filter { $0.status == .pending }
            .sorted { ($0.sequence, $0.queuedAt, $0.id) < ($1.sequence, $1.queuedAt, $1.id) }.compactMap { pending(id: $0.id) }
    }

    public func pendingIDs(prefix: String, limit: Int) -> [String] {
        Array(pendingRows.keys.filter { $0.hasPrefix(prefix) }.sorted().prefix(max(0, limit)))
    }

    public func signatures(pendingID: String) -> [StoredSignature] { signatureRows[pendingID] ?? [] }

    public func rejections(pendingID: String) -> [[UInt8]] {
        rejectionRows.filter { $0.pendingID == pendingID }.map(\.envelope)
    }

    public func slotRejections(sequence: UInt64) -> [[UInt8]] {
        rejectionRows.filter { pendingRows[$0.pendingID]?.sequence == sequence }.map(\.envelope)
    }

    // MARK: Writing

    public func create(genesis: StoredEntry, meta: [String: String], book: [UInt8], blobs: [[UInt8]]) throws {
        guard entryRows.isEmpty else { throw StorageError(.alreadyInitialized, "a ledger already exists here; it is never re-initialized", path: location) }
        guard genesis.sequence == 0, genesis.kind == "genesis" else { throw StorageError(.refused, "the first entry must be a genesis entry at sequence 0", path: location) }
        entryRows = [genesis]
        metaValues.merge(meta) { $1 }
        bookRow = (0, book)
        storeBlobs(blobs)
    }

    private func isHead(_ head: HeadRef?) -> Bool {
        guard let head else { return true }
        return entryRows.last?.ref == head
    }

    private func storeBlobs(_ blobs: [[UInt8]]) {
        for bytes in blobs { blobRows[SHA256.hexDigest(bytes)] = blobRows[SHA256.hexDigest(bytes)] ?? bytes }
    }

    public func enqueue(_ proposal: NewPending?, id: String, blobs: [[UInt8]], signatures: [NewSignature], maxSignatures: Int,
                        conflicts: @escaping SlotConflictRule, decidedOn head: HeadRef) -> WriteOutcome<EnqueueOutcome> {
        guard isHead(head) else { return .headMoved(current: entryRows.last?.ref) }
        var isNew = false
        var pendingAfter = pendingRows
        if let proposal, pendingAfter[proposal.id] == nil {
            pendingAfter[proposal.id] = StoredPending(proposal, status: .pending, signatureCount: 0, rejectionCount: 0)
            isNew = true
        }
        guard let row = pendingAfter[id] else { return .done(.notQueued) }
        guard row.status == .pending else { return .done(.notOpen(row.status)) }
        var stored = signatureRows[id] ?? []
        var outcomes: [SignatureOutcome] = []
        for (index, signature) in signatures.enumerated() {
            if stored.contains(where: { $0.signerKey == signature.signerKey }) { outcomes.append(.alreadyThere); continue }
            guard stored.count < maxSignatures else { return .done(.refused(index: index, .tooMany(count: stored.count))) }
            let others = signatureRows.compactMap { other, rows -> SlotSignature? in
                // Any status: the rule decides on the signed payload and rejections, not on it.
                guard other != id, let p = pendingAfter[other], p.sequence == row.sequence,
                      rows.contains(where: { $0.signerKey == signature.signerKey }) else { return nil }
                return SlotSignature(pendingID: other, expires: p.expires, proposer: p.proposer, signerKey: signature.signerKey,
                                     payload: p.payload, payloadType: p.payloadType,
                                     rejections: rejectionRows.filter { $0.pendingID == other }.map(\.envelope))
            }.sorted { $0.pendingID < $1.pendingID }
            if let blocking = others.first(where: conflicts) { return .done(.refused(index: index, .doubleSign(blocking))) }
            stored.append(StoredSignature(keyid: signature.keyid, sig: signature.sig, signerKey: signature.signerKey))
            outcomes.append(.added)
        }
        pendingRows = pendingAfter
        signatureRows[id] = stored
        storeBlobs(blobs)
        return .done(.queued(isNew: isNew, signatures: outcomes, pending: pending(id: id)!))
    }

    public func addRejection(pendingID: String, envelope: [UInt8], signerKey: String, addedAt: String, veto: Bool,
                             decidedOn head: HeadRef) -> WriteOutcome<RejectionOutcome> {
        guard isHead(head) else { return .headMoved(current: entryRows.last?.ref) }
        guard let row = pendingRows[pendingID] else { return .done(.notQueued) }
        if rejectionRows.contains(where: { $0.pendingID == pendingID && $0.signerKey == signerKey }) { return .done(.alreadyThere) }
        rejectionRows.append((pendingID, signerKey, envelope))
        let vetoed = veto && row.status == .pending
        if vetoed { pendingRows[pendingID]?.status = .vetoed }
        return .done(.added(vetoed: vetoed))
    }

    public func append(_ entries: [StoredEntry], book: [UInt8], blobs: [[UInt8]], removing pending: PendingRemoval?,
                       decidedOn head: HeadRef) throws -> WriteOutcome<HeadRef> {
        guard isHead(head) else { return .headMoved(current: entryRows.last?.ref) }
        let previous = try StoredEntry.head(after: head, appending: entries, location: location)
        if let pending {
            // The queue state the commit was decided on: still pending, no rejection for its entry since.
            guard let row = pendingRows[pending.id], row.status == .pending,
                  slotRejections(sequence: row.sequence).count == pending.slotRejections else { return .queueChanged }
        }
        entryRows += entries
        bookRow = (previous.sequence, book)
        storeBlobs(blobs)
        if let id = pending?.id {
            pendingRows[id] = nil
            signatureRows[id] = nil
            rejectionRows.removeAll { $0.pendingID == id }
        }
        return .done(previous)
    }

    public func setStatus(_ changes: [(id: String, status: PendingStatus)], decidedOn head: HeadRef?) -> WriteOutcome<[StatusChange]> {
        guard isHead(head) else { return .headMoved(current: entryRows.last?.ref) }
        return .done(changes.map { change in
            guard let row = pendingRows[change.id], row.status == .pending else {
                return .unchanged(id: change.id, status: pendingRows[change.id]?.status)
            }
            pendingRows[change.id]?.status = change.status
            return .marked(id: change.id, to: change.status)
        })
    }

    public func close() {}
}
