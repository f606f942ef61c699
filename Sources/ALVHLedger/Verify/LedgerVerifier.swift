import Foundation
import Synchronization
import ALVHSigning
import ALVHApproval
import ALVHEngine

/// Re-verifies a ledger from genesis: every hash and link, every signature against the policy in
/// force at that entry, every threshold, the book replay — and names the first bad entry.
///
/// Entries are streamed in batches; each batch's envelopes are verified on `jobs` threads.
///
/// ```swift
/// var source = StorageEntrySource(ledger: ledger)
/// let report = try await LedgerVerifier(jobs: 2).verify(&source, materializedBook: try await ledger.materializedBook())
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

    /// Where a verification ended, to resume from when the ledger grows: the last verified entry,
    /// its commit time, and the policy, book and ledger id after it.
    public struct Checkpoint: Sendable {
        public var sequence: UInt64
        public var hash: String
        public var committedAt: Date
        public var ledgerID: String
        public var policy: Policy
        public var book: Book
    }

    /// The verdict.
    public struct Report: Sendable, Codable, Equatable {
        public struct BadEntry: Sendable, Codable, Equatable {
            public var sequence: UInt64
            public var problem: String
            public init(sequence: UInt64, problem: String) {
                self.sequence = sequence
                self.problem = problem
            }
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
        /// The policy in force after the last verified entry (not part of the JSON report).
        public var policyInForce: Policy?
        /// Where this verification ended, when it succeeded (not part of the JSON report).
        public var checkpoint: Checkpoint?

        enum CodingKeys: String, CodingKey {
            case ok, ledgerID, entries, signatureChecks, headSequence, headHash, bookMatches, firstBad, seconds
        }

        /// Policies compare by their hash (the policy's bytes).
        public static func == (a: Report, b: Report) -> Bool {
            a.ok == b.ok && a.ledgerID == b.ledgerID && a.entries == b.entries && a.signatureChecks == b.signatureChecks
                && a.headSequence == b.headSequence && a.headHash == b.headHash && a.bookMatches == b.bookMatches
                && a.firstBad == b.firstBad && a.seconds == b.seconds && a.replayedBook == b.replayedBook
                && a.policyInForce?.hash == b.policyInForce?.hash
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
        /// The entry's commit time, parsed (and checked never to go back) in the sequential stage.
        let committedAt: Date
    }

    /// Verifies the entries of `source`. `progress` is called after each batch with the count so far.
    ///
    /// With `checkpoint`, `source` must start at the entry after it: verification goes on from the
    /// checkpoint's hash, time, policy and book, as if it had just verified up to there (`entries`
    /// then counts the new entries only).
    ///
    /// `materializedBook` (read before `source` is streamed) is compared with the book replayed up to
    /// its own entry: a commit by someone else between reading it and reading the entries moves the
    /// chain past it, which is not a mismatch. A book after an entry the chain does not reach, or
    /// before the checkpoint, is.
    public func verify<S: EntrySource>(_ source: inout S, resumingFrom checkpoint: Checkpoint? = nil, expectHead: ExpectedHead? = nil,
                                       materializedBook: MaterializedBook? = nil, progress: ((Int) -> Void)? = nil) async throws -> Report {
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
        var previousTime = Date.distantPast
        var policy: Policy?
        var book: Book?
        var ledgerID = ""
        var sawExpectedHead = expectHead == nil
        // The replayed book after the materialized book's entry, once the replay gets there.
        var replayedAtMaterialized: Book?
        if let checkpoint {
            expectedSequence = checkpoint.sequence + 1
            previousHash = checkpoint.hash
            previousTime = checkpoint.committedAt
            policy = checkpoint.policy
            book = checkpoint.book
            if materializedBook?.sequence == checkpoint.sequence { replayedAtMaterialized = checkpoint.book }
            ledgerID = checkpoint.ledgerID
            report.ledgerID = ledgerID
            report.headSequence = checkpoint.sequence
            report.headHash = checkpoint.hash
            if let expectHead, expectHead.sequence <= checkpoint.sequence {
                guard expectHead.sequence == checkpoint.sequence, expectHead.hash == checkpoint.hash else {
                    return fail(expectHead.sequence, "the expected head \(expectHead.sequence):\(expectHead.hash.prefix(16))… is not the checkpoint \(checkpoint.sequence):\(checkpoint.hash.prefix(16))… nor after it; verify from genesis")
                }
                sawExpectedHead = true
            }
        }

        // Batches flow through a two-stage pipeline: while the signatures of batch k are checked
        // on `jobs` threads, this thread reads batch k+1 and checks its numbering, links, hashes and
        // policies. The first bad entry reported is the earliest one, whichever stage found it.
        var inFlight: Flight?
        var snapshots: [String: [UInt8]] = [:]
        func land(_ flight: Flight) async -> Report? {
            flight.finish()
            // The book before each layer change, in order (the replay is cheap); up to the first
            // entry the parallel stage refused.
            var before = [Book?](repeating: nil, count: flight.work.count)
            var stopped: (index: Int, problem: String)?
            for (index, item) in flight.work.enumerated() {
                let result = flight.done[index]
                report.signatureChecks += result.signatures
                if let problem = result.problem { stopped = (index, problem); break }
                defer { if item.entry.sequence == materializedBook?.sequence { replayedAtMaterialized = book } }
                guard item.entry.kind == .layerChange else { continue }
                guard let document = result.document, let current = book else { stopped = (index, "the change could not be read"); break }
                // The cited snapshot, from the ledger's blobs (or the export's blob lines).
                if let hash = document.market?.snapshotHash {
                    do {
                        if let cached = snapshots[hash] { flight.done[index].snapshot = cached }
                        else if let bytes = try await source.blob(hash) {
                            if snapshots.count >= 16 { snapshots.removeAll() }
                            snapshots[hash] = bytes
                            flight.done[index].snapshot = bytes
                        }
                    } catch { stopped = (index, "the cited snapshot cannot be read: \(error)"); break }
                }
                before[index] = current
                do { book = try BookChange.apply(document, to: current) }
                catch { stopped = (index, "replaying the change on the book failed: \(error)"); break }
            }
            // Each layer change recomputed on the book before it and decided, on `jobs` threads.
            let decided = flight.decideLayerChanges(before: before, upTo: stopped?.index ?? flight.work.count, jobs: jobs)
            for (index, problem) in decided.enumerated() {
                if let problem { return fail(flight.work[index].entry.sequence, problem) }
            }
            if let stopped { return fail(flight.work[stopped.index].entry.sequence, stopped.problem) }
            if let (sequence, problem) = flight.sequentialFailure { return fail(sequence, problem) }
            report.entries += flight.entries
            progress?(report.entries)
            return nil
        }

        while true {
            let batch = try await source.next(max: batchSize)
            if batch.isEmpty { break }
            // 1. Sequential: numbering, links, hashes, the policy in force per entry.
            var work: [Work] = []
            var sequentialFailure: (UInt64, String)?
            func stop(_ sequence: UInt64, _ problem: String) { sequentialFailure = (sequence, problem) }
            for entry in batch {
                guard entry.sequence == expectedSequence else {
                    stop(expectedSequence, "entry \(expectedSequence) is missing: found entry \(entry.sequence) in its place (entries deleted or reordered)"); break
                }
                guard entry.previousHash == previousHash else {
                    stop(entry.sequence, "previous-hash link broken: entry says \(entry.previousHash.prefix(16))…, entry \(entry.sequence == 0 ? 0 : entry.sequence - 1) hashes to \(previousHash.prefix(16))…"); break
                }
                guard let committed = RFC3339.parse(entry.committedAt), committed >= previousTime else {
                    stop(entry.sequence, "commit time '\(entry.committedAt)' is not RFC 3339 or goes back before entry \(entry.sequence == 0 ? 0 : entry.sequence - 1)'s (backdated)"); break
                }
                previousTime = committed
                let recomputed = entry.computeHash()
                guard recomputed == entry.hash else {
                    stop(entry.sequence, "entry hash mismatch: stored \(entry.hash.prefix(16))…, its contents hash to \(recomputed.prefix(16))… (the entry was altered)"); break
                }
                if let expectHead, expectHead.sequence == entry.sequence {
                    guard expectHead.hash == entry.hash else {
                        stop(entry.sequence, "expected head mismatch: entry \(entry.sequence) hashes to \(entry.hash.prefix(16))…, the auditor expected \(expectHead.hash.prefix(16))…"); break
                    }
                    sawExpectedHead = true
                }
                if entry.sequence == 0 {
                    guard entry.kind == .genesis else { stop(0, "entry 0 is not a genesis entry"); break }
                    do {
                        let genesis = try GenesisDocument.decode(entry.envelope)
                        let initial = try Ledger.adoptedPolicy(of: entry)
                        guard initial.hash == entry.policyHash, genesis.policyHash == entry.policyHash else {
                            stop(0, "genesis policy hash does not match its policy bytes"); break
                        }
                        guard LedgerVerifier.committerSigned(entry, under: initial) else {
                            stop(0, "the genesis entry is not signed by a committer of its policy"); break
                        }
                        policy = initial
                        book = try genesis.book.book()
                        if materializedBook?.sequence == 0 { replayedAtMaterialized = book }
                        ledgerID = entry.hash
                        report.ledgerID = ledgerID
                    } catch {
                        stop(0, "genesis entry is invalid: \(error)"); break
                    }
                } else {
                    guard entry.kind != .genesis else { stop(entry.sequence, "a second genesis entry"); break }
                    guard let current = policy else { stop(entry.sequence, "no policy in force"); break }
                    guard entry.policyHash == current.hash else {
                        stop(entry.sequence, "entry records policy \(entry.policyHash.prefix(16))… but the policy in force is \(current.hash.prefix(16))…"); break
                    }
                    var newPolicy: Policy?
                    if entry.kind == .policyChange {
                        do { newPolicy = try Ledger.adoptedPolicy(of: entry) }
                        catch { stop(entry.sequence, "policy change carries an invalid policy: \(error)"); break }
                        policy = newPolicy
                    }
                    work.append(Work(entry: entry, policy: current, newPolicy: newPolicy, ledgerID: ledgerID, committedAt: committed))
                }
                previousHash = entry.hash
                expectedSequence = entry.sequence + 1
                report.headSequence = entry.sequence
                report.headHash = entry.hash
            }

            // 2. Parallel (in the background): signatures and thresholds.
            let flight = Flight(work: work, entries: batch.count, sequentialFailure: sequentialFailure)
            flight.start(jobs: jobs)
            if let previous = inFlight, let failed = await land(previous) {
                flight.finish()
                return failed
            }
            inFlight = flight
            if sequentialFailure != nil { break }
        }
        if let flight = inFlight, let failed = await land(flight) { return failed }

        guard report.entries > 0 || checkpoint != nil else { return fail(0, "the ledger is empty: no genesis entry") }
        guard sawExpectedHead else {
            return fail(expectHead!.sequence, "entry \(expectHead!.sequence) that the auditor saw as head is missing: the ledger ends at entry \(report.headSequence ?? 0) (entries were deleted)")
        }
        if let materializedBook, let head = report.headSequence {
            guard materializedBook.sequence <= head else {
                return fail(head, "the materialized book is the book after entry \(materializedBook.sequence), but the chain ends at entry \(head) (entries were deleted, or the book row was altered)")
            }
            guard let replayed = replayedAtMaterialized else {
                return fail(materializedBook.sequence, "the materialized book is the book after entry \(materializedBook.sequence), before the checkpoint at entry \(checkpoint?.sequence ?? 0) this verification resumed from (the database was rolled back); verify from genesis")
            }
            report.bookMatches = materializedBook.book == replayed
            if materializedBook.book != replayed {
                return fail(materializedBook.sequence, "the materialized book differs from the book replayed from genesis")
            }
        }
        report.ok = true
        report.replayedBook = book
        report.policyInForce = policy
        if let policy, let book, let sequence = report.headSequence, let hash = report.headHash {
            report.checkpoint = Checkpoint(sequence: sequence, hash: hash, committedAt: previousTime, ledgerID: ledgerID, policy: policy, book: book)
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    private struct Result: @unchecked Sendable {
        var problem: String?
        var document: ProposalDocument?
        /// Signatures the envelope carries (counted in the parallel stage, where it is decoded).
        var signatures = 0
        /// For a layer change, decided once the book before it is known: the envelope, who signed
        /// it, what the entry attaches (the slot's rejections) and the snapshot it cites (from the blobs).
        var envelope: Envelope?
        var verifiers: [Policy.Signer?] = []
        var snapshot: [UInt8]?
        var rejections: [Envelope] = []
    }

    /// One batch's signature checks. With `jobs` = N, N − 1 background threads start on it at once
    /// while the caller reads and checks the next batch; then the caller joins in (`help`), so N
    /// threads are busy and never more. Entries are claimed in chunks from an atomic counter.
    private final class Flight: @unchecked Sendable {
        let work: [Work]
        let entries: Int
        let sequentialFailure: (UInt64, String)?
        let group = DispatchGroup()
        private let next = Atomic<Int>(0)
        private let results: UnsafeMutableBufferPointer<Result>
        static let chunk = 4

        init(work: [Work], entries: Int, sequentialFailure: (UInt64, String)?) {
            self.work = work
            self.entries = entries
            self.sequentialFailure = sequentialFailure
            results = .allocate(capacity: work.count)
            results.initialize(repeating: Result())
        }

        deinit {
            results.deinitialize()
            results.deallocate()
        }

        /// The results, once `finish()` returned.
        var done: UnsafeMutableBufferPointer<Result> { results }

        /// Recomputes and decides each layer change below `limit` whose book before is known, in
        /// parallel; the problem of each (nil: approved).
        func decideLayerChanges(before: [Book?], upTo limit: Int, jobs: Int) -> [String?] {
            let out = UnsafeMutableBufferPointer<String?>.allocate(capacity: max(limit, 1))
            out.initialize(repeating: nil)
            defer { out.deinitialize(); out.deallocate() }
            nonisolated(unsafe) let slots = out  // each index writes its own slot
            let indices = (0..<limit).filter { before[$0] != nil }
            let books = before
            // Contiguous runs, one per thread: within a run an entry's book is the previous entry's
            // book after its change, so when both cite one snapshot the previous after-report is
            // this entry's before-report (the same computation, not redone).
            let runs = max(1, min(jobs, indices.count))
            let run: @Sendable (Int) -> Void = { [self] part in
                let from = indices.count * part / runs, to = indices.count * (part + 1) / runs
                var carried: (index: Int, snapshot: String, report: RiskReport)?
                for position in from..<to {
                    let index = indices[position]
                    let hash = results[index].document?.market?.snapshotHash
                    let reusable = carried.flatMap { $0.index == index - 1 && $0.snapshot == hash ? $0.report : nil }
                    let (problem, after) = LedgerVerifier.decide(work[index], results[index], book: books[index]!, before: reusable)
                    slots[index] = problem
                    carried = after.flatMap { report in hash.map { (index, $0, report) } }
                }
            }
            if runs > 1 {
                DispatchQueue.concurrentPerform(iterations: runs, execute: run)
            } else {
                run(0)
            }
            return Array(out.prefix(limit))
        }

        func start(jobs: Int) {
            guard jobs > 1 else { return }
            for _ in 0..<(jobs - 1) {
                group.enter()
                DispatchQueue.global().async { [self] in
                    drain()
                    group.leave()
                }
            }
        }

        /// Claims chunks until none is left.
        private func drain() {
            while true {
                let first = next.wrappingAdd(Self.chunk, ordering: .relaxed).oldValue
                if first >= work.count { return }
                for index in first..<min(first + Self.chunk, work.count) {
                    results[index] = LedgerVerifier.check(work[index])
                }
            }
        }

        /// The caller works on what is left, then waits for the helpers.
        func finish() {
            drain()
            group.wait()
        }
    }

    private static func check(_ work: Work) -> Result {
        var result = checkEntry(work)
        if result.signatures == 0, let envelope = try? Envelope.decode(work.entry.envelope) { result.signatures = envelope.signatures.count }
        return result
    }

    /// Whether a committer of `policy` signed the entry's hash.
    static func committerSigned(_ entry: LedgerEntry, under policy: Policy) -> Bool {
        let message = entry.signingMessage
        return policy.committers.contains { $0.key.isValidSignature(entry.committerSignature, for: message) }
    }

    private static func checkEntry(_ work: Work) -> Result {
        let entry = work.entry
        guard committerSigned(entry, under: work.policy) else {
            return Result(problem: "not signed by a committer of the policy in force (appended without the committer's key)")
        }
        let envelope: Envelope
        do { envelope = try Envelope.decode(entry.envelope, path: "entry \(entry.sequence)") }
        catch { return Result(problem: "envelope bytes are not a DSSE envelope: \(error)") }
        let attachments: EntryAttachments
        let rejections: [Envelope]
        do {
            attachments = try EntryAttachments.decode(entry.attachments)
            rejections = try attachments.rejectionEnvelopes()
        } catch { return Result(problem: "attachments are invalid: \(error)") }
        let committedAt = work.committedAt
        let signatures = envelope.signatures.count
        let context = LedgerContext(ledgerID: work.ledgerID, head: entry.previousHash, nextSequence: entry.sequence)
        let evaluator = ThresholdEvaluator(policy: work.policy)
        switch entry.kind {
        case .policyChange:
            let (report, document) = evaluator.evaluateDocument(envelope, at: committedAt, ledger: context, rejections: rejections)
            guard report.commitReady, let document else {
                return Result(problem: "not approved under the policy in force (\(report.tally)): " + report.problems.joined(separator: "; "))
            }
            guard document.kind == .policyChange, let change = document.change.policy else {
                return Result(problem: "entry kind policy-change does not match the proposal's change \(document.kind.rawValue)")
            }
            guard let newPolicy = work.newPolicy else { return Result(problem: "policy change without a policy") }
            guard change.version == newPolicy.version else {
                return Result(problem: "the proposal declares policy version \(change.version) but the adopted policy says \(newPolicy.version)")
            }
            guard newPolicy.version > work.policy.version else {
                return Result(problem: "policy rollback: version \(newPolicy.version) is not above \(work.policy.version)")
            }
            let underNew = ThresholdEvaluator(policy: newPolicy).evaluate(envelope, at: committedAt, ledger: context, rejections: rejections,
                                                                           mode: .init(policyHashInForce: work.policy.hash, incomingPolicy: true))
            guard underNew.commitReady else {
                return Result(problem: "the new policy's own rule is not met (\(underNew.tally)): " + underNew.problems.joined(separator: "; "))
            }
            return Result(signatures: signatures)
        case .layerChange:
            // Who signed, then (only if a policy key did) the verified payload; the decision waits
            // for the book before this entry.
            let verifiers = evaluator.signatureVerifiers(envelope)
            guard verifiers.contains(where: { $0 != nil }) else {
                return Result(problem: "not approved under the policy in force: no signature verifies under any key of policy '\(work.policy.name)'")
            }
            let document: ProposalDocument
            do { document = try ProposalDocument.decode(envelope.payload, path: "entry \(entry.sequence)") }
            catch { return Result(problem: "not approved under the policy in force: payload is not a valid proposal: \(error)") }
            guard document.kind != .policyChange else {
                return Result(problem: "entry kind layer-change does not match the proposal's change \(document.kind.rawValue)")
            }
            return Result(problem: nil, document: document, signatures: signatures, envelope: envelope, verifiers: verifiers,
                          snapshot: nil, rejections: rejections)
        case .genesis:
            return Result(problem: "a second genesis entry")
        }
    }

    /// A layer change decided: its figures recomputed on `book` (the replayed book before it) and
    /// the snapshot it attaches, its signatures counted, at its signed commit time.
    /// A layer change decided: its figures recomputed on `book` (the replayed book before it) and
    /// the snapshot it attaches (`before`: that book's report on that snapshot, when already made),
    /// its signatures counted, at its signed commit time. Returns the problem (nil: approved) and the
    /// after-report, for the next entry.
    private static func decide(_ work: Work, _ result: Result, book: Book, before: RiskReport?) -> (String?, RiskReport?) {
        guard let envelope = result.envelope, let document = result.document else { return ("the change could not be read", nil) }
        let snapshot = result.snapshot
        var after: RiskReport?
        let assessor = LedgerAssessor(book: book, before: before, snapshot: { hash in snapshot.flatMap { SHA256.hexDigest($0) == hash ? $0 : nil } },
                                      recomputed: { after = $0.after })
        let context = LedgerContext(ledgerID: work.ledgerID, head: work.entry.previousHash, nextSequence: work.entry.sequence)
        let report = ThresholdEvaluator(policy: work.policy).evaluate(envelope, at: work.committedAt, ledger: context, rejections: result.rejections,
                                                                      assessor: assessor, verifiers: result.verifiers, parsed: document)
        guard report.commitReady else {
            return ("not approved under the policy in force (\(report.tally)): " + report.problems.joined(separator: "; "), after)
        }
        return (nil, after)
    }
}
