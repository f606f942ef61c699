import ArgumentParser
import ALVHApproval
import ALVHEngine
import ALVHLedger
import ALVHSigning
import ALVHStorage
import Foundation

/// The demo's script: a desk's workspace, five signer processes and a coordinator, four markets.
struct DemoRun {
    struct Member {
        let id: String
        let type: KeyType
        let roles: [String]
        let limits: String?
    }

    /// The signer set: 3 risk officers, a CRO, the limits bot (and the trader, who proposes).
    static let trader = Member(id: "trader-tom", type: .ed25519, roles: ["trader"], limits: nil)
    static let signers: [Member] = [
        Member(id: "ro-alice", type: .ed25519, roles: ["risk-officer"], limits: nil),
        Member(id: "ro-bob", type: .p256, roles: ["risk-officer"], limits: nil),
        Member(id: "ro-dana", type: .ed25519, roles: ["risk-officer"], limits: nil),
        Member(id: "cro-carol", type: .ed25519, roles: ["cro"], limits: nil),
        Member(id: "limits-bot", type: .p256, roles: ["limits-bot"], limits: """
            # The automated limits co-signer's own limits (checked on the figures it recomputes itself).
            max-premium-per-change-dollars: 6000
            max-daily-premium-dollars: 25000
            allowed-kinds: [add-layer, roll-layer, resize-layer, close-layer]
            recompute-tolerance-dollars: 1.0
            # The cited snapshot must agree with the bot's own market feed (limits/market/, --market).
            require-own-market: true
            market-tolerance: { spx-percent: 0.5, vix-points: 0.5, futures-points: 0.5, vol-points: 2 }
            """),
    ]
    static let steps = ["calm", "pre-fomc", "spike", "recovery"]
    /// The risk officer whose process is killed (SIGKILL) after this step.
    static let killed = (id: "ro-dana", afterStep: "pre-fomc")

    let root: String
    let examples: String
    let timeout: Double
    /// The ledger (nil: the workspace's alvh.sqlite). Child processes get it without its password,
    /// which they read from their environment (PGPASSWORD), never from their command line.
    let location: LedgerLocation?
    /// Across the network (the default): the service, each signer and the coordinator in a folder
    /// of its own, over mTLS on loopback; false: the one-workspace walk (`--local`).
    let network: Bool
    /// The service's port and the demo's (the trader's) view of the ledger through it.
    var port = 0
    var remote: LedgerLocation?
    /// Commits seen during the walk: sequence → hash (checked against the verified ledger at the end).
    var committed: [UInt64: String] = [:]
    var children: [String: Process] = [:]
    var ledger: Ledger!
    var trader: PrivateKey!
    var keyPaths: [String: String] = [:]

    init(root: String, examples: String, timeout: Double, location: LedgerLocation?, network: Bool) throws {
        self.root = root
        self.examples = examples
        self.timeout = timeout
        self.location = location
        self.network = network
    }

    /// `--ledger URL` for a child's command line (no password), or nothing for the workspace's file.
    var ledgerArguments: [String] { location.map { ["--ledger", $0.description] } ?? [] }

    mutating func run() async throws {
        let started = Date()
        say("alvh demo — workspace \(root)")
        say("OpenSSL: \(OpenSSLInfo.versionText)")
        try setUpKeys()
        try writePolicy()
        try await createLedger()
        var stepNumber = 4
        if network {
            try await startService(number: stepNumber)
            stepNumber += 1
        }
        try await startProcesses(number: stepNumber)
        stepNumber += 1
        for step in Self.steps {
            try await runStep(step, number: stepNumber)
            stepNumber += 1
            if step == Self.killed.afterStep, let process = children[Self.killed.id] {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                say("")
                say("   ✗ \(Self.killed.id)'s signer process killed with SIGKILL (pid \(process.processIdentifier)); 4 signers remain")
            }
            if network, step == Self.serviceKilledAfter, let process = children["service"] {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                say("")
                say("   ✗ the service killed with SIGKILL (pid \(process.processIdentifier)); signers and coordinator retry while it is down")
                try await launchService()
                say("   ✓ the service restarted on the same ledger and port (pid \(children["service"]!.processIdentifier)); clients reconnect and re-verify")
            }
        }
        try await finish(number: stepNumber, started: started)
    }

