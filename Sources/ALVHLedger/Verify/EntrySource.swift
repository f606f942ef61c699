import Foundation
import ALVHApproval
import ALVHSigning

/// A stream of ledger entries in sequence order, read in batches (memory stays flat).
public protocol EntrySource {
    /// The next batch of at most `max` entries; empty at the end.
    mutating func next(max: Int) async throws -> [LedgerEntry]
    /// A blob (a market snapshot an entry cites) by its hex SHA-256, checked against it; nil when absent.
    func blob(_ hash: String) async throws -> [UInt8]?
}

/// Entries from the ledger's storage (SQLite or PostgreSQL), `max` rows per query.
public struct StorageEntrySource: EntrySource {
    let ledger: Ledger
    var nextSequence: UInt64 = 0

    public init(ledger: Ledger) { self.ledger = ledger }

    /// The entries from `sequence` on (to resume a verification after a checkpoint).
    public init(ledger: Ledger, from sequence: UInt64) {
        self.ledger = ledger
        nextSequence = sequence
    }

    public func blob(_ hash: String) async throws -> [UInt8]? { try await ledger.blob(hash) }

    public mutating func next(max: Int) async throws -> [LedgerEntry] {
        let entries = try await ledger.entries(from: nextSequence, limit: max)
        if let last = entries.last { nextSequence = last.sequence + 1 }
        return entries
    }
}

/// One line of `alvh ledger export` (JSON Lines): an entry with its bytes in base64.
public struct ExportedEntry: Codable, Sendable {
    public var sequence: UInt64
    public var previousHash: String
    public var kind: String
    public var envelope: String
    public var attachments: String
    public var policyHash: String
    public var committedAt: String
    public var hash: String
    /// The committer's signature over the entry hash, base64.
    public var committerSignature: String?

    public init(_ entry: LedgerEntry) {
        sequence = entry.sequence
        previousHash = entry.previousHash
        kind = entry.kind.rawValue
        envelope = Base64.encode(entry.envelope)
        attachments = Base64.encode(entry.attachments)
        policyHash = entry.policyHash
        committedAt = entry.committedAt
        hash = entry.hash
        committerSignature = Base64.encode(entry.committerSignature)
    }

    public func entry(line: Int) throws -> LedgerEntry {
        guard let kind = LedgerEntry.Kind(rawValue: kind) else {
            throw LedgerError(.invalidInput, "unknown kind '\(self.kind)'", path: "line \(line): kind")
        }
        guard let envelopeBytes = Base64.decode(envelope) else {
            throw LedgerError(.invalidInput, "envelope is not base64", path: "line \(line): envelope")
        }
        guard let attachmentBytes = Base64.decode(attachments) else {
            throw LedgerError(.invalidInput, "attachments are not base64", path: "line \(line): attachments")
        }
        var entry = LedgerEntry(sequence: sequence, previousHash: previousHash, kind: kind, envelope: envelopeBytes,
                                attachments: attachmentBytes, policyHash: policyHash, committedAt: committedAt)
        entry.hash = hash
        guard let signature = Base64.decode(committerSignature ?? "") else {
            throw LedgerError(.invalidInput, "committerSignature is not base64", path: "line \(line): committerSignature")
        }
        entry.committerSignature = signature
        return entry
    }
}

/// One blob line of `alvh ledger export`: a snapshot the entries cite, written before them.
public struct ExportedBlob: Codable, Sendable {
    public var blob: String
    public var bytes: String
    public init(hash: String, bytes: [UInt8]) {
        blob = hash
        self.bytes = Base64.encode(bytes)
    }
}

/// Entries (and the blob lines before them) from an export file, read line by line.
public final class ExportEntrySource: EntrySource {
    private let handle: FileHandle
    private let path: String
    private var blobs: [String: [UInt8]] = [:]
    /// At most this many blob bytes are held (the snapshots of an export).
    static let maxBlobBytes = 256 << 20
    private var blobBytes = 0
    private var buffer = Data()
    private var atEnd = false
    private var lineNumber = 0
    /// The longest line accepted (an entry's envelope is at most 1 MiB, base64 and JSON around it).
    static let maxLineBytes = 4 << 20

    public init(path: String) throws {
        // SecureFile's checks: a regular file, not a symbolic link; a FIFO is refused, not waited on.
        do {
            handle = FileHandle(fileDescriptor: try SecureFile.openForReading(path), closeOnDealloc: true)
        } catch let error as SigningError {
            throw LedgerError(.fileError, "cannot open the export file: \(error.reason)", path: path)
        }
        self.path = path
    }

    deinit { try? handle.close() }

    public func next(max: Int) throws -> [LedgerEntry] {
        var out: [LedgerEntry] = []
        let decoder = JSONDecoder()
        while out.count < max, let line = try nextLine() {
            if line.isEmpty { continue }
            if line.starts(with: Array(#"{"blob":"#.utf8)) {
                do {
                    let blob = try decoder.decode(ExportedBlob.self, from: line)
                    guard let bytes = Base64.decode(blob.bytes), SHA256.hexDigest(bytes) == blob.blob else {
                        throw LedgerError(.invalidInput, "the blob's bytes do not hash to its name", path: "\(path):\(lineNumber)")
                    }
                    blobBytes += bytes.count
                    guard blobBytes <= Self.maxBlobBytes else {
                        throw LedgerError(.invalidInput, "more than \(Self.maxBlobBytes) bytes of blobs", path: "\(path):\(lineNumber)")
                    }
                    blobs[blob.blob] = bytes
                    continue
                } catch let error as LedgerError {
                    throw error
                } catch {
                    throw LedgerError(.invalidInput, "not an exported blob: \(error)", path: "\(path):\(lineNumber)")
                }
            }
            do {
                out.append(try decoder.decode(ExportedEntry.self, from: line).entry(line: lineNumber))
            } catch let error as LedgerError {
                throw error
            } catch {
                throw LedgerError(.invalidInput, "not an exported entry: \(error)", path: "\(path):\(lineNumber)")
            }
        }
        return out
    }

    public func blob(_ hash: String) throws -> [UInt8]? { blobs[hash] }

    private func nextLine() throws -> Data? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[(newline + 1)...])
                lineNumber += 1
                return Data(line)
            }
            if atEnd {
                if buffer.isEmpty { return nil }
                let line = buffer
                buffer = Data()
                lineNumber += 1
                return line
            }
            guard buffer.count <= Self.maxLineBytes else {
                throw LedgerError(.invalidInput, "line \(lineNumber + 1) is longer than \(Self.maxLineBytes) bytes", path: path)
            }
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { atEnd = true } else { buffer.append(chunk) }
        }
    }
}
