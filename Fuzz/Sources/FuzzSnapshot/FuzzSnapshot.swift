import Foundation
import ALVHEngine

/// Market snapshot decoding + validation: a clean EngineError, or a snapshot the engine can price
/// from (every listed VIX expiry has a future and a vol; values are finite).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        let snapshot = try MarketSnapshot.decode(Data(bytes: data, count: size), path: "fuzz.json")
        for future in snapshot.vix.futures {
            let price = try snapshot.vixFuture(expiry: future.expiry)
            precondition(price.isFinite && price > 0)
            precondition(snapshot.vixOptionVol(expiry: future.expiry, strike: price).isFinite)
        }
        _ = TermStructure(snapshot)
        _ = snapshot.nextEvent()
    } catch is EngineError {
    } catch {
        fatalError("unexpected error type \(type(of: error)): \(error)")
    }
    return 0
}