    // MARK: - Set-up

    mutating func setUpKeys() throws {
        heading(1, "Keys: one per person or bot; private keys stay under Keys/private/ (0600)")
        let store = KeyStore(directory: "\(root)/Keys")
        for member in [Self.trader] + Self.signers {
            let made = try store.generate(name: member.id, type: member.type, force: false)
            keyPaths[member.id] = made.privateKeyPath
            say("   \(member.id.padding(11)) \(member.type.rawValue.padding(8)) \(member.roles.joined(separator: ",").padding(13)) \(made.keyID.fingerprint)")
        }
        let committer = try store.generate(name: "committer", type: .ed25519, force: false)
        keyPaths["committer"] = committer.privateKeyPath
        say("   \("committer".padding(11)) \("ed25519".padding(8)) \("(entries)".padding(13)) \(committer.keyID.fingerprint)")
        trader = try PrivateKey.load(from: keyPaths[Self.trader.id]!)
        try SecureFile.makeDirectory("\(root)/limits", mode: 0o755)
        for member in Self.signers {
            if let limits = member.limits {
                try SecureFile.writeAtomically(Array((limits + "\n").utf8), to: "\(root)/limits/\(member.id).yaml", mode: 0o644)
            }
        }
    }

    func writePolicy() throws {
        heading(2, "Policy: Policies/desk.yaml")
        var yaml = """
            # Demo desk policy (written by `alvh demo`). Every layer change needs 3 distinct signatures among
            # the risk officers, the CRO and the limits bot, the limits bot's among them (it is the automated
            # limits co-signer) — and a backstop change needs the CRO as well. The limits bot has veto: its
            # signed rejection blocks a proposal. The trader proposes; its own signature never counts.
            version: 1
            name: demo-desk
            proposer-may-approve: false
            require-proposer-signature: true
            veto-roles: [limits-bot]
            max-proposal-lifetime: 24h

            signers:

            """
        for member in [Self.trader] + Self.signers {
            let key = try PublicKey.load(from: "\(root)/Keys/\(member.id).pub.pem")
            yaml += """
                  - id: \(member.id)
                    key: Keys/\(member.id).pub.pem
                    key-id: \(key.keyID.hex)
                    roles: [\(member.roles.joined(separator: ", "))]

                """
        }
        let committerKey = try PublicKey.load(from: "\(root)/Keys/committer.pub.pem")
        yaml += """

            committers:
              - id: coordinator
                key: Keys/committer.pub.pem
                key-id: \(committerKey.keyID.hex)

            rules:
              - name: layer-change
                kinds: [add-layer, roll-layer, resize-layer, close-layer]
                threshold: 3
                roles: { limits-bot: 1 }
              - name: backstop-change
                kinds: [add-layer, roll-layer, resize-layer, close-layer]
                layers: [backstop]
                threshold: 3
                roles: { cro: 1, limits-bot: 1 }
              - name: policy-change
                kinds: [policy-change]
                threshold: 4
                roles: { cro: 1, risk-officer: 2 }

            """
        try SecureFile.makeDirectory("\(root)/Policies", mode: 0o755)
        try SecureFile.writeAtomically(Array(yaml.utf8), to: "\(root)/Policies/desk.yaml", mode: 0o644)
        say("   layer change: 3 of 5 incl. limits-bot · backstop: + the CRO · veto: limits-bot · proposer never counts")
    }

