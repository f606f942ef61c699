import Foundation

/// Where a ledger is: `sqlite:PATH` (or a bare path),
/// `postgres://user[:password]@host[:port]/db[?sslmode=disable|prefer|require]`, or an
/// `alvh serve` service, `https://host:port` (mTLS with the desk's client certificate; plain
/// `http://` only to a loopback address), which the client trusts no more than a database.
///
/// The password never appears in ``description`` (which messages, logs and `--json` use): it is
/// held apart, from the URL, `PGPASSWORD`, or a password file readable by its owner only.
public enum LedgerLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)
    case service(ServiceLocation)

    /// An `alvh serve` service and the client's transport credentials.
    public struct ServiceLocation: Sendable, Equatable {
        /// `https://host:port` (or `http://127.0.0.1:port`), no path, no trailing slash.
        public var url: String
        /// The desk CA and this client's certificate and key (nil: plain HTTP to loopback).
        public var tls: ClientTLS?
        public init(url: String, tls: ClientTLS?) {
            self.url = url
            self.tls = tls
        }
    }

    /// The files of a client's mTLS identity: transport keys, never the keys that sign proposals.
    public struct ClientTLS: Sendable, Equatable {
        /// The desk CA that issued the service's certificate (the only root trusted).
        public var ca: String
        /// This client's certificate (PEM) and its private key (PEM, mode 0600).
        public var certificate: String
        public var key: String
        public init(ca: String, certificate: String, key: String) {
            self.ca = ca
            self.certificate = certificate
            self.key = key
        }
        /// The layout `scripts/tls-init` and `alvh demo` give a client: `DIR/ca.pem`, `DIR/client.pem`, `DIR/client.key.pem`.
        public init(directory: String) {
            self.init(ca: "\(directory)/ca.pem", certificate: "\(directory)/client.pem", key: "\(directory)/client.key.pem")
        }
    }

    /// A PostgreSQL server, database and user; the password held apart.
    public struct PostgresLocation: Sendable, Equatable {
        public var user: String
        public var password: String?
        public var host: String
        public var port: Int
        public var database: String
        public var tls: TLSMode

        public enum TLSMode: String, Sendable, Equatable {
            /// Plain TCP (a server on loopback, or a private network the desk trusts).
            case disable
            /// TLS if the server offers it.
            case prefer
            /// TLS required, the server's certificate verified against the system's roots.
            case require
        }

        public init(user: String, password: String?, host: String, port: Int = 5432, database: String, tls: TLSMode = .prefer) {
            self.user = user
            self.password = password
            self.host = host
            self.port = port
            self.database = database
            self.tls = tls
        }

        /// The URL without its password.
        public var redacted: String {
            "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)" + (tls == .prefer ? "" : "?sslmode=\(tls.rawValue)")
        }
    }

    /// The location for messages: never with a password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let pg): pg.redacted
        case .service(let service): service.url
        }
    }

    public var isPostgres: Bool { if case .postgres = self { true } else { false } }
    public var isService: Bool { if case .service = self { true } else { false } }

    /// Parses `--ledger` / `ALVH_LEDGER`. `environment` supplies `PGPASSWORD` when the URL has no
    /// password; `passwordFile` (mode 0600 or stricter, owned by this user) overrides both.
    /// - Throws: ``StorageError/Code/badLocation`` naming `field` and what to write instead.
    public static func parse(_ text: String, field: String = "--ledger", environment: [String: String] = ProcessInfo.processInfo.environment,
                             passwordFile: String? = nil, clientTLS: ClientTLS? = nil) throws -> LedgerLocation {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw StorageError(.badLocation, "empty; give sqlite:PATH or postgres://user@host[:port]/db", path: field)
        }
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            var pg = try parsePostgres(trimmed, field: field)
            if pg.password == nil, let env = environment["PGPASSWORD"], !env.isEmpty { pg.password = env }
            if let passwordFile { pg.password = try readPasswordFile(passwordFile) }
            return .postgres(pg)
        }
        if trimmed.hasPrefix("https://") || trimmed.hasPrefix("http://") {
            if passwordFile != nil {
                throw StorageError(.badLocation, "--ledger-password-file applies to a postgres:// ledger only", path: "--ledger-password-file")
            }
            return .service(try parseService(trimmed, field: field, tls: clientTLS))
        }
        if passwordFile != nil {
            throw StorageError(.badLocation, "--ledger-password-file applies to a postgres:// ledger only", path: "--ledger-password-file")
        }
        if trimmed.hasPrefix("sqlite:") {
            var path = String(trimmed.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) } // sqlite:///abs/path
            guard !path.isEmpty else { throw StorageError(.badLocation, "sqlite: needs a path, e.g. sqlite:desk/alvh.sqlite", path: field) }
            return .sqlite(path: path)
        }
        if let scheme = trimmed.range(of: "://") {
            throw StorageError(.badLocation, "unknown scheme '\(trimmed[..<scheme.lowerBound])'; give sqlite:PATH, postgres://user@host[:port]/db or https://host:port", path: field)
        }
        return .sqlite(path: trimmed)
    }

    static func parseService(_ text: String, field: String, tls: ClientTLS?) throws -> ServiceLocation {
        guard let components = URLComponents(string: text), let scheme = components.scheme, let host = components.host, !host.isEmpty else {
            throw StorageError(.badLocation, "not a URL; write https://host:port (the address `alvh serve` listens on)", path: field)
        }
        guard components.user == nil, components.password == nil else {
            throw StorageError(.badLocation, "no user or password in a service URL: clients authenticate with their TLS certificate (--tls-dir)", path: field)
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil else {
            throw StorageError(.badLocation, "give the service's address only, https://host:port, without a path or query", path: field)
        }
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let port = components.port.map { ":\($0)" } ?? ""
        let url = "\(scheme)://\(bare.contains(":") ? "[\(bare)]" : bare)\(port)"
        if scheme == "http" {
            guard ["127.0.0.1", "::1", "localhost"].contains(bare) else {
                throw StorageError(.badLocation, "plain http:// is for a service on loopback only (started with --insecure-loopback); use https://", path: field)
            }
            return ServiceLocation(url: url, tls: nil)
        }
        guard let tls else {
            throw StorageError(.badLocation, "an https:// service needs this client's TLS identity: give --tls-dir DIR holding ca.pem, client.pem and client.key.pem (scripts/tls-init makes them)",
                               path: "--tls-dir")
        }
        return ServiceLocation(url: url, tls: tls)
    }

    static func parsePostgres(_ text: String, field: String) throws -> PostgresLocation {
        // URLComponents percent-decodes the user and password; the password is dropped from every message.
        guard let components = URLComponents(string: text) else {
            throw StorageError(.badLocation, "not a URL; write postgres://user[:password]@host[:port]/db[?sslmode=require] (percent-encode special characters)", path: field)
        }
        guard let user = components.user, !user.isEmpty else {
            throw StorageError(.badLocation, "no user; write postgres://USER@host/db", path: field)
        }
        guard let host = components.host, !host.isEmpty else {
            throw StorageError(.badLocation, "no host; write postgres://user@HOST[:port]/db", path: field)
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw StorageError(.badLocation, "no database name; write postgres://user@host[:port]/DB", path: field)
        }
        var tls = PostgresLocation.TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = PostgresLocation.TLSMode(rawValue: item.value ?? "") else {
                    throw StorageError(.badLocation, "sslmode '\(item.value ?? "")' is not one of disable, prefer, require", path: field)
                }
                tls = mode
            default:
                throw StorageError(.badLocation, "unknown parameter '\(item.name)'; only sslmode is read", path: field)
            }
        }
        return PostgresLocation(user: user, password: components.password, host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")),
                                port: components.port ?? 5432, database: database, tls: tls)
    }

    /// The password from a file that only its owner can read (like `~/.pgpass`): trailing newline dropped.
    public static func readPasswordFile(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw StorageError(.badLocation, "cannot open the password file: \(String(cString: strerror(errno)))", path: path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw StorageError(.badLocation, "the password file is not a regular file", path: path)
        }
        guard info.st_mode & 0o077 == 0 else {
            throw StorageError(.badLocation, "the password file can be read by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it", path: path)
        }
        guard info.st_uid == geteuid() else {
            throw StorageError(.badLocation, "the password file belongs to another user", path: path)
        }
        guard info.st_size <= 4096 else { throw StorageError(.badLocation, "the password file is larger than 4 KiB", path: path) }
        var buffer = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count == buffer.count else { throw StorageError(.badLocation, "cannot read the password file", path: path) }
        var text = String(decoding: buffer, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw StorageError(.badLocation, "the password file is empty", path: path) }
        return text
    }
}
