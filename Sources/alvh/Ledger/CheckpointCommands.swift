import ArgumentParser
import Foundation
import ALVHApproval
import ALVHLedger
import ALVHSigner
import ALVHSigning

/// Where a signed note goes: `-o FILE` (written atomically) or stdout, byte for byte.
struct NoteOutput: ParsableArguments {
    @Option(name: [.customShort("o"), .long], help: "Write the signed checkpoint to this file (atomically) instead of stdout.", completion: .file())
    var output: String?

    func write(_ checkpoint: SignedCheckpoint) throws {
        let bytes = checkpoint.encoded()
        if let output {
            try SecureFile.writeAtomically(bytes, to: output, mode: 0o644)
        } else if isatty(1) == 1 {
            FileHandle.standardOutput.write(Data(TerminalText.escaped(String(decoding: bytes, as: UTF8.self)).utf8))
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }
}

enum CheckpointFile {
    /// Reads a signed checkpoint file (regular file, at most ``SignedNote/maxBytes``).
    static func read(_ path: String) throws -> SignedCheckpoint {
        try SignedCheckpoint(parsing: try SecureFile.read(path, limit: SignedNote.maxBytes), path: path)
    }
}

struct LedgerCheckpoint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print the ledger's checkpoint (C2SP tlog-checkpoint: ledger id, entries, RFC 9162 root), signed by a committer.",
        discussion: "The ledger is verified first. Witnesses add their cosignatures with `alvh ledger cosign`; auditors check it with `alvh ledger verify --checkpoint`."
    )

    @Option(name: .long, help: ArgumentHelp("A checkpoint a witness cosigned (a running signer writes KEY.state.json.checkpoint): its cosignatures are attached when it is of the same tree. Repeatable.",
                                            valueName: "file"), completion: .file())
    var cosigned: [String] = []

    @OptionGroup var committer: CommitterOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var note: NoteOutput
    @OptionGroup var workspace: WorkspaceOptions

    func run() async throws {
        try await reportingErrors(json: false) {
            let others = try cosigned.map { ($0, try CheckpointFile.read($0)) }
            let key = try committer.load(passphrase: passphrase.provider)
            var checkpoint = try await workspace.withLedger(readOnly: true) { try await $0.signedCheckpoint(committer: key) }
            for (path, other) in others {
                let attached = checkpoint.attachCosignatures(of: other)
                if !attached {
                    Console.err("note: \(path) is of the tree of \(other.checkpoint.size) entries, not this one of \(checkpoint.checkpoint.size): not attached")
                }
            }
            try note.write(checkpoint)
        }
    }
}

struct LedgerCosign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cosign",
        abstract: "As a witness (a signer of the policy), cosign a checkpoint of the ledger this key verified (C2SP tlog-cosignature v1).",
        discussion: """
        The ledger is verified; the checkpoint must carry a committer's signature and the root of the \
        verified ledger at its size. The key's record (--state, default KEY.state.json) keeps the newest tree \
        it cosigned: it never cosigns another root for that size, a smaller tree, or a larger one the ledger \
        does not prove consistent with it. Without CHECKPOINT it cosigns its own checkpoint of the head.
        """
    )

    @Argument(help: "The signed checkpoint file (from `alvh ledger checkpoint`).", completion: .file())
    var checkpoint: String?

    @Option(name: .long, help: "This witness's private key (a signer of the policy; PEM, mode 0600).", completion: .file())
    var key: String

    @Option(name: .long, help: "The key's local record (default: KEY.state.json).", completion: .file())
    var state: String?

    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var note: NoteOutput
    @OptionGroup var pin: PinOptions
    @OptionGroup var workspace: WorkspaceOptions

    func run() async throws {
        try await reportingErrors(json: false) {
            let given = try checkpoint.map(CheckpointFile.read)
            let privateKey = try PrivateKey.load(from: key, passphrase: passphrase.provider)
            let cosigned: SignedCheckpoint
            do {
                cosigned = try await workspace.withLedger(readOnly: true, pins: pin.pins) { ledger in
                if let given { try await CheckpointWitness.check(given, on: ledger) } // before the record is opened
                let record = try SignerState.open(path: state ?? SignerState.defaultPath(forKey: key), keyID: privateKey.keyID)
                if let pinned = record.pin { ledger.pin(.init(ledgerID: pinned.ledgerID, head: .init(sequence: pinned.sequence, hash: pinned.hash))) }
                return try await CheckpointWitness(key: privateKey, state: record).cosign(given, on: ledger, at: Date())
                }
            } catch var error as SignerError where error.path == "CHECKPOINT" {
                error.path = checkpoint ?? "the ledger's head"
                throw error
            }
            try note.write(cosigned)
        }
    }
}

