import Foundation
import ALVHTestSupport
import Testing
@testable import ALVHSigning

/// Files that are not what they claim: a FIFO (which would block a plain `open` forever), a symbolic
/// link to a private key, a directory. Each is refused at once, naming the path and what it is.
@Suite("Hostile files")
struct HostileFileTests {
    /// A FIFO with no writer at `dir/name`.
    static func fifo(_ dir: TempDir, _ name: String) throws -> String {
        let path = dir.file(name)
        try #require(mkfifo(path, 0o600) == 0, "mkfifo: \(String(cString: strerror(errno)))")
        return path
    }

    @Test("a FIFO as a public key file: `alvh keys id` refuses it at once instead of hanging")
    func fifoKeyFile() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Run.alvh), "alvh is not built at \(Run.alvh)")
        let dir = TempDir()
        let path = try Self.fifo(dir, "alice.pub.pem")
        let started = Date()
        let out = try TestProcess.run(Run.alvh, ["keys", "id", path], timeout: 5)
        #expect(!out.timedOut, "alvh keys id on a FIFO was still waiting after 5 s")
        guard !out.timedOut else { return } // the in-process reads below would block too
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(out.status == 1)
        #expect(out.stderr.contains("\(path): not a regular file: it is a FIFO (named pipe)"), "\(out.stderr)")
        // In process, every reader: public key, private key, passphrase file, plain read.
        for read in [{ _ = try PublicKey.load(from: path) }, { _ = try PrivateKey.load(from: path) },
                     { _ = try Passphrase.fromFile(path) }, { _ = try SecureFile.read(path, limit: 10) }] as [() throws -> Void] {
            #expect(throws: SigningError.self) { try read() }
            do { try read() } catch let error as SigningError {
                #expect(error.code == .fileUnreadable && error.path == path && error.reason.contains("FIFO"), "\(error)")
            }
        }
    }

    @Test("a symbolic link to a private key (or to a public key) is refused; the real path works")
    func symlinkedKey() throws {
        let dir = TempDir()
        let made = try KeyStore(directory: dir.file("Keys")).generate(name: "alice")
        let link = dir.file("alice-link.key.pem")
        try #require(symlink(made.privateKeyPath, link) == 0)
        #expect(try PrivateKey.load(from: made.privateKeyPath).keyID == made.keyID)
        #expect {
            _ = try PrivateKey.load(from: link)
        } throws: { error in
            guard let error = error as? SigningError else { return false }
            return error.code == .fileUnreadable && error.path == link && error.reason == "is a symbolic link; give the real file's path"
        }
        let pubLink = dir.file("alice-link.pub.pem")
        try #require(symlink(made.publicKeyPath, pubLink) == 0)
        #expect(throws: SigningError.self) { _ = try PublicKey.load(from: pubLink) }
        if FileManager.default.isExecutableFile(atPath: Run.alvh) {
            let out = try TestProcess.run(Run.alvh, ["keys", "id", link], timeout: 20)
            #expect(out.status == 1)
            #expect(out.stderr.contains("is a symbolic link"), "\(out.stderr)")
        }
    }

    @Test("a directory, /dev/null and a socket are refused as key files, naming what they are")
    func notRegularFiles() throws {
        let dir = TempDir()
        let directory = dir.file("Keys")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func reason(_ path: String) -> String {
            do { _ = try PublicKey.load(from: path); return "loaded" } catch let error as SigningError {
                return error.code == .fileUnreadable && error.path == path ? error.reason : "\(error)"
            } catch { return "\(error)" }
        }
        #expect(reason(directory) == "not a regular file: it is a directory; give the path of a file")
        #expect(reason("/dev/null") == "not a regular file: it is a character device; give the path of a file")
        // A Unix socket: open(2) fails with ENXIO; the error still says what it is.
        let socketPath = dir.file("s.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in socketPath.utf8.enumerated() where i < raw.count - 1 { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        #expect(reason(socketPath) == "not a regular file: it is a socket; give the path of a file")
    }
}
