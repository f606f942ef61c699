import ArgumentParser
import Foundation
import Logging
import ALVHService

extension ServiceError: ReportableError {
    var reportCode: String { code }
    var reportReason: String { reason }
    var reportPath: String? { path }
    var reportDetail: String? { nil }
}

/// `alvh serve`: parses its options and hands them to ``ALVHServer/run(_:logger:onListening:)``.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the ledger's JSON API (/v1/) over TLS 1.3 with client certificates (docs/service.md).",
        discussion: """
        Propose, the queue, one proposal (its envelope bytes, its approval report), signatures and signed rejections, \
        commit (re-verified in one transaction, signed with --committer-key), the ledger's entries, head and blobs, and \
        Server-Sent Events. Every write is verified by the ledger before it is stored. Without --tls-cert/--tls-key/--client-ca \
        it refuses to start, unless --insecure-loopback and a loopback --bind. SIGTERM / SIGINT: graceful shutdown. \
        The API is documented in docs/openapi.yaml, also served at /openapi.yaml.
        """
    )

    @Option(name: .long, help: "The address to listen on (127.0.0.1, ::1, localhost, or another address with TLS).")
    var bind = "127.0.0.1"

    @Option(name: .long, help: "The port (0: any free port; the URL is printed on stderr).")
    var port = 8443

    @Option(name: .long, help: "The server's certificate chain (PEM).", completion: .file())
    var tlsCert: String?

    @Option(name: .long, help: "The server's TLS private key (PEM; a transport key, never a signing key).", completion: .file())
    var tlsKey: String?

    @Option(name: .long, help: "The desk CA whose client certificates are accepted (PEM).", completion: .file())
    var clientCA: String?

    @Flag(name: .long, help: "Serve plain HTTP (allowed on a loopback --bind only).")
    var insecureLoopback = false

    @Option(name: .long, help: "Largest request body in bytes (413 past it).")
    var maxBody = 4 << 20

    @Option(name: .long, help: "Requests per second per client (429 past the burst).")
    var rateLimit: Double = 50

    @Option(name: .long, help: "Requests a client may make at once before the rate applies.")
    var burst: Double = 100

    @Option(name: .long, help: "Seconds a request body may take to arrive (408 past it).")
    var requestTimeout: Double = 10

    @Option(name: .long, help: "Seconds an idle connection is kept.")
    var idleTimeout: Double = 60

    @Option(name: .long, help: "Seconds a connection may take to finish its TLS handshake (plain HTTP: to send its first bytes) before it is closed.")
    var handshakeTimeout: Double = 10

    @Option(name: .long, help: "Most connections open at once (fewer if ulimit -n leaves fewer; half at most in their handshake; docs/service.md).")
    var maxConnections = 1024

    @Option(name: .long, help: "Most connections open at once from one IP address.")
    var maxConnectionsPerAddress = 32

    @Option(name: .long, help: "Milliseconds between looks at the ledger for other processes' writes (events).")
    var poll = 250

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    @OptionGroup var committer: CommitterOptions
    @OptionGroup var pin: PinOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var workspace: WorkspaceOptions

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error") }
    }

    func run() async throws {
        try await reportingErrors(json: false) {
            var limits = ServiceConfiguration.Limits()
            limits.maxBodyBytes = maxBody
            limits.ratePerSecond = rateLimit
            limits.burst = burst
            limits.requestTimeout = requestTimeout
            limits.idleTimeout = idleTimeout
            limits.handshakeTimeout = handshakeTimeout
            limits.maxConnections = maxConnections
            limits.maxConnectionsPerAddress = maxConnectionsPerAddress
            let tls: ServiceConfiguration.TLSFiles?
            if tlsCert != nil || tlsKey != nil || clientCA != nil {
                guard let tlsCert, let tlsKey else {
                    throw CLIError("usage", "TLS needs both --tls-cert and --tls-key", path: tlsCert == nil ? "--tls-cert" : "--tls-key")
                }
                tls = .init(certificate: tlsCert, privateKey: tlsKey, clientCA: clientCA)
            } else {
                tls = nil
            }
            let hasCommitter = committer.committerKey != nil || !(ProcessInfo.processInfo.environment["ALVH_COMMITTER_KEY"] ?? "").isEmpty
            var configuration = ServiceConfiguration(
                workspace: workspace.path, ledger: try workspace.ledgerLocation(), pins: pin.pins, host: bind, port: port, tls: tls,
                insecureLoopback: insecureLoopback, committer: nil, limits: limits, pollMilliseconds: poll)
            try configuration.validate() // before a key is read
            if hasCommitter { configuration.committer = try committer.load(passphrase: passphrase.provider) }
            let logger = ProcessOptions.makeLogger(label: "alvh.serve", level: logLevel)
            try await ALVHServer.run(configuration, logger: logger) { url in
                Console.err("alvh serve: listening on \(url)")
            }
        }
    }
}
