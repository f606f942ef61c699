import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File reads with a size limit and atomic, permission-aware writes.
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
    public static func read(_ path: String, limit: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let err = errno
            throw SigningError(.fileUnreadable, "cannot open: \(String(cString: strerror(err)))" + hint(for: err), path: path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw SigningError(.fileUnreadable, "cannot stat: \(String(cString: strerror(errno)))", path: path)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw SigningError(.fileUnreadable, "not a regular file (a directory?); give the path of a file", path: path)
        }
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