    mutating func createLedger() async throws {
        heading(3, "Ledger: \(location.map { "\($0)" } ?? "alvh.sqlite"), genesis = the policy + an iron condor with no hedge layers yet")
        var book = try Book.load(path: "\(examples)/book/condor.json")
        book.layers = []
        ledger = try await Ledger.initialize(workspace: root, location: location, policyPath: "\(root)/Policies/desk.yaml", book: book,
                                       committer: try PrivateKey.load(from: keyPaths["committer"]!), at: Date())
        try SecureFile.makeDirectory("\(root)/market", mode: 0o755)
        for step in Self.steps {
            let bytes = try SecureFile.read("\(examples)/market/\(step).json", limit: MarketSnapshot.maxBytes)
            try SecureFile.writeAtomically(bytes, to: "\(root)/market/\(step).json", mode: 0o644)
            // The limits bot's own feed: it compares every cited snapshot with these.
            try SecureFile.makeDirectory("\(root)/limits/market", mode: 0o755)
            try SecureFile.writeAtomically(bytes, to: "\(root)/limits/market/\(step).json", mode: 0o644)
        }
        let c = book.condor
        say("   ledger id \(try await ledger.ledgerID())")
        say("   condor: \(c.quantity) × SPX \(c.expiry) \(Int(c.longPut))/\(Int(c.shortPut))p \(Int(c.shortCall))/\(Int(c.longCall))c, credit $\(BookPrinter.fmt(c.creditDollars)), max loss $\(BookPrinter.fmt(c.maxLossDollars))")
    }

    mutating func startProcesses(number: Int) async throws {
        try SecureFile.makeDirectory("\(root)/logs", mode: 0o755)
        let ledgerID = try await ledger.ledgerID()
        guard network else {
            heading(number, "Processes: 5 independent signers + 1 coordinator (logs in logs/)")
            for member in Self.signers {
                var arguments = ["signer", "run", "--key", keyPaths[member.id]!, "--poll", "100"]
                if member.limits != nil { arguments += ["--limits", "\(root)/limits/\(member.id).yaml", "--market", "\(root)/limits/market"] }
                children[member.id] = try spawn(member.id, arguments + ["--workspace", root] + ledgerArguments)
            }
            children["coordinator"] = try spawn("coordinator", ["coordinator", "run", "--poll", "100", "--committer-key", keyPaths["committer"]!,
                                                                "--expect-ledger-id", ledgerID, "--workspace", root] + ledgerArguments)
            for name in Self.signers.map(\.id) + ["coordinator"] {
                say("   \(name.padding(11)) pid \(children[name]!.processIdentifier)")
            }
            return
        }
        heading(number, "Processes: 5 signers + 1 coordinator, each in its own folder with only its key, TLS identity and state, over \(serviceURL)")
        for member in Self.signers {
            let folder = "\(root)/signers/\(member.id)"
            var arguments = ["signer", "run", "--workspace", folder, "--server", serviceURL, "--key", keyPaths[member.id]!,
                             "--poll", "1000", "--expect-ledger-id", ledgerID]
            if member.limits != nil { arguments += ["--limits", "\(folder)/limits.yaml", "--market", "\(folder)/market"] }
            children[member.id] = try spawn(member.id, arguments)
        }
        children["coordinator"] = try spawn("coordinator", ["coordinator", "run", "--workspace", "\(root)/coordinator", "--server", serviceURL,
                                                            "--poll", "1000", "--committer-key", keyPaths["committer"]!, "--expect-ledger-id", ledgerID])
        for name in Self.signers.map(\.id) + ["coordinator"] {
            let folder = name == "coordinator" ? "coordinator/" : "signers/\(name)/"
            say("   \(name.padding(11)) pid \(String(children[name]!.processIdentifier).padding(8)) \(folder)")
        }
    }

    // MARK: - The service (network mode)

    /// The step after which the service is killed with SIGKILL and restarted.
    static let serviceKilledAfter = "spike"

    var serviceURL: String { "https://127.0.0.1:\(port)" }

