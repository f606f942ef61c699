import Foundation
import GRDB
import ALVHSigning
import ALVHApproval

extension Ledger {
    /// What ``enqueue(_:snapshot:keys:at:)`` did.
    public struct EnqueueResult: Sendable {
        public let pending: PendingProposal
        /// False when the proposal was already queued (its new signatures were merged).
        public let isNew: Bool
        public let signaturesAdded: Int
        /// Signatures the envelope carried that verify under no key of the policy (not stored).
        public let signaturesRefused: Int
    }

    /// Puts a proposal envelope in the pending queue (or merges its signatures into the queued copy).
    ///
    /// Decided on the ledger as this object verified it (from genesis once, then from its checkpoint),
    /// never on the database's say-so. Refused unless: it is an alvh proposal verified by a policy
    /// key (verify first, then parse); it binds this ledger's id, the verified head, the next sequence
    /// and the policy in force; a new proposal was made now (`created` within the policy's clock skew)
    /// with a window the policy allows and a proposer allowed to propose; every claimed figure is the
    /// one recomputed from its signed legs, the verified book and the snapshot it cites (`snapshot`,
    /// stored in the ledger with it), and its limit prices are near the snapshot's model mids.
    /// Only signatures that verify under a policy key are stored, one per key.
    @discardableResult
    public func enqueue(_ envelope: Envelope, snapshot: [UInt8]? = nil, keys: KeyAttachments? = nil, at now: Date) throws -> EnqueueResult {
        // The files it needs are read before the write lock is taken (no file is read inside the
        // transaction): a proposed policy's key files and the cited snapshot, when not given.
        let cited = keys == nil || snapshot == nil ? try workspaceFiles(citedBy: envelope) : (keys: nil, snapshot: nil)
        let keyFiles = keys ?? cited.keys
        let snapshot = snapshot ?? cited.snapshot
        return try writeVerified { db, verified in
            let policy = verified.policy
            let context = verified.context
            let id = envelope.id
            // The snapshot given, or the one the ledger holds for the hash the verified document cites.
            var storedSnapshot: [UInt8]?
            let assessor = LedgerAssessor(book: verified.book, snapshot: { hash in
                if let snapshot, SHA256.hexDigest(snapshot) == hash { storedSnapshot = snapshot; return snapshot }
                return try? Ledger.blob(hash, db)
            })
            let (report, parsed) = ThresholdEvaluator(policy: policy).evaluateDocument(envelope, at: now, ledger: context, assessor: assessor)
            guard let document = parsed else {
                throw LedgerError(.invalidInput, "not queued: " + report.problems.joined(separator: "; "))
            }
            let binding = document.ledger
            guard binding.ledgerID == context.ledgerID else {
                throw LedgerError(.invalidInput, "not queued: the proposal is for ledger \(binding.ledgerID.prefix(16))…, this ledger is \(context.ledgerID.prefix(16))…")
            }
            guard binding.base == context.head, binding.sequence == context.nextSequence else {
                throw LedgerError(.staleProposal, "stale proposal: head moved from \(binding.base.prefix(16))… (entry \(binding.sequence &- 1)) to \(context.head.prefix(16))… (entry \(context.nextSequence - 1)); re-propose")
            }
            guard binding.policyHash == policy.hash else {
                throw LedgerError(.invalidInput, "not queued: the proposal binds policy \(binding.policyHash.prefix(16))…, the policy in force is \(policy.hash.prefix(16))…")
            }
            let exists = try Bool.fetchOne(db.cachedStatement(sql: LedgerSQL.pendingExists), arguments: [id]) ?? false
            if exists {
                let status = try Ledger.pendingRow(id: id, db).status
                guard status == "pending" else {
                    throw LedgerError(.invalidInput, "proposal \(id.prefix(16))… is \(status); no signature is taken for it")
                }
            }
            if !exists {
                let skew = TimeInterval(policy.maxClockSkewSeconds)
                if abs(document.createdDate.timeIntervalSince(now)) > skew {
                    throw LedgerError(.invalidInput, "not queued: created \(document.created) is not now (\(RFC3339.format(now))) within the policy's \(policy.maxClockSkewSeconds) s clock skew; a proposal is queued when it is made — re-propose", path: "payload: created")
                }
                // What can never become true is refused now: false claims, an expired window, a
                // stale snapshot. (A notBefore still ahead is queued: it becomes valid.)
                let refused = report.findings.filter {
                    switch $0 {
                    case .expired, .staleMarket: return true
                    default: return $0.isFalseClaim
                    }
                }
                if !refused.isEmpty {
                    throw LedgerError(.invalidInput, "not queued: " + refused.map(\.description).joined(separator: "; "))
                }
            }
            var newPolicy: Policy?
            if document.kind == .policyChange {
                guard let change = document.change.policy else { throw LedgerError(.invalidInput, "a policy-change proposal without a policy") }
                let files = try keyFiles ?? Ledger.pendingKeys(id: id, db)
                newPolicy = try Policy(bytes: try change.bytes(), keyLoader: (files ?? KeyAttachments(keys: [:])).loader,
                                       path: "proposed policy v\(change.version)")
            }
            if !exists {
                let attachments = try (document.kind == .policyChange ? keyFiles?.encoded() : nil).map { Data($0) }
                try db.cachedStatement(sql: """
                    INSERT INTO pending (id, payload, payload_type, kind, sequence, base, created, expires, proposer, queued_at, attachments)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [id, Data(envelope.payload), envelope.payloadType, document.kind.rawValue, Int64(binding.sequence),
                                     binding.base, document.created, document.expires, document.proposer, RFC3339.format(now), attachments])
                if let storedSnapshot, document.kind != .policyChange { _ = try Ledger.storeBlob(storedSnapshot, db) }
            }
            var added = 0, refused = 0
            let message = envelope.pae
            for signature in envelope.signatures {
                guard let signer = Ledger.storingSigner(of: signature, over: message, policy: policy, newPolicy: newPolicy) else { refused += 1; continue }
                added += try Ledger.insertSignature(signature, by: signer, document: document, policy: policy, pendingID: id, at: now, db) ? 1 : 0
            }
            return EnqueueResult(pending: try Ledger.pendingRow(id: id, db), isNew: !exists, signaturesAdded: added, signaturesRefused: refused)
        }
    }

    /// The workspace files an envelope needs queued with it: a policy change's key files (as its new
    /// policy names them) or a layer change's cited snapshot (`snapshots/HASH.json`, if there). The
    /// envelope is verified first, under the stored policy: this only finds which files to read; the
    /// proposal is verified again, and decided, in the transaction.
    func workspaceFiles(citedBy envelope: Envelope) throws -> (keys: KeyAttachments?, snapshot: [UInt8]?) {
        guard let document = ThresholdEvaluator(policy: try policyInForce()).evaluateDocument(envelope, at: Date()).document else { return (nil, nil) }
        if let change = document.change.policy {
            let proposed = try Policy(bytes: try change.bytes(), workspace: workspace, path: "proposed policy v\(change.version)")
            return (try KeyAttachments(for: proposed, workspace: workspace), nil)
        }
        guard let hash = document.market?.snapshotHash, Hex.isLowercase(hash, count: 64),
              SecureFile.exists(SnapshotStore.path(workspace: workspace, hash: hash)) else { return (nil, nil) }
        return (nil, try SnapshotStore.load(hash: hash, workspace: workspace).bytes)
    }

    /// Adds a signature to a pending proposal after verifying it: stored only if a key of the policy
    /// in force (or, for a policy change, of the proposed policy) made it over this proposal, once per
    /// key, and not while the same key has signed another live proposal for the same entry.
    /// Returns false when this key's signature is there already.
    @discardableResult
    public func addSignature(_ signature: Envelope.Signature, to id: String, at now: Date) throws -> Bool {
        try writeVerified { db, verified in
            let pending = try Ledger.pendingRow(id: id, db)
            guard pending.status == "pending" else {
                throw LedgerError(.invalidInput, "proposal \(id.prefix(16))… is \(pending.status); no signature is taken for it")
            }
            let envelope = try Ledger.envelope(id: id, db)
            let document = try ProposalDocument.decode(envelope.payload, path: "pending \(id.prefix(16))")
            let newPolicy = try Ledger.queuedNewPolicy(document, id: id, db)
            guard let signer = Ledger.storingSigner(of: signature, over: envelope.pae, policy: verified.policy, newPolicy: newPolicy) else {
                throw LedgerError(.invalidInput, "not stored: the signature verifies under no key of policy '\(verified.policy.name)' over proposal \(id.prefix(16))…")
            }
            return try Ledger.insertSignature(signature, by: signer, document: document, policy: verified.policy, pendingID: id, at: now, db)
        }
    }

    /// The review behind `alvh sign ID`: the envelope, its document, the report under the verified
    /// policy with figures recomputed from the signed legs, the verified book and the cited snapshot.
    public struct SigningReview: Sendable {
        public let envelope: Envelope
        public let document: ProposalDocument
        public let report: ApprovalReport
        /// The recomputed figures (layer changes).
        public let recomputed: Recomputation?
        /// The current and the proposed policy (policy changes).
        public let currentPolicy: Policy
        public let newPolicy: Policy?
    }

    /// A pending proposal `key` may sign now: the key is a (non-revoked) signer of the verified policy
    /// in force (or of the proposed one), the envelope verifies with its proposer's signature (verified
    /// before the payload is parsed), every claimed figure is the recomputed one, and the usual
    /// signing checks pass (not expired, not signed by this key yet).
    public func signable(id: String, by key: PrivateKey, at now: Date) throws -> SigningReview {
        let path = "pending \(id.prefix(16))"
        let verified = try self.verified()
        let policy = verified.policy
        // One evaluation, in one read: the cited snapshot is looked up for the hash the verified
        // document names, and the recomputation the assessor makes is kept for the display.
        var recomputed: Recomputation?
        let (envelope, report, parsed, newPolicy) = try read { db -> (Envelope, ApprovalReport, ProposalDocument?, Policy?) in
            let envelope = try Ledger.envelope(id: id, db)
            let assessor = LedgerAssessor(book: verified.book, snapshot: { try? Ledger.blob($0, db) }, recomputed: { recomputed = $0 })
            let (report, document) = ThresholdEvaluator(policy: policy).evaluateDocument(envelope, at: now, ledger: verified.context, assessor: assessor)
            return (envelope, report, document, try document.flatMap { try Ledger.queuedNewPolicy($0, id: id, db) })
        }
        let mine = policy.signer(for: key.keyID) ?? newPolicy?.signer(for: key.keyID)
        guard let mine, !mine.revoked else {
            throw ApprovalError(.signingRefused, "key \(key.keyID.fingerprint) is not a signer of policy '\(policy.name)' v\(policy.version) (or is revoked); its signature would not count; nothing was written",
                                path: path)
        }
        guard let document = parsed, report.proposerSigned else {
            throw ApprovalError(.signingRefused, "the proposal does not verify under policy '\(policy.name)' with its proposer's signature: "
                                + report.problems.joined(separator: "; ") + "; nothing was written", path: path)
        }
        let falseClaims = report.findings.filter(\.isFalseClaim)
        guard falseClaims.isEmpty else {
            throw ApprovalError(.signingRefused, "refused: " + falseClaims.map(\.description).joined(separator: "; ") + "; nothing was written", path: path)
        }
        _ = try ProposalSigning.check(envelope, signer: key.publicKey, at: now, path: path)
        return SigningReview(envelope: envelope, document: document, report: report, recomputed: recomputed,
                             currentPolicy: policy, newPolicy: newPolicy)
    }

    /// Signs a pending proposal with `key` after the checks of ``signable(id:by:at:)``.
    public func sign(id: String, with key: PrivateKey, at now: Date) throws -> Envelope {
        var envelope = try signable(id: id, by: key, at: now).envelope
        try envelope.addSignature(using: key)
        try addSignature(envelope.signatures.last!, to: id, at: now)
        return envelope
    }

    /// Stores a signed rejection of a pending proposal after verifying it: a rejection document signed
    /// by a (non-revoked) signer of the policy in force (or of the proposed one), binding this
    /// proposal; one per key. A valid veto marks the proposal vetoed in the same transaction.
    /// Returns false when this key's rejection is there already.
    @discardableResult
    public func addRejection(_ rejection: Envelope, to id: String, at now: Date) throws -> Bool {
        guard PayloadTypes.isRejection(rejection.payloadType) else {
            throw LedgerError(.invalidInput, "payloadType '\(rejection.payloadType)' is not an alvh rejection")
        }
        return try writeVerified { db, verified in
            _ = try Ledger.pendingRow(id: id, db)
            let document = try? ProposalDocument.decode(try Ledger.envelope(id: id, db).payload)
            let newPolicy = try document.flatMap { try Ledger.queuedNewPolicy($0, id: id, db) }
            var line = ThresholdEvaluator(policy: verified.policy).rejectionLine(rejection, proposalID: id)
            if line.signer == nil, let newPolicy {
                line = ThresholdEvaluator(policy: newPolicy).rejectionLine(rejection, proposalID: id)
                line.veto = false // a veto is the policy in force's
            }
            if let ignored = line.ignored {
                throw LedgerError(.invalidInput, "rejection not stored: \(ignored)")
            }
            guard let keyID = line.keyID else { throw LedgerError(.invalidInput, "rejection not stored: not signed by any key of the policy") }
            if try Bool.fetchOne(db.cachedStatement(sql: LedgerSQL.rejectionByKey), arguments: [id, keyID]) == true { return false }
            try db.cachedStatement(sql: "INSERT INTO rejections (pending_id, envelope, added_at, signer_key) VALUES (?, ?, ?, ?)")
                .execute(arguments: [id, Data(try rejection.encoded()), RFC3339.format(now), keyID])
            if line.veto {
                try db.cachedStatement(sql: "UPDATE pending SET status = 'vetoed' WHERE id = ? AND status = 'pending'").execute(arguments: [id])
            }
            return true
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

    /// Evaluates a pending proposal against the verified policy in force and head, with its figures
    /// recomputed on the verified book and the snapshot it cites.
    public func evaluate(id: String, at now: Date) throws -> ApprovalReport {
        let verified = try self.verified()
        return try read { db in
            let envelope = try Ledger.envelope(id: id, db)
            let assessor = LedgerAssessor(book: verified.book, snapshot: { try? Ledger.blob($0, db) })
            return ThresholdEvaluator(policy: verified.policy).evaluate(envelope, at: now, ledger: verified.context,
                                                                        rejections: try Ledger.rejections(id: id, db), assessor: assessor)
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

    /// The signer whose key made `signature` over `message`: of the policy in force, or of the
    /// proposed policy for a policy change. Nil: not stored.
    static func storingSigner(of signature: Envelope.Signature, over message: [UInt8], policy: Policy, newPolicy: Policy?) -> Policy.Signer? {
        if let signer = ThresholdEvaluator(policy: policy).verifyingSigner(of: signature, over: message) { return signer }
        if let newPolicy { return ThresholdEvaluator(policy: newPolicy).verifyingSigner(of: signature, over: message) }
        return nil
    }

    /// Stores a verified signature: once per key per proposal, and never while the key's signature
    /// stands on another live proposal for the same entry (the proposer's own, uncounted signature aside).
    static func insertSignature(_ signature: Envelope.Signature, by signer: Policy.Signer, document: ProposalDocument, policy: Policy,
                                pendingID: String, at now: Date, _ db: Database) throws -> Bool {
        let key = signer.keyID.hex
        if try Bool.fetchOne(db.cachedStatement(sql: LedgerSQL.signatureByKey), arguments: [pendingID, key]) == true { return false }
        let count = try Int.fetchOne(db.cachedStatement(sql: LedgerSQL.signatureCount), arguments: [pendingID]) ?? 0
        guard count < Envelope.maxSignatures else {
            throw LedgerError(.invalidInput, "proposal \(pendingID.prefix(16))… already has \(count) signatures, the most an envelope may carry")
        }
        let uncountedProposer = signer.keyID == document.proposerKeyID && !policy.proposerMayApprove
        if !uncountedProposer {
            for row in try Row.fetchAll(db.cachedStatement(sql: LedgerSQL.otherSignatureForSlot),
                                        arguments: [key, Int64(document.ledger.sequence), pendingID]) {
                let other: String = row["id"]
                let expires = RFC3339.parse(row["expires"]) ?? .distantPast
                if (row["proposer"] as String) == key && !policy.proposerMayApprove { continue } // its uncounted proposer signature
                if now < expires {
                    throw LedgerError(.duplicate,
                        "double-sign refused: \(signer.id)'s key already signed proposal \(other.prefix(16))… for entry \(document.ledger.sequence), live until \(row["expires"] as String); one key approves one proposal per entry")
                }
            }
        }
        try db.cachedStatement(sql: "INSERT INTO signatures (pending_id, keyid, sig, added_at, signer_key) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [pendingID, signature.keyid, Data(signature.sig), RFC3339.format(now), key])
        return true
    }

    /// The key files queued with a pending policy change.
    static func pendingKeys(id: String, _ db: Database) throws -> KeyAttachments? {
        guard let data = try Data.fetchOne(db.cachedStatement(sql: LedgerSQL.pendingAttachments), arguments: [id]) else { return nil }
        return try EntryAttachments.decode(Array(data)).keyAttachments
    }

    /// The policy a pending policy change proposes, with the key files queued with it (nil for a layer change).
    static func queuedNewPolicy(_ document: ProposalDocument, id: String, _ db: Database) throws -> Policy? {
        guard let change = document.change.policy else { return nil }
        let keys = try pendingKeys(id: id, db) ?? KeyAttachments(keys: [:])
        return try Policy(bytes: try change.bytes(), keyLoader: keys.loader, path: "proposed policy v\(change.version)")
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
