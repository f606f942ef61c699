import Foundation
import Testing
import ALVHTestSupport
import ALVHSigning
import ALVHApproval
import ALVHStorage
@_spi(Testing) import ALVHStorageSQLite
@_spi(Testing) import ALVHStoragePostgres
@testable import ALVHLedger

/// The double-sign rule decides on signed facts: the other proposal's expiry as its signed payload
/// says, a veto as the signed rejections show — never a status or an expiry column a keyless
/// database writer can change (issue 25, point 6).
@Suite("The slot rule on verified facts", .serialized)
struct SlotRuleTests {
    static func raw(_ ledger: Ledger, _ sql: String) async throws {
        if let sqlite = ledger.storage as? SQLiteLedgerStorage { try await sqlite.rawExecute(sql) }
        else if let postgres = ledger.storage as? PostgresLedgerStorage { try await postgres.rawExecute(sql) }
        else { Issue.record("no raw access to \(type(of: ledger.storage))") }
    }

    @Test("a writer who marks a signed proposal expired, or moves its expiry, does not free the key's slot", arguments: Backend.allCases)
    func statusFlip(_ backend: Backend) async throws {
        try await backend.withFixture { f in
            let ledger = try await f.ledger()
            let a = try await ledger.enqueue(try f.envelope(try await f.layerProposal(layer: "short-term", expiresIn: 600), signedBy: ["tom", "limits"]), at: f.start).pending.id
            let b = try await ledger.enqueue(try f.envelope(try await f.layerProposal(layer: "event"), signedBy: ["tom"]), at: f.start).pending.id
            for flip in ["UPDATE pending SET status = 'expired' WHERE id = '\(a)'",
                         "UPDATE pending SET status = 'pending', expires = '2026-01-01T00:00:00Z' WHERE id = '\(a)'",
                         "UPDATE pending SET status = 'vetoed', expires = '2026-11-25T14:00:00Z' WHERE id = '\(a)'"] {
                try await Self.raw(ledger, flip)
                await #expect(".. \(flip)") { _ = try await ledger.sign(id: b, with: f.key("limits"), at: f.start.addingTimeInterval(5)) } throws: {
                    ($0 as? LedgerError)?.code == .duplicate && ($0 as? LedgerError)?.reason.contains("double-sign refused") == true
                }
            }
            // Once the signed expiry has passed, the key may sign the other (as before).
            await #expect(throws: Never.self) { try await ledger.sign(id: b, with: f.key("limits"), at: f.start.addingTimeInterval(700)) }
            try await ledger.close()
        }
    }

    @Test("a proposal vetoed by a signed rejection frees its signers' slot", arguments: Backend.allCases)
    func vetoFrees(_ backend: Backend) async throws {
        try await backend.withFixture { f in
            let ledger = try await f.ledger()
            let a = try await ledger.enqueue(try f.envelope(try await f.layerProposal(layer: "short-term", expiresIn: 600), signedBy: ["tom", "alice"]), at: f.start).pending.id
            let b = try await ledger.enqueue(try f.envelope(try await f.layerProposal(layer: "event"), signedBy: ["tom"]), at: f.start).pending.id
            // Alice cannot sign b while a is live and not vetoed.
            await #expect(throws: LedgerError.self) { try await ledger.sign(id: b, with: f.key("alice"), at: f.start) }
            // The limits bot vetoes a, with a signed rejection: alice may sign b.
            let veto = try RejectionDocument.signedEnvelope(rejecting: a, reason: "over the limit", key: f.key("limits"), at: f.start)
            _ = try await ledger.addRejection(veto, to: a, at: f.start)
            await #expect(throws: Never.self) { try await ledger.sign(id: b, with: f.key("alice"), at: f.start) }
            try await ledger.close()
        }
    }

    @Test("commit of a proposal marked vetoed whose veto rows were deleted says so, not 'the head kept moving'", arguments: Backend.allCases)
    func vetoRowsDeleted(_ backend: Backend) async throws {
        try await backend.withFixture { f in
            let ledger = try await f.ledger()
            let id = try await ledger.enqueue(try f.envelope(try await f.layerProposal(), signedBy: ["tom", "alice", "carol"]), at: f.start).pending.id
            let veto = try RejectionDocument.signedEnvelope(rejecting: id, reason: "over limit", key: f.key("limits"), at: f.start)
            _ = try await ledger.addRejection(veto, to: id, at: f.start)
            try await Self.raw(ledger, "DELETE FROM rejections")
            await #expect { _ = try await ledger.commit(id: id, at: f.start) } throws: {
                guard let error = $0 as? LedgerError else { return false }
                return error.code == .notApproved && error.reason.contains("marked vetoed in the queue, but no signed veto of it is stored")
            }
            #expect(try await ledger.head().sequence == 0)
            try await ledger.close()
        }
    }
}
