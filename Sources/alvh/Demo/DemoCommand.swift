import ArgumentParser
import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHSigning
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The whole workflow in a fresh workspace: keys, policy, ledger, `alvh serve`, engine proposals, 5 remote signers, a coordinator.",
        discussion: """
        With no input: generates a trader key and 5 signer keys (3 risk officers, a CRO, a limits bot), a policy \
        (3 of 5 for a layer change, a CRO among them for the backstop, the limits bot has veto), and a ledger \
        holding an iron condor. Starts `alvh serve` on the ledger (TLS 1.3, client certificates from a desk CA it \
        makes in tls/), then the 5 signers and a coordinator as separate OS processes, each in a folder of its own \
        (signers/NAME/, coordinator/) holding only its key, its TLS identity and its state, talking to the service \
        only — no process but the service opens the ledger. Then walks the shipped snapshots calm → pre-FOMC → \
        spike → recovery: the engine proposes, the trader signs and queues, the signers verify and decide on their \
        own, the coordinator commits. One risk officer's process is killed with SIGKILL mid-run, and later the \
        service itself (it is restarted); the limits bot vetoes what breaks its limits. Ends with `ledger verify` \
        through the service and the book's risk, and prints how to start the service again and connect to it. \
        `--local`: the one-workspace walk (every process opens the ledger itself).
        """
    )

    @Option(name: .long, help: "Where to build the demo workspace (default: a new temporary directory). Must not hold a ledger.",
            completion: .directory)
    var workspace: String?

    @Option(name: .long, help: ArgumentHelp(
        "Run the demo on this ledger instead of the workspace's alvh.sqlite: an empty PostgreSQL database (set up with `alvh ledger setup`), postgres://user@host[:port]/db.",
        valueName: "url"))
    var ledger: String?

    @Option(name: .long, help: ArgumentHelp("A file (mode 0600) holding the --ledger's PostgreSQL password.", valueName: "file"), completion: .file())
    var ledgerPasswordFile: String?

    @Option(name: .long, help: "The directory with market/*.json and book/condor.json (default: the repository's Examples/).",
            completion: .directory)
    var examples: String?

    @Flag(name: .long, help: "The one-workspace walk: the signers and coordinator open the ledger themselves (no service).")
    var local = false

    @Option(name: .long, help: "Seconds to wait for each proposal's outcome.")
    var timeout: Double = 30

    func run() async throws {
        try await reportingErrors(json: false) {
            let examplesDir = try examples ?? DemoFiles.findExamples()
            var options = WorkspaceOptions()
            options.workspace = nil // every property set: a property wrapper never parsed cannot be read
            options.server = nil
            options.tlsDir = nil
            options.ledger = ledger
            options.ledgerPasswordFile = ledgerPasswordFile
            let location = ledger == nil ? nil : try options.ledgerLocation()
            let root = try workspace ?? DemoWorkspace.makeTemporary()
            try SecureFile.makeDirectory(root, mode: 0o755)
            guard !SecureFile.exists(Ledger.path(workspace: root)) else {
                throw CLIError("demo-workspace", "already holds a ledger; give an empty directory (or none, for a temporary one)", path: root)
            }
            var demo = try DemoRun(root: root, examples: examplesDir, timeout: timeout, location: location, network: !local)
            defer { demo.stopAll() }
            try await demo.run()
        }
    }
}

enum DemoWorkspace {
    static func makeTemporary() throws -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/alvh-demo-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CLIError("demo-workspace", "cannot create a temporary directory under \(base)", path: base)
        }
        return String(cString: made)
    }
}

enum DemoFiles {
    /// The repository's Examples/: beside the current directory, or above the built binary.
    static func findExamples() throws -> String {
        var candidates = ["Examples"]
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("Examples").path)
            dir.deleteLastPathComponent()
        }
        guard let found = candidates.first(where: { SecureFile.exists("\($0)/market/calm.json") }) else {
            throw CLIError("no-examples", "cannot find Examples/market/calm.json; run from the repository or pass --examples DIR", path: "--examples")
        }
        return found
    }

    /// How to name this binary in a printed command: `alvh` when that is what PATH finds, else its full path.
    static func commandName() -> String {
        let own = ownExecutable()
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: "\(directory)/alvh").resolvingSymlinksInPath().path
            if SecureFile.exists(candidate) { return candidate == own ? "alvh" : own }
        }
        return own
    }

    static func ownExecutable() -> String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        return SecureFile.exists(exe) ? exe : CommandLine.arguments[0]
    }
}
