import Foundation
import ALVHSigning
import ALVHApproval
import ALVHService
import ALVHTestSupport

/// A real `alvh serve` OS process, driven with the `curl` CLI (over TLS with a client certificate
/// made by `scripts/tls-init`, or plain HTTP on loopback).
struct ServeProcess {
    static let curlPath = ["/usr/bin/curl", "/usr/local/bin/curl", "/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    let process: Process
    /// `https://127.0.0.1:PORT` (or `http://…`).
    let url: String
    /// curl's TLS arguments for client `alice` (empty over plain HTTP).
    let client: [String]
    let log: String

    /// The desk CA, the server certificate and a client certificate for each of `clients`, made by scripts/tls-init.
    static func tlsInit(_ dir: String, clients: [String] = ["alice"]) throws {
        let script = TestProcess.packageRoot.appendingPathComponent("scripts/tls-init").path
        let out = try TestProcess.run("/bin/bash", [script, dir] + clients, timeout: 60)
        guard out.status == 0 else { throw ServiceError("test", "tls-init failed: \(out.stderr)") }
    }

    /// The server's TLS arguments for the files `tlsInit(dir)` made.
    static func serverTLS(_ dir: String) -> [String] {
        ["--tls-cert", "\(dir)/server.pem", "--tls-key", "\(dir)/server.key.pem", "--client-ca", "\(dir)/ca.pem"]
    }

    /// curl's arguments for client `name` (default `alice`) of `tlsInit(dir)`.
    static func clientTLS(_ dir: String, _ name: String = "alice") -> [String] {
        ["--cacert", "\(dir)/ca.pem", "--cert", "\(dir)/clients/\(name).pem", "--key", "\(dir)/clients/\(name).key.pem"]
    }

    /// Starts `alvh serve` and waits for the URL it prints; with `fileLimit`, under `ulimit -n fileLimit`.
    static func start(_ arguments: [String], log: String, client: [String] = [], fileLimit: Int? = nil) throws -> ServeProcess {
        let process = try fileLimit.map {
            try TestProcess.spawn("/bin/sh", ["-c", "ulimit -n \($0) && exec \"$0\" \"$@\"", TestProcess.alvh, "serve", "--port", "0"] + arguments,
                                  log: log)
        } ?? TestProcess.spawn(TestProcess.alvh, ["serve", "--port", "0"] + arguments, log: log)
        var url: String?
        _ = TestProcess.waitUntil(seconds: 30) {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "alvh serve: listening on ") {
                url = text[range.upperBound...].split(separator: "\n").first.map(String.init)
            }
            return url != nil || !process.isRunning
        }
        guard let url else {
            if process.isRunning { process.terminate() }
            throw ServiceError("test", "alvh serve did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        return ServeProcess(process: process, url: url, client: client, log: log)
    }

    /// SIGTERM, and waits for the exit.
    func stop() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    static func curl(_ arguments: [String]) throws -> TestProcess.Output {
        try TestProcess.run(curlPath!, ["-sS", "--max-time", "20"] + arguments, timeout: 40)
    }

    /// curl with this server's client arguments.
    func curl(_ arguments: [String]) throws -> TestProcess.Output { try Self.curl(client + arguments) }

    /// A request's HTTP status (0 when curl failed) and body.
    struct Answer: CustomStringConvertible {
        var status: Int
        var body: String
        var description: String { "\(status) \(body)" }

        /// From curl's output with `-w "\n%{http_code}"` at its end.
        init(_ output: String) {
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            status = Int(lines.last ?? "") ?? 0
            body = lines.dropLast().joined(separator: "\n")
        }

        /// The JSON error's `code`, if the body is one.
        var code: String? {
            guard let range = body.range(of: "\"code\":\"") else { return nil }
            return body[range.upperBound...].split(separator: "\"").first.map(String.init)
        }
    }

    /// `curl -w "\n%{http_code}"` on `path`, with `arguments` before the URL.
    func call(_ path: String, _ arguments: [String] = []) throws -> Answer {
        let out = try curl(["-w", "\n%{http_code}"] + arguments + ["\(url)\(path)"])
        return Answer(out.text)
    }

    /// `POST /v1/proposals` with the envelope and the market snapshot it cites (bodies through `dir`).
    func propose(_ envelope: Envelope, snapshot: [UInt8], dir: String) throws -> Answer {
        let body = "\(dir)/propose-\(envelope.id).json"
        try Data(try JSONEncoder().encode(API.ProposeRequest(envelope: Base64.encode(try envelope.encoded()), snapshot: Base64.encode(snapshot))))
            .write(to: URL(fileURLWithPath: body))
        return try call("/v1/proposals", ["-H", "Content-Type: application/json", "--data-binary", "@\(body)"])
    }

    /// `POST /v1/proposals/ID/signatures`.
    func sign(_ id: String, _ signature: Envelope.Signature) throws -> Answer {
        let json = String(decoding: try JSONEncoder().encode(API.SignatureObject(keyid: signature.keyid, sig: Base64.encode(signature.sig))), as: UTF8.self)
        return try call("/v1/proposals/\(id)/signatures", ["-H", "Content-Type: application/json", "-d", json])
    }

    /// `POST /v1/proposals/ID/commit`.
    func commit(_ id: String) throws -> Answer { try call("/v1/proposals/\(id)/commit", ["-X", "POST"]) }

    /// A curl process running `arguments` against `path` with its output (and `-w "\n%{http_code}"`) in `log`.
    func spawn(_ path: String, _ arguments: [String], log: String) throws -> Process {
        try TestProcess.spawn(Self.curlPath!, ["-sS", "--max-time", "30", "-w", "\n%{http_code}"] + client + arguments + ["\(url)\(path)"],
                              log: log)
    }

    /// `POST`s to each server's `path` at once (one curl, transfers in parallel, started together);
    /// the answers in the order of `targets`, bodies kept in `dir`.
    static func race(_ targets: [(server: ServeProcess, path: String)], dir: String) throws -> [Answer] {
        var arguments = ["-sS", "--max-time", "30", "-Z", "--parallel-immediate", "--parallel-max", "\(targets.count)", "-X", "POST",
                         "-w", "%{url_effective} %{http_code}\n"] + targets[0].server.client
        for (index, target) in targets.enumerated() {
            arguments += ["\(target.server.url)\(target.path)", "-o", "\(dir)/race-\(index).json"]
        }
        let out = try TestProcess.run(curlPath!, arguments, timeout: 40)
        var statuses: [String: Int] = [:]
        for line in out.text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { statuses[String(parts[0])] = Int(parts[1]) }
        }
        return targets.enumerated().map { index, target in
            let body = (try? String(contentsOfFile: "\(dir)/race-\(index).json", encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: "\(dir)/race-\(index).json")
            return Answer(body + "\n\(statuses["\(target.server.url)\(target.path)"] ?? 0)")
        }
    }

    /// A `curl -N` on `/v1/events` (from the oldest kept event) writing to `log`; see `events(in:)`.
    func listen(log: String) throws -> Process {
        try TestProcess.spawn(Self.curlPath!, ["-sS", "-N", "--max-time", "120"] + client + ["\(url)/v1/events?after=0"], log: log)
    }

    /// The (type, proposal) of each event in an event stream's text.
    static func events(in text: String) -> [(type: String, proposal: String?)] {
        var result: [(String, String?)] = []
        var type: String?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
            if line.hasPrefix("data: "), let t = type {
                var proposal: String?
                if let range = line.range(of: "\"proposal\":\"") {
                    proposal = line[range.upperBound...].split(separator: "\"").first.map(String.init)
                }
                result.append((t, proposal))
                type = nil
            }
        }
        return result
    }
}
