import Foundation
import ALVHSigning
import ALVHStorage
import Logging
import PostgresNIO

/// A ledger kept in a PostgreSQL database, shared by many writers on many hosts.
///
/// One database holds one ledger (the database is the ledger's namespace; see ``PostgresSQL``).
/// The connections are a `PostgresClient` pool run by a task this object owns (cancelled by
/// ``close()``). Every wait is bounded: the connect, the wait for a pooled connection and each
/// operation end within the timeout (`ALVH_PG_TIMEOUT_S`, 30 s by default) with
/// ``StorageError/Code/database`` "server unreachable …; retry", and the connection of an
/// abandoned operation is closed, so that the server rolls its transaction back.
///
/// ## Concurrency: one row lock on the head, not SERIALIZABLE
/// Every writing transaction (READ COMMITTED) first locks the single row of `ledger_head`
/// (`SELECT … FOR UPDATE`), then reads the real head from `entries` (the last `seq`, by the
/// primary key) and compares it with the head the write was decided on; a different head rolls
/// back and answers ``WriteOutcome/headMoved(current:)``. Why a lock and not SERIALIZABLE: every
/// write (a signature, a rejection, a status, a commit) is decided on the head *and* on the queue
/// (the double-sign rule reads other proposals' signatures, a commit removes a proposal), so the
/// writers of one ledger conflict with each other almost always. One lock serializes exactly
/// those writers, in arrival order, with no serialization failures to retry and no predicate
/// locks; readers never wait (MVCC), and READ COMMITTED lets the statement after the lock see what
/// the previous holder committed. The unique `seq` and `prev_hash` constraints are the last
/// defence (a unique violation on a write also answers `.headMoved`), and triggers keep `entries`
/// and `blobs` append-only whatever a client does.
///
/// A commit (``append(_:book:blobs:removing:decidedOn:)`` with a ``PendingRemoval``) checks the
/// queue state it was decided on under the same lock: the proposal's row (`FOR UPDATE`) must
/// still be `pending`, and, with the rows of every proposal for its entry locked (`FOR UPDATE`, so
/// that not even a writer skipping the head lock can add a rejection of them meanwhile), the count
/// of their rejections unchanged; otherwise ``WriteOutcome/queueChanged``, nothing written.
///
/// ## Roles
/// The owner (who runs ``open(_:create:)`` with `create: true`, i.e. `alvh init` / `alvh ledger
/// setup`) creates the schema; day-to-day processes should connect as an application role made by
/// ``grantApplicationRole(_:password:)`` (see ``setupSQL(appRole:password:)``).
///
/// ## TLS
/// `sslmode=disable`: plain TCP. `prefer` (the default): TLS when the server offers it, without
/// verifying its certificate, as libpq's `prefer` does (encryption against eavesdropping, not
/// proof of the server's identity). `require`: TLS, the certificate verified against the system's
/// roots and the host name.
public final class PostgresLedgerStorage: LedgerStorage, Sendable {
    public let location: String
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger
    private let timeout: Duration
    private let state = Locked(false) // closed

    private init(location: String, client: PostgresClient, logger: Logger, timeout: Duration) {
        self.location = location
        self.client = client
        self.logger = logger
        self.timeout = timeout
        self.runTask = Task { await client.run() }
    }

    deinit { runTask.cancel() }

    /// The bound on each wait, from `ALVH_PG_TIMEOUT_S` (seconds, 0.1…3600), 30 s by default.
    public static var defaultTimeout: Duration {
        if let text = ProcessInfo.processInfo.environment["ALVH_PG_TIMEOUT_S"], let value = Double(text), value >= 0.1, value <= 3600 {
            return .milliseconds(Int64(value * 1000))
        }
        return .seconds(30)
    }

    /// Opens the ledger in `location`'s database. With `create`, runs the schema's migrations
    /// first (idempotent: a database at the current version is left as it is). Without it, a
    /// database without the schema is ``StorageError/Code/noLedger``, and one at an older version
    /// is ``StorageError/Code/schema`` (to be upgraded by the owner). A database at a newer version
    /// than this alvh knows is always ``StorageError/Code/schema``.
    public static func open(_ location: LedgerLocation.PostgresLocation, create: Bool) async throws -> PostgresLedgerStorage {
        try await open(location, create: create, timeout: defaultTimeout)
    }

