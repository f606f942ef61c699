import Foundation
import Synchronization
import Hummingbird
import NIOCore
import NIOSSL
import ALVHSigning

/// The request context: Hummingbird's, plus the client's address and its connection (whose client
/// certificate, over mTLS, is the key of its rate limit).
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address (nil in the in-process test framework).
    public let clientAddress: String?
    /// The connection the request came on.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
        channel = source.channel
    }

    /// Who the request counts against: the client certificate the TLS handshake verified (mTLS),
    /// else the peer's address (plain HTTP on loopback), else the in-process test client.
    func client() async -> ClientKey {
        if let fingerprint = await Self.peerCertificateFingerprint(channel) { return .certificate(fingerprint) }
        return clientAddress.map(ClientKey.address) ?? .local
    }

    /// The hex SHA-256 of the DER of the leaf certificate the client presented in the TLS
    /// handshake; nil on a connection without TLS or without a client certificate.
    ///
    /// A certificate is there only when it was verified: the server asks for one only when it
    /// verifies client certificates (``ALVHServer/tlsConfiguration(_:)``: the desk CA, and a
    /// handshake with a certificate it did not issue fails), so a client cannot make up a new
    /// identity (a new bucket) by presenting a new self-made certificate.
    static func peerCertificateFingerprint(_ channel: any Channel) async -> String? {
        // No NIOSSL handler on the connection (plain HTTP): the pipeline answers notFound.
        guard let certificate = try? await channel.nioSSL_peerCertificate().get(),
              let der = try? certificate.toDERBytes() else { return nil }
        return SHA256.hexDigest(der)
    }
}

/// What a rate-limit bucket belongs to.
enum ClientKey: Hashable, Sendable, CustomStringConvertible {
    /// A verified client certificate: the hex SHA-256 of its DER. Every connection that presents it
    /// shares the bucket, from whatever address and port.
    case certificate(String)
    /// A peer address, when there is no client certificate (plain HTTP on loopback).
    case address(String)
    /// The in-process test client (no socket).
    case local

    var description: String {
        switch self {
        case .certificate(let fingerprint): "certificate \(fingerprint.prefix(16))…"
        case .address(let address): "address \(address)"
        case .local: "local"
        }
    }
}

/// Per-client token buckets: `rate` requests a second on average, `burst` at once.
final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    let burst: Double
    private let buckets = Mutex<[ClientKey: Bucket]>([:])

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// Takes a token for `client`; nil when allowed, else the seconds until one is there.
    func take(_ client: ClientKey, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * rate)
            bucket.updated = now
            defer {
                buckets[client] = bucket
                if buckets.count > 10_000 { // forget the full buckets (they are the default)
                    buckets = buckets.filter { $0.value.tokens < burst }
                }
            }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }
}

/// Every answer that is not a success is the CLI's JSON error shape; every request is counted
/// against its client's rate limit first.
struct APIMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let limiter: RateLimiter
    var tally: RequestTally? = nil

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let tally else { return try await answer(request, context: context, next: next) }
        let start = ContinuousClock.now
        let response = try await answer(request, context: context, next: next)
        let route = response.status == .tooManyRequests ? "429" : "\(request.method) \(context.endpointPath ?? "?")"
        tally.add(route, start.duration(to: .now))
        return response
    }

    func answer(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        if let retry = limiter.take(await context.client()) {
            var response = APIError.rateLimited(retry).response
            response.headers[.retryAfter] = String(retry)
            return response
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let code: String
            let reason: String
            let allowed = error.status == .notFound ? Self.methods(allowedOn: request.uri.path) : []
            if !allowed.isEmpty {
                // The path is a route, with other methods: 405 and what it takes (RFC 9110, 15.5.6).
                var response = APIError("method-not-allowed",
                                        "\(request.method) is not allowed on \(request.uri.path); it takes \(allowed.joined(separator: ", ")) (see /openapi.yaml)",
                                        status: .methodNotAllowed).response
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            }
            switch error.status {
            case .notFound:
                code = "not-found"
                reason = "no such route: \(request.method) \(request.uri.path) (see /openapi.yaml)"
            case .methodNotAllowed:
                code = "method-not-allowed"
                reason = "\(request.method) is not allowed on \(request.uri.path) (see /openapi.yaml)"
            case .contentTooLarge:
                code = "too-large"
                reason = error.body ?? "the request is too large"
            default:
                code = error.status.code < 500 ? "invalid-input" : "internal"
                reason = error.body ?? error.status.reasonPhrase
            }
            return APIError(code, reason, status: error.status).response
        } catch {
            let api = APIError(error)
            if api.status.code >= 500 { context.logger.error("\(request.method) \(request.uri.path): \(api)") }
            return api.response
        }
    }
}

extension APIMiddleware {
    /// The methods of the routes whose path matches `path` (a `{parameter}` matches one non-empty
    /// segment), in the order of the route table; empty when no route has this path.
    static func methods(allowedOn path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var methods: [String] = []
        for route in API.routes where !methods.contains(route.method) {
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: false)
            guard pattern.count == segments.count else { continue }
            let matches = zip(pattern, segments).allSatisfy { pattern, segment in
                pattern.hasPrefix("{") && pattern.hasSuffix("}") ? !segment.isEmpty : pattern == segment
            }
            if matches { methods.append(route.method) }
        }
        return methods
    }
}

extension APIError {
    /// The error as a JSON response.
    var response: Response {
        JSONResponse.make(body, status: status)
    }
}

enum JSONResponse {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"code":"internal","reason":"the answer could not be encoded"}}"#.utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The requests a service answered, by route (`METHOD /path/{param}`; rate-limited ones as `429`):
/// how many, and how long their handlers took until the answer's head (an event stream's or an
/// entries stream's body is not counted). `alvh serve` logs it when it stops.
public final class RequestTally: Sendable {
    public struct Line: Sendable, Equatable {
        public var count: Int
        public var seconds: Double
    }

    private let lines = Mutex<[String: Line]>([:])

    public init() {}

    func add(_ route: String, _ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        lines.withLock { lines in
            var line = lines[route] ?? Line(count: 0, seconds: 0)
            line.count += 1
            line.seconds += seconds
            lines[route] = line
        }
    }

    /// Every route's count and handler seconds so far.
    public var byRoute: [String: Line] { lines.withLock { $0 } }

    /// One line of JSON: `{"GET /v1/store/head":{"count":N,"ms":M},…}` (M: the handlers' total milliseconds).
    public var json: String {
        let object = byRoute.mapValues { ["count": Double($0.count), "ms": ($0.seconds * 1e6).rounded() / 1e3] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
