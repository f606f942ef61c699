import Testing
import ALVHStorage
@testable import ALVHStorageRemote

/// The service's event stream as a remote client reads it: which change each event announces, and
/// which waiters it wakes (a signer has work when a proposal is queued, not on every signature).
@Suite("Event stream: what wakes whom")
struct EventWakeTests {
    static let stream = Array("""
    : keep-alive\n\
    id: 1.1\nevent: queued\ndata: {"type":"queued"}\n\n\
    id: 1.2\r\nevent: signature\r\ndata: {"type":"signature"}\r\n\r\n\
    id: 1.3\revent: committed\rdata: {}\r\r\
    event: vetoed\n\n\
    data: {"no":"type"}\n\n\
    event: rejection\ndata: {}\n\n
    """.utf8)

    @Test("each dispatched event's type, whatever the line ends; comments and events without data dispatch nothing")
    func scansWhole() {
        var scanner = EventStreamScanner()
        #expect(scanner.feed(Self.stream) == ["queued", "signature", "committed", nil, "rejection"])
    }

    @Test("the same events when the stream arrives in chunks of any size (a CRLF split between two chunks included)", arguments: [1, 2, 3, 7, 64])
    func scansChunks(_ size: Int) {
        var scanner = EventStreamScanner()
        var types: [String?] = []
        var start = 0
        while start < Self.stream.count {
            types += scanner.feed(Self.stream[start..<min(start + size, Self.stream.count)])
            start += size
        }
        #expect(types == ["queued", "signature", "committed", nil, "rejection"])
    }

    @Test("an overlong line is dropped whole, and the stream goes on")
    func overlongLine() {
        var scanner = EventStreamScanner()
        scanner.maximumLine = 16
        let text = "event: " + String(repeating: "x", count: 40) + "\ndata: 1\n\nevent: queued\ndata: 2\n\n"
        #expect(scanner.feed(Array(text.utf8)) == [nil, "queued"])
    }

    @Test("a signer waiting on `queued` and `committed` is not woken by signatures, rejections, vetoes or expiries; the coordinator on every change is; a reconnect wakes both")
    func wakes() {
        let signal = ChangeSignal()
        let signer: Set<LedgerChange> = [.queued, .committed]
        let coordinator = Set(LedgerChange.allCases)
        let (signerSeen, coordinatorSeen) = (signal.value(of: signer), signal.value(of: coordinator))
        for name in ["signature", "rejection", "vetoed", "expired"] {
            signal.bump(try! #require(LedgerChange(event: name)))
        }
        #expect(signal.value(of: signer) == signerSeen)
        #expect(signal.value(of: coordinator) == coordinatorSeen + 4)
        signal.bump(LedgerChange(event: "queued")!)
        #expect(signal.value(of: signer) == signerSeen + 1)
        #expect(LedgerChange(event: "message") == nil)
        let before = signal.value(of: signer)
        signal.bumpAll()
        #expect(signal.value(of: signer) == before + 2)
    }
}
