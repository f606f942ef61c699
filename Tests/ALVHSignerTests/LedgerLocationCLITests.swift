import Foundation
import Testing
import ALVHTestSupport

/// `--ledger URL` with the real `alvh` binary: a bad location is named with its fix, a password
/// never leaves the process, and (with a PostgreSQL server) the demo's walk, `ledger setup`,
/// `ledger copy` both ways and `ledger verify` run on a shared ledger.
@Suite struct LedgerLocationCLITests {
    struct BadLocation: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        let field: String
        let says: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badLocations: [BadLocation] = [
        .init(arguments: ["ledger", "verify", "--ledger", "ftp://desk/ledger"], field: "--ledger", says: "unknown scheme 'ftp'; give sqlite:PATH, postgres://user@host[:port]/db or https://host:port"),
        .init(arguments: ["ledger", "verify", "--ledger", "postgres://db.desk/alvh"], field: "--ledger", says: "no user; write postgres://USER@host/db"),
        .init(arguments: ["ledger", "verify", "--ledger", "postgres://alvh@db.desk/"], field: "--ledger", says: "no database name"),
        .init(arguments: ["ledger", "verify", "--ledger", "postgres://alvh@db.desk/alvh?sslmode=maybe"], field: "--ledger", says: "sslmode 'maybe' is not one of disable, prefer, require"),
        .init(arguments: ["ledger", "verify", "--ledger", "postgres://alvh@db.desk/alvh?timeout=3"], field: "--ledger", says: "unknown parameter 'timeout'"),
        .init(arguments: ["ledger", "verify", "--ledger", "sqlite:"], field: "--ledger", says: "sqlite: needs a path"),
        .init(arguments: ["pending", "--ledger-password-file", "pw"], field: "--ledger-password-file", says: "needs a postgres:// ledger"),
        .init(arguments: ["ledger", "setup", "--ledger", "sqlite:desk.sqlite"], field: "--ledger", says: "setup prepares a PostgreSQL database"),
        .init(arguments: ["ledger", "setup"], field: "--ledger", says: "give the database to set up"),
        // --server: an `alvh serve` service instead of a database.
        .init(arguments: ["pending", "--server", "https://127.0.0.1:8443", "--tls-dir", "nowhere"], field: "nowhere/ca.pem",
              says: "cannot read the desk CA certificate"),
        .init(arguments: ["pending", "--server", "http://10.0.0.5:8443"], field: "--server", says: "plain http:// is for a service on loopback only"),
        .init(arguments: ["pending", "--server", "https://alice:pw@127.0.0.1:8443"], field: "--server", says: "no user or password in a service URL"),
        .init(arguments: ["pending", "--server", "https://127.0.0.1:8443/v1/proposals"], field: "--server", says: "without a path or query"),
        .init(arguments: ["pending", "--server", "postgres://alvh@db/desk"], field: "--server", says: "a database is --ledger"),
        .init(arguments: ["pending", "--server", "https://127.0.0.1:8443", "--ledger", "sqlite:x.sqlite"], field: "--server", says: "not both"),
        .init(arguments: ["pending", "--tls-dir", "tls"], field: "--tls-dir", says: "give --server too"),
    ]

