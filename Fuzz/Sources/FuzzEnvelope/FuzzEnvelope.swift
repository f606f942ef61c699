import Foundation
import ALVHApproval
import FuzzSupport

/// DSSE envelope decoding + threshold verification against a fixed policy. Any bytes: a clean
/// refusal, or an envelope that re-encodes and decodes to itself and evaluates without crashing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    FuzzFixture.expectRefusalOnly {
        let envelope = try Envelope.decode(bytes, path: "fuzz")
        let again = try Envelope.decode(try envelope.encoded(), path: "fuzz (re-encoded)")
        precondition(again == envelope, "an envelope does not survive its own encoding")
        let evaluator = ThresholdEvaluator(policy: FuzzFixture.policy)
        let (report, document) = evaluator.evaluateDocument(envelope, at: Date(timeIntervalSince1970: 1_795_000_000))
        if report.commitReady { precondition(document != nil) }
        _ = evaluator.rejectionLine(envelope, proposalID: envelope.id)
    }
    return 0
}
