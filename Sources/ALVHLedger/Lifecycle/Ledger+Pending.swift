import Foundation
import Synchronization
import ALVHSigning
import ALVHApproval
import ALVHStorage

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
    /// never on the database's say-so; written only if the stored head is still the verified one.
    /// Refused unless: it is an alvh proposal verified by a policy key (verify first, then parse); it
    /// binds this ledger's id, the verified head, the next sequence and the policy in force; a new
    /// proposal was made now (`created` within the policy's clock skew) with a window the policy
    /// allows and a proposer allowed to propose; every claimed figure is the one recomputed from its
    /// signed legs, the verified book and the snapshot it cites (`snapshot`, stored in the ledger with
    /// it), and its limit prices are near the snapshot's model mids. Only signatures that verify
    /// under a policy key are stored, one per key, and not while the key's signature stands on another
    /// live proposal for the same entry; a refused signature leaves nothing written.
    @discardableResult
    public func enqueue(_ envelope: Envelope, snapshot: [UInt8]? = nil, keys: KeyAttachments? = nil, at now: Date) async throws -> EnqueueResult {
        // The files it needs are read before anything is decided: a proposed policy's key files and
        // the cited snapshot, when not given.
        let cited = keys == nil || snapshot == nil ? try await workspaceFiles(citedBy: envelope) : (keys: nil, snapshot: nil)
        let keyFiles = keys ?? cited.keys
        let snapshot = snapshot ?? cited.snapshot
        let id = envelope.id
        return try await onVerifiedHead { verified in
            let policy = verified.policy
            let context = verified.context
            let existing = try await storage.pending(id: id)
            if let existing, existing.status != .pending {
                throw LedgerError(.invalidInput, "proposal \(id.prefix(16))… is \(existing.status.rawValue); no signature is taken for it")
            }
            // The snapshot given, or the one the ledger holds, for the hash the verified document cites.
            let held = try await heldSnapshot(citedBy: envelope, given: snapshot)
            let assessor = LedgerAssessor(book: verified.book, snapshot: { held?.hash == $0 ? held?.bytes : nil })
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
            if existing == nil {
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
            var queuedKeys: [UInt8]?
            var policyBlobs: [[UInt8]] = []
            if document.kind == .policyChange {
                guard let change = document.change.policy else { throw LedgerError(.invalidInput, "a policy-change proposal without a policy") }
                let files = try keyFiles ?? existing.flatMap { try Ledger.queuedKeys($0.attachments) }
                queuedKeys = try keyFiles?.encoded()
                newPolicy = try Policy(bytes: try change.bytes(), keyLoader: (files ?? KeyAttachments(keys: [:])).loader,
                                       path: "proposed policy v\(change.version)")
                policyBlobs = [try change.bytes()] + (files?.blobs ?? [])
            }
            var signatures: [NewSignature] = []
            var refused = 0
            let message = envelope.pae
            for signature in envelope.signatures {
                guard let signer = Ledger.storingSigner(of: signature, over: message, policy: policy, newPolicy: newPolicy) else { refused += 1; continue }
                signatures.append(NewSignature(keyid: signature.keyid, sig: signature.sig, signerKey: signer.keyID.hex, addedAt: RFC3339.format(now)))
            }
            let proposal = existing != nil ? nil : NewPending(
                id: id, payload: envelope.payload, payloadType: envelope.payloadType, kind: document.kind.rawValue, sequence: binding.sequence,
                base: binding.base, created: document.created, expires: document.expires, proposer: document.proposer,
                queuedAt: RFC3339.format(now), attachments: queuedKeys)
            // What the proposal cites goes into the ledger's blobs with it — a layer change's snapshot,
            // a policy change's text and key files — so that a signer on another host holds
            // everything it needs to verify and recompute.
            let blobs = existing != nil ? [] : document.kind == .policyChange ? policyBlobs : (held.map { [$0.bytes] } ?? [])
            let outcome = try await storage.enqueue(proposal, id: id, blobs: blobs, signatures: signatures, maxSignatures: Envelope.maxSignatures,
                                                    conflicts: Ledger.doubleSignRule(document: document, policy: policy, at: now),
                                                    decidedOn: verified.ref)
            return try outcome.map { outcome -> EnqueueResult in
                switch outcome {
                case .queued(let isNew, let results, let pending):
                    return EnqueueResult(pending: PendingProposal(pending), isNew: isNew,
                                         signaturesAdded: results.filter { $0 == .added }.count, signaturesRefused: refused)
                case .notOpen(let status):
                    throw LedgerError(.invalidInput, "proposal \(id.prefix(16))… is \(status.rawValue); no signature is taken for it")
                case .notQueued:
                    throw LedgerError(.notFound, "no pending proposal \(id.prefix(16))… (see `alvh pending`)")
                case .refused(_, let why):
                    throw Ledger.signatureRefusal(why, id: id, sequence: binding.sequence, policy: policy)
                }
            }
        }
    }

    /// The cited snapshot's bytes: the ones given when they hash to what the payload cites, else the
    /// ledger's blob. The payload is read here only to know which blob to fetch: the evaluator
    /// verifies the envelope before it parses the payload, and the assessor hands out these bytes
    /// only for the hash the *verified* document cites.
    func heldSnapshot(citedBy envelope: Envelope, given: [UInt8]?) async throws -> (hash: String, bytes: [UInt8])? {
        guard let hash = (try? ProposalDocument.decode(envelope.payload))?.market?.snapshotHash, Hex.isLowercase(hash, count: 64) else { return nil }
        if let given, SHA256.hexDigest(given) == hash { return (hash, given) }
        return try await blob(hash).map { (hash, $0) }
    }

    /// The snapshot a proposal cites, from the ledger's blobs (checked against its hash); nil when
    /// it cites none or the ledger does not hold it. Which blob is read from the payload; whoever
    /// uses the bytes must check that the *verified* document cites this hash.
    public func citedSnapshot(of envelope: Envelope) async throws -> (hash: String, bytes: [UInt8])? {
        try await heldSnapshot(citedBy: envelope, given: nil)
    }

    /// The double-sign rule, applied by the storage inside its write: a key's signature on another
    /// proposal for the same entry blocks a new one while that proposal is live and not vetoed —
    /// except the proposer's own signature when the policy does not count it (on either side).
    ///
    /// Decided on signed facts only, never on a column a keyless writer can change: the other
    /// proposal's payload must hash to its id (PAE), and its expiry, entry and proposer are the
    /// payload's; a veto counts only as a signed rejection that verifies under the policy. A
    /// payload that cannot be read blocks (the safe side).
    static func doubleSignRule(document: ProposalDocument, policy: Policy, at now: Date) -> SlotConflictRule {
        let proposer = document.proposerKeyID.hex
        let sequence = document.ledger.sequence
        let proposerMayApprove = policy.proposerMayApprove
        let evaluator = ThresholdEvaluator(policy: policy)
        return { other in
            if !proposerMayApprove && other.signerKey == proposer { return false } // the new signature is the uncounted proposer's
            let envelope = Envelope(payload: other.payload, payloadType: other.payloadType)
            guard envelope.id == other.pendingID, let signed = try? ProposalDocument.decode(other.payload),
                  let expires = RFC3339.parse(signed.expires) else { return true }
            guard signed.ledger.sequence == sequence else { return false } // another entry's, as signed
            if !proposerMayApprove && signed.proposerKeyID.hex == other.signerKey { return false } // its uncounted proposer signature
            let vetoed = other.rejections.contains { bytes in
                (try? Envelope.decode(bytes, path: "rejection")).map { evaluator.rejectionLine($0, proposalID: other.pendingID).veto } ?? false
            }
            return !vetoed && now < expires
        }
    }

    static func signatureRefusal(_ outcome: SignatureOutcome, id: String, sequence: UInt64, policy: Policy) -> LedgerError {
        switch outcome {
        case .doubleSign(let other):
            let name = policy.signers.first { $0.keyID.hex == other.signerKey }?.id ?? "key \(other.signerKey.prefix(16))…"
            return LedgerError(.duplicate,
                "double-sign refused: \(name)'s key already signed proposal \(other.pendingID.prefix(16))… for entry \(sequence), live until \(other.expires); one key approves one proposal per entry")
        case .tooMany(let count):
            return LedgerError(.invalidInput, "proposal \(id.prefix(16))… already has \(count) signatures, the most an envelope may carry")
        case .added, .alreadyThere:
            return LedgerError(.invalidInput, "proposal \(id.prefix(16))…: a signature was refused")
        }
    }

    /// The workspace files an envelope needs queued with it: a policy change's key files (as its new
    /// policy names them) or a layer change's cited snapshot (`snapshots/HASH.json`, if there). The
    /// envelope is verified first, under the stored policy: this only finds which files to read; the
    /// proposal is verified again, and decided, on the verified head.
    func workspaceFiles(citedBy envelope: Envelope) async throws -> (keys: KeyAttachments?, snapshot: [UInt8]?) {
        guard let document = ThresholdEvaluator(policy: try await policyInForce()).evaluateDocument(envelope, at: Date()).document else { return (nil, nil) }
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
    public func addSignature(_ signature: Envelope.Signature, to id: String, at now: Date) async throws -> Bool {
        try await onVerifiedHead { verified in
            let pending = try await storedPending(id: id)
            guard pending.status == .pending else {
                throw LedgerError(.invalidInput, "proposal \(id.prefix(16))… is \(pending.status.rawValue); no signature is taken for it")
            }
            let envelope = try await self.envelope(of: pending)
            let document = try ProposalDocument.decode(envelope.payload, path: "pending \(id.prefix(16))")
            let newPolicy = try Ledger.queuedNewPolicy(document, attachments: pending.attachments)
            guard let signer = Ledger.storingSigner(of: signature, over: envelope.pae, policy: verified.policy, newPolicy: newPolicy) else {
                throw LedgerError(.invalidInput, "not stored: the signature verifies under no key of policy '\(verified.policy.name)' over proposal \(id.prefix(16))…")
            }
            let new = NewSignature(keyid: signature.keyid, sig: signature.sig, signerKey: signer.keyID.hex, addedAt: RFC3339.format(now))
            let outcome = try await storage.enqueue(nil, id: id, blobs: [], signatures: [new], maxSignatures: Envelope.maxSignatures,
                                                    conflicts: Ledger.doubleSignRule(document: document, policy: verified.policy, at: now),
                                                    decidedOn: verified.ref)
            return try outcome.map { outcome -> Bool in
                switch outcome {
                case .queued(_, let results, _): return results.first == .added
                case .notOpen(let status):
                    throw LedgerError(.invalidInput, "proposal \(id.prefix(16))… is \(status.rawValue); no signature is taken for it")
                case .notQueued:
                    throw LedgerError(.notFound, "no pending proposal \(id.prefix(16))… (committed already, or never queued; see `alvh pending`)")
                case .refused(_, let why):
                    throw Ledger.signatureRefusal(why, id: id, sequence: document.ledger.sequence, policy: verified.policy)
                }
            }
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
    /// before the payload is parsed), every claimed figure is the recomputed one (from the ledger's
    /// blob of the cited snapshot), and the usual signing checks pass (not expired, not signed by this
    /// key yet).
    public func signable(id: String, by key: PrivateKey, at now: Date) async throws -> SigningReview {
        let path = "pending \(id.prefix(16))"
        let verified = try await self.verified()
        let policy = verified.policy
        let pending = try await storedPending(id: id)
        let envelope = try await self.envelope(of: pending)
        let held = try await heldSnapshot(citedBy: envelope, given: nil)
        // One evaluation: the recomputation the assessor makes is kept for the display.
        let kept = RecomputationBox()
        let assessor = LedgerAssessor(book: verified.book, snapshot: { held?.hash == $0 ? held?.bytes : nil }, recomputed: { kept.value = $0 })
        let (report, parsed) = ThresholdEvaluator(policy: policy).evaluateDocument(envelope, at: now, ledger: verified.context, assessor: assessor)
        let newPolicy = try parsed.flatMap { try Ledger.queuedNewPolicy($0, attachments: pending.attachments) }
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
        return SigningReview(envelope: envelope, document: document, report: report, recomputed: kept.value,
                             currentPolicy: policy, newPolicy: newPolicy)
    }

    /// Signs a pending proposal with `key` after the checks of ``signable(id:by:at:)``.
    public func sign(id: String, with key: PrivateKey, at now: Date) async throws -> Envelope {
        var envelope = try await signable(id: id, by: key, at: now).envelope
        try envelope.addSignature(using: key)
        try await addSignature(envelope.signatures.last!, to: id, at: now)
        return envelope
    }

    /// Stores a signed rejection of a pending proposal after verifying it: a rejection document signed
    /// by a (non-revoked) signer of the policy in force (or of the proposed one), binding this
    /// proposal; one per key. A valid veto marks the proposal vetoed in the same transaction.
    /// Returns false when this key's rejection is there already.
    @discardableResult
    public func addRejection(_ rejection: Envelope, to id: String, at now: Date) async throws -> Bool {
        guard PayloadTypes.isRejection(rejection.payloadType) else {
            throw LedgerError(.invalidInput, "payloadType '\(rejection.payloadType)' is not an alvh rejection")
        }
        let bytes = try rejection.encoded()
        return try await onVerifiedHead { verified in
            let pending = try await storedPending(id: id)
            let document = try? ProposalDocument.decode(pending.payload)
            let newPolicy = try document.flatMap { try Ledger.queuedNewPolicy($0, attachments: pending.attachments) }
            var line = ThresholdEvaluator(policy: verified.policy).rejectionLine(rejection, proposalID: id)
            if line.signer == nil, let newPolicy {
                line = ThresholdEvaluator(policy: newPolicy).rejectionLine(rejection, proposalID: id)
                line.veto = false // a veto is the policy in force's
            }
            if let ignored = line.ignored {
                throw LedgerError(.invalidInput, "rejection not stored: \(ignored)")
            }
            guard let keyID = line.keyID else { throw LedgerError(.invalidInput, "rejection not stored: not signed by any key of the policy") }
            let outcome = try await storage.addRejection(pendingID: id, envelope: bytes, signerKey: keyID, addedAt: RFC3339.format(now),
                                                         veto: line.veto, decidedOn: verified.ref)
            return try outcome.map { outcome -> Bool in
                switch outcome {
                case .added: return true
                case .alreadyThere: return false
                case .notQueued: throw LedgerError(.notFound, "no pending proposal \(id.prefix(16))… (see `alvh pending`)")
                }
            }
        }
    }

    /// The pending proposal's envelope: its payload with every signature collected, in arrival order.
    public func envelope(id: String) async throws -> Envelope {
        try await envelope(of: try await storedPending(id: id))
    }

    /// The envelope of a queued proposal already read: its payload and its stored signatures.
    func envelope(of pending: StoredPending) async throws -> Envelope {
        let signatures = try await io { try await storage.signatures(pendingID: pending.id) }
        return Envelope(payload: pending.payload, payloadType: pending.payloadType,
                        signatures: signatures.map { Envelope.Signature(keyid: $0.keyid, sig: $0.sig) })
    }

    /// The signed rejections collected for a pending proposal.
    public func rejections(id: String) async throws -> [Envelope] {
        try await io { try await storage.rejections(pendingID: id) }
            .map { try Envelope.decode($0, path: "rejection of \(id.prefix(16))") }
    }

    /// The queue, oldest first (pending, expired, stale and vetoed alike).
    public func pending() async throws -> [PendingProposal] {
        try await io { try await storage.allPending() }.map(PendingProposal.init)
    }

    /// One queued proposal.
    public func pending(id: String) async throws -> PendingProposal {
        PendingProposal(try await storedPending(id: id))
    }

    /// The proposals still open (status pending), in the order they can be decided: by the entry
    /// they would become, then by queue time.
    public func openProposals() async throws -> [PendingProposal] {
        try await io { try await storage.openPending() }.map(PendingProposal.init)
    }

    /// Finds a pending proposal by its id or a unique prefix of it (at least 8 hex digits).
    public func resolvePendingID(_ prefix: String) async throws -> String {
        let lower = prefix.lowercased()
        guard lower.count >= 8, lower.count <= 64, Hex.decode(lower.count % 2 == 0 ? lower : lower + "0") != nil else {
            throw LedgerError(.invalidInput, "a proposal id is hex, at least 8 digits (see `alvh pending`)", path: "ID")
        }
        let matches = try await io { try await storage.pendingIDs(prefix: lower, limit: 2) }
        guard matches.count == 1 else {
            throw LedgerError(.notFound, matches.isEmpty ? "no pending proposal with id \(prefix) (see `alvh pending`)"
                                                         : "id prefix \(prefix) is ambiguous; give more digits", path: "ID")
        }
        return matches[0]
    }

    /// Evaluates a pending proposal against the verified policy in force and head, with its figures
    /// recomputed on the verified book and the snapshot it cites.
    ///
    /// `verified`: the checkpoint the caller verified in this pass, to decide on without reading the
    /// head again (a commit decides again on the head it verifies then, so an evaluation on a head
    /// that has since moved commits nothing stale).
    public func evaluate(id: String, at now: Date, on verified: LedgerVerifier.Checkpoint? = nil) async throws -> ApprovalReport {
        let verified = if let verified { verified } else { try await self.verified() }
        let envelope = try await self.envelope(id: id)
        let rejections = try await self.rejections(id: id)
        let held = try await heldSnapshot(citedBy: envelope, given: nil)
        let assessor = LedgerAssessor(book: verified.book, snapshot: { held?.hash == $0 ? held?.bytes : nil })
        return ThresholdEvaluator(policy: verified.policy).evaluate(envelope, at: now, ledger: verified.context,
                                                                    rejections: rejections, assessor: assessor)
    }

    /// Marks pending proposals that expired (at `now`) or whose base is no longer the head.
    /// Returns the proposals newly marked. Nothing is deleted: the queue keeps them for the record.
    /// Stale is decided on the head, so the marks are written only if the head is still that one.
    ///
    /// `seen`: the head and the open proposals the caller has just read, for the first round to
    /// decide on instead of reading them again (a moved head makes the write refuse, and the next
    /// round reads both afresh).
    @discardableResult
    public func markExpiredAndStale(at now: Date, seen: (head: HeadRef, open: [PendingProposal])? = nil) async throws -> [(id: String, status: PendingStatus)] {
        var seen = seen
        for _ in 0..<5 {
            let head: HeadRef
            let open: [PendingProposal]
            if let first = seen {
                (head, open) = first
                seen = nil
            } else {
                let entry = try await self.head()
                head = HeadRef(sequence: entry.sequence, hash: entry.hash)
                open = try await openProposals()
            }
            var changes: [(id: String, status: PendingStatus)] = []
            for row in open where row.status == .pending {
                let expires = RFC3339.parse(row.expires) ?? .distantPast
                if now >= expires { changes.append((row.id, .expired)) }
                else if row.base != head.hash { changes.append((row.id, .stale)) }
            }
            if changes.isEmpty { return [] }
            switch try await io({ try await storage.setStatus(changes, decidedOn: head) }) {
            case .done(let results):
                return results.compactMap { if case .marked(let id, let status) = $0 { (id, status) } else { nil } }
            case .headMoved, .queueChanged:
                continue
            }
        }
        throw LedgerError(.database, "the ledger's head kept moving while the queue was being marked; retry", path: location)
    }

    /// Marks a pending proposal as vetoed (the coordinator does, when a veto role's valid signed
    /// rejection is among its rejections). Returns false when it was not pending any more.
    @discardableResult
    public func markVetoed(id: String) async throws -> Bool {
        switch try await io({ try await storage.setStatus([(id, .vetoed)], decidedOn: nil) }) {
        case .done(let results): return results.first == .marked(id: id, to: .vetoed)
        case .headMoved, .queueChanged: return false // (not decided on a head: cannot happen)
        }
    }

    // MARK: - Helpers

    func storedPending(id: String) async throws -> StoredPending {
        guard let pending = try await io({ try await storage.pending(id: id) }) else {
            throw LedgerError(.notFound, "no pending proposal \(id.prefix(16))… (committed already, or never queued; see `alvh pending`)")
        }
        return pending
    }

    /// The signer whose key made `signature` over `message`: of the policy in force, or of the
    /// proposed policy for a policy change. Nil: not stored.
    static func storingSigner(of signature: Envelope.Signature, over message: [UInt8], policy: Policy, newPolicy: Policy?) -> Policy.Signer? {
        if let signer = ThresholdEvaluator(policy: policy).verifyingSigner(of: signature, over: message) { return signer }
        if let newPolicy { return ThresholdEvaluator(policy: newPolicy).verifyingSigner(of: signature, over: message) }
        return nil
    }

    /// The key files queued with a pending policy change.
    static func queuedKeys(_ attachments: [UInt8]?) throws -> KeyAttachments? {
        guard let attachments else { return nil }
        return try EntryAttachments.decode(attachments).keyAttachments
    }

    /// The policy a pending policy change proposes, with the key files queued with it (nil for a layer change).
    static func queuedNewPolicy(_ document: ProposalDocument, attachments: [UInt8]?) throws -> Policy? {
        guard let change = document.change.policy else { return nil }
        let keys = try queuedKeys(attachments) ?? KeyAttachments(keys: [:])
        return try Policy(bytes: try change.bytes(), keyLoader: keys.loader, path: "proposed policy v\(change.version)")
    }
}

/// The recomputation an assessor made, kept for the caller (the evaluator runs the assessor once,
/// synchronously, on the calling task): `LedgerAssessor(…, recomputed: { box.value = $0 })`.
public final class RecomputationBox: Sendable {
    private let stored = Mutex<Recomputation?>(nil)
    public init() {}
    public var value: Recomputation? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}

extension WriteOutcome {
    /// The written value transformed (or a throw); a head that moved stays a head that moved.
    func map<U>(_ transform: (Value) throws -> U) rethrows -> WriteOutcome<U> {
        switch self {
        case .done(let value): return .done(try transform(value))
        case .headMoved(let current): return .headMoved(current: current)
        case .queueChanged: return .queueChanged
        }
    }
}
