import Foundation
import ALVHEngine

/// VIX / SPX history CSV: any bytes either parse or throw an EngineError; nothing else.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    do {
        let history = try DailyHistory.parse(bytes, path: "fuzz.csv")
        precondition(!history.days.isEmpty)
        for pair in zip(history.days, history.days.dropFirst()) { precondition(pair.0.date < pair.1.date) }
    } catch is EngineError {
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}
