import Foundation
import ALVHEngine

/// Market snapshot decoding + validation: a clean EngineError, or a snapshot the engine can price
/// from (every listed VIX expiry has a future, a vol across the smile and a limit price on the tick
/// grid; values are finite; release instants are ordered).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        let snapshot = try MarketSnapshot.decode(Data(bytes: data, count: size), path: "fuzz.json")
        for future in snapshot.vix.futures {
            let price = try snapshot.vixFuture(expiry: future.expiry)
            precondition(price.isFinite && price > 0)
            for strike in [price * 0.5, price, price * 2].map({ max(1, $0.rounded()) }) {
                let vol = snapshot.vixOptionVol(expiry: future.expiry, strike: strike)
                precondition(vol.isFinite && vol > 0)
                let buy = try Engine.vixLimitPrice(market: snapshot, expiry: future.expiry, strike: strike, buying: true)
                let sell = try Engine.vixLimitPrice(market: snapshot, expiry: future.expiry, strike: strike, buying: false)
                precondition(buy.isFinite && sell.isFinite && sell > 0 && buy >= sell)
                precondition(TickSchedule.isOnGrid(.vix, price: buy) && TickSchedule.isOnGrid(.vix, price: sell))
            }
        }
        _ = TermStructure(snapshot)
        let releases = snapshot.releases
        precondition(zip(releases, releases.dropFirst()).allSatisfy { $0.instant <= $1.instant })
        _ = snapshot.nextRelease()
    } catch is EngineError {
    } catch {
        fatalError("unexpected error type \(type(of: error)): \(error)")
    }
    return 0
}
