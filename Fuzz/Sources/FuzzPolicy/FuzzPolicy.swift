import Foundation
import ALVHApproval
import FuzzSupport

/// Policy YAML loading: any bytes are a policy or an ApprovalError naming a field; key files named
/// by the policy all resolve to the fixture key.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    FuzzFixture.expectRefusalOnly {
        let policy = try Policy(bytes: bytes, keyLoader: { _ in Array(FuzzFixture.publicPEM.utf8) }, path: "fuzz.yaml")
        precondition(policy.rules.allSatisfy { $0.threshold >= 1 && $0.threshold <= policy.signers.count })
        precondition(Set(policy.signers.map(\.keyID)).count == policy.signers.count, "duplicate keys accepted")
    }
    return 0
}