    /// ``open(_:create:)`` with an explicit bound on each wait and a logger for the pool's
    /// background events (connection failures, retries); nothing is logged by default.
    public static func open(_ location: LedgerLocation.PostgresLocation, create: Bool, timeout: Duration,
                            logger: Logger? = nil) async throws -> PostgresLedgerStorage {
        let logger = logger ?? Logger(label: "alvh.storage.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let redacted = location.redacted
        let tls = try tlsConfiguration(location)
        // A first, direct connection: its errors (authentication, no such database, refused) are
        // the server's own words, where a pool would only retry in the background.
        try await withDirectConnection(location, tls: tls, timeout: timeout, logger: logger, while: create ? "setting up the schema" : "connecting") { connection in
            if create {
                try await migrate(connection, logger: logger, location: redacted)
            } else {
                try await checkSchema(connection, logger: logger, location: redacted)
            }
        }
        var config = PostgresClient.Configuration(host: location.host, port: location.port, username: location.user,
                                                  password: location.password, database: location.database, tls: tls.client)
        config.options.connectTimeout = min(timeout, .seconds(10))
        config.options.minimumConnections = 0
        config.options.maximumConnections = 8
        config.options.connectionIdleTimeout = .seconds(60)
        config.options.additionalStartupParameters = startupParameters(timeout)
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        return PostgresLedgerStorage(location: redacted, client: client, logger: logger, timeout: timeout)
    }

    /// The server-side bounds, as libpq's PGOPTIONS would set them: a statement or a lock wait
    /// longer than the client's bound is cancelled by the server too, and a session idle inside a
    /// transaction (a client that hung holding the head lock) is ended, releasing the lock.
    static func startupParameters(_ timeout: Duration) -> [(String, String)] {
        let ms = max(100, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        return [("options", "-c statement_timeout=\(ms) -c lock_timeout=\(ms) -c idle_in_transaction_session_timeout=\(ms * 2)")]
    }

    struct TLSSetting {
        var client: PostgresClient.Configuration.TLS
        var connection: PostgresConnection.Configuration.TLS
    }

    static func tlsConfiguration(_ location: LedgerLocation.PostgresLocation) throws -> TLSSetting {
        switch location.tls {
        case .disable:
            return TLSSetting(client: .disable, connection: .disable)
        case .prefer:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none // libpq's prefer: encryption, not identity (use require)
            do {
                return TLSSetting(client: .prefer(tls), connection: .prefer(try NIOSSLContext(configuration: tls)))
            } catch {
                throw StorageError(.badLocation, "cannot set up TLS: \(error)", path: location.redacted)
            }
        case .require:
            let tls = TLSConfiguration.makeClientConfiguration() // full verification against the system's roots
            do {
                return TLSSetting(client: .require(tls), connection: .require(try NIOSSLContext(configuration: tls)))
            } catch {
                throw StorageError(.badLocation, "cannot set up TLS: \(error)", path: location.redacted)
            }
        }
    }

    /// Runs `body` on a connection of its own (not the pool's), closed after, within the bound;
    /// errors mapped to StorageError.
    static func withDirectConnection(_ location: LedgerLocation.PostgresLocation, tls: TLSSetting, timeout: Duration, logger: Logger,
                                     while what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Void) async throws {
        do {
            try await bounded(timeout, location: location.redacted, while: what) { slot in
                let connection = try await connect(location, tls: tls, timeout: timeout, logger: logger)
                guard slot.hold(connection) else {
                    try? await connection.close()
                    throw CancellationError()
                }
                do {
                    try await body(connection)
                } catch {
                    slot.release()
                    try? await connection.close()
                    throw error
                }
                slot.release()
                try? await connection.close()
            }
        } catch {
            throw describe(error, location: location.redacted, while: what)
        }
    }

    static func connect(_ location: LedgerLocation.PostgresLocation, tls: TLSSetting, timeout: Duration, logger: Logger) async throws -> PostgresConnection {
        var config = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                      password: location.password, database: location.database, tls: tls.connection)
        let seconds = min(timeout, .seconds(10)).components
        config.options.connectTimeout = .milliseconds(max(100, seconds.seconds * 1000 + seconds.attoseconds / 1_000_000_000_000_000))
        config.options.additionalStartupParameters = startupParameters(timeout)
        return try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
    }

    // MARK: Schema

    /// Brings the schema to the current version, one migration per transaction, under an advisory
    /// lock (two processes setting up at once apply each migration once).
    static func migrate(_ connection: PostgresConnection, logger: Logger, location: String) async throws {
        let target = PostgresSQL.migrations.count
        while true {
            try await connection.query(PostgresQuery(unsafeSQL: PostgresSQL.begin), logger: logger)
            do {
                try await connection.query(PostgresQuery(unsafeSQL: PostgresSQL.migrationLock), logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: PostgresSQL.createSchemaVersion), logger: logger)
                let version = try await scalarInt(connection, PostgresSQL.schemaVersion, logger: logger)
                if version > target {
                    throw newerSchema(version, location: location)
                }
                if version == target {
                    try await connection.query(PostgresQuery(unsafeSQL: PostgresSQL.commit), logger: logger)
                    return
                }
                for statement in PostgresSQL.migrations[Int(version)] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(query(PostgresSQL.recordVersion, [.int(version + 1)]), logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: PostgresSQL.commit), logger: logger)
            } catch {
                _ = try? await connection.query(PostgresQuery(unsafeSQL: PostgresSQL.rollback), logger: logger)
                throw error
            }
        }
    }

    static func checkSchema(_ connection: PostgresConnection, logger: Logger, location: String) async throws {
        let exists = try await scalarBool(connection, PostgresSQL.schemaVersionExists, logger: logger)
        guard exists else {
            throw StorageError(.noLedger, "no alvh ledger in this database; create it with `alvh init --ledger URL` or `alvh ledger setup --ledger URL`", path: location)
        }
        let version = try await scalarInt(connection, PostgresSQL.schemaVersion, logger: logger)
        let target = Int64(PostgresSQL.migrations.count)
        if version > target { throw newerSchema(version, location: location) }
        if version == 0 {
            throw StorageError(.noLedger, "the ledger's schema was never completed; create it with `alvh init --ledger URL` or `alvh ledger setup --ledger URL`", path: location)
        }
        if version < target {
            throw StorageError(.schema, "the ledger's schema is at version \(version), this alvh needs \(target); upgrade it as the database owner with `alvh ledger setup --ledger URL`", path: location)
        }
    }

    static func newerSchema(_ version: Int64, location: String) -> StorageError {
        StorageError(.schema, "the ledger's schema is at version \(version), newer than this alvh knows (\(PostgresSQL.migrations.count)); use a newer alvh", path: location)
    }

    // MARK: The application role

    /// The statements that make (if missing) and grant the application role `appRole`: the role
    /// day-to-day alvh processes should connect as.
    ///
    /// - It is created `NOLOGIN` when no `password` is given (to be granted to login roles, or
    ///   given a password later by the DBA), else `LOGIN PASSWORD …` (an existing role gets the
    ///   password). The password is in the statement text: run this over TLS or a local socket,
    ///   and mind the server's `log_statement` setting.
    /// - `SELECT, INSERT` only on `entries` and `blobs` (the append-only history: even without the
    ///   triggers the role could not rewrite it), with UPDATE, DELETE and TRUNCATE revoked.
    /// - `SELECT, INSERT, UPDATE, DELETE` on `pending`, `signatures`, `rejections`, `book`, `meta`
    ///   and `ledger_head` (the queue and the materialized state), `SELECT` on `schema_version`.
    /// - `CONNECT` on the database and `USAGE` on schema `public`; no DDL, no ownership: schema
    ///   changes stay with the owner (`alvh ledger setup`).
    ///
    /// Every statement is idempotent: running them again changes nothing.
    public static func setupSQL(appRole: String, password: String? = nil) -> [String] {
        PostgresSQL.applicationRole(appRole, password: password)
    }

    /// Runs ``setupSQL(appRole:password:)`` in one transaction (as the owner of the schema).
    public func grantApplicationRole(_ name: String, password: String? = nil) async throws {
        let statements = Self.setupSQL(appRole: name, password: password)
        try await run("granting the application role") { connection in
            try await self.transaction(connection) { connection in
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                return ((), true)
            }
        }
    }

    // MARK: Reading

    public func meta(_ key: String) async throws -> String? {
        try await run("reading meta") { c in
            try await self.first(c, Prepared.Meta.self, [.text(key)]) { try $0.decode(String.self) }
        }
    }

    public func head() async throws -> StoredEntry? {
        try await run("reading the head") { c in
            try await self.first(c, Prepared.HeadEntry.self, []) { try Self.decodeEntry($0) }
        }
    }

    public func entry(at sequence: UInt64) async throws -> StoredEntry? {
        guard let seq = Int64(exactly: sequence) else { return nil }
        return try await run("reading an entry") { c in
            try await self.first(c, Prepared.EntryAt.self, [.int(seq)]) { try Self.decodeEntry($0) }
        }
    }

    public func entries(from sequence: UInt64, limit: Int) async throws -> [StoredEntry] {
        guard limit > 0, let seq = Int64(exactly: sequence) else { return [] }
        return try await run("reading entries") { c in
            try await self.all(c, Prepared.EntriesFrom.self, [.int(seq), .int(Int64(limit))]) { try Self.decodeEntry($0) }
        }
    }

    public func lastPolicyEntry(before sequence: UInt64?) async throws -> StoredEntry? {
        try await run("reading the policy entry") { c in
            if let sequence, let seq = Int64(exactly: sequence) {
                return try await self.first(c, Prepared.PolicyEntryBefore.self, [.int(seq)]) { try Self.decodeEntry($0) }
            }
            return try await self.first(c, Prepared.PolicyEntryLast.self, []) { try Self.decodeEntry($0) }
        }
    }

    public func blob(_ hash: String) async throws -> [UInt8]? {
        try await run("reading a blob") { c in
            try await self.first(c, Prepared.Blob.self, [.text(hash)]) { Self.bytes(try $0.decode(ByteBuffer.self)) }
        }
    }

    public func blobs(after hash: String?, limit: Int) async throws -> [(hash: String, bytes: [UInt8])] {
        guard limit > 0 else { return [] }
        let rows: [HashedBytes] = try await run("reading blobs") { c in
            let decode: @Sendable (PostgresRow) throws -> HashedBytes = { row in
                let (hash, bytes) = try row.decode((String, ByteBuffer).self)
                return HashedBytes(hash: hash, bytes: Self.bytes(bytes))
            }
            if let hash {
                return try await self.all(c, Prepared.BlobsAfter.self, [.text(hash), .int(Int64(limit))], decode)
            }
            return try await self.all(c, Prepared.BlobsFirst.self, [.int(Int64(limit))], decode)
        }
        return rows.map { ($0.hash, $0.bytes) }
    }

    public func book() async throws -> (sequence: UInt64, json: [UInt8])? {
        let row: BookRow? = try await run("reading the book") { c in
            try await self.first(c, Prepared.Book.self, []) { row in
                let (seq, json) = try row.decode((Int64, ByteBuffer).self)
                return BookRow(sequence: UInt64(seq), json: Self.bytes(json))
            }
        }
        return row.map { ($0.sequence, $0.json) }
    }

    public func pending(id: String) async throws -> StoredPending? {
        try await run("reading a proposal") { c in try await self.pending(c, id: id) }
    }

    public func allPending() async throws -> [StoredPending] {
        try await run("reading the queue") { c in
            try await self.all(c, Prepared.AllPending.self, []) { try Self.decodePending($0) }
        }
    }

    public func openPending() async throws -> [StoredPending] {
        try await run("reading the open proposals") { c in
            try await self.all(c, Prepared.OpenPending.self, []) { try Self.decodePending($0) }
        }
    }

    public func pendingIDs(prefix: String, limit: Int) async throws -> [String] {
        guard limit > 0 else { return [] }
        return try await run("reading proposal ids") { c in
            if prefix.isEmpty {
                return try await self.all(c, Prepared.PendingIDsAll.self, [.int(Int64(limit))]) { try $0.decode(String.self) }
            }
            return try await self.all(c, Prepared.PendingIDsPrefix.self, [.text(prefix), .text(Self.upperBound(prefix)), .int(Int64(limit))]) {
                try $0.decode(String.self)
            }
        }
    }

    /// The least string above every string that starts with `prefix`, in code point (C) order:
    /// the prefix with its last character raised by one.
    static func upperBound(_ prefix: String) -> String {
        var scalars = Array(prefix.unicodeScalars)
        while let last = scalars.popLast() {
            var value = last.value + 1
            if value == 0xD800 { value = 0xE000 } // skip the surrogates
            if let next = Unicode.Scalar(value) {
                scalars.append(next)
                return String(String.UnicodeScalarView(scalars))
            }
        }
        return "\u{10FFFF}\u{10FFFF}"
    }

    public func signatures(pendingID: String) async throws -> [StoredSignature] {
        try await run("reading signatures") { c in
            try await self.all(c, Prepared.Signatures.self, [.text(pendingID)]) { row in
                let (keyid, sig, signer) = try row.decode((String?, ByteBuffer, String).self)
                return StoredSignature(keyid: keyid, sig: Self.bytes(sig), signerKey: signer)
            }
        }
    }

    public func rejections(pendingID: String) async throws -> [[UInt8]] {
        try await run("reading rejections") { c in
            try await self.all(c, Prepared.Rejections.self, [.text(pendingID)]) { Self.bytes(try $0.decode(ByteBuffer.self)) }
        }
    }

    public func slotRejections(sequence: UInt64) async throws -> [[UInt8]] {
        guard let seq = Int64(exactly: sequence) else { return [] }
        return try await run("reading rejections") { c in
            try await self.all(c, Prepared.SlotRejections.self, [.int(seq)]) { Self.bytes(try $0.decode(ByteBuffer.self)) }
        }
    }

    // MARK: Writing

    public func create(genesis: StoredEntry, meta: [String: String], book: [UInt8], blobs: [[UInt8]]) async throws {
        let location = self.location
        try await run("creating the ledger") { c in
            do {
                try await self.transaction(c) { c in
                    if try await Self.scalarBool(c, Prepared.AnyEntry.self, logger: self.logger) {
                        throw StorageError(.alreadyInitialized, "a ledger already exists here; it is never re-initialized", path: location)
                    }
                    guard genesis.sequence == 0, genesis.kind == "genesis" else {
                        throw StorageError(.refused, "the first entry must be a genesis entry at sequence 0", path: location)
                    }
                    try await self.insertEntry(c, genesis)
                    try await self.execute(c, Prepared.InsertHead.self, [.int(0), .text(genesis.hash)])
                    for (key, value) in meta.sorted(by: { $0.key < $1.key }) {
                        try await self.execute(c, Prepared.UpsertMeta.self, [.text(key), .text(value)])
                    }
                    try await self.execute(c, Prepared.UpsertBook.self, [.int(0), .bytes(book)])
                    try await self.storeBlobs(c, blobs)
                    return ((), true)
                }
            } catch let error as PSQLError where error.sqlState == "23505" {
                _ = error
                // Another process created the ledger at the same moment (the seq 0 / head row).
                throw StorageError(.alreadyInitialized, "a ledger already exists here; it is never re-initialized", path: location)
            }
        }
    }

    public func enqueue(_ proposal: NewPending?, id: String, blobs: [[UInt8]], signatures: [NewSignature], maxSignatures: Int,
                        conflicts: @escaping SlotConflictRule, decidedOn head: HeadRef) async throws -> WriteOutcome<EnqueueOutcome> {
        if let proposal, Int64(exactly: proposal.sequence) == nil {
            throw StorageError(.refused, "sequence \(proposal.sequence) is out of range", path: location)
        }
        return try await write("queueing a proposal", decidedOn: head) { c in
            var isNew = false
            if let proposal, try await self.status(c, id: proposal.id) == nil {
                try await self.execute(c, Prepared.InsertPending.self, [
                    .text(proposal.id), .bytes(proposal.payload), .text(proposal.payloadType), .text(proposal.kind),
                    .int(Int64(proposal.sequence)), .text(proposal.base), .text(proposal.created), .text(proposal.expires),
                    .text(proposal.proposer), .text(proposal.queuedAt), proposal.attachments.map { .bytes($0) } ?? .null,
                ])
                isNew = true
            }
            guard let row = try await self.status(c, id: id) else { return (.notQueued, false) }
            guard row.status == .pending else { return (.notOpen(row.status), false) }
            var count = try await Self.scalarInt(c, Prepared.SignatureCount.self, [.text(id)], logger: self.logger)
            var outcomes: [SignatureOutcome] = []
            for (index, signature) in signatures.enumerated() {
                if try await Self.scalarBool(c, Prepared.SignatureByKey.self, [.text(id), .text(signature.signerKey)], logger: self.logger) {
                    outcomes.append(.alreadyThere)
                    continue
                }
                guard count < maxSignatures else { return (.refused(index: index, .tooMany(count: Int(count))), false) }
                var others = try await self.all(c, Prepared.OtherSignaturesForSlot.self, [.text(signature.signerKey), .int(row.sequence), .text(id)]) { r in
                    let (other, expires, proposer, payload, payloadType) = try r.decode((String, String, String, ByteBuffer, String).self)
                    return SlotSignature(pendingID: other, expires: expires, proposer: proposer, signerKey: signature.signerKey,
                                         payload: Self.bytes(payload), payloadType: payloadType)
                }
                for index in others.indices {
                    others[index].rejections = try await self.all(c, Prepared.Rejections.self, [.text(others[index].pendingID)]) {
                        Self.bytes(try $0.decode(ByteBuffer.self))
                    }
                }
                if let blocking = others.first(where: conflicts) {
                    return (.refused(index: index, .doubleSign(blocking)), false)
                }
                try await self.execute(c, Prepared.InsertSignature.self, [
                    .text(id), signature.keyid.map { .text($0) } ?? .null, .bytes(signature.sig), .text(signature.signerKey), .text(signature.addedAt),
                ])
                count += 1
                outcomes.append(.added)
            }
            try await self.storeBlobs(c, blobs)
            guard let stored = try await self.pending(c, id: id) else { return (.notQueued, false) }
            return (.queued(isNew: isNew, signatures: outcomes, pending: stored), true)
        }
    }

    public func addRejection(pendingID: String, envelope: [UInt8], signerKey: String, addedAt: String, veto: Bool,
                             decidedOn head: HeadRef) async throws -> WriteOutcome<RejectionOutcome> {
        try await write("storing a rejection", decidedOn: head) { c in
            guard let row = try await self.status(c, id: pendingID) else { return (.notQueued, false) }
            if try await Self.scalarBool(c, Prepared.RejectionByKey.self, [.text(pendingID), .text(signerKey)], logger: self.logger) {
                return (.alreadyThere, false)
            }
            try await self.execute(c, Prepared.InsertRejection.self, [.text(pendingID), .bytes(envelope), .text(signerKey), .text(addedAt)])
            let vetoed = veto && row.status == .pending
            if vetoed {
                try await self.execute(c, Prepared.SetPendingStatus.self, [.text(pendingID), .text(PendingStatus.vetoed.rawValue)])
            }
            return (.added(vetoed: vetoed), true)
        }
    }

    public func append(_ entries: [StoredEntry], book: [UInt8], blobs: [[UInt8]], removing pending: PendingRemoval?,
                       decidedOn head: HeadRef) async throws -> WriteOutcome<HeadRef> {
        let location = self.location
        return try await writeOutcome("appending entries", decidedOn: head) { c -> (WriteOutcome<HeadRef>, Bool) in
            let previous = try StoredEntry.head(after: head, appending: entries, location: location)
            if let pending {
                // The queue state the commit was decided on. The head lock (taken first) serializes
                // this with every addRejection and setStatus; the proposal's row and those of the
                // other proposals for its entry are locked too (FOR UPDATE), so that no rejection of
                // them can be inserted, even by a writer that skips the head lock, until this commits.
                guard let row = try await self.status(c, id: pending.id), row.status == .pending else { return (.queueChanged, false) }
                try await self.execute(c, Prepared.LockSlot.self, [.int(row.sequence)])
                let count = try await Self.scalarInt(c, Prepared.SlotRejectionCount.self, [.int(row.sequence)], logger: self.logger)
                guard count == Int64(pending.slotRejections) else { return (.queueChanged, false) }
            }
            for entry in entries { try await self.insertEntry(c, entry) }
            if !entries.isEmpty {
                try await self.execute(c, Prepared.UpdateHead.self, [.int(Int64(previous.sequence)), .text(previous.hash)])
            }
            try await self.execute(c, Prepared.UpsertBook.self, [.int(Int64(previous.sequence)), .bytes(book)])
            try await self.storeBlobs(c, blobs)
            if let pending { try await self.execute(c, Prepared.DeletePending.self, [.text(pending.id)]) }
            return (.done(previous), true)
        }
    }

    public func setStatus(_ changes: [(id: String, status: PendingStatus)], decidedOn head: HeadRef?) async throws -> WriteOutcome<[StatusChange]> {
        let changes = changes.map { StatusRequest(id: $0.id, status: $0.status) }
        return try await write("marking proposals", decidedOn: head) { c in
            var results: [StatusChange] = []
            var wrote = false
            for change in changes {
                let row = try await self.status(c, id: change.id)
                guard row?.status == .pending else {
                    results.append(.unchanged(id: change.id, status: row?.status))
                    continue
                }
                try await self.execute(c, Prepared.SetPendingStatus.self, [.text(change.id), .text(change.status.rawValue)])
                wrote = true
                results.append(.marked(id: change.id, to: change.status))
            }
            return (results, wrote)
        }
    }

    public func close() async throws {
        let first = state.withLock { closed -> Bool in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        runTask.cancel()
        // The pool's run() returns once its connections are closed; a dead server does not hold it up
        // for longer than the bound.
        let task = runTask
        _ = try? await Self.bounded(timeout, location: location, while: "closing") { _ in await task.value }
    }

    // MARK: Testing

    /// Runs statements in one transaction on one connection, as given (tests: raw UPDATEs that the
    /// triggers must refuse, `SET LOCAL ROLE`, bulk fills). Never used by alvh itself.
    @_spi(Testing) public func rawExecute(_ statements: String...) async throws {
        try await rawExecute(statements)
    }

    @_spi(Testing) public func rawExecute(_ statements: [String]) async throws {
        try await run("running raw SQL") { c in
            try await self.transaction(c) { c in
                for statement in statements { try await c.query(PostgresQuery(unsafeSQL: statement), logger: self.logger) }
                return ((), true)
            }
        }
    }

    /// The rows of a query, every column decoded as text (cast in the SQL: `seq::text`).
    @_spi(Testing) public func rawQuery(_ sql: String) async throws -> [[String?]] {
        try await run("running a raw query") { c in
            try await self.all(c, sql, []) { row in try row.map { try $0.decode(String?.self) } }
        }
    }

    /// Statements run on a direct connection to `location` outside any transaction (CREATE and
    /// DROP DATABASE for the test server).
    @_spi(Testing) public static func execute(_ statements: [String], at location: LedgerLocation.PostgresLocation,
                                              timeout: Duration = defaultTimeout) async throws {
        let logger = Logger(label: "alvh.storage.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let tls = try tlsConfiguration(location)
        try await withDirectConnection(location, tls: tls, timeout: timeout, logger: logger, while: "running statements") { connection in
            for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
        }
    }

    // MARK: Transactions

    private struct StatusRequest: Sendable {
        var id: String
        var status: PendingStatus
    }

    private struct BookRow: Sendable {
        var sequence: UInt64
        var json: [UInt8]
    }

    private struct HashedBytes: Sendable {
        var hash: String
        var bytes: [UInt8]
    }

    /// Runs `body` on a pooled connection within the bound, mapping every error to a StorageError.
    private func run<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        guard !state.withLock({ $0 }) else {
            throw StorageError(.database, "the ledger storage is closed", path: location)
        }
        let client = self.client
        do {
            return try await Self.bounded(timeout, location: location, while: what) { slot in
                try await client.withConnection { connection in
                    guard slot.hold(connection) else { throw CancellationError() }
                    defer { slot.release() }
                    return try await body(connection)
                }
            }
        } catch {
            throw Self.describe(error, location: location, while: what)
        }
    }

    /// BEGIN … COMMIT (or ROLLBACK when `body` says so or throws).
    private func transaction<T: Sendable>(_ c: PostgresConnection, _ body: (PostgresConnection) async throws -> (T, Bool)) async throws -> T {
        try await c.query(PostgresQuery(unsafeSQL: PostgresSQL.begin), logger: logger)
        let value: T
        let commit: Bool
        do {
            (value, commit) = try await body(c)
        } catch {
            _ = try? await c.query(PostgresQuery(unsafeSQL: PostgresSQL.rollback), logger: logger)
            throw error
        }
        try await c.query(PostgresQuery(unsafeSQL: commit ? PostgresSQL.commit : PostgresSQL.rollback), logger: logger)
        return value
    }

    /// A deciding write: the head lock, the head check, `body`; `.headMoved` (nothing written) when
    /// the head is not `head` any more, or when a unique constraint shows another writer got there first.
    private func write<V: Sendable>(_ what: String, decidedOn head: HeadRef?,
                                    _ body: @escaping @Sendable (PostgresConnection) async throws -> (V, Bool)) async throws -> WriteOutcome<V> {
        try await writeOutcome(what, decidedOn: head) { c -> (WriteOutcome<V>, Bool) in
            let (value, commit) = try await body(c)
            return (.done(value), commit)
        }
    }

    /// ``write(_:decidedOn:_:)`` whose body answers the outcome itself (a commit's `.queueChanged`).
    private func writeOutcome<V: Sendable>(_ what: String, decidedOn head: HeadRef?,
                                    _ body: @escaping @Sendable (PostgresConnection) async throws -> (WriteOutcome<V>, Bool)) async throws -> WriteOutcome<V> {
        try await run(what) { c in
            do {
                return try await self.transaction(c) { c -> (WriteOutcome<V>, Bool) in
                    try await self.execute(c, Prepared.LockHead.self, [])
                    let current = try await self.headRef(c)
                    if let head, current != head { return (.headMoved(current: current), false) }
                    return try await body(c)
                }
            } catch let error as PSQLError where error.sqlState == "23505" {
                return .headMoved(current: try await self.headRef(c))
            }
        }
    }

    // MARK: Statements

    enum Bind: Sendable {
        case text(String)
        case int(Int64)
        case bytes([UInt8])
        case null
    }

    static func query(_ sql: String, _ binds: [Bind]) -> PostgresQuery {
        PostgresQuery(unsafeSQL: sql, binds: bindings(binds))
    }

    private func execute(_ c: PostgresConnection, _ sql: String, _ binds: [Bind]) async throws {
        let rows = try await c.query(Self.query(sql, binds), logger: logger)
        for try await _ in rows {}
    }

    private func all<T>(_ c: PostgresConnection, _ sql: String, _ binds: [Bind], _ decode: (PostgresRow) throws -> T) async throws -> [T] {
        var result: [T] = []
        for try await row in try await c.query(Self.query(sql, binds), logger: logger) { result.append(try decode(row)) }
        return result
    }

    private func first<T>(_ c: PostgresConnection, _ sql: String, _ binds: [Bind], _ decode: (PostgresRow) throws -> T) async throws -> T? {
        try await all(c, sql, binds, decode).first
    }

    static func scalarInt(_ c: PostgresConnection, _ sql: String, _ binds: [Bind] = [], logger: Logger) async throws -> Int64 {
        for try await row in try await c.query(query(sql, binds), logger: logger) { return try row.decode(Int64.self) }
        return 0
    }

    static func scalarBool(_ c: PostgresConnection, _ sql: String, _ binds: [Bind] = [], logger: Logger) async throws -> Bool {
        var result = false
        for try await row in try await c.query(query(sql, binds), logger: logger) { result = try row.decode(Bool.self) }
        return result
    }

    // Every statement of the ledger's reads and writes runs prepared: parsed and planned once per
    // pooled connection under its own name (``PreparedStatement``), then only bound and executed.

    private func execute<S: PreparedSQL>(_ c: PostgresConnection, _ statement: S.Type, _ binds: [Bind]) async throws {
        for try await _ in try await c.execute(PreparedStatement<S>(binds: binds), logger: logger) {}
    }

    private func all<S: PreparedSQL, T>(_ c: PostgresConnection, _ statement: S.Type, _ binds: [Bind], _ decode: (PostgresRow) throws -> T) async throws -> [T] {
        var result: [T] = []
        for try await row in try await c.execute(PreparedStatement<S>(binds: binds), logger: logger) { result.append(try decode(row)) }
        return result
    }

    private func first<S: PreparedSQL, T>(_ c: PostgresConnection, _ statement: S.Type, _ binds: [Bind], _ decode: (PostgresRow) throws -> T) async throws -> T? {
        try await all(c, statement, binds, decode).first
    }

    static func scalarInt<S: PreparedSQL>(_ c: PostgresConnection, _ statement: S.Type, _ binds: [Bind] = [], logger: Logger) async throws -> Int64 {
        for try await row in try await c.execute(PreparedStatement<S>(binds: binds), logger: logger) { return try row.decode(Int64.self) }
        return 0
    }

    static func scalarBool<S: PreparedSQL>(_ c: PostgresConnection, _ statement: S.Type, _ binds: [Bind] = [], logger: Logger) async throws -> Bool {
        var result = false
        for try await row in try await c.execute(PreparedStatement<S>(binds: binds), logger: logger) { result = try row.decode(Bool.self) }
        return result
    }

    static func bindings(_ binds: [Bind]) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            switch bind {
            case .text(let text): bindings.append(text)
            case .int(let value): bindings.append(value)
            case .bytes(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            case .null: bindings.appendNull()
            }
        }
        return bindings
    }

    private func headRef(_ c: PostgresConnection) async throws -> HeadRef? {
        try await first(c, Prepared.HeadRef.self, []) { row in
            let (seq, hash) = try row.decode((Int64, String).self)
            return HeadRef(sequence: UInt64(seq), hash: hash)
        }
    }

    private struct Status { var status: PendingStatus; var sequence: Int64 }

    private func status(_ c: PostgresConnection, id: String) async throws -> Status? {
        let location = self.location
        return try await first(c, Prepared.PendingStatusForUpdate.self, [.text(id)]) { row in
            let (text, sequence) = try row.decode((String, Int64).self)
            guard let status = PendingStatus(rawValue: text) else {
                throw StorageError(.corrupt, "proposal \(id) has an unknown status '\(text)'", path: location)
            }
            return Status(status: status, sequence: sequence)
        }
    }

    private func pending(_ c: PostgresConnection, id: String) async throws -> StoredPending? {
        try await first(c, Prepared.PendingByID.self, [.text(id)]) { try Self.decodePending($0) }
    }

    private func insertEntry(_ c: PostgresConnection, _ e: StoredEntry) async throws {
        try await execute(c, Prepared.InsertEntry.self, [
            .int(Int64(e.sequence)), .text(e.previousHash), .text(e.kind), .bytes(e.envelope), .bytes(e.attachments),
            .text(e.policyHash), .text(e.committedAt), .text(e.hash), .bytes(e.committerSignature),
        ])
    }

    private func storeBlobs(_ c: PostgresConnection, _ blobs: [[UInt8]]) async throws {
        for bytes in blobs {
            try await execute(c, Prepared.InsertBlob.self, [.text(SHA256.hexDigest(bytes)), .bytes(bytes)])
        }
    }

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

    static func decodeEntry(_ row: PostgresRow) throws -> StoredEntry {
        let (seq, prev, kind, envelope, attachments, policy, committed, hash, sig) =
            try row.decode((Int64, String, String, ByteBuffer, ByteBuffer, String, String, String, ByteBuffer).self)
        return StoredEntry(sequence: UInt64(seq), previousHash: prev, kind: kind, envelope: bytes(envelope), attachments: bytes(attachments),
                           policyHash: policy, committedAt: committed, hash: hash, committerSignature: bytes(sig))
    }

    static func decodePending(_ row: PostgresRow) throws -> StoredPending {
        let (id, payload, payloadType, kind, sequence, base, created, expires, proposer, queuedAt, attachments, statusText, signatures, rejections) =
            try row.decode((String, ByteBuffer, String, String, Int64, String, String, String, String, String, ByteBuffer?, String, Int64, Int64).self)
        guard let status = PendingStatus(rawValue: statusText) else {
            throw StorageError(.corrupt, "proposal \(id) has an unknown status '\(statusText)'")
        }
        let new = NewPending(id: id, payload: bytes(payload), payloadType: payloadType, kind: kind, sequence: UInt64(sequence), base: base,
                             created: created, expires: expires, proposer: proposer, queuedAt: queuedAt, attachments: attachments.map(bytes))
        return StoredPending(new, status: status, signatureCount: Int(signatures), rejectionCount: Int(rejections))
    }
}
