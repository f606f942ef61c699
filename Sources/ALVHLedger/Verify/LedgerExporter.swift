import Foundation
import ALVHSigning

/// Writes a ledger as JSON Lines, one ``ExportedEntry`` per line, streamed and atomic.
public enum LedgerExporter {
    /// Exports every entry to `path` (temp file + rename); returns the entry count.
    @discardableResult
    public static func export(_ ledger: Ledger, to path: String) async throws -> Int {
        let directory = (path as NSString).deletingLastPathComponent
        let temp = (directory.isEmpty ? "." : directory) + "/." + (path as NSString).lastPathComponent + ".tmp-" + Hex.encode(try SecureRandom.bytes(6))
        guard FileManager.default.createFile(atPath: temp, contents: nil), let handle = FileHandle(forWritingAtPath: temp) else {
            throw LedgerError(.fileError, "cannot create the export file", path: path)
        }
        var done = false
        defer { if !done { unlink(temp) } }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var source = StorageEntrySource(ledger: ledger)
        var count = 0
        do {
            // The blobs (snapshots) first, so that a reader holds each before the entries citing it.
            var after: String?
            while true {
                let page = try await ledger.blobs(after: after, limit: 64)
                guard let last = page.last else { break }
                for (hash, bytes) in page {
                    var line = try encoder.encode(ExportedBlob(hash: hash, bytes: bytes))
                    line.append(UInt8(ascii: "\n"))
                    try handle.write(contentsOf: line)
                }
                after = last.hash
            }
            while true {
                let batch = try await source.next(max: 1000)
                if batch.isEmpty { break }
                var chunk = Data()
                for entry in batch {
                    chunk.append(try encoder.encode(ExportedEntry(entry)))
                    chunk.append(UInt8(ascii: "\n"))
                }
                try handle.write(contentsOf: chunk)
                count += batch.count
            }
            try handle.synchronize()
            try handle.close()
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.fileError, "cannot write the export: \(error)", path: path)
        }
        guard rename(temp, path) == 0 else {
            throw LedgerError(.fileError, "cannot move the export into place: \(String(cString: strerror(errno)))", path: path)
        }
        done = true
        return count
    }
}
