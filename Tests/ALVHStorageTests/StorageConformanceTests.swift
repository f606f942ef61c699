import Foundation
import Testing
import ALVHSigning
import ALVHStorage

/// The one conformance suite: every backend, the same bodies, the same outcomes and error codes as
/// MemoryLedgerStorage (the reference).
@Suite("Ledger storage conformance")
struct StorageConformanceTests {
    typealias F = Fixture

    // MARK: Create

    @Test("create stores the genesis, meta, book and blobs; a second create is alreadyInitialized", arguments: Backend.enabled)
    func createAndAlreadyInitialized(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            #expect(try await s.head() == nil)
            #expect(try await s.book() == nil)
            #expect(try await s.entries(from: 0, limit: 10).isEmpty)
            let genesis = F.genesis()
            try await s.create(genesis: genesis, meta: ["ledger_id": "L-1", "format": "2"], book: [1, 2, 3], blobs: [[7, 7], [7, 7], [8]])
            #expect(try await s.head() == genesis)
            #expect(try await s.entry(at: 0) == genesis)
            #expect(try await s.entry(at: 1) == nil)
            #expect(try await s.entry(at: UInt64.max) == nil)
            #expect(try await s.meta("ledger_id") == "L-1")
            #expect(try await s.meta("format") == "2")
            #expect(try await s.meta("nothing") == nil)
            let book = try #require(try await s.book())
            #expect(book.sequence == 0 && book.json == [1, 2, 3])
            #expect(try await s.blob(SHA256.hexDigest([7, 7])) == [7, 7])
            #expect(try await s.blob(SHA256.hexDigest([8])) == [8])
            #expect(try await s.blobs(after: nil, limit: 10).count == 2)

            let error = await #expect(throws: StorageError.self) {
                try await s.create(genesis: F.genesis("again"), meta: [:], book: [], blobs: [])
            }
            #expect(error?.code == .alreadyInitialized)
            #expect(try await s.head() == genesis, "the ledger is untouched")
            #expect(try await s.meta("ledger_id") == "L-1")
        }
    }

    @Test("create refuses a first entry that is not a genesis at 0", arguments: Backend.enabled)
    func createRefusesNonGenesis(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let notGenesis = F.entry(after: HeadRef(sequence: 0, hash: F.zeroHash))
            let error = await #expect(throws: StorageError.self) {
                try await s.create(genesis: notGenesis, meta: [:], book: [], blobs: [])
            }
            #expect(error?.code == .refused)
            #expect(try await s.head() == nil)
            // On an existing ledger, any create is alreadyInitialized first, whatever it carries.
            let genesis = try await F.create(s)
            let again = await #expect(throws: StorageError.self) {
                try await s.create(genesis: notGenesis, meta: [:], book: [], blobs: [])
            }
            #expect(again?.code == .alreadyInitialized)
            #expect(try await s.head()?.ref == genesis)
        }
    }

    // MARK: Append

    @Test("append checks linkage, refuses what does not continue the head, and writes nothing then", arguments: Backend.enabled)
    func appendLinkage(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            let e1 = F.entry(after: g)
            let e2 = F.entry(after: e1.ref, kind: "policy-change")
            let outcome = try await s.append([e1, e2], book: [42], blobs: [[5]], removing: nil, decidedOn: g)
            #expect(outcome == .done(e2.ref))
            #expect(try await s.head() == e2)
            #expect(try await s.entries(from: 0, limit: 10).map(\.sequence) == [0, 1, 2])
            let book = try #require(try await s.book())
            #expect(book.sequence == 2 && book.json == [42])
            #expect(try await s.blob(SHA256.hexDigest([5])) == [5])

            let head = e2.ref
            var gap = F.entry(after: head)
            gap.sequence += 1
            var badLink = F.entry(after: head)
            badLink.previousHash = e1.hash
            var secondGenesis = F.entry(after: head)
            secondGenesis.kind = "genesis"
            let e3 = F.entry(after: head)
            var afterE3Bad = F.entry(after: e3.ref)
            afterE3Bad.previousHash = F.zeroHash
            for bad in [[gap], [badLink], [secondGenesis], [e3, afterE3Bad]] {
                let error = await #expect(throws: StorageError.self) {
                    _ = try await s.append(bad, book: [0], blobs: [[6]], removing: nil, decidedOn: head)
                }
                #expect(error?.code == .refused)
            }
            #expect(try await s.head() == e2, "nothing written")
            #expect(try await s.book()?.json == [42])
            #expect(try await s.blob(SHA256.hexDigest([6])) == nil)
        }
    }

    @Test("append on a moved head answers headMoved before the entries' linkage is looked at", arguments: Backend.enabled)
    func appendHeadBeforeLinkage(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            let moved = try await F.appendLayers(s, on: g, count: 1)
            var gap = F.entry(after: g)
            gap.sequence += 1
            #expect(try await s.append([gap], book: [1], blobs: [[7]], removing: nil, decidedOn: g) == .headMoved(current: moved))
            #expect(try await s.head()?.ref == moved)
            #expect(try await s.blob(SHA256.hexDigest([7])) == nil)
        }
    }

    // MARK: Commit and the queue it was decided on

    /// Two proposals for entry 1 (p1 signed by k1, p2 by k2) and one for entry 2 (p3), on a new ledger.
    static func queueForCommit(_ s: any LedgerStorage) async throws -> HeadRef {
        let g = try await F.create(s)
        for (id, sequence) in [("p1", UInt64(1)), ("p2", 1), ("p3", 2)] {
            _ = try await s.enqueue(F.proposal(id, sequence: sequence), id: id, blobs: [], signatures: [F.signature("k-\(id)")], maxSignatures: 5,
                                    conflicts: F.never, decidedOn: g)
        }
        return g
    }

    /// Nothing of a refused commit is there: the head, the book, the blob, the queue as it was.
    static func expectNothingCommitted(_ s: any LedgerStorage, head: HeadRef, blob: [UInt8], queued id: String,
                                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        #expect(try await s.head()?.ref == head, "head unchanged", sourceLocation: sourceLocation)
        #expect(try await s.book()?.sequence == head.sequence, "book unchanged", sourceLocation: sourceLocation)
        #expect(try await s.book()?.json == Array("{\"book\":0}".utf8), "book unchanged", sourceLocation: sourceLocation)
        #expect(try await s.blob(SHA256.hexDigest(blob)) == nil, "blobs not stored", sourceLocation: sourceLocation)
        #expect(try await s.pending(id: id) != nil, "the proposal is still queued", sourceLocation: sourceLocation)
    }

    @Test("append with the queue state it was decided on removes the proposal with its signatures and rejections", arguments: Backend.enabled)
    func appendRemovesPending(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await Self.queueForCommit(s)
            _ = try await s.addRejection(pendingID: "p1", envelope: [1], signerKey: "k9", addedAt: "t", veto: false, decidedOn: g)
            _ = try await s.addRejection(pendingID: "p2", envelope: [2], signerKey: "k8", addedAt: "t", veto: false, decidedOn: g)
            _ = try await s.addRejection(pendingID: "p3", envelope: [3], signerKey: "k8", addedAt: "t", veto: true, decidedOn: g)
            // The committer's read: p1 pending, two rejections for entry 1 (p3's are for entry 2).
            #expect(try await s.pending(id: "p1")?.status == .pending)
            let decided = try await s.slotRejections(sequence: 1).count
            #expect(decided == 2)
            let e1 = F.entry(after: g)
            #expect(try await s.append([e1], book: [1], blobs: [[7]], removing: PendingRemoval(id: "p1", slotRejections: decided), decidedOn: g)
                    == .done(e1.ref))
            #expect(try await s.head() == e1)
            #expect(try await s.book()?.json == [1])
            #expect(try await s.blob(SHA256.hexDigest([7])) == [7])
            #expect(try await s.pending(id: "p1") == nil)
            #expect(try await s.signatures(pendingID: "p1").isEmpty)
            #expect(try await s.rejections(pendingID: "p1").isEmpty)
            #expect(try await s.pending(id: "p2")?.rejectionCount == 1, "other proposals stay, with their rejections")
            #expect(try await s.signatures(pendingID: "p2").count == 1)
            #expect(try await s.pending(id: "p3")?.status == .vetoed)
            // Appending without removing a proposal checks no queue.
            let e2 = F.entry(after: e1.ref)
            #expect(try await s.append([e2], book: [2], blobs: [], removing: nil, decidedOn: e1.ref) == .done(e2.ref))
        }
    }

    @Test("append: a rejection stored after the commit was decided answers queueChanged and writes nothing", arguments: Backend.enabled)
    func appendQueueChangedByRejection(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await Self.queueForCommit(s)
            // The committer reads the queue: p1 pending, no rejection for entry 1 …
            #expect(try await s.pending(id: "p1")?.status == .pending)
            let decided = PendingRemoval(id: "p1", slotRejections: try await s.slotRejections(sequence: 1).count)
            #expect(decided.slotRejections == 0)
            // … a rejection of p1 arrives (not a veto: p1 stays pending, only the count tells) …
            #expect(try await s.addRejection(pendingID: "p1", envelope: [1], signerKey: "k9", addedAt: "t", veto: false, decidedOn: g)
                    == .done(.added(vetoed: false)))
            #expect(try await s.pending(id: "p1")?.status == .pending)
            // … and the commit decided before it is refused: nothing written, the rejection kept.
            let e1 = F.entry(after: g)
            #expect(try await s.append([e1], book: [1], blobs: [[7]], removing: decided, decidedOn: g) == .queueChanged)
            try await Self.expectNothingCommitted(s, head: g, blob: [7], queued: "p1")
            #expect(try await s.rejections(pendingID: "p1") == [[1]])
            #expect(try await s.signatures(pendingID: "p1").count == 1)

            // A rejection of another proposal for the same entry counts too (the entry records them all).
            let redecided = PendingRemoval(id: "p1", slotRejections: try await s.slotRejections(sequence: 1).count)
            #expect(redecided.slotRejections == 1)
            _ = try await s.addRejection(pendingID: "p2", envelope: [2], signerKey: "k9", addedAt: "t", veto: false, decidedOn: g)
            #expect(try await s.append([e1], book: [1], blobs: [[7]], removing: redecided, decidedOn: g) == .queueChanged)
            try await Self.expectNothingCommitted(s, head: g, blob: [7], queued: "p1")
            // A rejection for another entry does not.
            _ = try await s.addRejection(pendingID: "p3", envelope: [3], signerKey: "k9", addedAt: "t", veto: false, decidedOn: g)
            #expect(try await s.append([e1], book: [1], blobs: [[7]], removing: PendingRemoval(id: "p1", slotRejections: 2), decidedOn: g)
                    == .done(e1.ref))
            #expect(try await s.pending(id: "p1") == nil)
        }
    }

    @Test("append: a proposal vetoed, expired or made stale after the commit was decided answers queueChanged", arguments: Backend.enabled)
    func appendQueueChangedByStatus(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await Self.queueForCommit(s)
            let e1 = F.entry(after: g)
            // Vetoed meanwhile.
            let decided = PendingRemoval(id: "p1", slotRejections: try await s.slotRejections(sequence: 1).count)
            #expect(try await s.addRejection(pendingID: "p1", envelope: [1], signerKey: "k-veto", addedAt: "t", veto: true, decidedOn: g)
                    == .done(.added(vetoed: true)))
            #expect(try await s.append([e1], book: [1], blobs: [[7]], removing: decided, decidedOn: g) == .queueChanged)
            try await Self.expectNothingCommitted(s, head: g, blob: [7], queued: "p1")
            #expect(try await s.pending(id: "p1")?.status == .vetoed)
            // Even with the count read after the veto: a vetoed proposal is never committed.
            let afterVeto = PendingRemoval(id: "p1", slotRejections: try await s.slotRejections(sequence: 1).count)
            #expect(afterVeto.slotRejections == 1)
            #expect(try await s.append([e1], book: [1], blobs: [[7]], removing: afterVeto, decidedOn: g) == .queueChanged)
            try await Self.expectNothingCommitted(s, head: g, blob: [7], queued: "p1")

            // Expired (or stale) meanwhile, the count unchanged: the status alone refuses it.
            for (id, status) in [("p2", PendingStatus.expired), ("p3", .stale)] {
                let sequence = try #require(try await s.pending(id: id)).sequence
                let decided = PendingRemoval(id: id, slotRejections: try await s.slotRejections(sequence: sequence).count)
                #expect(try await s.setStatus([(id: id, status: status)], decidedOn: g) == .done([.marked(id: id, to: status)]))
                #expect(try await s.append([e1], book: [1], blobs: [[7]], removing: decided, decidedOn: g) == .queueChanged)
                try await Self.expectNothingCommitted(s, head: g, blob: [7], queued: id)
                #expect(try await s.pending(id: id)?.status == status)
            }
        }
    }

    @Test("append: a proposal no longer queued answers queueChanged", arguments: Backend.enabled)
    func appendQueueChangedByRemoval(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await Self.queueForCommit(s)
            let e1 = F.entry(after: g)
            // Never queued.
            #expect(try await s.append([e1], book: [1], blobs: [[7]], removing: PendingRemoval(id: "nope", slotRejections: 0), decidedOn: g)
                    == .queueChanged)
            try await Self.expectNothingCommitted(s, head: g, blob: [7], queued: "p1")
            // Committed already (by another committer): removed with the entry that recorded it.
            #expect(try await s.append([e1], book: [1], blobs: [], removing: PendingRemoval(id: "p1", slotRejections: 0), decidedOn: g) == .done(e1.ref))
            let e2 = F.entry(after: e1.ref)
            #expect(try await s.append([e2], book: [2], blobs: [[8]], removing: PendingRemoval(id: "p1", slotRejections: 0), decidedOn: e1.ref)
                    == .queueChanged)
            #expect(try await s.head() == e1)
            #expect(try await s.book()?.json == [1])
            #expect(try await s.blob(SHA256.hexDigest([8])) == nil)
        }
    }

    @Test("append: entries that do not continue the head are refused before the queue is looked at", arguments: Backend.enabled)
    func appendLinkageBeforeQueue(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await Self.queueForCommit(s)
            var gap = F.entry(after: g)
            gap.sequence += 1
            let error = await #expect(throws: StorageError.self) {
                _ = try await s.append([gap], book: [1], blobs: [[7]], removing: PendingRemoval(id: "nope", slotRejections: 5), decidedOn: g)
            }
            #expect(error?.code == .refused)
            try await Self.expectNothingCommitted(s, head: g, blob: [7], queued: "p1")
        }
    }

    // MARK: headMoved

    @Test("every deciding write on an old head answers headMoved with the current head and writes nothing", arguments: Backend.enabled)
    func headMovedOnEveryWrite(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            _ = try await s.enqueue(F.proposal("p1"), id: "p1", blobs: [], signatures: [], maxSignatures: 5, conflicts: F.never, decidedOn: g)
            let current = try await F.appendLayers(s, on: g, count: 1)

            let enqueued = try await s.enqueue(F.proposal("p2"), id: "p2", blobs: [[3]], signatures: [F.signature("k1")], maxSignatures: 5,
                                               conflicts: F.never, decidedOn: g)
            #expect(enqueued == .headMoved(current: current))
            #expect(try await s.pending(id: "p2") == nil)
            #expect(try await s.blob(SHA256.hexDigest([3])) == nil)

            let signed = try await s.enqueue(nil, id: "p1", blobs: [], signatures: [F.signature("k1")], maxSignatures: 5, conflicts: F.never, decidedOn: g)
            #expect(signed == .headMoved(current: current))
            #expect(try await s.signatures(pendingID: "p1").isEmpty)

            let rejected = try await s.addRejection(pendingID: "p1", envelope: [1], signerKey: "k1", addedAt: "t", veto: true, decidedOn: g)
            #expect(rejected == .headMoved(current: current))
            #expect(try await s.rejections(pendingID: "p1").isEmpty)
            #expect(try await s.pending(id: "p1")?.status == .pending)

            let appended = try await s.append([F.entry(after: g, tag: "x")], book: [9], blobs: [], removing: PendingRemoval(id: "p1", slotRejections: 0),
                                          decidedOn: g)
            #expect(appended == .headMoved(current: current), "a moved head is answered first, whatever the queue")
            #expect(try await s.head()?.ref == current)
            #expect(try await s.pending(id: "p1") != nil)

            let marked = try await s.setStatus([(id: "p1", status: .stale)], decidedOn: g)
            #expect(marked == .headMoved(current: current))
            #expect(try await s.pending(id: "p1")?.status == .pending)

            // Without a head to check, a status change goes through.
            #expect(try await s.setStatus([(id: "p1", status: .expired)], decidedOn: nil) == .done([.marked(id: "p1", to: .expired)]))
        }
    }

    @Test("writes on an empty ledger answer headMoved(current: nil)", arguments: Backend.enabled)
    func headMovedOnEmptyLedger(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let someHead = F.genesis().ref
            let outcome = try await s.enqueue(F.proposal("p1"), id: "p1", blobs: [], signatures: [], maxSignatures: 5, conflicts: F.never, decidedOn: someHead)
            #expect(outcome == .headMoved(current: nil))
            #expect(try await s.append([F.entry(after: someHead)], book: [], blobs: [], removing: nil, decidedOn: someHead) == .headMoved(current: nil))
            #expect(try await s.pending(id: "p1") == nil)
        }
    }

    // MARK: Enqueue

    @Test("enqueue: new, merge, alreadyThere, notQueued, notOpen", arguments: Backend.enabled)
    func enqueueOutcomes(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            let p1 = F.proposal("p1", attachments: [4, 4])
            let first = try #require(try await s.enqueue(p1, id: "p1", blobs: [[3, 3]], signatures: [F.signature("k1", keyid: "kid1")], maxSignatures: 5,
                                                         conflicts: F.never, decidedOn: g).value)
            let expected1 = StoredPending(p1, status: .pending, signatureCount: 1, rejectionCount: 0)
            #expect(first == .queued(isNew: true, signatures: [.added], pending: expected1))
            #expect(try await s.pending(id: "p1") == expected1)
            #expect(try await s.blob(SHA256.hexDigest([3, 3])) == [3, 3])

            // The same proposal again with more signatures merges into the queued copy.
            let merged = try #require(try await s.enqueue(p1, id: "p1", blobs: [], signatures: [F.signature("k1"), F.signature("k2"), F.signature("k2")],
                                                          maxSignatures: 5, conflicts: F.never, decidedOn: g).value)
            let expected2 = StoredPending(p1, status: .pending, signatureCount: 2, rejectionCount: 0)
            #expect(merged == .queued(isNew: false, signatures: [.alreadyThere, .added, .alreadyThere], pending: expected2))
            #expect(try await s.signatures(pendingID: "p1") == [
                StoredSignature(keyid: "kid1", sig: F.signature("k1").sig, signerKey: "k1"),
                StoredSignature(keyid: nil, sig: F.signature("k2").sig, signerKey: "k2"),
            ])

            // A signature for a proposal that is not queued.
            #expect(try await s.enqueue(nil, id: "nope", blobs: [[1]], signatures: [F.signature("k1")], maxSignatures: 5, conflicts: F.never, decidedOn: g)
                    == .done(.notQueued))
            #expect(try await s.blob(SHA256.hexDigest([1])) == nil)
            // A proposal given under another id than the one asked for: not queued, nothing written.
            #expect(try await s.enqueue(F.proposal("p9"), id: "p8", blobs: [], signatures: [], maxSignatures: 5, conflicts: F.never, decidedOn: g)
                    == .done(.notQueued))
            #expect(try await s.pending(id: "p9") == nil)

            // A proposal that is no longer open.
            #expect(try await s.setStatus([(id: "p1", status: .expired)], decidedOn: g) == .done([.marked(id: "p1", to: .expired)]))
            #expect(try await s.enqueue(p1, id: "p1", blobs: [[2]], signatures: [F.signature("k3")], maxSignatures: 5, conflicts: F.never, decidedOn: g)
                    == .done(.notOpen(.expired)))
            #expect(try await s.signatures(pendingID: "p1").count == 2)
            #expect(try await s.blob(SHA256.hexDigest([2])) == nil)

            // No signatures at all: queued alone.
            let bare = try await s.enqueue(F.proposal("p2"), id: "p2", blobs: [], signatures: [], maxSignatures: 5, conflicts: F.never, decidedOn: g)
            #expect(bare.value?.queued?.signatureCount == 0)
        }
    }

    @Test("enqueue: tooMany rolls the whole write back, the new proposal included", arguments: Backend.enabled)
    func enqueueTooMany(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            let outcome = try await s.enqueue(F.proposal("p1"), id: "p1", blobs: [[1]], signatures: [F.signature("k1"), F.signature("k2"), F.signature("k3")],
                                              maxSignatures: 2, conflicts: F.never, decidedOn: g)
            #expect(outcome == .done(.refused(index: 2, .tooMany(count: 2))))
            #expect(try await s.pending(id: "p1") == nil)
            #expect(try await s.signatures(pendingID: "p1").isEmpty)
            #expect(try await s.blob(SHA256.hexDigest([1])) == nil)
            #expect(try await s.allPending().isEmpty)

            _ = try await s.enqueue(F.proposal("p1"), id: "p1", blobs: [], signatures: [F.signature("k1"), F.signature("k2")], maxSignatures: 2,
                                    conflicts: F.never, decidedOn: g)
            // Full: a known key is still alreadyThere, a new one is refused.
            #expect(try await s.enqueue(nil, id: "p1", blobs: [], signatures: [F.signature("k2")], maxSignatures: 2, conflicts: F.never, decidedOn: g)
                    == .done(.queued(isNew: false, signatures: [.alreadyThere],
                                     pending: StoredPending(F.proposal("p1"), status: .pending, signatureCount: 2, rejectionCount: 0))))
            #expect(try await s.enqueue(nil, id: "p1", blobs: [], signatures: [F.signature("k3")], maxSignatures: 2, conflicts: F.never, decidedOn: g)
                    == .done(.refused(index: 0, .tooMany(count: 2))))
            #expect(try await s.signatures(pendingID: "p1").count == 2)
        }
    }

    @Test("enqueue: the double-sign rule sees the key's other proposals for the same entry, whatever their status, with payload and rejections, in id order, and rolls everything back",
          arguments: Backend.enabled)
    func enqueueDoubleSign(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            // k1 signed b-prop and a-prop (entry 1), c-prop for entry 2, and d-prop (entry 1, expired).
            for (id, sequence) in [("b-prop", UInt64(1)), ("a-prop", 1), ("c-prop", 2), ("d-prop", 1)] {
                _ = try await s.enqueue(F.proposal(id, sequence: sequence, expires: "exp-\(id)"), id: id, blobs: [], signatures: [F.signature("k1")],
                                        maxSignatures: 5, conflicts: F.never, decidedOn: g)
            }
            _ = try await s.setStatus([(id: "d-prop", status: .expired)], decidedOn: g)

            let seen = Seen()
            let rule: SlotConflictRule = { other in
                seen.add(other.pendingID)
                return other.pendingID == "b-prop"
            }
            let outcome = try await s.enqueue(F.proposal("new"), id: "new", blobs: [[1]], signatures: [F.signature("k2"), F.signature("k1")],
                                              maxSignatures: 5, conflicts: rule, decidedOn: g)
            #expect(outcome == .done(.refused(index: 1, .doubleSign(SlotSignature(pendingID: "b-prop", expires: "exp-b-prop", proposer: "proposer-b-prop", signerKey: "k1",
                                                                                   payload: Array("payload-b-prop".utf8), payloadType: "application/vnd.alvh.proposal+json")))))
            #expect(seen.ids == ["a-prop", "b-prop"], "proposals for the same entry only, in id order")
            // The status column is not the rule's to trust: d-prop, marked expired, is shown to it too,
            // with its signed rejections.
            _ = try await s.addRejection(pendingID: "d-prop", envelope: [9, 9], signerKey: "k4", addedAt: "t", veto: false, decidedOn: g)
            let all = Seen()
            let shown = ShownRejections()
            _ = try await s.enqueue(F.proposal("probe"), id: "probe", blobs: [], signatures: [F.signature("k1")], maxSignatures: 5,
                                    conflicts: { all.add($0.pendingID); shown.set($0.pendingID, $0.rejections); return true }, decidedOn: g)
            #expect(all.ids == ["a-prop"], "the first one blocks")
            _ = try await s.enqueue(F.proposal("probe"), id: "probe", blobs: [], signatures: [F.signature("k1")], maxSignatures: 5,
                                    conflicts: { all.add($0.pendingID); shown.set($0.pendingID, $0.rejections); return false }, decidedOn: g)
            #expect(all.ids == ["a-prop", "a-prop", "b-prop", "d-prop"], "expired d-prop included, c-prop (entry 2) not")
            #expect(shown.value["d-prop"] == [[9, 9]] && shown.value["a-prop"] == [])
            #expect(try await s.pending(id: "new") == nil, "the proposal's insertion is rolled back")
            #expect(try await s.signatures(pendingID: "new").isEmpty, "k2's signature too")
            #expect(try await s.blob(SHA256.hexDigest([1])) == nil)

            // A rule that lets it through: stored.
            let allowed = try await s.enqueue(F.proposal("new2"), id: "new2", blobs: [], signatures: [F.signature("k2"), F.signature("k1")],
                                              maxSignatures: 5, conflicts: F.never, decidedOn: g)
            #expect(allowed.value?.queued?.signatureCount == 2)
            // The first blocking one in id order is reported.
            let blocked = try await s.enqueue(F.proposal("z-prop"), id: "z-prop", blobs: [], signatures: [F.signature("k1")],
                                              maxSignatures: 5, conflicts: F.always, decidedOn: g)
            #expect(blocked == .done(.refused(index: 0, .doubleSign(SlotSignature(pendingID: "a-prop", expires: "exp-a-prop", proposer: "proposer-a-prop", signerKey: "k1",
                                                                                   payload: Array("payload-a-prop".utf8), payloadType: "application/vnd.alvh.proposal+json")))))
        }
    }

    // MARK: Rejections

    @Test("rejections: one per key, veto marks a pending proposal, notQueued, slot rejections", arguments: Backend.enabled)
    func rejectionsAndVeto(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            for (id, sequence) in [("p1", UInt64(1)), ("p2", 1), ("p3", 2)] {
                _ = try await s.enqueue(F.proposal(id, sequence: sequence), id: id, blobs: [], signatures: [], maxSignatures: 5, conflicts: F.never, decidedOn: g)
            }
            #expect(try await s.addRejection(pendingID: "p1", envelope: [1], signerKey: "k1", addedAt: "t1", veto: false, decidedOn: g) == .done(.added(vetoed: false)))
            #expect(try await s.addRejection(pendingID: "p1", envelope: [1, 1], signerKey: "k1", addedAt: "t2", veto: true, decidedOn: g) == .done(.alreadyThere))
            #expect(try await s.pending(id: "p1")?.status == .pending)
            #expect(try await s.addRejection(pendingID: "p2", envelope: [2], signerKey: "k1", addedAt: "t3", veto: false, decidedOn: g) == .done(.added(vetoed: false)))
            #expect(try await s.addRejection(pendingID: "p1", envelope: [3], signerKey: "k2", addedAt: "t4", veto: true, decidedOn: g) == .done(.added(vetoed: true)))
            #expect(try await s.pending(id: "p1")?.status == .vetoed)
            #expect(try await s.pending(id: "p1")?.rejectionCount == 2)
            // A veto on a proposal no longer pending is stored but marks nothing.
            #expect(try await s.addRejection(pendingID: "p1", envelope: [4], signerKey: "k3", addedAt: "t5", veto: true, decidedOn: g) == .done(.added(vetoed: false)))
            #expect(try await s.pending(id: "p1")?.status == .vetoed)
            #expect(try await s.addRejection(pendingID: "p3", envelope: [5], signerKey: "k1", addedAt: "t6", veto: false, decidedOn: g) == .done(.added(vetoed: false)))
            #expect(try await s.addRejection(pendingID: "nope", envelope: [6], signerKey: "k1", addedAt: "t7", veto: true, decidedOn: g) == .done(.notQueued))

            #expect(try await s.rejections(pendingID: "p1") == [[1], [3], [4]])
            #expect(try await s.rejections(pendingID: "nope").isEmpty)
            #expect(try await s.slotRejections(sequence: 1) == [[1], [2], [3], [4]])
            #expect(try await s.slotRejections(sequence: 2) == [[5]])
            #expect(try await s.slotRejections(sequence: 3).isEmpty)
            // A vetoed proposal takes no more signatures.
            #expect(try await s.enqueue(nil, id: "p1", blobs: [], signatures: [F.signature("k5")], maxSignatures: 5, conflicts: F.never, decidedOn: g)
                    == .done(.notOpen(.vetoed)))
        }
    }

    // MARK: Status

    @Test("setStatus moves only pending proposals", arguments: Backend.enabled)
    func setStatusOnlyFromPending(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            for id in ["p1", "p2"] {
                _ = try await s.enqueue(F.proposal(id), id: id, blobs: [], signatures: [], maxSignatures: 5, conflicts: F.never, decidedOn: g)
            }
            let outcome = try await s.setStatus([(id: "p1", status: .stale), (id: "p1", status: .expired), (id: "nope", status: .expired),
                                                 (id: "p2", status: .vetoed)], decidedOn: g)
            #expect(outcome == .done([.marked(id: "p1", to: .stale), .unchanged(id: "p1", status: .stale), .unchanged(id: "nope", status: nil),
                                      .marked(id: "p2", to: .vetoed)]))
            #expect(try await s.pending(id: "p1")?.status == .stale)
            #expect(try await s.pending(id: "p2")?.status == .vetoed)
            #expect(try await s.setStatus([], decidedOn: g) == .done([]))
        }
    }

    // MARK: Reading

    @Test("blobs: stored once under their hash, paged in hash order", arguments: Backend.enabled)
    func blobsPaging(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s) // stores "snapshot-0"
            let payloads: [[UInt8]] = (0..<7).map { Array("blob-\($0)".utf8) }
            _ = try await s.append([F.entry(after: g)], book: [], blobs: payloads + payloads, removing: nil, decidedOn: g)
            let all = (payloads + [Array("snapshot-0".utf8)]).map { (SHA256.hexDigest($0), $0) }.sorted { $0.0 < $1.0 }
            var pages: [[String]] = []
            var after: String?
            while true {
                let page = try await s.blobs(after: after, limit: 3)
                if page.isEmpty { break }
                pages.append(page.map(\.hash))
                for item in page { #expect(SHA256.hexDigest(item.bytes) == item.hash) }
                after = page.last?.hash
            }
            #expect(pages.map(\.count) == [3, 3, 2])
            #expect(pages.flatMap { $0 } == all.map(\.0))
            #expect(try await s.blobs(after: nil, limit: 0).isEmpty)
            #expect(try await s.blobs(after: all.last!.0, limit: 5).isEmpty)
            #expect(try await s.blob(all[3].0) == all[3].1)
            #expect(try await s.blob(String(repeating: "f", count: 64)) == nil)
        }
    }

    @Test("lastPolicyEntry: the last genesis or policy change below a sequence, or at the head", arguments: Backend.enabled)
    func lastPolicyEntry(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            #expect(try await s.lastPolicyEntry(before: nil)?.sequence == 0)
            let e1 = F.entry(after: g)
            let e2 = F.entry(after: e1.ref, kind: "policy-change")
            let e3 = F.entry(after: e2.ref)
            let e4 = F.entry(after: e3.ref)
            _ = try await s.append([e1, e2, e3, e4], book: [], blobs: [], removing: nil, decidedOn: g)
            #expect(try await s.lastPolicyEntry(before: nil) == e2)
            #expect(try await s.lastPolicyEntry(before: 4)?.sequence == 2)
            #expect(try await s.lastPolicyEntry(before: 3)?.sequence == 2)
            #expect(try await s.lastPolicyEntry(before: 2)?.sequence == 0)
            #expect(try await s.lastPolicyEntry(before: 1)?.sequence == 0)
            #expect(try await s.lastPolicyEntry(before: 0) == nil)
            #expect(try await s.lastPolicyEntry(before: UInt64.max)?.sequence == 2)
        }
    }

    @Test("entries: in order from a sequence, at most a limit", arguments: Backend.enabled)
    func entriesPaging(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            let head = try await F.appendLayers(s, on: g, count: 9)
            #expect(head.sequence == 9)
            #expect(try await s.entries(from: 0, limit: 4).map(\.sequence) == [0, 1, 2, 3])
            #expect(try await s.entries(from: 4, limit: 4).map(\.sequence) == [4, 5, 6, 7])
            #expect(try await s.entries(from: 8, limit: 4).map(\.sequence) == [8, 9])
            #expect(try await s.entries(from: 10, limit: 4).isEmpty)
            #expect(try await s.entries(from: 3, limit: 0).isEmpty)
            #expect(try await s.entries(from: UInt64.max, limit: 3).isEmpty)
            let all = try await s.entries(from: 0, limit: 100)
            for (previous, next) in zip(all, all.dropFirst()) { #expect(next.previousHash == previous.hash) }
            #expect(try await s.head()?.ref == head)
        }
    }

    @Test("pendingIDs: the ids starting with a prefix, sorted, at most a limit", arguments: Backend.enabled)
    func pendingIDsPrefix(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            for id in ["ab34", "ab12", "ac00", "b000", "a", "abff"] {
                _ = try await s.enqueue(F.proposal(id), id: id, blobs: [], signatures: [], maxSignatures: 5, conflicts: F.never, decidedOn: g)
            }
            #expect(try await s.pendingIDs(prefix: "ab", limit: 10) == ["ab12", "ab34", "abff"])
            #expect(try await s.pendingIDs(prefix: "ab", limit: 2) == ["ab12", "ab34"])
            #expect(try await s.pendingIDs(prefix: "a", limit: 10) == ["a", "ab12", "ab34", "abff", "ac00"])
            #expect(try await s.pendingIDs(prefix: "", limit: 10) == ["a", "ab12", "ab34", "abff", "ac00", "b000"])
            #expect(try await s.pendingIDs(prefix: "abf", limit: 10) == ["abff"])
            #expect(try await s.pendingIDs(prefix: "zz", limit: 10).isEmpty)
            #expect(try await s.pendingIDs(prefix: "a%", limit: 10).isEmpty)
            #expect(try await s.pendingIDs(prefix: "a", limit: 0).isEmpty)
        }
    }

    @Test("allPending: oldest first by queue time, then id, with counts", arguments: Backend.enabled)
    func allPendingOrder(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            for (id, queued) in [("p3", "2026-01-01T00:00:02Z"), ("p1", "2026-01-01T00:00:05Z"), ("p2", "2026-01-01T00:00:02Z"), ("p0", "2026-01-01T00:00:09Z")] {
                _ = try await s.enqueue(F.proposal(id, queuedAt: queued), id: id, blobs: [], signatures: [F.signature("k-\(id)")], maxSignatures: 5,
                                        conflicts: F.never, decidedOn: g)
            }
            _ = try await s.addRejection(pendingID: "p1", envelope: [1], signerKey: "k", addedAt: "t", veto: false, decidedOn: g)
            let all = try await s.allPending()
            #expect(all.map(\.id) == ["p2", "p3", "p1", "p0"])
            #expect(all.map(\.signatureCount) == [1, 1, 1, 1])
            #expect(all.map(\.rejectionCount) == [0, 0, 1, 0])
            #expect(all[0] == StoredPending(F.proposal("p2", queuedAt: "2026-01-01T00:00:02Z"), status: .pending, signatureCount: 1, rejectionCount: 0))
        }
    }

    @Test("openPending: only open proposals, by entry, then queue time, then id", arguments: Backend.enabled)
    func openPendingOrder(_ backend: Backend) async throws {
        try await backend.with { s async throws in
            let g = try await F.create(s)
            let rows: [(String, UInt64, String)] = [("q4", 2, "2026-01-01T00:00:01Z"), ("q3", 1, "2026-01-01T00:00:07Z"), ("q2", 1, "2026-01-01T00:00:03Z"),
                                                    ("q1", 1, "2026-01-01T00:00:03Z"), ("q0", 1, "2026-01-01T00:00:01Z"), ("q5", 1, "2026-01-01T00:00:02Z")]
            for (id, sequence, queued) in rows {
                _ = try await s.enqueue(F.proposal(id, sequence: sequence, queuedAt: queued), id: id, blobs: [], signatures: [], maxSignatures: 5,
                                        conflicts: F.never, decidedOn: g)
            }
            _ = try await s.setStatus([("q0", .expired), ("q5", .stale)], decidedOn: g)
            _ = try await s.addRejection(pendingID: "q3", envelope: [3], signerKey: "veto-key", addedAt: "t", veto: true, decidedOn: g)
            let open = try await s.openPending()
            #expect(open.map(\.id) == ["q1", "q2", "q4"])
            #expect(open.allSatisfy { $0.status == .pending })
            #expect(try await s.allPending().count == 6, "the finished ones stay in the queue")
        }
    }
}

/// What a conflict rule was shown (the rule runs inside the storage's transaction).
final class ShownRejections: @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: [[UInt8]]] = [:]
    func set(_ id: String, _ rejections: [[UInt8]]) { lock.lock(); map[id] = rejections; lock.unlock() }
    var value: [String: [[UInt8]]] { lock.lock(); defer { lock.unlock() }; return map }
}

final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ id: String) { lock.lock(); list.append(id); lock.unlock() }
    var ids: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
