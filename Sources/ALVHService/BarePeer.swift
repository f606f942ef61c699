import Foundation
import Logging
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOCore
import ServiceLifecycle

@_spi(Bench)
extension ALVHServer {
    /// The peer of `alvh serve`'s request rate (alvh-bench, `service-requests`): a bare Hummingbird
    /// application on the same TLS configuration (``tlsConfiguration(_:)``: the same files, TLS 1.3,
    /// a client certificate of the desk CA on every connection) and the same HTTP/1 channel
    /// configuration as the real server, answering `GET /v1/ledger/head` with the fixed `body`
    /// (JSON) — no router middleware, no ledger. Serves until SIGTERM or SIGINT; `onListening` is
    /// told the URL once the socket is bound.
    public static func runBarePeer(tls files: ServiceConfiguration.TLSFiles, host: String = "127.0.0.1", port: Int, body: [UInt8],
                                   logger: Logger, onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let tls = try tlsConfiguration(files)
        let router = Router()
        let bytes = ByteBuffer(bytes: body)
        router.get("/v1/ledger/head") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: bytes))
        }
        let app = Application(
            router: router,
            server: try .tls(.http1(configuration: http1Configuration(ServiceConfiguration.Limits())), tlsConfiguration: tls),
            configuration: .init(address: .hostname(host, port: port), serverName: "alvh-bare-peer"),
            onServerRunning: { channel in onListening("https://\(host):\(channel.localAddress?.port ?? port)") },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
