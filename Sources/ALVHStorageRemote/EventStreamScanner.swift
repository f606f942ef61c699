/// Reads a Server-Sent Events stream (the service's `/v1/events`) chunk by chunk and yields the
/// type of each event as it is dispatched (HTML Living Standard, "Interpreting an event stream"):
/// lines end with LF, CRLF or CR; a line starting with `:` is a comment (the keep-alives); `event:`
/// sets the type; a blank line dispatches the event if a `data:` line came. Lines split between
/// chunks are kept until their end arrives; a line longer than `maximumLine` is dropped whole.
struct EventStreamScanner {
    /// A dispatched event: its `event:` field (nil when it had none: the default type, `message`).
    typealias Dispatched = String?

    var maximumLine = 64 * 1024
    private var line: [UInt8] = []
    private var overlong = false
    private var lastWasCR = false
    private var type: String?
    private var hasData = false

    mutating func feed<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [Dispatched] {
        var out: [Dispatched] = []
        for byte in bytes {
            if byte == 0x0A && lastWasCR { lastWasCR = false; continue } // the LF of a CRLF
            lastWasCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                if !overlong, let event = endLine() { out.append(event) }
                line.removeAll(keepingCapacity: true)
                overlong = false
            } else if line.count < maximumLine {
                line.append(byte)
            } else {
                overlong = true
            }
        }
        return out
    }

    private mutating func endLine() -> Dispatched? {
        if line.isEmpty {
            defer { type = nil; hasData = false }
            return hasData ? .some(type) : nil
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        let field = String(decoding: line[..<colon], as: UTF8.self)
        var value = colon < line.endIndex ? line[(colon + 1)...] : []
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        switch field {
        case "event": type = String(decoding: value, as: UTF8.self)
        case "data": hasData = true
        default: break
        }
        return nil
    }
}
