import Foundation
import ALVHStorage
import PostgresNIO

// The bounds on every wait and the mapping of errors to StorageError: what keeps a crashed,
// silent or refusing server from hanging alvh, and the password out of every message.
extension PostgresLedgerStorage {
    // MARK: Bounds and errors

    /// Runs `operation` and answers within `timeout` whatever it does: on time-out the operation is
    /// cancelled, its connection (held in the slot) closed, and the caller gets a StorageError at
    /// once, without waiting for the operation to notice. Cancelling the caller does the same.
    static func bounded<T: Sendable>(_ timeout: Duration, location: String, while what: String,
                                     _ operation: @escaping @Sendable (ConnectionSlot) async throws -> T) async throws -> T {
        let slot = ConnectionSlot()
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let work = Task {
                    do { race.finish(.success(try await operation(slot))) } catch { race.finish(.failure(error)) }
                }
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
                    race.finish(.failure(StorageError(.database, "PostgreSQL server unreachable or not answering: no answer within \(String(format: "%g", seconds)) s while \(what) (the server may be down, restarting or overloaded; a write's outcome is then unknown, and the ledger re-reads the head before it decides again); check the server and retry (ALVH_PG_TIMEOUT_S sets this bound)", path: location)))
                }
                race.start(continuation, onFinish: {
                    timer.cancel()
                    work.cancel()
                    slot.abandon()
                })
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    static func describe(_ error: any Error, location: String, while what: String) -> StorageError {
        if let error = error as? StorageError { return error }
        if error is CancellationError { return StorageError(.database, "cancelled while \(what)", path: location) }
        guard let error = error as? PSQLError else {
            return StorageError(.database, "PostgreSQL: \(String(describing: error)) while \(what); retry", path: location)
        }
        switch error.code {
        case .server:
            let state = error.sqlState ?? "?????"
            let message = error.serverInfo?[.message] ?? "error"
            var text = "PostgreSQL: \(message) (SQLSTATE \(state))"
            if let detail = error.serverInfo?[.detail] { text += ": \(detail)" }
            if let hint = hint(sqlState: state) { text += "; \(hint)" }
            return StorageError(.database, text, path: location)
        case .sslUnsupported:
            return StorageError(.database, "PostgreSQL: the server does not offer TLS; use ?sslmode=prefer or ?sslmode=disable on a trusted network", path: location)
        case .failedToAddSSLHandler:
            return StorageError(.database, "PostgreSQL: TLS could not be set up (\(error.underlying.map { String(describing: $0) } ?? "no reason given")); check the server's certificate", path: location)
        case .authMechanismRequiresPassword:
            return StorageError(.database, "PostgreSQL: the server asks for a password; give it in the URL, PGPASSWORD or --ledger-password-file", path: location)
        case .unsupportedAuthMechanism, .saslError:
            return StorageError(.database, "PostgreSQL: authentication failed (\(error.code)); check the user and password", path: location)
        case .connectionError, .serverClosedConnection, .uncleanShutdown:
            let cause = error.underlying.map { ": \(String(describing: $0))" } ?? ""
            return StorageError(.database, "PostgreSQL server unreachable (\(error.code)\(cause)) while \(what); check that it runs and is reachable, then retry", path: location)
        case .clientClosedConnection, .poolClosed:
            return StorageError(.database, "the ledger storage is closed", path: location)
        case .queryCancelled:
            return StorageError(.database, "PostgreSQL: the query was cancelled while \(what); retry", path: location)
        default:
            return StorageError(.database, "PostgreSQL: \(error.code) while \(what)", path: location)
        }
    }

    static func hint(sqlState: String) -> String? {
        switch sqlState {
        case "28P01", "28000": return "check the user and password (in the URL, PGPASSWORD or --ledger-password-file) and the server's pg_hba.conf"
        case "3D000": return "the database does not exist: create it first (createdb), one database per ledger"
        case "42501": return "the role lacks a privilege: schema changes are the owner's (`alvh ledger setup --ledger URL`), and an application role may not rewrite entries or blobs"
        case "42P01": return "a table is missing: is this an alvh ledger database? (`alvh ledger setup --ledger URL`)"
        case "55P03": return "another writer held the ledger's lock too long; retry"
        case "57014": return "the statement ran past the time bound (ALVH_PG_TIMEOUT_S); retry"
        case "40001", "40P01": return "a concurrent transaction conflicted; retry"
        case "23000": return "the ledger's entries and blobs are append-only"
        case "53100": return "the server's disk is full"
        case "53200": return "the server is out of memory"
        case "53300": return "the server has no free connection slot; retry later or raise max_connections"
        case "57P01", "57P02", "57P03": return "the server is shutting down or starting up; retry"
        case "25006": return "the server is read-only (a standby?); connect to the primary"
        default:
            if sqlState.hasPrefix("08") { return "the connection failed; retry" }
            return nil
        }
    }
}

extension PSQLError {
    var sqlState: String? { code == .server ? serverInfo?[.sqlState] : nil }
}

/// A value behind a lock (Foundation's, for macOS 13 as for Linux).
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// The connection an operation holds, so that a time-out can close it under the operation's feet
/// (the pending query fails at once, the lease returns to the pool, the server rolls back).
final class ConnectionSlot: Sendable {
    private struct State { var connection: PostgresConnection?; var abandoned = false }
    private let state = Locked(State())

    /// False when the operation was abandoned already (do not start).
    func hold(_ connection: PostgresConnection) -> Bool {
        state.withLock { state in
            guard !state.abandoned else { return false }
            state.connection = connection
            return true
        }
    }

    func release() { state.withLock { $0.connection = nil } }

    func abandon() {
        let connection = state.withLock { state -> PostgresConnection? in
            state.abandoned = true
            defer { state.connection = nil }
            return state.connection
        }
        connection?.close().whenComplete { _ in }
    }
}

/// The first of an operation's result, its time-out and its caller's cancellation: resumes the
/// continuation once, then runs the clean-up.
final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var onFinish: (@Sendable () -> Void)?
        var done = false
    }
    private let state = Locked(State())

    func start(_ continuation: CheckedContinuation<T, any Error>, onFinish: @escaping @Sendable () -> Void) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            state.onFinish = onFinish
            return nil
        }
        if let early {
            onFinish()
            continuation.resume(with: early)
        }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, onFinish) = state.withLock { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
            guard !state.done else { return (nil, nil) }
            state.done = true
            guard let continuation = state.continuation else {
                state.early = result
                return (nil, nil)
            }
            defer { state.continuation = nil; state.onFinish = nil }
            return (continuation, state.onFinish)
        }
        guard let continuation else { return }
        onFinish?()
        continuation.resume(with: result)
    }
}
