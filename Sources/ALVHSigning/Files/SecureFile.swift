import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File reads with a size limit and atomic, permission-aware writes.
///
/// Every file alvh reads goes through ``read(_:limit:checkMode:)`` or ``openForReading(_:)``:
/// regular files only (a FIFO, socket, device or directory is refused at once, never waited on),
/// no symbolic link as the last path component, the size checked on the opened descriptor.
///
/// Writes go to a temporary file in the same directory (created `O_EXCL` with the final mode),
/// are `fsync`ed, renamed over the target, and the directory is `fsync`ed: a reader sees the
/// old file or the new one, never half of one.
///
/// ```swift
/// try SecureFile.writeAtomically(pemBytes, to: "Keys/private/alice.key.pem", mode: 0o600)
/// let bytes = try SecureFile.read("Keys/alice.pub.pem", limit: SecureFile.keyFileLimit)
/// ```
public enum SecureFile {
    /// The largest key file alvh reads (64 KiB).
    public static let keyFileLimit = 64 * 1024

    /// Reads a whole regular file of at most `limit` bytes; refuses larger ones before reading them.
    ///
    /// The one way alvh opens a file for reading (see ``openForReading(_:)``): a FIFO, socket, device
    /// or directory is refused without blocking, and so is a symbolic link as the last component.
    /// `checkMode`, when given, sees the opened file's permission bits before anything is read
    /// (private keys and passphrase files refuse group- or world-readable files this way).
    public static func read(_ path: String, limit: Int, checkMode: ((UInt16) throws -> Void)? = nil) throws -> [UInt8] {
        let (fd, info) = try openChecked(path)
        defer { close(fd) }
        if let checkMode { try checkMode(UInt16(info.st_mode & 0o777)) }
        guard Int(info.st_size) <= limit else {
            throw SigningError(.fileTooLarge, "file is \(info.st_size) bytes, over the \(limit)-byte limit for this kind of file", path: path)
        }
        var out = [UInt8](repeating: 0, count: Int(info.st_size))
        var total = 0
        while total < out.count {
            let n = out.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SigningError(.fileUnreadable, "read failed: \(String(cString: strerror(errno)))", path: path)
            }
            if n == 0 { break }
            total += n
        }
        // A file that grew while we read it: read no more than the limit allows.
        var probe: UInt8 = 0
        if total == out.count, systemRead(fd, &probe, 1) == 1 {
            throw SigningError(.fileTooLarge, "file grew while being read; over the \(limit)-byte limit or changing", path: path)
        }
        return Array(out.prefix(total))
    }

    /// Opens a regular file for reading, for callers that stream it; the caller closes the descriptor.
    ///
    /// Opened `O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC` (opening a FIFO without a writer
    /// does not wait), then `fstat`ed: anything but a regular file is refused with what it is, and a
    /// symbolic link as the last path component is refused (`ELOOP`). `O_NONBLOCK` is cleared before
    /// returning.
    public static func openForReading(_ path: String) throws -> Int32 {
        try openChecked(path).fd
    }

    private static func openChecked(_ path: String) throws -> (fd: Int32, info: stat) {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            let err = errno
            if err == ELOOP, isSymbolicLink(path) {
                throw SigningError(.fileUnreadable, "is a symbolic link; give the real file's path", path: path)
            }
            if err == ENXIO || err == EOPNOTSUPP, let kind = kind(lstatOf: path) { // a socket
                throw SigningError(.fileUnreadable, "not a regular file: it is \(kind); give the path of a file", path: path)
            }
            throw SigningError(.fileUnreadable, "cannot open: \(String(cString: strerror(err)))" + hint(for: err), path: path)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let err = errno
            close(fd)
            throw SigningError(.fileUnreadable, "cannot stat: \(String(cString: strerror(err)))", path: path)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SigningError(.fileUnreadable, "not a regular file: it is \(kind(info.st_mode)); give the path of a file", path: path)
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return (fd, info)
    }

    private static func isSymbolicLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    private static func kind(lstatOf path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG else { return nil }
        return kind(info.st_mode)
    }

    /// "a directory", "a FIFO (named pipe)", … for a file type in `st_mode`.
    private static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file (type \(String(mode & S_IFMT, radix: 8)))"
        }
    }

    /// The permission bits of a file (`st_mode & 0o777`).
    public static func permissions(_ path: String) throws -> UInt16 {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let err = errno
            throw SigningError(.fileUnreadable, "cannot stat: \(String(cString: strerror(err)))" + hint(for: err), path: path)
        }
        return UInt16(info.st_mode & 0o777)
    }

    /// Whether something exists at `path` (file, directory or dangling link).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Creates `path` and its missing parents with `mode` (existing directories keep theirs).
    public static func makeDirectory(_ path: String, mode: mode_t) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw SigningError(.fileWriteFailed, "exists and is not a directory", path: path)
            }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try makeDirectory(parent, mode: 0o755) }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw SigningError(.fileWriteFailed, "cannot create directory: \(String(cString: strerror(errno)))", path: path)
        }
        _ = chmod(path, mode)
    }

    /// Writes `bytes` to `path` atomically with permission `mode`.
    ///
    /// When `overwrite` is false and `path` exists, throws ``SigningError/Code/alreadyExists``
    /// (checked again at rename time with `link`, so two writers cannot both win).
    public static func writeAtomically<Bytes: ContiguousBytes>(_ bytes: Bytes, to path: String, mode: mode_t, overwrite: Bool = true) throws {
        let directory = { () -> String in
            let d = (path as NSString).deletingLastPathComponent
            return d.isEmpty ? "." : d
        }()
        if !overwrite, exists(path) {
            throw SigningError(.alreadyExists, "already exists; pass --force to replace it", path: path)
        }
        let suffix = (try? SecureRandom.bytes(8)).map { Hex.encode($0) } ?? String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temp = directory + "/." + (path as NSString).lastPathComponent + ".tmp-" + suffix
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let err = errno
            throw SigningError(.fileWriteFailed, "cannot create a temporary file: \(String(cString: strerror(err)))" + hint(for: err), path: path)
        }
        var committed = false
        defer { if !committed { unlink(temp) } }
        do {
            defer { close(fd) }
            _ = fchmod(fd, mode) // the umask may have cleared bits of `mode`
            try bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        let err = errno
                        throw SigningError(.fileWriteFailed, "write failed: \(String(cString: strerror(err)))" + hint(for: err), path: path)
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else {
                throw SigningError(.fileWriteFailed, "fsync failed: \(String(cString: strerror(errno)))", path: path)
            }
        }
        if overwrite {
            guard rename(temp, path) == 0 else {
                throw SigningError(.fileWriteFailed, "cannot rename into place: \(String(cString: strerror(errno)))", path: path)
            }
        } else {
            // link(2) fails with EEXIST if someone created `path` meanwhile: no silent overwrite.
            guard link(temp, path) == 0 else {
                let err = errno
                if err == EEXIST { throw SigningError(.alreadyExists, "already exists; pass --force to replace it", path: path) }
                throw SigningError(.fileWriteFailed, "cannot link into place: \(String(cString: strerror(err)))", path: path)
            }
            unlink(temp)
        }
        committed = true
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    private static func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.read(fd, buffer, count)
        #else
        return Darwin.read(fd, buffer, count)
        #endif
    }

    private static func hint(for err: Int32) -> String {
        switch err {
        case ENOENT: return " (check the path)"
        case EACCES, EPERM: return " (check the file's and directory's permissions)"
        case EROFS: return " (the file system is read-only)"
        case ENOSPC: return " (the disk is full)"
        case EISDIR: return " (a directory is where a file is expected)"
        default: return ""
        }
    }
}
