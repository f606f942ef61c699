import Foundation
import Synchronization
import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import ALVHSigning
import ALVHStorage

/// A deliberately lying `alvh serve`: a real HTTP server (Hummingbird, on a loopback port) that
/// forwards every request to a real service and tampers with the answers the test asks it to.
/// Clients reach it with `--server http://127.0.0.1:PORT` exactly as they reach a service.
final class LyingService: Sendable {
    /// How to lie about one answer: given the request's method and path and the real answer's
    /// status and body, the status and body to send instead (nil: the truth).
    typealias Lie = @Sendable (_ method: String, _ path: String, _ status: Int, _ body: [UInt8]) -> (Int, [UInt8])?

    let upstream = Mutex<String>("")
    let lie = Mutex<Lie?>(nil)
    /// Requests not forwarded at all: given method, path and body, the status and body to answer (nil: forward).
    let swallow = Mutex<(@Sendable (_ method: String, _ path: String, _ body: [UInt8]) -> (Int, [UInt8])?)?>(nil)
    /// Requests answered, by "METHOD path" (what the clients asked the liar for).
    let seen = Mutex<[String]>([])
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    let task = Mutex<Task<Void, any Error>?>(nil)
    let port = Mutex<Int?>(nil)

    init(upstream: String) { self.upstream.withLock { $0 = upstream } }

    var url: String { "http://127.0.0.1:\(port.withLock { $0 }!)" }

    func start() async throws {
        let responder = Responder(service: self)
        var quiet = Logger(label: "liar")
        quiet.logLevel = .critical // its cancellation at the end is not news
        let app = Application(responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "liar"),
                              onServerRunning: { [self] channel in port.withLock { $0 = channel.localAddress?.port } }, logger: quiet)
        task.withLock { $0 = Task { try await app.runService() } }
        for _ in 0..<500 where port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        guard port.withLock({ $0 }) != nil else { throw StorageError(.database, "the lying service did not start") }
    }

    func stop() async {
        task.withLock { $0 }?.cancel()
        _ = await task.withLock { $0 }?.result
        try? await client.shutdown()
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let service: LyingService

        func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
            let path = request.uri.path
            var forward = HTTPClientRequest(url: service.upstream.withLock { $0 } + request.uri.description)
            forward.method = .init(rawValue: request.method.rawValue)
            for field in request.headers where field.name.canonicalName != "host" { forward.headers.add(name: field.name.rawName, value: field.value) }
            let body = try await request.body.collect(upTo: 16 << 20)
            if request.method != .get { forward.body = .bytes(body) }
            service.seen.withLock { $0.append("\(request.method.rawValue) \(path)") }
            if let swallow = service.swallow.withLock({ $0 }), let (status, answer) = swallow(request.method.rawValue, path, Array(body.readableBytesView)) {
                return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
            }
            let real = try await service.client.execute(forward, timeout: .seconds(30))
            var realBody = try await real.body.collect(upTo: 256 << 20)
            let bytes = realBody.readBytes(length: realBody.readableBytes) ?? []
            var status = Int(real.status.code)
            var answer = bytes
            if let lie = service.lie.withLock({ $0 }), let (lyingStatus, lyingBody) = lie(request.method.rawValue, path, status, bytes) {
                status = lyingStatus
                answer = lyingBody
            }
            var headers = HTTPFields()
            headers[.contentType] = real.headers.first(name: "content-type") ?? "application/json"
            return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer)))
        }
    }
}

/// JSON edits for lies.
enum JSONEdit {
    static func object(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    static func bytes(_ object: Any) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }
}
