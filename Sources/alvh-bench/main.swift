import ALVHSigning
import Foundation

// alvh-bench: micro-benchmarks that print figures; scripts/bench runs them with their peers
// (openssl speed, Python cryptography, QuantLib, bare SQLite) in the same run and prints ratios.
//
//   alvh-bench verify --seconds S            Ed25519 / P-256 verifications per second on one core



func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` repeatedly for about `seconds`; returns operations per second.
func rate(seconds: Double, batch: Int = 256, _ body: () -> Void) -> Double {
    let start = now()
    var count = 0
    while now() - start < seconds {
        for _ in 0..<batch { body() }
        count += batch
    }
    return Double(count) / (now() - start)
}

func benchVerify(seconds: Double) throws {
    // Like `openssl speed`: a fixed message, a fixed signature, verified over and over.
    for type in [KeyType.ed25519, .p256] {
        let key = try PrivateKey.generate(type)
        let message = [UInt8](repeating: 0x61, count: 64)
        let signature = try key.signature(for: message)
        let publicKey = key.publicKey
        var ok = true
        let perSecond = rate(seconds: seconds) { ok = ok && publicKey.isValidSignature(signature, for: message) }
        precondition(ok)
        print("verify \(type.rawValue) \(String(format: "%.1f", perSecond))")
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
let seconds = arguments.firstIndex(of: "--seconds").flatMap { Double(arguments[$0 + 1]) } ?? 3
switch arguments.first {
case "verify": try benchVerify(seconds: seconds)
default:
    FileHandle.standardError.write(Data("usage: alvh-bench verify [--seconds S]\n".utf8))
    exit(64)
}
