import Foundation
import Testing
import GRDB
@testable import ALVHLedger

/// The statements every enqueue, commit and verification runs (``LedgerSQL/hot``) use an index and sort nothing:
/// a plan that scans a table or sorts in a temporary B-tree grows with the ledger (or costs tens
/// of microseconds per commit), which a timed test would only catch on a quiet machine.
@Suite("Query plans")
struct QueryPlanTests {
    @Test("hot statements search by index; none scans a table or sorts", arguments: LedgerSQL.hot)
    func usesIndexes(sql: String) throws {
        let fixture = try LedgerFixture()
        let ledger = try Ledger.open(workspace: fixture.root)
        let plan = try ledger.store.queue.read { db in
            let parameters = sql.filter { $0 == "?" }.count
            return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql,
                                    arguments: StatementArguments(Array(repeating: DatabaseValue.null, count: parameters)))
                .map { $0["detail"] as String }
        }
        #expect(!plan.isEmpty)
        for step in plan {
            #expect(!step.contains("TEMP B-TREE"), "\(sql): \(plan)")
            // The only walk allowed is the rowid one that stops at its LIMIT (and SQLite's one-row
            // "SCAN CONSTANT ROW" of a scalar subquery).
            if step.hasPrefix("SCAN "), step != "SCAN CONSTANT ROW" { #expect(sql.contains("ORDER BY seq DESC LIMIT 1"), "\(sql): \(plan)") }
        }
    }
}
