import Foundation
import ALVHApproval
import FuzzSupport

/// Proposal payload decoding and validation: a clean refusal, or a document whose canonical
/// encoding decodes to the same document and that Foundation's `JSONDecoder` reads the same
/// (the strict reader accepts a subset of what `JSONDecoder` does, never something else).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    FuzzFixture.expectRefusalOnly {
        let document = try ProposalDocument.decode(bytes, path: "fuzz")
        let foundation = try? JSONDecoder().decode(ProposalDocument.self, from: Data(bytes))
        precondition(foundation == document, "the strict reader and JSONDecoder disagree")
        let again = try ProposalDocument.decode(try document.encoded(), path: "fuzz (re-encoded)")
        precondition(again == document, "a proposal does not survive its canonical encoding")
        _ = document.size
        _ = document.problems(at: Date(timeIntervalSince1970: 1_795_000_000), policy: FuzzFixture.policy, ledger: nil)
    }
    return 0
}
