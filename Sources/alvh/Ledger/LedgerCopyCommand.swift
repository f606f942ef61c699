import ArgumentParser
import ALVHLedger
import ALVHStorage
import Foundation

/// `alvh ledger copy --from URL --to URL`: the ledger moved to another store, verified as it goes.
struct LedgerCopy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a ledger entry by entry to another store (e.g. SQLite → PostgreSQL), verifying each batch before it is written.",
        discussion: """
        The target must be empty: a new SQLite file (written under a temporary name and moved into place at the \
        end) or a PostgreSQL database set up with `alvh ledger setup` and holding no entry. Blobs (snapshots, \
        policy texts, key files) are copied and checked against their hashes; the pending queue is not copied.
        """
    )

    @Option(name: .long, help: ArgumentHelp("The ledger to copy (default: --ledger, $ALVH_LEDGER, else the workspace's alvh.sqlite).", valueName: "url"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Where to copy it: sqlite:PATH (a new file) or postgres://user@host[:port]/db (an empty database).", valueName: "url"))
    var to: String

    @Option(name: .long, help: ArgumentHelp("A file (mode 0600) holding the target's PostgreSQL password.", valueName: "file"), completion: .file())
    var toPasswordFile: String?

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            var options = workspace
            if let from { options.ledger = from }
            let target: LedgerLocation
            do { target = try LedgerLocation.parse(to, field: "--to", passwordFile: toPasswordFile) }
            catch let error as StorageError { throw LedgerError(storage: error) }
            if target == (try options.ledgerLocation() ?? Ledger.defaultLocation(workspace: options.path)) {
                throw CLIError("usage", "--to names the ledger being copied; give another location", path: "--to")
            }
            let meter = ProgressMeter("copying", total: nil, enabled: isatty(2) == 1 && !output.json)
            let report = try await options.withLedger(readOnly: true) { source in
                try await LedgerCopier.copy(from: source, to: target, progress: { done, total in meter.update(done, of: total) })
            }
            meter.finish()
            if output.json { try Console.json(report); return }
            Console.out("copied \(report.entries) entries and \(report.blobs) blobs to \(report.to), each batch verified; head \(report.headSequence):\(report.headHash)"
                        + String(format: " (%.2fs)", report.seconds))
            Console.err("ledger id \(report.ledgerID); pending proposals were not copied: re-queue them on the new ledger (`alvh import FILE --ledger \(report.to)`)")
        }
    }
}

/// `alvh ledger setup --ledger postgres://OWNER@host/db [--app-role NAME]`.
struct LedgerSetup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Prepare a PostgreSQL database for a shared ledger: the schema (append-only entries) and the application role.",
        discussion: """
        Connect as the database's owner. Creates or migrates the schema (safe to run again) and, with --app-role, \
        creates or updates the role that day-to-day alvh processes connect as: INSERT and SELECT only on entries and \
        blobs, no DDL (docs/storage.md). Then `alvh init --ledger postgres://…` writes the genesis entry.
        """
    )

    @Option(name: .long, help: "The application role to create or update (lowercase letters, digits, _).")
    var appRole: String?

    @Option(name: .long, help: ArgumentHelp("A file (mode 0600) holding the application role's password (without it the role is NOLOGIN).", valueName: "file"),
            completion: .file())
    var appPasswordFile: String?

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors(json: output.json) {
            if appPasswordFile != nil && appRole == nil {
                throw CLIError("usage", "--app-password-file needs --app-role NAME", path: "--app-password-file")
            }
            guard let location = try workspace.ledgerLocation() else {
                throw CLIError("usage", "give the database to set up: --ledger postgres://OWNER@host[:port]/db (or ALVH_LEDGER)", path: "--ledger")
            }
            let password = try appPasswordFile.map { file -> String in
                do { return try LedgerLocation.readPasswordFile(file) }
                catch let error as StorageError { throw LedgerError(storage: error) }
            }
            let report = try await Ledger.setUp(location, appRole: appRole, appPassword: password)
            if output.json { try Console.json(report); return }
            Console.out("set up \(report.ledger): schema current" + (report.applicationRole.map { ", application role '\($0)'" + (report.roleCanLogIn ? " (login)" : " (NOLOGIN: grant it to login roles)") } ?? ""))
            Console.err("next: alvh init --ledger \(report.ledger) --policy Policies/desk.yaml --book BOOK.json --committer-key KEY")
        }
    }
}
