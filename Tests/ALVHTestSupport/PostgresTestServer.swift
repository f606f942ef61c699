import Foundation
import Testing
import ALVHStorage
@_spi(Testing) import ALVHStoragePostgres

/// The PostgreSQL server the tests use, from `ALVH_TEST_POSTGRES_URL`
/// (`postgres://alvh@127.0.0.1:PORT/postgres?sslmode=disable`, as `scripts/pg-throwaway` prints):
/// each test gets a database of its own, created empty and dropped after.
///
/// Without a server, a test that needs one is skipped with how to get one, except under CI (`CI`
/// set), where it fails: CI starts a throwaway server, and a missing one is a broken CI, not a
/// reason to pass.
///
/// ```swift
/// @Test(PostgresTestServer.enabled) func roundTrip() async throws {
///     try await PostgresTestServer.withFreshDatabase { db in
///         let storage = try await PostgresLedgerStorage.open(db.location, create: true)
///         …
///     }
/// }
/// ```
public enum PostgresTestServer {
    /// What to do when there is no server.
    public static let howToFix = "set ALVH_TEST_POSTGRES_URL or run `bash scripts/test` (starts a throwaway server)"

    /// The server's URL, nil when unset.
    public static var url: String? {
        guard let text = ProcessInfo.processInfo.environment["ALVH_TEST_POSTGRES_URL"], !text.isEmpty else { return nil }
        return text
    }

    /// Whether this run is CI's (a missing server fails there).
    public static var isCI: Bool {
        guard let value = ProcessInfo.processInfo.environment["CI"] else { return false }
        return !value.isEmpty && value != "0" && value.lowercased() != "false"
    }

    /// True when the PostgreSQL tests run: a server is given, or this is CI (where they fail without one).
    public static var isEnabled: Bool { url != nil || isCI }

    /// The trait of a test that needs the server: skipped with ``howToFix`` when there is none
    /// (outside CI).
    public static var enabled: ConditionTrait { .enabled(if: isEnabled, Comment(rawValue: "no PostgreSQL server: " + howToFix)) }

    /// A fresh, empty database on the server. Without a server: records an issue under CI (the
    /// test fails), otherwise skips the test.
    public static func freshDatabase(sourceLocation: SourceLocation = #_sourceLocation) async throws -> PostgresTestDatabase {
        guard let url else {
            if isCI {
                Issue.record("no PostgreSQL server for the tests under CI: .ci/run must start one (scripts/pg-throwaway) and export ALVH_TEST_POSTGRES_URL; locally, \(howToFix)",
                             sourceLocation: sourceLocation)
                throw NoServer()
            }
            try Test.cancel("no PostgreSQL server: \(howToFix)", sourceLocation: sourceLocation)
        }
        guard case .postgres(let server) = try LedgerLocation.parse(url, field: "ALVH_TEST_POSTGRES_URL") else {
            throw StorageError(.badLocation, "ALVH_TEST_POSTGRES_URL is not a postgres:// URL")
        }
        let name = "alvh_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        do {
            try await PostgresLedgerStorage.execute(["CREATE DATABASE \(name)"], at: server)
        } catch {
            if isCI {
                Issue.record("cannot create a test database on \(server.redacted): \(error)", sourceLocation: sourceLocation)
            } else {
                Issue.record("cannot create a test database on \(server.redacted) (is the server of ALVH_TEST_POSTGRES_URL running? \(howToFix)): \(error)",
                             sourceLocation: sourceLocation)
            }
            throw error
        }
        var location = server
        location.database = name
        return PostgresTestDatabase(name: name, location: location, server: server)
    }

    /// Runs `body` with a fresh database, dropped after (whatever `body` did).
    public static func withFreshDatabase<T: Sendable>(sourceLocation: SourceLocation = #_sourceLocation,
                                                      _ body: (PostgresTestDatabase) async throws -> T) async throws -> T {
        let database = try await freshDatabase(sourceLocation: sourceLocation)
        do {
            let result = try await body(database)
            await database.drop()
            return result
        } catch {
            await database.drop()
            throw error
        }
    }

    struct NoServer: Error, CustomStringConvertible {
        var description: String { "no PostgreSQL server: \(PostgresTestServer.howToFix)" }
    }
}

/// One test's database.
public struct PostgresTestDatabase: Sendable {
    /// `alvh_t_<random>`.
    public let name: String
    /// Where it is (the server's user, host and port).
    public let location: LedgerLocation.PostgresLocation
    /// The server's maintenance database, from which this one is dropped.
    public let server: LedgerLocation.PostgresLocation

    /// `postgres://…/alvh_t_…` (no password).
    public var url: String { location.redacted }

    /// Drops the database, ending whatever connections are still open to it; best effort (a
    /// database left behind is only disk on a throwaway server).
    public func drop() async {
        _ = try? await PostgresLedgerStorage.execute(["DROP DATABASE IF EXISTS \(name) WITH (FORCE)"], at: server)
    }
}