    @Test(arguments: badLocations)
    func aBadLocationIsNamedWithItsFix(_ bad: BadLocation) throws {
        let directory = try TestDirectory()
        let run = try TestProcess.run(TestProcess.alvh, bad.arguments + ["--workspace", directory.path])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("error: \(bad.field): "), "\(run.stderr)")
        #expect(run.stderr.contains(bad.says), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "nothing written")
    }

    /// The environment variable is named when it is the source of the bad location.
    @Test func aBadALVHLedgerIsNamed() throws {
        let directory = try TestDirectory()
        let run = try TestProcess.run(TestProcess.alvh, ["pending", "--workspace", directory.path], environment: ["ALVH_LEDGER": "mysql://x/y"])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("error: ALVH_LEDGER: unknown scheme 'mysql'"), "\(run.stderr)")
    }

    @Test func aPasswordFileOthersCanReadIsRefused() throws {
        let directory = try TestDirectory()
        let file = "\(directory.path)/pw"
        try Data("hunter2secret\n".utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o644)
        let run = try TestProcess.run(TestProcess.alvh, ["ledger", "verify", "--ledger", "postgres://alvh@127.0.0.1:1/desk",
                                                         "--ledger-password-file", file, "--workspace", directory.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("\(file): the password file can be read by others (mode 644); chmod 600 it [bad-location]"), "\(run.stderr)")
        #expect(!run.stderr.contains("hunter2secret"))
    }

    /// An unreachable server: a `database` error naming the URL without its password, in text and
    /// in --json; the password (from the URL, from PGPASSWORD, from a file) appears nowhere.
    @Test func aPasswordIsNeverPrinted() throws {
        let directory = try TestDirectory()
        let file = "\(directory.path)/pw"
        try Data("fileSecret42\n".utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o600)
        let runs = [
            try TestProcess.run(TestProcess.alvh, ["ledger", "verify", "--ledger", "postgres://alvh:urlSecret42@127.0.0.1:1/desk", "--workspace", directory.path]),
            try TestProcess.run(TestProcess.alvh, ["pending", "--json", "--ledger", "postgres://alvh:urlSecret42@127.0.0.1:1/desk", "--workspace", directory.path]),
            try TestProcess.run(TestProcess.alvh, ["book", "--ledger", "postgres://alvh@127.0.0.1:1/desk", "--workspace", directory.path],
                                environment: ["PGPASSWORD": "envSecret42"]),
            try TestProcess.run(TestProcess.alvh, ["ledger", "log", "--json", "--ledger", "postgres://alvh@127.0.0.1:1/desk", "--ledger-password-file", file,
                                                   "--workspace", directory.path]),
        ]
        for run in runs {
            #expect(run.status == 1)
            let everything = run.text + run.stderr
            #expect(everything.contains("postgres://alvh@127.0.0.1:1/desk"), "\(everything)")
            #expect(everything.contains("database"), "\(everything)")
            for secret in ["urlSecret42", "envSecret42", "fileSecret42"] { #expect(!everything.contains(secret), "\(everything)") }
        }
        #expect(runs[1].text.contains(#""code" : "database""#), "\(runs[1].text)")
    }

    /// `ledger verify` on a terminal (a pseudo-terminal from script(1)) shows its progress on stderr:
    /// entries done, the rate; with --json, or off a terminal, nothing but the report.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script(1) is not installed (util-linux)"))
    func verifyShowsProgressOnATerminalOnly() throws {
        let export = TestProcess.packageRoot.appendingPathComponent("Tests/ALVHLedgerTests/Fixtures/demo-ledger-format2.jsonl").path
        func onTerminal(_ arguments: String) throws -> String {
            let run = try TestProcess.run("/usr/bin/script", ["-qec", "\(TestProcess.alvh) \(arguments)", "/dev/null"], timeout: 60)
            #expect(run.status == 0, "\(run.text)")
            return run.text
        }
        let text = try onTerminal("ledger verify --export \(export)")
        #expect(text.contains("verifying: 7 entries · "), "\(text)")
        #expect(text.contains("/s"), "\(text)")
        #expect(text.contains("OK: 7 entries"), "\(text)")
        let json = try onTerminal("ledger verify --json --export \(export)")
        #expect(!json.contains("verifying"), "\(json)")
        #expect(json.contains(#""ok" : true"#), "\(json)")
        let plain = try TestProcess.run(TestProcess.alvh, ["ledger", "verify", "--export", export])
        #expect(plain.status == 0)
        #expect(plain.stderr.isEmpty, "no progress line off a terminal: \(plain.stderr)")
    }

    /// The demo's whole walk on a PostgreSQL ledger (5 signer processes and a coordinator on it),
    /// then `ledger verify` on it, `ledger copy` to a SQLite file and back into another database,
    /// and the refusals: a target that is not empty, a copy onto itself.
    @Test(PostgresTestServer.enabled, .timeLimit(.minutes(5)))
    func theDemoRunsOnPostgreSQLAndTheLedgerCopiesBothWays() async throws {
        try await PostgresTestServer.withFreshDatabase { database in
            try await PostgresTestServer.withFreshDatabase { second in
                let directory = try TestDirectory()
                let url = database.location.redacted
                let env = database.location.password.map { ["PGPASSWORD": $0] } ?? [:]
                let setup = try TestProcess.run(TestProcess.alvh, ["ledger", "setup", "--ledger", url, "--app-role", "alvh_app_\(database.name.suffix(8))"],
                                                environment: env)
                #expect(setup.status == 0, "\(setup.stderr)")
                let demo = try TestProcess.run(TestProcess.alvh, ["demo", "--workspace", "\(directory.path)/desk", "--ledger", url], environment: env, timeout: 240)
                #expect(demo.status == 0, "\(demo.stderr)\n\(demo.text.suffix(2000))")
                #expect(demo.text.contains("OK: 7 entries"), "\(demo.text.suffix(2000))")
                #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/desk/alvh.sqlite"), "the demo's ledger is the database, not a file")

                let verify = try TestProcess.run(TestProcess.alvh, ["ledger", "verify", "--json", "--ledger", url, "--workspace", "\(directory.path)/desk"],
                                                 environment: env)
                #expect(verify.status == 0, "\(verify.stderr)")
                #expect(verify.text.contains(#""ok" : true"#))
                #expect(verify.stderr.isEmpty, "no progress line off a terminal: \(verify.stderr)")

                let copy = try TestProcess.run(TestProcess.alvh, ["ledger", "copy", "--from", url, "--to", "sqlite:\(directory.path)/copy.sqlite", "--json"],
                                               environment: env)
                #expect(copy.status == 0, "\(copy.stderr)")
                #expect(copy.text.contains(#""entries" : 7"#), "\(copy.text)")
                let local = try TestProcess.run(TestProcess.alvh, ["ledger", "verify", "--ledger", "sqlite:\(directory.path)/copy.sqlite"])
                #expect(local.status == 0, "\(local.stderr)")

                let back = try TestProcess.run(TestProcess.alvh, ["ledger", "copy", "--from", "sqlite:\(directory.path)/copy.sqlite",
                                                                  "--to", second.location.redacted], environment: env)
                #expect(back.status == 0, "\(back.stderr)")
                let again = try TestProcess.run(TestProcess.alvh, ["ledger", "copy", "--from", "sqlite:\(directory.path)/copy.sqlite",
                                                                   "--to", second.location.redacted], environment: env)
                #expect(again.status == 1)
                #expect(again.stderr.contains("already holds a ledger (head entry 6); copy into an empty database [already-initialized]"), "\(again.stderr)")
                let onto = try TestProcess.run(TestProcess.alvh, ["ledger", "copy", "--from", url, "--to", url], environment: env)
                #expect(onto.status == 1)
                #expect(onto.stderr.contains("--to names the ledger being copied"), "\(onto.stderr)")
                let toFile = try TestProcess.run(TestProcess.alvh, ["ledger", "copy", "--from", url, "--to", "sqlite:\(directory.path)/copy.sqlite"],
                                                 environment: env)
                #expect(toFile.status == 1)
                #expect(toFile.stderr.contains("the target exists"), "\(toFile.stderr)")
            }
        }
    }
}

/// A fresh temporary directory, removed when the value goes.
final class TestDirectory: Sendable {
    let path: String
    init() throws {
        var template = Array((NSTemporaryDirectory() + "/alvh-cli-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: made)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
