/// The statements of the hot paths (enqueue, sign, commit, verify) in one place, so that
/// `QueryPlanTests` checks the very text the code runs: each must search by an index and sort
/// nothing (a table scan grows with the ledger; a temporary B-tree cost 30 µs per commit).
enum LedgerSQL {
    /// The columns ``Ledger/entry(from:)`` reads, in its order.
    static let entryColumns = "seq, prev_hash, kind, envelope, attachments, policy_hash, committed_at, entry_hash, committer_sig"

    static let entriesFrom = "SELECT \(entryColumns) FROM entries WHERE seq >= ? ORDER BY seq LIMIT ?"
    static let head = "SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1"
    static let headEntry = "SELECT \(entryColumns) FROM entries ORDER BY seq DESC LIMIT 1"
    static let entryAt = "SELECT \(entryColumns) FROM entries WHERE seq = ?"
    static let genesisHash = "SELECT entry_hash FROM entries WHERE seq = 0"
    static let commitTimeOfHash = "SELECT committed_at FROM entries WHERE entry_hash = ?"
    /// The last genesis or policy-change entry: max() over the (kind, seq) index.
    static let policyHead = "SELECT seq, entry_hash FROM entries WHERE seq = (SELECT max(seq) FROM entries WHERE kind IN ('genesis', 'policy-change'))"
    /// The last genesis or policy-change entry before a sequence number.
    static let policyEntryBefore = """
        SELECT \(entryColumns) FROM entries
        WHERE seq = (SELECT max(seq) FROM entries WHERE kind IN ('genesis', 'policy-change') AND seq < ?)
        """
    static let pendingExists = "SELECT EXISTS(SELECT 1 FROM pending WHERE id = ?)"
    static let pendingPayload = "SELECT payload, payload_type FROM pending WHERE id = ?"
    static let pendingSignatures = "SELECT keyid, sig FROM signatures WHERE pending_id = ? ORDER BY rowid"
    /// A key's live signature on another proposal for the same entry (the ledger's double-sign check).
    static let otherSignatureForSlot = """
        SELECT p.id, p.expires, p.proposer FROM signatures s JOIN pending p ON p.id = s.pending_id
        WHERE s.signer_key = ? AND p.sequence = ? AND p.id != ? AND p.status = 'pending'
        """
    static let signatureByKey = "SELECT EXISTS(SELECT 1 FROM signatures WHERE pending_id = ? AND signer_key = ?)"
    static let rejectionByKey = "SELECT EXISTS(SELECT 1 FROM rejections WHERE pending_id = ? AND signer_key = ?)"
    /// The rejections of every proposal for one entry (recorded in that entry when it is committed).
    static let slotRejections = """
        SELECT r.envelope FROM rejections r JOIN pending p ON p.id = r.pending_id WHERE p.sequence = ? ORDER BY r.rowid
        """
    static let blob = "SELECT bytes FROM blobs WHERE hash = ?"
    static let pendingAttachments = "SELECT attachments FROM pending WHERE id = ?"
    static let pendingRejections = "SELECT envelope FROM rejections WHERE pending_id = ? ORDER BY rowid"
    static let signatureCount = "SELECT COUNT(*) FROM signatures WHERE pending_id = ?"
    static let deletePending = "DELETE FROM pending WHERE id = ?"

    static let hot = [entriesFrom, head, headEntry, entryAt, genesisHash, commitTimeOfHash, policyHead, policyEntryBefore,
                      pendingExists, pendingPayload, pendingSignatures, pendingRejections, signatureCount, deletePending,
                      otherSignatureForSlot, signatureByKey, rejectionByKey, blob, pendingAttachments]
}
