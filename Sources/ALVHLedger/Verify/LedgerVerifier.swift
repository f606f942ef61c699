import Foundation
import ALVHSigning
import ALVHApproval
import ALVHEngine

/// Re-verifies a ledger from genesis: every hash and link, every signature against the policy in
/// force at that entry, every threshold, the book replay — and names the first bad entry.
///
/// Entries are streamed in batches; each batch's envelopes are verified on `jobs` threads.
///
/// ```swift
/// var source = DatabaseEntrySource(ledger: ledger)
/// let report = try LedgerVerifier(jobs: 2).verify(&source, materializedBook: try ledger.book())
/// print(report.ok, report.firstBad?.problem ?? "")
/// ```
public struct LedgerVerifier: Sendable {
    /// A head seen earlier that the ledger must still contain (`--expect-head SEQ:HASH`).
    public struct ExpectedHead: Sendable, Equatable {
        public var sequence: UInt64
        public var hash: String
        public init(sequence: UInt64, hash: String) {
            self.sequence = sequence
            self.hash = hash
        }
    }

    /// The verdict.
    public struct Report: Sendable, Codable, Equatable {
        public struct BadEntry: Sendable, Codable, Equatable {
            public var sequence: UInt64
            public var problem: String
        }
        public var ok: Bool
        public var ledgerID: String?
        public var entries: Int
        public var signatureChecks: Int
        public var headSequence: UInt64?
        public var headHash: String?
        public var bookMatches: Bool?
        public var firstBad: BadEntry?
        public var seconds: Double
        /// The book replayed from genesis through the verified entries (not part of the JSON report).
        public var replayedBook: Book?

        enum CodingKeys: String, CodingKey {
            case ok, ledgerID, entries, signatureChecks, headSequence, headHash, bookMatches, firstBad, seconds
        }
    }

    public var jobs: Int
    public var batchSize: Int

    public init(jobs: Int = ProcessInfo.processInfo.activeProcessorCount, batchSize: Int = 1024) {
        self.jobs = max(1, jobs)
        self.batchSize = max(1, batchSize)
    }

    private struct Work: @unchecked Sendable {
        let entry: LedgerEntry
        let policy: Policy
        let newPolicy: Policy?
        let ledgerID: String
    }

