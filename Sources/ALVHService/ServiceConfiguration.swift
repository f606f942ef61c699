import Foundation
import ALVHSigning
import ALVHLedger
import ALVHStorage

/// What `alvh serve` was asked for: where to listen, the transport security, the limits, the
/// committer key (optional: without it the service commits nothing).
public struct ServiceConfiguration: Sendable {
    /// The TLS material: the server's certificate chain and key, and the desk CA whose client
    /// certificates are accepted (PEM files). Transport keys only: never a signing key.
    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String
        public var privateKey: String
        /// The CA that issues the desk's client certificates; nil only with `requireClientCertificates` false.
        public var clientCA: String?
        /// Client certificates are required by default (mTLS); see docs/service.md for why.
        public var requireClientCertificates: Bool

        public init(certificate: String, privateKey: String, clientCA: String?, requireClientCertificates: Bool = true) {
            self.certificate = certificate
            self.privateKey = privateKey
            self.clientCA = clientCA
            self.requireClientCertificates = requireClientCertificates
        }
    }

    /// Request limits: each a clear 4xx when passed.
    public struct Limits: Sendable, Equatable {
        /// The largest request body (413 past it). A proposal envelope is at most 1 MiB, sent in
        /// base64 with its snapshot.
        public var maxBodyBytes: Int = 4 << 20
        /// The largest header block (the connection is refused past it).
        public var maxHeaderBytes: Int = 16 << 10
        /// The most header fields.
        public var maxHeaderFields: Int = 100
        /// Seconds a request body may take to arrive (408 past it).
        public var requestTimeout: Double = 10
        /// Seconds an idle connection stays open.
        public var idleTimeout: Double = 60
        /// Requests a client (by address) may make per second, on average…
        public var ratePerSecond: Double = 50
        /// …and in a burst (429 past it).
        public var burst: Double = 100
        /// Seconds a connection may take to finish its TLS handshake (plain HTTP: to send its first
        /// bytes) before it is closed.
        public var handshakeTimeout: Double = 10
        /// The most connections open at once (fewer when the file-descriptor limit leaves fewer:
        /// ``ConnectionBudget``); half of them at most in their handshake.
        public var maxConnections: Int = 1024
        /// The most connections open at once from one IP address.
        public var maxConnectionsPerAddress: Int = 32

        public init() {}
    }

    public var workspace: String
    public var ledger: LedgerLocation?
    public var pins: Ledger.Pins?
    public var host: String
    public var port: Int
    public var tls: TLSFiles?
    /// Plain HTTP: only with this, and only on a loopback address.
    public var insecureLoopback: Bool
    public var committer: PrivateKey?
    public var limits: Limits
    /// Milliseconds between the watcher's looks at the head and the queue (writes by other processes).
    public var pollMilliseconds: Int

    public init(workspace: String, ledger: LedgerLocation? = nil, pins: Ledger.Pins? = nil, host: String = "127.0.0.1", port: Int = 8443,
                tls: TLSFiles? = nil, insecureLoopback: Bool = false, committer: PrivateKey? = nil, limits: Limits = Limits(),
                pollMilliseconds: Int = 250) {
        self.workspace = workspace
        self.ledger = ledger
        self.pins = pins
        self.host = host
        self.port = port
        self.tls = tls
        self.insecureLoopback = insecureLoopback
        self.committer = committer
        self.limits = limits
        self.pollMilliseconds = pollMilliseconds
    }

    /// The loopback names: plain HTTP is allowed on these only.
    public static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if ["localhost", "::1", "[::1]"].contains(lower) { return true }
        let parts = lower.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Refuses a configuration that would serve without transport security off loopback, or TLS
    /// without what it needs. Nothing is opened before this passes.
    public func validate() throws {
        if ledger?.isService == true {
            throw ServiceError("usage", "alvh serve serves a database it opens itself: give --ledger sqlite:PATH or postgres://…, not another service", path: "--server")
        }
        guard (0...65535).contains(port) else {
            throw ServiceError("usage", "--port must be 0…65535", path: "--port")
        }
        if let tls {
            if insecureLoopback {
                throw ServiceError("usage", "--insecure-loopback serves plain HTTP; it cannot be given with --tls-cert/--tls-key", path: "--insecure-loopback")
            }
            if tls.requireClientCertificates && tls.clientCA == nil {
                throw ServiceError("usage", "client certificates are required: give --client-ca FILE (the desk CA that issues them)", path: "--client-ca")
            }
        } else {
            guard insecureLoopback else {
                throw ServiceError("insecure-refused",
                    "no TLS: give --tls-cert, --tls-key and --client-ca (see scripts/tls-init), or --insecure-loopback to serve plain HTTP on a loopback address",
                    path: "--tls-cert")
            }
            guard ServiceConfiguration.isLoopback(host) else {
                throw ServiceError("insecure-refused",
                    "plain HTTP is served only on loopback (127.0.0.1, ::1, localhost), not on \(host); give --tls-cert, --tls-key and --client-ca",
                    path: "--bind")
            }
        }
        guard limits.maxBodyBytes > 0, limits.maxHeaderBytes >= 1024, limits.requestTimeout > 0, limits.idleTimeout > 0,
              limits.ratePerSecond > 0, limits.burst >= 1 else {
            throw ServiceError("usage", "the limits must be positive", path: "limits")
        }
        guard limits.handshakeTimeout > 0, limits.handshakeTimeout <= 600 else {
            throw ServiceError("usage", "--handshake-timeout must be more than 0 and at most 600 seconds", path: "--handshake-timeout")
        }
        guard limits.maxConnections >= ConnectionBudget.minimumConnections else {
            throw ServiceError("usage", "--max-connections must be at least \(ConnectionBudget.minimumConnections) (half of them at most in their TLS handshake)",
                               path: "--max-connections")
        }
        guard (1...limits.maxConnections).contains(limits.maxConnectionsPerAddress) else {
            throw ServiceError("usage", "--max-connections-per-address must be 1…\(limits.maxConnections) (--max-connections)",
                               path: "--max-connections-per-address")
        }
        guard (10...600_000).contains(pollMilliseconds) else {
            throw ServiceError("usage", "--poll must be 10…600000 milliseconds", path: "--poll")
        }
    }
}

/// A failure of the service's own set-up (configuration, TLS files), with the CLI's code/reason/path.
public struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var reason: String
    public var path: String?

    public init(_ code: String, _ reason: String, path: String? = nil) {
        self.code = code
        self.reason = reason
        self.path = path
    }

    public var description: String { (path.map { "\($0): " } ?? "") + reason + " [\(code)]" }
}