    /// The desk's transport PKI (mTLS), each client's identity moved into its own folder; the
    /// signers' private keys moved into theirs; then `alvh serve` on the ledger.
    mutating func startService(number: Int) async throws {
        heading(number, "Service: `alvh serve` on the ledger, TLS 1.3 with client certificates from a desk CA (tls/)")
        try await ledger.close()
        ledger = nil
        let names = Self.signers.map(\.id) + ["coordinator", Self.trader.id]
        let made = try DeskTLS.initialize(directory: "\(root)/tls", clients: names, serverNames: [])
        for member in Self.signers {
            let folder = "\(root)/signers/\(member.id)"
            try SecureFile.makeDirectory("\(root)/signers", mode: 0o755)
            try SecureFile.makeDirectory(folder, mode: 0o700)
            try move("\(root)/tls/clients/\(member.id)", to: "\(folder)/tls")
            try move(keyPaths[member.id]!, to: "\(folder)/\(member.id).key.pem")
            keyPaths[member.id] = "\(folder)/\(member.id).key.pem"
            if member.limits != nil {
                try move("\(root)/limits/\(member.id).yaml", to: "\(folder)/limits.yaml")
                try move("\(root)/limits/market", to: "\(folder)/market")
            }
        }
        try SecureFile.makeDirectory("\(root)/coordinator", mode: 0o700)
        try move("\(root)/tls/clients/coordinator", to: "\(root)/coordinator/tls")
        try move(keyPaths["committer"]!, to: "\(root)/coordinator/committer.key.pem")
        keyPaths["committer"] = "\(root)/coordinator/committer.key.pem"
        rmdir("\(root)/limits")
        port = try Self.freeLoopbackPort()
        try SecureFile.makeDirectory("\(root)/logs", mode: 0o755)
        try await launchService()
        say("   \(serviceURL)  pid \(children["service"]!.processIdentifier)  (CA \(made.ca.dropFirst(root.count + 1)), server certificate for \(made.serverNames.joined(separator: ", ")))")
        say("   the trader (this demo) connects with tls/clients/\(Self.trader.id)/; no other process opens the ledger")
    }

