import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a private key's passphrase comes from: a file, the `ALVH_PASSPHRASE` environment
/// variable, or a prompt on the controlling terminal (never echoed). Never logged.
///
/// ```swift
/// let provider = Passphrase.provider(file: options.passphraseFile)   // nil when no source is available
/// let key = try PrivateKey.load(from: path, passphrase: provider)
/// ```
public enum Passphrase {
    /// Produces the passphrase bytes when (and only when) a key turns out to be encrypted.
    public typealias Provider = @Sendable () throws -> [UInt8]

    /// The environment variable alvh reads a passphrase from.
    public static let environmentVariable = "ALVH_PASSPHRASE"
    /// The longest passphrase alvh accepts, in bytes.
    public static let maxLength = 1024

    /// The first available source, in order: `file`, `$ALVH_PASSPHRASE`, a TTY prompt.
    /// Returns nil when none is available (no file, no variable, no terminal).
    public static func provider(file: String?,
                                environment: [String: String] = ProcessInfo.processInfo.environment,
                                prompt: String = "Passphrase: ") -> Provider? {
        if let file { return { try fromFile(file) } }
        if let value = environment[environmentVariable] {
            return {
                let bytes = Array(value.utf8)
                guard !bytes.isEmpty else {
                    throw SigningError(.passphraseUnavailable, "\(environmentVariable) is set but empty", path: environmentVariable)
                }
                return bytes
            }
        }
        if Terminal.isAvailable { return { try Terminal.readSecret(prompt: prompt) } }
        return nil
    }

    /// A passphrase for a new key: file or environment as above; on a terminal, asked twice.
    public static func newPassphraseProvider(file: String?,
                                             environment: [String: String] = ProcessInfo.processInfo.environment) -> Provider? {
        if file != nil || environment[environmentVariable] != nil {
            return provider(file: file, environment: environment)
        }
        guard Terminal.isAvailable else { return nil }
        return {
            var first = try Terminal.readSecret(prompt: "New passphrase: ")
            var second = try Terminal.readSecret(prompt: "Repeat passphrase: ")
            defer { wipe(&second) }
            guard first == second else {
                wipe(&first)
                throw SigningError(.passphraseUnavailable, "the two passphrases differ; run the command again")
            }
            return first
        }
    }

    /// Reads a passphrase file: the first line, without its line ending.
    /// The file must be readable by its owner only, like a private key.
    public static func fromFile(_ path: String) throws -> [UInt8] {
        var bytes = try SecureFile.read(path, limit: maxLength + 2) { mode in
            guard mode & 0o077 == 0 else {
                throw SigningError(.keyPermissionsTooOpen,
                    "passphrase file permissions \(String(mode, radix: 8, uppercase: false).leftPadded(4)) are too open; it must be readable by its owner only: run `chmod 600 \(path)`",
                    path: path)
            }
        }
        if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
            bytes.removeSubrange(newline...)
        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else {
            throw SigningError(.passphraseUnavailable, "the passphrase file is empty; write the passphrase on its first line", path: path)
        }
        guard bytes.count <= maxLength else {
            throw SigningError(.passphraseUnavailable, "the passphrase is longer than \(maxLength) bytes", path: path)
        }
        return bytes
    }

    /// Overwrites a secret in memory before releasing it (best effort).
    static func wipe(_ bytes: inout [UInt8]?) {
        if var b = bytes { wipe(&b) }
        bytes = nil
    }

    /// Overwrites a secret in memory (best effort).
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { memset_s_portable(base, buffer.count) }
        }
        bytes.removeAll()
    }
}

/// memset that the optimizer keeps (volatile writes).
@inline(never)
func memset_s_portable(_ base: UnsafeMutableRawPointer, _ count: Int) {
    let p = base.assumingMemoryBound(to: UInt8.self)
    for i in 0..<count { p.advanced(by: i).pointee = 0 }
}

extension String {
    func leftPadded(_ width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

/// The controlling terminal, for passphrase prompts without echo.
enum Terminal {
    /// Whether a controlling terminal can be opened.
    static var isAvailable: Bool {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// Prints `prompt` on the terminal and reads one line with echo off.
    static func readSecret(prompt: String) throws -> [UInt8] {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            throw SigningError(.passphraseRequired,
                "no terminal to ask for a passphrase; give --passphrase-file FILE or set \(Passphrase.environmentVariable)")
        }
        defer { close(fd) }
        var saved = termios()
        let hasTermios = tcgetattr(fd, &saved) == 0
        if hasTermios {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            quiet.c_lflag |= tcflag_t(ICANON)
            _ = tcsetattr(fd, TCSAFLUSH, &quiet)
        }
        defer {
            if hasTermios { _ = tcsetattr(fd, TCSAFLUSH, &saved) }
            _ = "\n".withCString { write(fd, $0, 1) }
        }
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        var line = [UInt8]()
        var byte: UInt8 = 0
        while line.count <= Passphrase.maxLength {
            let n = read(fd, &byte, 1)
            if n < 0, errno == EINTR { continue }
            if n <= 0 || byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        guard !line.isEmpty else {
            throw SigningError(.passphraseUnavailable, "no passphrase was entered")
        }
        return line
    }
}
