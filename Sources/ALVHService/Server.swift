import Foundation
import Logging
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOCore
import NIOSSL
import ServiceLifecycle
import ALVHSigning
import ALVHLedger

/// `alvh serve`: the API in front of a ledger, as swift-service-lifecycle services in one
/// `ServiceGroup` (SIGTERM / SIGINT: the event streams end, the server stops accepting, finishes
/// the requests in flight, and the ledger is closed).
public enum ALVHServer {
    /// Validates the configuration, loads the TLS files, opens and verifies the ledger, and serves
    /// until SIGTERM or SIGINT. `onListening` is told the URL once the socket is bound (with the real
    /// port when `port` was 0).
    public static func run(_ configuration: ServiceConfiguration, logger: Logger,
                           onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        try configuration.validate()
        // The file-descriptor budget is read before anything is opened: too low, and nothing is.
        let budget = try ConnectionBudget.current(configuration.limits)
        let tls = try configuration.tls.map(tlsConfiguration) // every file is read before the ledger is opened
        let ledger = try await Ledger.open(workspace: configuration.workspace, at: configuration.ledger)
        if let pins = configuration.pins { ledger.pin(pins) }
        do {
            _ = try await ledger.verified() // from genesis: the service decides on a chain it verified
            let tally = RequestTally()
            let parts = try await application(ledger: ledger, configuration: configuration, tls: tls, logger: logger, tally: tally,
                                              budget: budget, onListening: onListening)
            let group = ServiceGroup(configuration: .init(
                // Shut down in reverse order: the watcher first (its end closes the event streams),
                // then the HTTP server (which waits for the requests in flight).
                services: [parts.app, parts.watcher],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
            try await group.run()
            // What was asked of it, by route (the benchmarks read this line: scripts/bench, item 10).
            logger.notice("requests served \(tally.json)")
            logger.notice("connections refused or closed before their handshake, in all \(parts.gate.totals.json)")
        } catch {
            try? await ledger.close()
            throw error
        }
        try await ledger.close()
    }

    /// The HTTP application and the watcher that feeds its event streams (primed: it knows the
    /// current head and queue). The application does not run the watcher: run both in one group.
    /// Connections pass the gate of `budget` (default: this process's, ``ConnectionBudget/current(_:)``)
    /// and the handshake deadline of `configuration.limits`.
    public static func application(ledger: Ledger, configuration: ServiceConfiguration, tls: TLSConfiguration? = nil,
                                   logger: Logger, tally: RequestTally? = nil, budget: ConnectionBudget? = nil,
                                   onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws
        -> (app: Application<RouterResponder<APIContext>>, watcher: LedgerWatcher, gate: ConnectionGate) {
        let watcher = LedgerWatcher(ledger: ledger, broadcaster: EventBroadcaster(),
                                    interval: .milliseconds(configuration.pollMilliseconds), logger: logger)
        try await watcher.prime()
        let api = API(ledger: ledger, committer: configuration.committer, watcher: watcher, limits: configuration.limits, tally: tally)
        let http1 = http1Configuration(configuration.limits)
        let budget = try budget ?? ConnectionBudget.current(configuration.limits)
        let gate = ConnectionGate(budget: budget, handshakeTimeout: .milliseconds(Int64(configuration.limits.handshakeTimeout * 1000)),
                                  logger: logger)
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        // Hummingbird's .tls(.http1()) with the gate in front: each accepted socket is admitted or
        // closed before the TLS handler is added, and its handshake has a deadline.
        let server = HTTPServerBuilder { responder in
            GuardedChannel(base: HTTP1Channel(responder: responder, configuration: http1), sslContext: sslContext, gate: gate)
        }
        logger.info("connections: at most \(budget.global) open, \(budget.pendingHandshakes) of them in their handshake, \(budget.perAddress) per address; handshake deadline \(configuration.limits.handshakeTimeout) s",
                    metadata: ["fd-limit": "\(budget.descriptorLimit == Int.max ? "unlimited" : String(budget.descriptorLimit))",
                               "fd-reserve": "\(budget.reserve)", "max-connections": "\(configuration.limits.maxConnections)"])
        let scheme = tls == nil ? "http" : "https"
        let host = configuration.host
        let app = Application(
            router: api.router(),
            server: server,
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "alvh"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let shown = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
                onListening("\(scheme)://\(shown):\(port)")
            },
            logger: logger)
        return (app, watcher, gate)
    }

    /// The HTTP/1 channel: the idle timeout and the header limits of `limits`.
    static func http1Configuration(_ limits: ServiceConfiguration.Limits) -> HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(
            idleTimeout: .milliseconds(Int64(limits.idleTimeout * 1000)),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes,
                                            maxHeaderFieldCount: limits.maxHeaderFields))
    }

    /// The server's TLS: its certificate chain and key, TLS 1.3 at least, and — unless turned off —
    /// a client certificate issued by the desk CA on every connection (mTLS).
    public static func tlsConfiguration(_ files: ServiceConfiguration.TLSFiles) throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificate).map { NIOSSLCertificateSource.certificate($0) }
            guard !chain.isEmpty else { throw ServiceError("tls", "no certificate in the file", path: files.certificate) }
            let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv13
            if files.requireClientCertificates {
                guard let ca = files.clientCA else {
                    throw ServiceError("usage", "client certificates are required: give --client-ca FILE", path: "--client-ca")
                }
                let roots = try NIOSSLCertificate.fromPEMFile(ca)
                guard !roots.isEmpty else { throw ServiceError("tls", "no certificate in the file", path: ca) }
                tls.trustRoots = .certificates(roots)
                // A server that verifies peers requires a certificate from every client (NIOSSL sets
                // SSL_VERIFY_FAIL_IF_NO_PEER_CERT); no hostname check, as a client has no host name.
                tls.certificateVerification = .noHostnameVerification
            } else {
                tls.certificateVerification = .none
            }
            return tls
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError("tls", "cannot load the TLS files: \(error)",
                               path: "\(files.certificate), \(files.privateKey)\(files.clientCA.map { ", " + $0 } ?? "")")
        }
    }
}
