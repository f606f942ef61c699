import Foundation

/// A directory of named keys: `DIR/NAME.pub.pem` (committable) and
/// `DIR/private/NAME.key.pem` (mode 0600, directory 0700, never committed).
///
/// ```swift
/// let store = KeyStore(directory: "Keys")
/// let made = try store.generate(name: "alice", type: .ed25519)
/// print(made.keyID)
/// ```
public struct KeyStore: Sendable {
    /// The directory holding the public keys.
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// Where private keys live.
    public var privateDirectory: String { directory + "/private" }

    /// The public key file of `name`.
    public func publicKeyPath(_ name: String) -> String { "\(directory)/\(name).pub.pem" }
    /// The private key file of `name`.
    public func privateKeyPath(_ name: String) -> String { "\(privateDirectory)/\(name).key.pem" }

    /// Key names are file names: letters, digits, `.`, `_`, `-`; 1 to 64 characters; no leading dot.
    public static func validate(name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !name.isEmpty, name.count <= 64, name.allSatisfy(allowed.contains), !name.hasPrefix("."), !name.hasPrefix("-") else {
            throw SigningError(.invalidKeyName,
                "key name '\(name)' is not allowed; use 1–64 letters, digits, '.', '_' or '-', not starting with '.' or '-'",
                path: "NAME")
        }
    }

    /// What `generate` made.
    public struct Generated: Sendable {
        public let name: String
        public let type: KeyType
        public let keyID: KeyID
        public let publicKeyPath: String
        public let privateKeyPath: String
        public let encrypted: Bool
    }

    /// Generates a key pair and writes both files atomically. Refuses to replace an existing
    /// key unless `force`; if the second file cannot be written, the first is removed again.
    public func generate(name: String, type: KeyType = .ed25519, passphrase: [UInt8]? = nil, force: Bool = false,
                         iterations: Int = PrivateKey.pbkdf2Iterations) throws -> Generated {
        try KeyStore.validate(name: name)
        let pubPath = publicKeyPath(name)
        let keyPath = privateKeyPath(name)
        if !force {
            for path in [pubPath, keyPath] where SecureFile.exists(path) {
                throw SigningError(.alreadyExists, "a key named '\(name)' already exists; pass --force to replace it", path: path)
            }
        }
        let key = try PrivateKey.generate(type)
        var privatePEM = try key.pkcs8PEM(passphrase: passphrase, iterations: iterations)
        defer { Passphrase.wipe(&privatePEM) }
        let publicPEM = try key.publicKey.pemEncoded()
        try SecureFile.makeDirectory(directory, mode: 0o755)
        try SecureFile.makeDirectory(privateDirectory, mode: 0o700)
        try SecureFile.writeAtomically(privatePEM, to: keyPath, mode: 0o600, overwrite: force)
        do {
            try SecureFile.writeAtomically(publicPEM, to: pubPath, mode: 0o644, overwrite: force)
        } catch {
            if !force { unlink(keyPath) }
            throw error
        }
        return Generated(name: name, type: type, keyID: key.keyID, publicKeyPath: pubPath, privateKeyPath: keyPath,
                         encrypted: passphrase != nil)
    }

    /// One row of `keys list`.
    public struct Listing: Sendable, Codable {
        public let name: String
        public let type: KeyType
        public let keyID: KeyID
        public let fingerprint: String
        public let publicKeyPath: String
        public let hasPrivateKey: Bool
    }

    /// Every `*.pub.pem` in the directory, sorted by name. A file that is not a usable key is an error.
    public func list() throws -> [Listing] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw SigningError(.fileUnreadable, "cannot list the key directory; create it with `alvh keys generate NAME` or give --dir", path: directory)
        }
        return try names.filter { $0.hasSuffix(".pub.pem") }.sorted().map { file in
            let name = String(file.dropLast(".pub.pem".count))
            let path = "\(directory)/\(file)"
            let key = try PublicKey.load(from: path)
            return Listing(name: name, type: key.type, keyID: key.keyID, fingerprint: key.keyID.fingerprint,
                           publicKeyPath: path, hasPrivateKey: SecureFile.exists(privateKeyPath(name)))
        }
    }
}

/// A key file of either kind, as `alvh keys id` reads it.
public enum KeyFile {
    /// The public key in a PEM file holding either a public or a private key.
    /// A private key file must pass the same permission check as for signing.
    public static func publicKey(at path: String, passphrase: Passphrase.Provider? = nil) throws -> (key: PublicKey, wasPrivate: Bool) {
        let bytes = try SecureFile.read(path, limit: SecureFile.keyFileLimit)
        if String(decoding: bytes.prefix(4096), as: UTF8.self).contains("-----BEGIN PUBLIC KEY-----") {
            return (try PublicKey(pem: bytes, path: path), false)
        }
        return (try PrivateKey.load(from: path, passphrase: passphrase).publicKey, true)
    }
}