    /// Verifies the entries of `source`. `progress` is called after each batch with the count so far.
    public func verify<S: EntrySource>(_ source: inout S, expectHead: ExpectedHead? = nil, materializedBook: Book? = nil,
                                       progress: ((Int) -> Void)? = nil) throws -> Report {
        let started = Date()
        var report = Report(ok: false, ledgerID: nil, entries: 0, signatureChecks: 0, headSequence: nil, headHash: nil,
                            bookMatches: nil, firstBad: nil, seconds: 0)
        func fail(_ sequence: UInt64, _ problem: String) -> Report {
            var r = report
            r.firstBad = .init(sequence: sequence, problem: problem)
            r.seconds = Date().timeIntervalSince(started)
            return r
        }

        var expectedSequence: UInt64 = 0
        var previousHash = LedgerEntry.zeroHash
        var policy: Policy?
        var book: Book?
        var ledgerID = ""
        var sawExpectedHead = expectHead == nil

        while true {
            let batch = try source.next(max: batchSize)
            if batch.isEmpty { break }
            // 1. Sequential: numbering, links, hashes, the policy in force per entry.
            var work: [Work] = []
            var adopted: [UInt64: Policy] = [:]
            for entry in batch {
                guard entry.sequence == expectedSequence else {
                    return fail(expectedSequence, "entry \(expectedSequence) is missing: found entry \(entry.sequence) in its place (entries deleted or reordered)")
                }
                guard entry.previousHash == previousHash else {
                    return fail(entry.sequence, "previous-hash link broken: entry says \(entry.previousHash.prefix(16))…, entry \(entry.sequence == 0 ? 0 : entry.sequence - 1) hashes to \(previousHash.prefix(16))…")
                }
                let recomputed = entry.computeHash()
                guard recomputed == entry.hash else {
                    return fail(entry.sequence, "entry hash mismatch: stored \(entry.hash.prefix(16))…, its contents hash to \(recomputed.prefix(16))… (the entry was altered)")
                }
                if let expectHead, expectHead.sequence == entry.sequence {
                    guard expectHead.hash == entry.hash else {
                        return fail(entry.sequence, "expected head mismatch: entry \(entry.sequence) hashes to \(entry.hash.prefix(16))…, the auditor expected \(expectHead.hash.prefix(16))…")
                    }
                    sawExpectedHead = true
                }
                if entry.sequence == 0 {
                    guard entry.kind == .genesis else { return fail(0, "entry 0 is not a genesis entry") }
                    do {
                        let genesis = try GenesisDocument.decode(entry.envelope)
                        let initial = try Ledger.adoptedPolicy(of: entry)
                        guard initial.hash == entry.policyHash, genesis.policyHash == entry.policyHash else {
                            return fail(0, "genesis policy hash does not match its policy bytes")
                        }
                        policy = initial
                        book = genesis.book
                        ledgerID = entry.hash
                        report.ledgerID = ledgerID
                    } catch {
                        return fail(0, "genesis entry is invalid: \(error)")
                    }
                } else {
                    guard entry.kind != .genesis else { return fail(entry.sequence, "a second genesis entry") }
                    guard let current = policy else { return fail(entry.sequence, "no policy in force") }
                    guard entry.policyHash == current.hash else {
                        return fail(entry.sequence, "entry records policy \(entry.policyHash.prefix(16))… but the policy in force is \(current.hash.prefix(16))…")
                    }
                    var newPolicy: Policy?
                    if entry.kind == .policyChange {
                        do { newPolicy = try Ledger.adoptedPolicy(of: entry) }
                        catch { return fail(entry.sequence, "policy change carries an invalid policy: \(error)") }
                        adopted[entry.sequence] = newPolicy
                        policy = newPolicy
                    }
                    work.append(Work(entry: entry, policy: current, newPolicy: newPolicy, ledgerID: ledgerID))
                }
                previousHash = entry.hash
                expectedSequence = entry.sequence + 1
                report.headSequence = entry.sequence
                report.headHash = entry.hash
            }

            // 2. Parallel: signatures and thresholds.
            let results = verifyInParallel(work)
            for (index, result) in results.enumerated() {
                report.signatureChecks += work[index].entry.envelopeSignatureCount
                if let problem = result.problem { return fail(work[index].entry.sequence, problem) }
            }

            // 3. Sequential: replay the book.
            for (index, item) in work.enumerated() where item.entry.kind == .layerChange {
                guard let document = results[index].document, let current = book else { continue }
                do { book = try BookChange.apply(document, to: current) }
                catch { return fail(item.entry.sequence, "replaying the change on the book failed: \(error)") }
            }
            report.entries += batch.count
            progress?(report.entries)
        }

        guard report.entries > 0 else { return fail(0, "the ledger is empty: no genesis entry") }
        guard sawExpectedHead else {
            return fail(expectHead!.sequence, "entry \(expectHead!.sequence) that the auditor saw as head is missing: the ledger ends at entry \(report.headSequence ?? 0) (entries were deleted)")
        }
        if let materializedBook, let book {
            report.bookMatches = materializedBook == book
            if materializedBook != book {
                return fail(report.headSequence ?? 0, "the materialized book differs from the book replayed from genesis")
            }
        }
        report.ok = true
        report.replayedBook = book
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    private struct Result: @unchecked Sendable {
        var problem: String?
        var document: ProposalDocument?
    }

    private func verifyInParallel(_ work: [Work]) -> [Result] {
        let results = UnsafeMutableBufferPointer<Result>.allocate(capacity: work.count)
        results.initialize(repeating: Result())
        defer { results.deallocate() }
        let stripes = min(jobs, max(1, work.count))
        let box = ResultBox(results)
        DispatchQueue.concurrentPerform(iterations: stripes) { stripe in
            var index = stripe
            while index < work.count {
                box.buffer[index] = LedgerVerifier.check(work[index])
                index += stripes
            }
        }
        return Array(results)
    }

    private final class ResultBox: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<Result>
        init(_ buffer: UnsafeMutableBufferPointer<Result>) { self.buffer = buffer }
    }

    private static func check(_ work: Work) -> Result {
        let entry = work.entry
        let envelope: Envelope
        do { envelope = try Envelope.decode(entry.envelope, path: "entry \(entry.sequence)") }
        catch { return Result(problem: "envelope bytes are not a DSSE envelope: \(error)") }
        guard let committedAt = RFC3339.parse(entry.committedAt) else {
            return Result(problem: "commit time '\(entry.committedAt)' is not RFC 3339")
        }
        let context = LedgerContext(ledgerID: work.ledgerID, head: entry.previousHash, nextSequence: entry.sequence)
        let (report, document) = ThresholdEvaluator(policy: work.policy).evaluateDocument(envelope, at: committedAt, ledger: context)
        guard report.commitReady, let document else {
            return Result(problem: "not approved under the policy in force (\(report.tally)): " + report.problems.joined(separator: "; "))
        }
        switch (entry.kind, document.kind) {
        case (.policyChange, .policyChange):
            guard let newPolicy = work.newPolicy else { return Result(problem: "policy change without a policy") }
            guard newPolicy.version > work.policy.version else {
                return Result(problem: "policy rollback: version \(newPolicy.version) is not above \(work.policy.version)")
            }
            let underNew = ThresholdEvaluator(policy: newPolicy).evaluate(envelope, at: committedAt, ledger: context, policyHashInForce: work.policy.hash)
            guard underNew.commitReady else {
                return Result(problem: "the new policy's own rule is not met (\(underNew.tally)): " + underNew.problems.joined(separator: "; "))
            }
            return Result()
        case (.layerChange, .addLayer), (.layerChange, .rollLayer), (.layerChange, .resizeLayer), (.layerChange, .closeLayer):
            return Result(problem: nil, document: document)
        default:
            return Result(problem: "entry kind \(entry.kind.rawValue) does not match the proposal's change \(document.kind.rawValue)")
        }
    }
}

extension LedgerEntry {
    /// How many signatures the stored envelope carries (0 for genesis or unreadable bytes).
    var envelopeSignatureCount: Int {
        guard kind != .genesis, let envelope = try? Envelope.decode(self.envelope) else { return 0 }
        return envelope.signatures.count
    }
}
