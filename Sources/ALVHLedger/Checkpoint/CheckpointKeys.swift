import Foundation
import ALVHSigning
import ALVHApproval

/// Who may sign a checkpoint of a ledger under a policy: its committers (the checkpoint's own
/// signature, signature type 0x01/0x02) and its signers that are not revoked, as witnesses
/// (cosignatures, c2sp.org/tlog-cosignature v1: type 0x04 for Ed25519).
///
/// A key's note name is its policy id (`alvh-key-<fingerprint>` when the id has a space or a '+',
/// which a note name cannot hold).
public struct CheckpointKeys: Sendable {
    public struct Party: Sendable {
        public let id: String
        public let verifier: NoteVerifier
    }

    public let committers: [Party]
    public let witnesses: [Party]

    public init(policy: Policy) throws {
        committers = try policy.committers.map { Party(id: $0.id, verifier: try NoteVerifier(name: Self.noteName(id: $0.id, key: $0.key), key: $0.key, kind: .note)) }
        witnesses = try policy.signers.filter { !$0.revoked }.map {
            Party(id: $0.id, verifier: try NoteVerifier(name: Self.noteName(id: $0.id, key: $0.key), key: $0.key, kind: .cosignature))
        }
    }

    /// The note name of a policy party.
    public static func noteName(id: String, key: PublicKey) -> String {
        (try? SignedNote.checkName(id)) != nil ? id : "alvh-key-\(key.keyID.hex.prefix(16))"
    }
}

/// What checking a signed checkpoint against a policy's keys found.
public struct CheckpointVerification: Sendable, Equatable {
    /// One witness that cosigned, and when (POSIX seconds, its own clock).
    public struct Witness: Sendable, Equatable, Codable {
        public var id: String
        public var timestamp: UInt64
    }

    /// The committer whose signature verified (nil: none did).
    public var committer: String?
    /// The distinct witnesses whose cosignature verified, in note order.
    public var witnesses: [Witness] = []
    public var problems: [CheckpointProblem] = []
    public var ok: Bool { problems.isEmpty }
}

/// Why a checkpoint is refused (decide on these, never on the text).
public enum CheckpointProblem: Sendable, Equatable, CustomStringConvertible {
    /// The origin line is not this ledger's id.
    case wrongOrigin(found: String, expected: String)
    /// No committer of the policy signed it.
    case noCommitterSignature
    /// A line from a known key does not verify (the whole note is refused, as the spec says).
    case badSignature(name: String)
    /// Fewer witnesses cosigned than required.
    case tooFewWitnesses(found: Int, required: Int)
    /// A cosignature is dated after the verifier's clock (plus the skew).
    case cosignedInFuture(id: String, timestamp: UInt64)
    /// The new checkpoint is of fewer entries than the trusted one.
    case smallerThanTrusted(size: UInt64, trusted: UInt64)
    /// The new tree does not extend the trusted one (another root for the same size, or a
    /// consistency proof that fails): two histories.
    case inconsistent(oldSize: UInt64, newSize: UInt64)
    /// The consistency proof given is for other sizes or roots.
    case proofNotForThese(oldSize: UInt64, newSize: UInt64)
    /// No consistency proof was given for trees of different sizes.
    case proofMissing(oldSize: UInt64, newSize: UInt64)
    /// The trusted checkpoint's own signatures no longer verify.
    case trustedAltered
    /// The checkpoint's root is not the root of the ledger at that size.
    case notThisLedger(size: UInt64)
    /// The first entry after the trusted tree was committed before the witnesses (the
    /// `--witnesses` N-th latest of the trusted checkpoint's cosignatures) saw the tree without it.
    case backdated(sequence: UInt64, committedAt: String, witnessedAt: UInt64)

