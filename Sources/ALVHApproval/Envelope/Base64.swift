/// Base64 as DSSE allows it: standard or URL-safe alphabet, padded or not, on input;
/// standard and padded on output.
///
/// ```swift
/// Base64.encode([0xfb, 0xff])   // "+/8="
/// Base64.decode("-_8")          // [0xfb, 0xff]
/// ```
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 6-bit values by byte, 255 for a byte outside both alphabets; `+`/`-` and `/`/`_` decode alike.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Standard, padded.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the standard, padded encoding of `bytes` to `out`.
    static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        let start = out.count
        let count = (bytes.count + 2) / 3 * 4
        out.append(contentsOf: repeatElement(UInt8(ascii: "="), count: count))
        alphabet.withUnsafeBufferPointer { table in
            out.withUnsafeMutableBufferPointer { buffer in
                bytes.withUnsafeBufferPointer { input in
                    var o = start, i = 0
                    while i + 3 <= input.count {
                        let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                        buffer[o] = table[Int(n >> 18)]; buffer[o + 1] = table[Int(n >> 12 & 63)]
                        buffer[o + 2] = table[Int(n >> 6 & 63)]; buffer[o + 3] = table[Int(n & 63)]
                        i += 3; o += 4
                    }
                    let rest = input.count - i
                    if rest > 0 {
                        let n = UInt32(input[i]) << 16 | (rest == 2 ? UInt32(input[i + 1]) << 8 : 0)
                        buffer[o] = table[Int(n >> 18)]; buffer[o + 1] = table[Int(n >> 12 & 63)]
                        if rest == 2 { buffer[o + 2] = table[Int(n >> 6 & 63)] }
                    }
                }
            }
        }
    }

    /// Decodes standard or URL-safe base64, with or without padding. No whitespace, no mixing
    /// of the two alphabets, no bits left over (one text per byte string).
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    static func decode(_ chars: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var end = chars.count
        if end % 4 == 0 {
            // Padding only as a complete final quantum: "xx==" or "xxx=".
            if end >= 1, chars[end - 1] == UInt8(ascii: "=") { end -= 1 }
            if end >= 1, chars[end - 1] == UInt8(ascii: "=") { end -= 1 }
        }
        if end % 4 == 1 { return nil }
        let values = Self.values
        var out = [UInt8]()
        out.reserveCapacity(end / 4 * 3 + 2)
        var sawStandard = false, sawURLSafe = false
        var accumulator: UInt32 = 0
        var bits = 0
        for k in 0..<end {
            let byte = chars[k]
            let value = values[Int(byte)]
            if value == 255 { return nil }
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/") { sawStandard = true }
            if byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") { sawURLSafe = true }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        if sawStandard && sawURLSafe { return nil }
        // Canonical: the bits left over in the last character are zero.
        if accumulator != 0 { return nil }
        return out
    }
}
