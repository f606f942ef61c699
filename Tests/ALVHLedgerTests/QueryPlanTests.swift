import Foundation
import Testing
@_spi(Testing) import ALVHStorageSQLite
@testable import ALVHLedger

/// The statements every enqueue, commit and verification runs (``SQLiteLedgerStorage/hotStatements``)
/// use an index and sort nothing: a plan that scans a table or sorts in a temporary B-tree grows with
/// the ledger (or costs tens of microseconds per commit), which a timed test would only catch on a quiet machine.
@Suite("Query plans")
struct QueryPlanTests {
    @Test("hot statements search by index; none scans a table or sorts", arguments: SQLiteLedgerStorage.hotStatements)
    func usesIndexes(sql: String) async throws {
        let fixture = try await LedgerFixture()
        let ledger = try await Ledger.open(workspace: fixture.root)
        let storage = try #require(ledger.storage as? SQLiteLedgerStorage)
        let plan = try await storage.queryPlan(sql)
        #expect(!plan.isEmpty)
        for step in plan {
            #expect(!step.contains("TEMP B-TREE"), "\(sql): \(plan)")
            // The only walk allowed is the rowid one that stops at its LIMIT (and SQLite's one-row
            // "SCAN CONSTANT ROW" of a scalar subquery).
            if step.hasPrefix("SCAN "), step != "SCAN CONSTANT ROW" { #expect(sql.contains("ORDER BY seq DESC LIMIT 1"), "\(sql): \(plan)") }
        }
    }
}