    public var description: String {
        switch self {
        case let .wrongOrigin(found, expected):
            "the checkpoint is of ledger \(found.prefix(16))…, not \(expected.prefix(16))…"
        case .noCommitterSignature:
            "no committer of the policy signed this checkpoint (`alvh ledger checkpoint --committer-key` signs one)"
        case let .badSignature(name):
            "the signature line of '\(name)' does not verify: the checkpoint was altered after signing"
        case let .tooFewWitnesses(found, required):
            "\(found) witness cosignature\(found == 1 ? "" : "s") verified, \(required) required (each signer cosigns with `alvh ledger cosign`)"
        case let .cosignedInFuture(id, timestamp):
            "witness '\(id)' cosigned at \(RFC3339.format(Date(timeIntervalSince1970: TimeInterval(timestamp)))), after this clock: check its clock"
        case let .smallerThanTrusted(size, trusted):
            "the checkpoint is of \(size) entries, fewer than the \(trusted) of the trusted one: the ledger was truncated, or this is an old checkpoint"
        case let .inconsistent(oldSize, newSize):
            "SPLIT VIEW: the tree of \(newSize) entries does not extend the trusted tree of \(oldSize) — two histories of one ledger; keep both files and investigate"
        case let .proofNotForThese(oldSize, newSize):
            "the consistency proof is from \(oldSize) to \(newSize) entries with other roots, not between these checkpoints (`alvh ledger prove --from OLD --size NEW --json`)"
        case let .proofMissing(oldSize, newSize):
            "no consistency proof from \(oldSize) to \(newSize) entries: give --proof FILE (`alvh ledger prove --from \(oldSize) --size \(newSize) --json`), or run against the ledger"
        case .trustedAltered:
            "the trusted checkpoint's signatures no longer verify: the file was altered"
        case let .backdated(sequence, committedAt, witnessedAt):
            "entry \(sequence) says it was committed at \(committedAt), before \(RFC3339.format(Date(timeIntervalSince1970: TimeInterval(witnessedAt)))) when the trusted checkpoint's witnesses saw the ledger without it (less the clock skew): the committer's clock was set back"
        case let .notThisLedger(size):
            "the checkpoint's root is not the root of this ledger's first \(size) entries: it is of another history"
        }
    }
}

extension SignedCheckpoint {
    /// Checks the signature lines against `keys`: a committer's signature, and at least
    /// `witnesses` distinct witnesses' cosignatures (dated no later than `now` + `skew` when
    /// `now` is given). Lines of unknown keys are ignored; a known key's line that fails refuses
    /// the note.
    public func verify(keys: CheckpointKeys, witnesses required: Int, origin expected: String? = nil,
                       now: Date? = nil, skew: TimeInterval = 300) -> CheckpointVerification {
        var result = CheckpointVerification()
        if let expected, checkpoint.origin != expected {
            result.problems.append(.wrongOrigin(found: checkpoint.origin, expected: expected))
        }
        for signature in note.signatures {
            for party in keys.committers {
                switch party.verifier.check(signature, text: note.text) {
                case nil: continue
                case .valid?: if result.committer == nil { result.committer = party.id }
                case .invalid?: result.problems.append(.badSignature(name: signature.name))
                }
            }
            for party in keys.witnesses {
                switch party.verifier.check(signature, text: note.text) {
                case nil: continue
                case .valid(let timestamp)?:
                    let stamp = timestamp ?? 0
                    if let now, Double(stamp) > now.timeIntervalSince1970 + skew {
                        result.problems.append(.cosignedInFuture(id: party.id, timestamp: stamp))
                    } else if !result.witnesses.contains(where: { $0.id == party.id }) {
                        result.witnesses.append(.init(id: party.id, timestamp: stamp))
                    }
                case .invalid?: result.problems.append(.badSignature(name: signature.name))
                }
            }
        }
        if result.committer == nil { result.problems.append(.noCommitterSignature) }
        if result.witnesses.count < required {
            result.problems.append(.tooFewWitnesses(found: result.witnesses.count, required: required))
        }
        return result
    }
}
