import Foundation
import GRDB
import ALVHSigning
import ALVHApproval

extension Ledger {
    /// What ``enqueue(_:at:)`` did.
    public struct EnqueueResult: Sendable {
        public let pending: PendingProposal
        /// False when the proposal was already queued (its new signatures were merged).
        public let isNew: Bool
        public let signaturesAdded: Int
    }

    /// Puts a proposal envelope in the pending queue (or merges its signatures into the queued copy).
    ///
    /// Refused unless: it is an alvh proposal; a policy key verified it (verify first, then parse);
    /// it binds this ledger's id, the current head, the next sequence and the policy in force;
    /// it has not expired.
    @discardableResult
    public func enqueue(_ envelope: Envelope, at now: Date) throws -> EnqueueResult {
        try writeImmediate { db in
            let policy = try Ledger.policyInForce(db)
            let context = try Ledger.context(db)
            let (report, document) = ThresholdEvaluator(policy: policy).evaluateDocument(envelope, at: now, ledger: context)
            guard let document else {
                throw LedgerError(.invalidInput, "not queued: " + report.problems.joined(separator: "; "))
            }
            let binding = document.ledger
            guard binding.ledgerID == context.ledgerID else {
                throw LedgerError(.invalidInput, "not queued: the proposal is for ledger \(binding.ledgerID.prefix(16))…, this ledger is \(context.ledgerID.prefix(16))…")
            }
            guard binding.base == context.head, binding.sequence == context.nextSequence else {
                throw LedgerError(.staleProposal, "stale proposal: head moved from \(binding.base.prefix(16))… (entry \(binding.sequence - 1)) to \(context.head.prefix(16))… (entry \(context.nextSequence - 1)); re-propose")
            }
            guard binding.policyHash == policy.hash else {
                throw LedgerError(.invalidInput, "not queued: the proposal binds policy \(binding.policyHash.prefix(16))…, the policy in force is \(policy.hash.prefix(16))…")
            }
            guard now < document.expiresDate else {
                throw LedgerError(.invalidInput, "not queued: the proposal expired at \(document.expires)")
            }
            let id = envelope.id
            let exists = try Bool.fetchOne(db.cachedStatement(sql: LedgerSQL.pendingExists), arguments: [id]) ?? false
            if !exists {
                try db.cachedStatement(sql: """
                    INSERT INTO pending (id, payload, payload_type, kind, sequence, base, created, expires, proposer, queued_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [id, Data(envelope.payload), envelope.payloadType, document.kind.rawValue, Int64(binding.sequence),
                                     binding.base, document.created, document.expires, document.proposer, RFC3339.format(now)])
            }
            var added = 0
            for signature in envelope.signatures {
                added += try Ledger.insertSignature(signature, pendingID: id, at: now, db) ? 1 : 0
            }
            return EnqueueResult(pending: try Ledger.pendingRow(id: id, db), isNew: !exists, signaturesAdded: added)
        }
    }

    /// Adds a signature to a pending proposal. Any bytes are stored (bounded in number); they are
    /// verified when the proposal is evaluated. Returns false when the same signature is there already.
    @discardableResult
    public func addSignature(_ signature: Envelope.Signature, to id: String, at now: Date) throws -> Bool {
        try writeImmediate { db in
            _ = try Ledger.pendingRow(id: id, db)
            return try Ledger.insertSignature(signature, pendingID: id, at: now, db)
        }
    }

    /// A pending proposal `key` may sign now, and its document: the key is a (non-revoked) signer of
    /// the policy in force, the envelope verifies under that policy with its proposer's signature
    /// (verified before the payload is parsed), and the usual signing checks pass (not expired, not
    /// signed by this key yet).
    public func signable(id: String, by key: PrivateKey, at now: Date) throws -> (envelope: Envelope, document: ProposalDocument) {
        let path = "pending \(id.prefix(16))"
        let envelope = try self.envelope(id: id)
        let policy = try policyInForce()
        guard let signer = policy.signer(for: key.keyID), !signer.revoked else {
            throw ApprovalError(.signingRefused, "key \(key.keyID.fingerprint) is not a signer of policy '\(policy.name)' v\(policy.version) (or is revoked); its signature would not count; nothing was written",
                                path: path)
        }
        let (report, document) = ThresholdEvaluator(policy: policy).evaluateDocument(envelope, at: now, ledger: try context())
        guard document != nil, report.proposerSigned else {
            throw ApprovalError(.signingRefused, "the proposal does not verify under policy '\(policy.name)' with its proposer's signature: "
                                + report.problems.joined(separator: "; ") + "; nothing was written", path: path)
        }
        return (envelope, try ProposalSigning.check(envelope, signer: key.publicKey, at: now, path: path))
    }

    /// Signs a pending proposal with `key` after the checks of ``signable(id:by:at:)``.
    public func sign(id: String, with key: PrivateKey, at now: Date) throws -> Envelope {
        var envelope = try signable(id: id, by: key, at: now).envelope
        try envelope.addSignature(using: key)
        try addSignature(envelope.signatures.last!, to: id, at: now)
        return envelope
    }

    /// Stores a signed rejection of a pending proposal (checked when the proposal is evaluated).
    public func addRejection(_ rejection: Envelope, to id: String, at now: Date) throws {
        guard rejection.payloadType == PayloadTypes.rejection else {
            throw LedgerError(.invalidInput, "payloadType '\(rejection.payloadType)' is not an alvh rejection")
        }
        try writeImmediate { db in
            _ = try Ledger.pendingRow(id: id, db)
            let count = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM rejections WHERE pending_id = ?"), arguments: [id]) ?? 0
            guard count < Envelope.maxSignatures else {
                throw LedgerError(.invalidInput, "proposal \(id.prefix(16))… already has \(count) rejections")
            }
            try db.execute(sql: "INSERT OR IGNORE INTO rejections (pending_id, envelope, added_at) VALUES (?, ?, ?)",
                           arguments: [id, Data(try rejection.encoded()), RFC3339.format(now)])
        }
    }

    /// The pending proposal's envelope: its payload with every signature collected, in arrival order.
    public func envelope(id: String) throws -> Envelope {
        try read { try Ledger.envelope(id: id, $0) }
    }

    /// The signed rejections collected for a pending proposal.
    public func rejections(id: String) throws -> [Envelope] {
        try read { try Ledger.rejections(id: id, $0) }
    }

    /// The queue, oldest first (pending, expired and stale alike).
    public func pending() throws -> [PendingProposal] {
        try read { db in
            try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM pending ORDER BY queued_at, id")).map { try Ledger.pendingRow(id: $0, db) }
        }
    }

    /// The proposals still open (status pending), in the order they can be decided: by the entry
    /// they would become, then by queue time.
    public func openProposals() throws -> [PendingProposal] {
        try pending().filter { $0.status == "pending" }.sorted { ($0.sequence, $0.queuedAt) < ($1.sequence, $1.queuedAt) }
    }

    /// Finds a pending proposal by its id or a unique prefix of it (at least 8 hex digits).
    public func resolvePendingID(_ prefix: String) throws -> String {
        let lower = prefix.lowercased()
        guard lower.count >= 8, Hex.decode(lower.count % 2 == 0 ? lower : lower + "0") != nil else {
            throw LedgerError(.invalidInput, "a proposal id is hex, at least 8 digits (see `alvh pending`)", path: "ID")
        }
        let matches = try read { try String.fetchAll($0.cachedStatement(sql: "SELECT id FROM pending WHERE id LIKE ? || '%'"), arguments: [lower]) }
        guard matches.count == 1 else {
            throw LedgerError(.notFound, matches.isEmpty ? "no pending proposal with id \(prefix) (see `alvh pending`)"
                                                         : "id prefix \(prefix) is ambiguous; give more digits", path: "ID")
        }
        return matches[0]
    }

    /// Evaluates a pending proposal against the policy in force and the current head.
    public func evaluate(id: String, at now: Date) throws -> ApprovalReport {
        try read { db in
            let policy = try Ledger.policyInForce(db)
            return ThresholdEvaluator(policy: policy).evaluate(try Ledger.envelope(id: id, db), at: now,
                                                               ledger: try Ledger.context(db), rejections: try Ledger.rejections(id: id, db))
        }
    }

    /// Marks pending proposals that expired (at `now`) or whose base is no longer the head.
    /// Returns the ids newly marked. Nothing is deleted: the queue keeps them for the record.
    @discardableResult
    public func markExpiredAndStale(at now: Date) throws -> [(id: String, status: String)] {
        try writeImmediate { db in
            let head = try Ledger.context(db).head
            var marked: [(String, String)] = []
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT id, base, expires FROM pending WHERE status = 'pending'")) {
                let id: String = row["id"]
                let expires = RFC3339.parse(row["expires"]) ?? .distantPast
                let status = now >= expires ? "expired" : ((row["base"] as String) != head ? "stale" : nil)
                if let status {
                    try db.cachedStatement(sql: "UPDATE pending SET status = ? WHERE id = ?").execute(arguments: [status, id])
                    marked.append((id, status))
                }
            }
            return marked
        }
    }

    /// Marks a pending proposal as vetoed (the coordinator does, when a veto role's valid signed
    /// rejection is among its rejections). Returns false when it was not pending any more.
    @discardableResult
    public func markVetoed(id: String) throws -> Bool {
        try writeImmediate { db in
            try db.cachedStatement(sql: "UPDATE pending SET status = 'vetoed' WHERE id = ? AND status = 'pending'").execute(arguments: [id])
            return db.changesCount > 0
        }
    }

    // MARK: - SQL

    static func insertSignature(_ signature: Envelope.Signature, pendingID: String, at now: Date, _ db: Database) throws -> Bool {
        let count = try Int.fetchOne(db.cachedStatement(sql: LedgerSQL.signatureCount), arguments: [pendingID]) ?? 0
        let exists = try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM signatures WHERE pending_id = ? AND sig = ?)"),
                                       arguments: [pendingID, Data(signature.sig)]) ?? false
        if exists { return false }
        guard count < Envelope.maxSignatures else {
            throw LedgerError(.invalidInput, "proposal \(pendingID.prefix(16))… already has \(count) signatures, the most an envelope may carry")
        }
        try db.cachedStatement(sql: "INSERT INTO signatures (pending_id, keyid, sig, added_at) VALUES (?, ?, ?, ?)")
            .execute(arguments: [pendingID, signature.keyid, Data(signature.sig), RFC3339.format(now)])
        return true
    }

    static func envelope(id: String, _ db: Database) throws -> Envelope {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.pendingPayload), arguments: [id]) else {
            throw LedgerError(.notFound, "no pending proposal \(id.prefix(16))… (committed already, or never queued; see `alvh pending`)")
        }
        let signatures = try Row.fetchAll(db.cachedStatement(sql: LedgerSQL.pendingSignatures), arguments: [id])
            .map { Envelope.Signature(keyid: $0["keyid"], sig: Array($0["sig"] as Data)) }
        return Envelope(payload: Array(row["payload"] as Data), payloadType: row["payload_type"], signatures: signatures)
    }

    static func rejections(id: String, _ db: Database) throws -> [Envelope] {
        try Data.fetchAll(db.cachedStatement(sql: LedgerSQL.pendingRejections), arguments: [id])
            .map { try Envelope.decode(Array($0), path: "rejection of \(id.prefix(16))") }
    }

    static func pendingRow(id: String, _ db: Database) throws -> PendingProposal {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT p.*, (SELECT COUNT(*) FROM signatures s WHERE s.pending_id = p.id) AS sigs,
                        (SELECT COUNT(*) FROM rejections r WHERE r.pending_id = p.id) AS rejs
            FROM pending p WHERE p.id = ?
            """, arguments: [id]) else {
            throw LedgerError(.notFound, "no pending proposal \(id.prefix(16))… (see `alvh pending`)")
        }
        return PendingProposal(id: row["id"], kind: row["kind"], sequence: UInt64(row["sequence"] as Int64), base: row["base"],
                               created: row["created"], expires: row["expires"], proposer: row["proposer"],
                               queuedAt: row["queued_at"], status: row["status"], signatureCount: row["sigs"],
                               rejectionCount: row["rejs"])
    }

    static func context(_ db: Database) throws -> LedgerContext {
        guard let head = try Row.fetchOne(db.cachedStatement(sql: LedgerSQL.head)),
              let id = try String.fetchOne(db.cachedStatement(sql: LedgerSQL.genesisHash)) else {
            throw LedgerError(.noLedger, "the ledger has no genesis entry")
        }
        return LedgerContext(ledgerID: id, head: head["entry_hash"], nextSequence: UInt64(head["seq"] as Int64) + 1)
    }
}
