import PostgresNIO

/// A statement of ``PostgresSQL`` to run prepared: its text and the name it is prepared under on
/// each pooled connection (one name per statement, "alvh_" and its name in PostgresSQL).
protocol PreparedSQL { static var sql: String { get }; static var name: String { get } }

/// One execution of a prepared statement: its bindings; rows come back as they are.
struct PreparedStatement<S: PreparedSQL>: PostgresPreparedStatement {
    static var sql: String { S.sql }
    static var name: String { S.name }
    typealias Row = PostgresRow
    let binds: [PostgresLedgerStorage.Bind]
    func makeBindings() throws -> PostgresBindings { PostgresLedgerStorage.bindings(binds) }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// Every statement the storage runs prepared (the migrations and raw test SQL run as simple queries).
enum Prepared {
    enum AllPending: PreparedSQL { static let sql = PostgresSQL.allPending; static let name = "alvh_allPending" }
    enum AnyEntry: PreparedSQL { static let sql = PostgresSQL.anyEntry; static let name = "alvh_anyEntry" }
    enum Blob: PreparedSQL { static let sql = PostgresSQL.blob; static let name = "alvh_blob" }
    enum BlobsAfter: PreparedSQL { static let sql = PostgresSQL.blobsAfter; static let name = "alvh_blobsAfter" }
    enum BlobsFirst: PreparedSQL { static let sql = PostgresSQL.blobsFirst; static let name = "alvh_blobsFirst" }
    enum Book: PreparedSQL { static let sql = PostgresSQL.book; static let name = "alvh_book" }
    enum DeletePending: PreparedSQL { static let sql = PostgresSQL.deletePending; static let name = "alvh_deletePending" }
    enum EntriesFrom: PreparedSQL { static let sql = PostgresSQL.entriesFrom; static let name = "alvh_entriesFrom" }
    enum EntryAt: PreparedSQL { static let sql = PostgresSQL.entryAt; static let name = "alvh_entryAt" }
    enum HeadEntry: PreparedSQL { static let sql = PostgresSQL.headEntry; static let name = "alvh_headEntry" }
    enum HeadRef: PreparedSQL { static let sql = PostgresSQL.headRef; static let name = "alvh_headRef" }
    enum InsertBlob: PreparedSQL { static let sql = PostgresSQL.insertBlob; static let name = "alvh_insertBlob" }
    enum InsertEntry: PreparedSQL { static let sql = PostgresSQL.insertEntry; static let name = "alvh_insertEntry" }
    enum InsertHead: PreparedSQL { static let sql = PostgresSQL.insertHead; static let name = "alvh_insertHead" }
    enum InsertPending: PreparedSQL { static let sql = PostgresSQL.insertPending; static let name = "alvh_insertPending" }
    enum InsertRejection: PreparedSQL { static let sql = PostgresSQL.insertRejection; static let name = "alvh_insertRejection" }
    enum InsertSignature: PreparedSQL { static let sql = PostgresSQL.insertSignature; static let name = "alvh_insertSignature" }
    enum LockHead: PreparedSQL { static let sql = PostgresSQL.lockHead; static let name = "alvh_lockHead" }
    enum LockSlot: PreparedSQL { static let sql = PostgresSQL.lockSlot; static let name = "alvh_lockSlot" }
    enum Meta: PreparedSQL { static let sql = PostgresSQL.meta; static let name = "alvh_meta" }
    enum OpenPending: PreparedSQL { static let sql = PostgresSQL.openPending; static let name = "alvh_openPending" }
    enum OtherSignaturesForSlot: PreparedSQL { static let sql = PostgresSQL.otherSignaturesForSlot; static let name = "alvh_otherSignaturesForSlot" }
    enum PendingByID: PreparedSQL { static let sql = PostgresSQL.pendingByID; static let name = "alvh_pendingByID" }
    enum PendingIDsAll: PreparedSQL { static let sql = PostgresSQL.pendingIDsAll; static let name = "alvh_pendingIDsAll" }
    enum PendingIDsPrefix: PreparedSQL { static let sql = PostgresSQL.pendingIDsPrefix; static let name = "alvh_pendingIDsPrefix" }
    enum PendingStatusForUpdate: PreparedSQL { static let sql = PostgresSQL.pendingStatusForUpdate; static let name = "alvh_pendingStatusForUpdate" }
    enum PolicyEntryBefore: PreparedSQL { static let sql = PostgresSQL.policyEntryBefore; static let name = "alvh_policyEntryBefore" }
    enum PolicyEntryLast: PreparedSQL { static let sql = PostgresSQL.policyEntryLast; static let name = "alvh_policyEntryLast" }
    enum RejectionByKey: PreparedSQL { static let sql = PostgresSQL.rejectionByKey; static let name = "alvh_rejectionByKey" }
    enum Rejections: PreparedSQL { static let sql = PostgresSQL.rejections; static let name = "alvh_rejections" }
    enum SetPendingStatus: PreparedSQL { static let sql = PostgresSQL.setPendingStatus; static let name = "alvh_setPendingStatus" }
    enum SignatureByKey: PreparedSQL { static let sql = PostgresSQL.signatureByKey; static let name = "alvh_signatureByKey" }
    enum SignatureCount: PreparedSQL { static let sql = PostgresSQL.signatureCount; static let name = "alvh_signatureCount" }
    enum Signatures: PreparedSQL { static let sql = PostgresSQL.signatures; static let name = "alvh_signatures" }
    enum SlotRejectionCount: PreparedSQL { static let sql = PostgresSQL.slotRejectionCount; static let name = "alvh_slotRejectionCount" }
    enum SlotRejections: PreparedSQL { static let sql = PostgresSQL.slotRejections; static let name = "alvh_slotRejections" }
    enum UpdateHead: PreparedSQL { static let sql = PostgresSQL.updateHead; static let name = "alvh_updateHead" }
    enum UpsertBook: PreparedSQL { static let sql = PostgresSQL.upsertBook; static let name = "alvh_upsertBook" }
    enum UpsertMeta: PreparedSQL { static let sql = PostgresSQL.upsertMeta; static let name = "alvh_upsertMeta" }
}
