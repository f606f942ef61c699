import ArgumentParser
import ALVHApproval
import Foundation

struct CombineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "combine",
        abstract: "Merge the signatures of several copies of one proposal envelope into one file.",
        discussion: "Refuses envelopes whose payload or payloadType differ. Identical signatures are kept once."
    )

    @Argument(help: "Two or more envelope files carrying the same payload.", completion: .file())
    var files: [String]

    @Option(name: [.customShort("o"), .long], help: "The combined envelope to write.", completion: .file())
    var output: String

    @OptionGroup var format: OutputOptions

    func validate() throws {
        guard files.count >= 2 else { throw ValidationError("give at least two envelope files to combine") }
    }

    func run() async throws {
        try reportingErrors(json: format.json) {
            let envelopes = try files.map { try Envelope.load(path: $0) }
            let combined = try EnvelopeMerge.combine(envelopes, names: files)
            try combined.write(to: output)
            if format.json {
                try Console.json(CombinedReport(file: output, proposalID: combined.id, signatures: combined.signatures.count))
            } else {
                Console.out("\(output): \(combined.signatures.count) signature(s) on \(combined.id)")
            }
        }
    }
}

struct CombinedReport: Encodable {
    let file: String
    let proposalID: String
    let signatures: Int
}
