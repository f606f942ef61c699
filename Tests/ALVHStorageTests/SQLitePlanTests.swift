import Foundation
import Testing
import ALVHStorage
@_spi(Testing) import ALVHStorageSQLite

/// The SQLite counterpart of ``PostgresPlanTests``: every statement of the SQLite backend
/// (``SQLiteLedgerStorage/allStatements``, the very text it runs) searches by an index and sorts
/// nothing, but the two named below. A table scan grows with the ledger; a temporary B-tree costs tens of microseconds per commit.
@Suite("SQLite query plans")
struct SQLitePlanTests {
    @Test("every hot statement is among those checked")
    func hotAreChecked() {
        #expect(Set(SQLiteLedgerStorage.hotStatements).isSubset(of: Set(SQLiteLedgerStorage.allStatements)))
    }

    @Test("statements search by index; none scans a table or sorts", arguments: SQLiteLedgerStorage.allStatements)
    func usesIndexes(sql: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("alvh-plan-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = try SQLiteLedgerStorage.open(path: directory.appendingPathComponent(SQLiteLedgerStorage.fileName).path, create: true)
        let plan = try await storage.queryPlan(sql)
        try await storage.close()
        // An INSERT of one row of values has no plan to show (nothing is searched).
        if !sql.hasPrefix("INSERT") { #expect(!plan.isEmpty, "\(sql)") }
        // Two known exceptions, each bounded by what it reads: the rejections of one entry are put
        // in arrival order across its few proposals (a sort of those rows only), and `alvh pending`
        // lists the whole queue by design, in order, through its covering index.
        let sortsOneEntry = sql.contains("FROM rejections r JOIN pending p") && sql.contains("ORDER BY r.rowid")
        let listsTheQueue = sql == "SELECT id FROM pending ORDER BY queued_at, id"
        // The open queue is read through the partial index of open proposals, whole by design.
        let readsOpenQueue = sql.contains("WHERE status = 'pending' ORDER BY sequence")
        for step in plan {
            if !sortsOneEntry { #expect(!step.contains("TEMP B-TREE"), "\(sql): \(plan)") }
            // The only walks allowed are the one that stops at its LIMIT, the open queue's walk of
            // its partial index, and SQLite's one-row "SCAN CONSTANT ROW" of a scalar subquery.
            if step.hasPrefix("SCAN "), step != "SCAN CONSTANT ROW" {
                #expect(sql.contains("ORDER BY seq DESC LIMIT 1") || (readsOpenQueue && step.contains("INDEX pending_open"))
                        || (listsTheQueue && step.contains("COVERING INDEX pending_queue_order")),
                        "\(sql): \(plan)")
            }
        }
    }
}
