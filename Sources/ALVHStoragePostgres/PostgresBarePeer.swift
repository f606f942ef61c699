import Foundation
import ALVHStorage
import Logging
import PostgresNIO

/// The bench's peer on PostgreSQL (`alvh-bench commit-latency --ledger postgres://…`): a bare table
/// in the given database, on the same server as the ledger and with the server's durability
/// (`fsync` and `synchronous_commit` on, checked), one INSERT of an entry-sized row per
/// transaction (autocommit) through a statement prepared once on one connection — the cheapest
/// durable insert PostgreSQL offers a client, as `SQLiteBarePeer` is SQLite's. No PostgresNIO type
/// crosses the module. Never used by alvh itself.
@_spi(Testing) public final class PostgresBarePeer: Sendable {
    /// The peer's table (created when missing; rows are never deleted).
    public static let table = "alvh_bench_bare"

    private let connection: PostgresConnection
    private let logger: Logger
    private let location: String

    private init(connection: PostgresConnection, logger: Logger, location: String) {
        self.connection = connection
        self.logger = logger
        self.location = location
    }

    /// Connects to `location`'s database and creates the table when missing.
    public static func open(_ location: LedgerLocation.PostgresLocation) async throws -> PostgresBarePeer {
        let logger = Logger(label: "alvh.bench.bare", factory: { _ in SwiftLogNoOpLogHandler() })
        let redacted = location.redacted
        do {
            let tls = try PostgresLedgerStorage.tlsConfiguration(location)
            let connection = try await PostgresLedgerStorage.connect(location, tls: tls, timeout: PostgresLedgerStorage.defaultTimeout, logger: logger)
            let peer = PostgresBarePeer(connection: connection, logger: logger, location: redacted)
            do {
                try await peer.run("CREATE TABLE IF NOT EXISTS \(table) (seq bigint PRIMARY KEY, prev text NOT NULL, body bytea NOT NULL, hash text NOT NULL)")
                for setting in ["fsync", "synchronous_commit"] {
                    let value = try await peer.show(setting)
                    guard value == "on" else {
                        throw StorageError(.database, "the bare peer must run with \(setting)=on (got \(value))", path: redacted)
                    }
                }
            } catch {
                try? await connection.close()
                throw error
            }
            return peer
        } catch {
            throw PostgresLedgerStorage.describe(error, location: redacted, while: "opening the bare peer")
        }
    }

    /// Inserts row `seq` with `body` in its own transaction (acknowledged once durable).
    public func insert(_ seq: Int, body: [UInt8]) async throws {
        do {
            _ = try await connection.execute(Insert(seq: Int64(seq), body: ByteBuffer(bytes: body)), logger: logger)
        } catch {
            throw PostgresLedgerStorage.describe(error, location: location, while: "inserting a bare row")
        }
    }

    public func close() async throws {
        try? await connection.close()
    }

    private func run(_ sql: String) async throws {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        for try await _ in rows {}
    }

    private func show(_ setting: String) async throws -> String {
        var value = ""
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: "SHOW \(setting)"), logger: logger) {
            value = try row.decode(String.self)
        }
        return value
    }

    private struct Insert: PostgresPreparedStatement {
        static let name = "alvh_bench_bare_insert"
        static let sql = "INSERT INTO \(PostgresBarePeer.table) (seq, prev, body, hash) VALUES ($1, $2, $3, $4)"
        typealias Row = ()
        var seq: Int64
        var body: ByteBuffer

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 4)
            bindings.append(seq)
            bindings.append(String(repeating: "a", count: 64))
            bindings.append(body)
            bindings.append(String(repeating: "b", count: 64))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {}
    }
}