    /// Starts `alvh serve` and waits until it answers (and then re-opens the demo's view through it).
    mutating func launchService() async throws {
        children["service"] = try spawn("service", serveArguments)
        let remote = LedgerLocation.service(.init(url: serviceURL, tls: .init(directory: "\(root)/tls/clients/\(Self.trader.id)")))
        self.remote = remote
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do {
                let opened = try await Ledger.open(workspace: root, at: remote)
                if let old = ledger { try? await old.close() }
                ledger = opened
                return
            } catch let error as LedgerError where error.code == .database && Date() < deadline {
                if children["service"]?.isRunning != true {
                    throw CLIError("demo-process", "`alvh serve` exited (status \(children["service"]!.terminationStatus)); see logs/service.log", path: "\(root)/logs/service.log")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    var serveArguments: [String] {
        ["serve", "--workspace", root, "--port", "\(port)", "--tls-cert", "\(root)/tls/server.pem", "--tls-key", "\(root)/tls/server.key.pem",
         "--client-ca", "\(root)/tls/ca.pem", "--poll", "50", "--rate-limit", "200", "--burst", "400"] + ledgerArguments
    }

    func move(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else {
            throw CLIError("demo-workspace", "cannot move \(from) to \(to): \(String(cString: strerror(errno)))", path: from)
        }
    }

    /// A free TCP port on 127.0.0.1 (bound, read, released: the service takes it at once).
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLIError("demo-process", "cannot open a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw CLIError("demo-process", "cannot find a free loopback port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func spawn(_ name: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DemoFiles.ownExecutable())
        process.arguments = arguments
        // The database password goes to the processes that open the database: all of them in the
        // local walk, the service alone across the network.
        if case .postgres(let server) = location, let password = server.password, !network || name == "service" {
            var environment = ProcessInfo.processInfo.environment
            environment["PGPASSWORD"] = password
            process.environment = environment
        }
        let log = "\(root)/logs/\(name).log"
        if !SecureFile.exists(log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: log) else {
            throw CLIError("demo-process", "cannot open the log file", path: log)
        }
        handle.seekToEndOfFile() // a restarted process appends to its log
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do { try process.run() }
        catch { throw CLIError("demo-process", "cannot start `\(arguments.prefix(2).joined(separator: " "))`: \(error)", path: process.executableURL?.path) }
        return process
    }

    mutating func stopAll() {
        for (_, process) in children where process.isRunning { process.terminate() }
        for (_, process) in children { process.waitUntilExit() }
        children = [:]
    }

    // MARK: - Steps

    mutating func runStep(_ step: String, number: Int) async throws {
        let path = "\(root)/market/\(step).json"
        let bytes = try SecureFile.read(path, limit: MarketSnapshot.maxBytes)
        let market = try MarketSnapshot.decode(Data(bytes), path: path)
        let curve = TermStructure(market)
        heading(number, "Market \(step) (as of \(market.asOf)): SPX \(BookPrinter.fmt(market.spx.spot)), VIX \(BookPrinter.fmt(market.vix.spot)), "
                + (curve.map { "curve \($0.isBackwardation ? "backwardation" : "contango") \(String(format: "%+.1f", $0.slopePoints)) pts" } ?? ""))
        say("   " + "PROPOSAL".padding(17) + "RULE".padding(12) + "CHANGE".padding(54) + "COST $".leftPad(10) + "  SIGS  OUTCOME")
        var done = Set<String>()
        var details: [String] = []
        var manual = step == Self.fatFingerStep ? try await fatFinger(market: market) : nil
        var held: [String] = []
        for _ in 0..<6 {
            let proposal: EngineProposal
            if let first = manual {
                proposal = first
                manual = nil
            } else {
                let run = try Engine.run(book: try await ledger.verified().book, market: market)
                held = run.held.map(\.description)
                let proposals = run.proposals.filter { !done.contains("\($0.rule)/\($0.change.layer)") }
                guard let next = proposals.first else { break }
                proposal = next
            }
            done.insert("\(proposal.rule)/\(proposal.change.layer)")
            let queued = try await ledger.queue(proposal, market: market, snapshotBytes: bytes, proposer: trader, lifetime: 3600, at: Date())
            let outcome = try await waitForOutcome(queued.pending.id)
            say("   " + String(queued.pending.id.prefix(16)).padding(17) + proposal.rule.padding(12) + change(proposal).padding(54)
                + String(format: "%.2f", proposal.costDollars).leftPad(10) + "  " + outcome.tally.padding(5) + " " + outcome.status)
            details.append(contentsOf: outcome.details.map { "     \(queued.pending.id.prefix(8)): \($0)" })
            if let entry = outcome.entry { committed[entry.sequence] = entry.hash }
        }
        if done.isEmpty { say("   (no rule fires: the book meets the strategy in this market)") }
        for line in details { say(line) }
        for line in held { say("     \(line)") }
    }

    /// In the spike the trader, not the engine, proposes buying 150 more short-term calls at spike
    /// prices: a change the limits bot's per-change premium limit exists for.
    static let fatFingerStep = "spike"

    func fatFinger(market: MarketSnapshot) async throws -> EngineProposal {
        let expiry = market.vix.futures[1].expiry
        let strike = (try market.vixFuture(expiry: expiry) + 5).rounded()
        let price = try Engine.vixLimitPrice(market: market, expiry: expiry, strike: strike, buying: true)
        let change = LayerChange(kind: .resizeLayer, layer: "short-term", layerKind: .shortTerm,
                                 trades: [Trade(expiry: expiry, strike: strike, quantity: 150, price: price)])
        return try Engine.manual(book: try await ledger.verified().book, change: change, market: market, note: "trader: add protection into the spike")
    }

    func change(_ proposal: EngineProposal) -> String {
        let legs = proposal.change.trades.map { "\($0.quantity > 0 ? "+" : "")\($0.quantity) \($0.expiry.dropFirst(2)) \(Int($0.strike))C" }
        return "\(proposal.change.kind.rawValue) \(proposal.change.layer): " + legs.joined(separator: ", ")
    }

    struct Outcome {
        var status: String
        var tally: String
        var details: [String]
        /// The entry it became, when committed.
        var entry: (sequence: UInt64, hash: String)? = nil
    }

    /// Waits until the proposal is committed, vetoed or expired.
    func waitForOutcome(_ id: String) async throws -> Outcome {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let row = try await queued(id) {
                if row.status != .pending {
                    let report = try await ledger.evaluate(id: id, at: Date())
                    let veto = report.rejections.first { $0.veto }
                    return Outcome(status: row.status == .vetoed ? "vetoed by \(veto?.signer ?? "?")" : row.status.rawValue,
                                   tally: "\(report.counted)/\(report.threshold)",
                                   details: report.rejections.compactMap { r in r.signer.map { "rejected by \($0)\(r.veto ? " (veto)" : ""): \(r.reason ?? "")" } }
                                   + ["signed by: " + signers(report)])
                }
            } else if let entry = try await committedEntry(id) {
                let envelope = try Envelope.decode(entry.envelope)
                let policy = try await ledger.policy(atEntry: entry.sequence)
                let report = ThresholdEvaluator(policy: policy).evaluate(envelope, at: RFC3339.parse(entry.committedAt) ?? Date())
                return Outcome(status: "committed as entry \(entry.sequence)", tally: "\(report.counted)/\(report.threshold)",
                               details: ["signed by: " + signers(report) + " — rules: " + report.rules.joined(separator: ", ")],
                               entry: (entry.sequence, entry.hash))
            }
            try await Task.sleep(for: .milliseconds(network ? 50 : 100))
        }
        throw CLIError("demo-timeout", "proposal \(id.prefix(16))… had no outcome after \(Int(timeout)) s; see the logs", path: "\(root)/logs")
    }

    /// The queued proposal `id`, nil once it left the queue (committed).
    func queued(_ id: String) async throws -> PendingProposal? {
        do { return try await ledger.pending(id: id) }
        catch let error as LedgerError where error.code == .notFound { return nil }
    }

    func signers(_ report: ApprovalReport) -> String {
        report.signatures.compactMap { line -> String? in
            guard let signer = line.signer else { return nil }
            return line.status == .counted ? signer : "\(signer) (\(line.status.rawValue))"
        }.joined(separator: ", ")
    }

    func committedEntry(_ id: String) async throws -> LedgerEntry? {
        let head = try await ledger.head()
        for entry in try await ledger.entries(from: head.sequence >= 5 ? head.sequence - 5 : 0).reversed() where entry.kind == .layerChange {
            if (try? Envelope.decode(entry.envelope).id) == id { return entry }
        }
        return nil
    }

    // MARK: - End

    mutating func finish(number: Int, started: Date) async throws {
        // The audit first (through the service, in network mode: an auditor on another host).
        heading(number, "Audit: ledger verify from genesis\(network ? ", through the service (nothing it serves is trusted)" : "")")
        var source = StorageEntrySource(ledger: ledger)
        let report = try await LedgerVerifier().verify(&source, materializedBook: try await ledger.materializedBook())
        guard report.ok else {
            throw CLIError("demo-verify", "ledger verify failed: \(report.firstBad.map { "entry \($0.sequence): \($0.problem)" } ?? "?")", path: ledger.location)
        }
        say("   OK: \(report.entries) entries, \(report.signatureChecks) signatures checked, head \(report.headSequence!):\(report.headHash!.prefix(16))…, replayed book matches")
        for (sequence, hash) in committed.sorted(by: { $0.key < $1.key }) {
            let entry = try await ledger.entry(sequence)
            guard entry.hash == hash else {
                throw CLIError("demo-verify", "entry \(sequence) was committed as \(hash.prefix(16))… during the walk but reads \(entry.hash.prefix(16))… now", path: ledger.location)
            }
        }
        say("   nothing lost: the \(committed.count) commits seen during the walk are in the verified chain, unchanged")

        heading(number + 1, "Stop: SIGTERM to every process (each finishes its decision in progress)")
        let order = children.keys.sorted().filter { $0 != "service" } + (children["service"] == nil ? [] : ["service"])
        for name in order where name != "service" { if children[name]!.isRunning { children[name]!.terminate() } }
        for name in order where name != "service" {
            let process = children[name]!
            process.waitUntilExit()
            say("   \(name.padding(11)) exited with status \(process.terminationStatus)\(process.terminationReason == .uncaughtSignal ? " (killed earlier)" : "")")
        }

        heading(number + 2, "The book now, and its risk in the last market")
        let book = try await ledger.book()
        try await ledger.close()
        ledger = nil
        if let service = children["service"] {
            service.terminate()
            service.waitUntilExit()
            say("   (service exited with status \(service.terminationStatus))")
        }
        children = [:]
        BookPrinter.print(book)
        say("")
        let market = try MarketSnapshot.load(path: "\(root)/market/\(Self.steps.last!).json")
        RiskPrinter.print(try BookValuer(book: book, market: market).report(book: book, scenarios: Engine.reportScenarios))
        say("")
        say("Done in \(String(format: "%.1f", Date().timeIntervalSince(started))) s. The workspace stays at \(root):")
        let exe = DemoFiles.commandName()
        if network {
            say("   Start the service again on it:")
            say("   \(exe) " + serveArguments.map(Self.quoted).joined(separator: " "))
            say("   Then connect as a client (each client's --tls-dir holds the desk CA and its own certificate):")
            let client = "\(exe) --workspace \(root)/signers/ro-alice --server \(serviceURL)"
            say("   \(client) pending")
            say("   \(client) ledger verify")
            say("   \(client) sign ID --key \(root)/signers/ro-alice/ro-alice.key.pem")
            say("   \(exe) --workspace \(root) --server \(serviceURL) --tls-dir \(root)/tls/clients/trader-tom propose --market \(root)/market/recovery.json --key \(root)/Keys/private/trader-tom.key.pem")
            say("   curl --cacert \(root)/tls/ca.pem --cert \(root)/tls/clients/trader-tom/client.pem --key \(root)/tls/clients/trader-tom/client.key.pem \(serviceURL)/v1/proposals")
            if location?.isPostgres == true { say("   (the service's ledger password: PGPASSWORD or --ledger-password-file FILE)") }
            return
        }
        let at = location.map { " --ledger '\($0)'" } ?? ""
        say("   \(exe) --workspace \(root)\(at) ledger log")
        say("   \(exe) --workspace \(root)\(at) book")
        say("   \(exe) --workspace \(root)\(at) ledger verify")
        say("   \(exe) --workspace \(root)\(at) pending")
        say("   \(exe) --workspace \(root)\(at) propose --market \(root)/market/recovery.json --key \(root)/Keys/private/trader-tom.key.pem")
        say("   \(exe) --workspace \(root)\(at) sign ID --key \(root)/Keys/private/ro-alice.key.pem")
        if location?.isPostgres == true { say("   (the password: PGPASSWORD or --ledger-password-file FILE)") }
    }

    static func quoted(_ argument: String) -> String {
        argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=@".contains($0) } ? argument : "'\(argument.replacingOccurrences(of: "'", with: "'\\''"))'"
    }

    func heading(_ number: Int, _ text: String) {
        say("")
        say("\(number). \(text)")
    }

    func say(_ text: String) { Console.out(text) }
}
