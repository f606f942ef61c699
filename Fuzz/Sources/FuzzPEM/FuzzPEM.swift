import Foundation
import ALVHSigning
import FuzzSupport

/// PEM key loading (public SPKI and private PKCS#8; a passphrase request fails at once, so an
/// encrypted key costs no key derivation). Loaded keys must sign and verify consistently.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    FuzzFixture.expectRefusalOnly {
        let key = try PublicKey(pem: bytes, path: "fuzz.pub.pem")
        let again = try PublicKey(spkiDER: key.spkiDER)
        precondition(again.keyID == key.keyID)
    }
    FuzzFixture.expectRefusalOnly {
        let key = try PrivateKey(pem: bytes, passphrase: { throw SigningError(.passphraseRequired, "no passphrase in fuzzing") }, path: "fuzz.key.pem")
        let message = Array("fuzz".utf8)
        let signature = try key.signature(for: message)
        precondition(key.publicKey.isValidSignature(signature, for: message))
    }
    return 0
}
