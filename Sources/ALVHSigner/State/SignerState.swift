import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ALVHSigning
import ALVHApproval

/// A signer's local record, kept beside its private key: the double-sign protection (as a
/// validator's slashing-protection database) and its decisions.
///
/// Rules:
/// - a decision is recorded (fsync'd, atomically) **before** its signature or rejection is posted,
///   so a crash can only lose a post, never forget a decision; on restart the same decision is
///   posted again (same payload), never a different one;
/// - for one (ledger id, sequence) slot the signer signs at most one payload while it is live:
///   a second, different payload for the slot is refused until the first has expired or been
///   vetoed (neither can ever be committed, so signing a successor cannot make two valid);
/// - one process at a time: the record is locked (`flock`) for the life of the signer process.
///
/// ```swift
/// let state = try SignerState.open(path: "Keys/private/ro-1.key.pem.state.json", keyID: key.keyID)
/// if let conflict = state.slotConflict(ledgerID: id, sequence: 7, proposal: pid, at: Date()) { … }
/// ```
public final class SignerState: @unchecked Sendable {
    /// One signed slot.
    public struct Slot: Codable, Sendable, Equatable {
        public var proposal: String
        public var expires: String
    }

    /// One decision on a proposal.
    public struct Decision: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable { case signed, rejected }
        public var kind: Kind
        public var reason: String?
        public var at: String
        public var ledgerID: String
        public var sequence: UInt64
        public var costDollars: Double
    }

    struct Record: Codable {
        var schema = 1
        var keyID: String
        var slots: [String: Slot] = [:]
        var decisions: [String: Decision] = [:]
        /// UTC day "YYYY-MM-DD" → Σ |cost| signed that day, dollars.
        var dailyPremium: [String: Double] = [:]
        /// The ledger this signer verified and the last head it verified there: a later run refuses
        /// another ledger, or a history without that head.
        var pin: Pin?
        /// The newest checkpoint this key cosigned as a witness: it never cosigns another root
        /// for that size, nor a smaller tree, nor a larger one the ledger cannot prove consistent.
        var witnessed: Witnessed?
    }

    /// The tree a witness cosigned last: size, root (hex) and the cosignature's time (POSIX s).
    public struct Witnessed: Codable, Sendable, Equatable {
        public var ledgerID: String
        public var size: UInt64
        public var root: String
        public var timestamp: UInt64
        public init(ledgerID: String, size: UInt64, root: String, timestamp: UInt64) {
            self.ledgerID = ledgerID
            self.size = size
            self.root = root
            self.timestamp = timestamp
        }
    }

    /// The newest checkpoint this key cosigned.
    public var witnessed: Witnessed? { record.witnessed }

    /// Records a cosigned checkpoint durably (before the cosignature leaves this process).
    public func recordWitnessed(_ witnessed: Witnessed) throws {
        guard record.witnessed != witnessed else { return }
        var next = record
        next.witnessed = witnessed
        try write(next)
    }

    /// The ledger id and last verified head of the ledger this key signs for.
    public struct Pin: Codable, Sendable, Equatable {
        public var ledgerID: String
        public var sequence: UInt64
        public var hash: String
    }

    /// The pinned ledger, if this signer has verified one.
    public var pin: Pin? { record.pin }

    /// Records the ledger id and the head just verified (kept when unchanged).
    public func recordPin(_ pin: Pin) throws {
        guard record.pin != pin else { return }
        var next = record
        next.pin = pin
        try write(next)
    }

    /// The proposals this key rejected, and why.
    public var rejected: [String: Decision] { record.decisions.filter { $0.value.kind == .rejected } }

    public let path: String
    private var record: Record
    private let lockDescriptor: Int32

    /// The default record path for a private key file.
    public static func defaultPath(forKey keyPath: String) -> String { keyPath + ".state.json" }

    /// Opens (or creates) the record and takes its lock; refuses if another process holds it.
    public static func open(path: String, keyID: KeyID) throws -> SignerState {
        let lockPath = path + ".lock"
        #if canImport(Glibc)
        let fd = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #else
        let fd = Darwin.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #endif
        guard fd >= 0 else {
            throw SignerError(.fileError, "cannot open the lock file: \(String(cString: strerror(errno)))", path: lockPath)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw SignerError(.stateLocked, "another signer process is running with this key (its record is locked); stop it first — two processes with one key could double-sign", path: path)
        }
        var record = Record(keyID: keyID.hex)
        if SecureFile.exists(path) {
            do {
                let bytes = try SecureFile.read(path, limit: 64 * 1024 * 1024)
                record = try JSONDecoder().decode(Record.self, from: Data(bytes))
            } catch {
                close(fd)
                throw SignerError(.invalidState, "the signer's record is unreadable (\(error)); it protects against double-signing, so it is not replaced silently — restore it from backup or move it aside knowingly", path: path)
            }
            guard record.keyID == keyID.hex else {
                close(fd)
                throw SignerError(.invalidState, "this record belongs to key \(record.keyID.prefix(16))…, not \(keyID.hex.prefix(16))…", path: path)
            }
        }
        return SignerState(path: path, record: record, lock: fd)
    }

    private init(path: String, record: Record, lock: Int32) {
        self.path = path
        self.record = record
        self.lockDescriptor = lock
    }

    deinit {
        flock(lockDescriptor, LOCK_UN)
        close(lockDescriptor)
    }

    /// The decision recorded for a proposal, if any.
    public func decision(for proposal: String) -> Decision? { record.decisions[proposal] }

    /// Premium paid (Σ positive cost) in the changes signed on the UTC day of `date`.
    public func premiumSigned(on date: Date) -> Double { record.dailyPremium[Self.day(date)] ?? 0 }

    /// Why signing `proposal` for this slot would be a double-sign, or nil when it is safe.
    /// `isDead` says whether the payload signed earlier can no longer be committed (the caller
    /// checks a valid veto of it in the ledger); an expired one is dead too.
    /// The proposal this key signed for entry `sequence` of that ledger, if any.
    public func signedProposal(ledgerID: String, sequence: UInt64) -> String? {
        record.slots[Self.slotKey(ledgerID, sequence)]?.proposal
    }

    public func slotConflict(ledgerID: String, sequence: UInt64, proposal: String, at now: Date,
                             isDead: (String) -> Bool = { _ in false }) -> String? {
        guard let slot = record.slots[Self.slotKey(ledgerID, sequence)], slot.proposal != proposal else { return nil }
        if let expires = RFC3339.parse(slot.expires), now >= expires { return nil }
        if isDead(slot.proposal) { return nil }
        return "double-sign protection: this key already signed proposal \(slot.proposal.prefix(16))… for entry \(sequence) of this ledger, live until \(slot.expires)"
    }

    /// Records a decision (and, for a signature, the slot and the day's premium) durably.
    public func record(_ decision: Decision, proposal: String, expires: String, at now: Date) throws {
        var next = record
        next.decisions[proposal] = decision
        if decision.kind == .signed {
            next.slots[Self.slotKey(decision.ledgerID, decision.sequence)] = Slot(proposal: proposal, expires: expires)
            next.dailyPremium[Self.day(now), default: 0] += max(0, decision.costDollars)
        }
        try write(next)
    }

    private func write(_ next: Record) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do { try SecureFile.writeAtomically(try encoder.encode(next), to: path, mode: 0o600) }
        catch let error as SigningError { throw SignerError(.fileError, error.reason, path: error.path ?? path) }
        record = next
    }

    static func slotKey(_ ledgerID: String, _ sequence: UInt64) -> String { "\(ledgerID):\(sequence)" }

    static func day(_ date: Date) -> String { String(RFC3339.format(date).prefix(10)) }
}