struct LedgerProve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "An RFC 9162 proof: `prove SEQ` that entry SEQ is in the tree, `prove --from SIZE` that the tree of SIZE entries is a prefix of today's.",
        discussion: "--size N proves against the tree of the first N entries (default: all). The ledger is verified first; --json prints the proof for `ledger verify --proof`."
    )

    @Argument(help: "The entry to prove included.")
    var sequence: UInt64?

    @Option(name: .long, help: "The older tree's size for a consistency proof.")
    var from: UInt64?

    @Option(name: .long, help: "The tree's size (entries), default all.")
    var size: UInt64?

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (sequence == nil) != (from == nil) else {
            throw ValidationError("give an entry (alvh ledger prove SEQ) or an older tree size (alvh ledger prove --from SIZE), one of the two")
        }
        if let from, from < 1 { throw ValidationError("--from is a tree size: 1 or more (the tree of genesis alone is size 1)") }
        if let size, size < 1 { throw ValidationError("--size is a tree size: 1 or more") }
    }

    func run() async throws {
        try await reportingErrors(json: output.json) {
            if let sequence {
                let proof = try await workspace.withLedger(readOnly: true) { try await $0.inclusionProof(sequence: sequence, size: size) }
                if output.json { try Console.json(proof); return }
                Console.out("entry \(proof.index) (\(proof.entryHash)) is in the tree of \(proof.size) entries, root \(proof.root)")
                Console.out("leaf hash \(proof.leafHash)")
                for (level, hash) in proof.path.enumerated() { Console.out("  \(level) \(hash)") }
            } else if let from {
                let proof = try await workspace.withLedger(readOnly: true) { try await $0.consistencyProof(from: from, to: size) }
                if output.json { try Console.json(proof); return }
                Console.out("the tree of \(proof.oldSize) entries (root \(proof.oldRoot)) is a prefix of the tree of \(proof.newSize) (root \(proof.newRoot))")
                for (level, hash) in proof.path.enumerated() { Console.out("  \(level) \(hash)") }
            }
        }
    }
}

/// `ledger verify --checkpoint FILE`: a checkpoint's signatures, witnesses and consistency with
/// the last trusted one.
struct CheckpointAuditOptions: ParsableArguments {
    @Option(name: .long, help: "Check this signed checkpoint instead of the whole chain: a committer's signature, --witnesses cosignatures, and (with --trusted) consistency.",
            completion: .file())
    var checkpoint: String?

    @Option(name: .long, help: "The last checkpoint you trust: the new one must extend it (RFC 9162 consistency).", completion: .file())
    var trusted: String?

    @Option(name: .long, help: "A consistency proof (`alvh ledger prove --from OLD --size NEW --json`); with --policy, nothing else is read: O(log n).",
            completion: .file())
    var proof: String?

    @Option(name: .long, help: "The policy whose committers and signers sign checkpoints (default: the ledger's policy in force).", completion: .file())
    var policy: String?

    @Option(name: .long, help: "How many distinct witnesses (signers of the policy) must have cosigned.")
    var witnesses: Int = 1

    func validate(exportGiven: Bool) throws {
        guard checkpoint != nil else {
            if trusted != nil || proof != nil || policy != nil {
                throw ValidationError("--trusted, --proof and --policy check a checkpoint: give --checkpoint FILE too")
            }
            return
        }
        if exportGiven { throw ValidationError("--checkpoint checks a checkpoint against the ledger or a proof, not an --export file") }
        if witnesses < 0 { throw ValidationError("--witnesses must be 0 or more") }
        if proof != nil && trusted == nil { throw ValidationError("--proof proves a checkpoint extends a trusted one: give --trusted FILE too") }
    }

    struct Report: Encodable {
        var ok: Bool
        var origin: String
        var size: UInt64
        var root: String
        var committer: String?
        var witnesses: [CheckpointVerification.Witness]
        var trustedSize: UInt64?
        var problems: [String]
    }

    /// Checks the checkpoint, prints the result; false when it fails.
    func run(workspace: WorkspaceOptions, json: Bool) async throws -> Bool {
        let new = try CheckpointFile.read(checkpoint!)
        let old = try trusted.map(CheckpointFile.read)
        let audit: CheckpointAudit
        if let proof, let policy {
            let bytes = try SecureFile.read(proof, limit: 1 << 20)
            let parsed: ConsistencyProof
            do { parsed = try JSONDecoder().decode(ConsistencyProof.self, from: Data(bytes)) }
            catch { throw CLIError("invalid-input", "not a consistency proof (`alvh ledger prove --from OLD --size NEW --json` writes one): \(error)", path: proof) }
            let keys = try CheckpointKeys(policy: try Policy.load(path: policy, workspace: workspace.path))
            audit = CheckpointAudit.check(new, trusted: old, proof: parsed, keys: keys, witnesses: witnesses, now: Date())
        } else {
            let chosen = try policy.map { try Policy.load(path: $0, workspace: workspace.path) }
            audit = try await workspace.withLedger(readOnly: true) { ledger in
                try await ledger.auditCheckpoint(new, trusted: old, witnesses: witnesses, policy: chosen, at: Date())
            }
        }
        let report = Report(ok: audit.ok, origin: audit.checkpoint.origin, size: audit.checkpoint.size, root: audit.checkpoint.rootHex,
                            committer: audit.signatures.committer, witnesses: audit.signatures.witnesses, trustedSize: audit.trustedSize,
                            problems: audit.problems.map(\.description))
        if json { try Console.json(report); return audit.ok }
        if audit.ok {
            let who = audit.signatures.witnesses.map { "\($0.id) at \(RFC3339.format(Date(timeIntervalSince1970: TimeInterval($0.timestamp))))" }
            Console.out("OK: checkpoint of \(report.size) entries, root \(report.root), signed by committer \(report.committer ?? "?"), "
                        + "cosigned by \(who.count) witness\(who.count == 1 ? "" : "es")\(who.isEmpty ? "" : " (" + who.joined(separator: ", ") + ")")"
                        + (audit.trustedSize.map { ", extends the trusted tree of \($0) entries" } ?? ""))
        } else {
            Console.out("FAILED: " + report.problems.joined(separator: "; "))
        }
        return audit.ok
    }
}
