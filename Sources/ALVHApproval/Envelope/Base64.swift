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

    /// Per byte: 1 for `+ /` (standard only), 2 for `- _` (URL-safe only), 4 outside both alphabets.
    private static let classes: [UInt8] = {
        var table = [UInt8](repeating: 4, count: 256)
        for byte in alphabet { table[Int(byte)] = 0 }
        table[Int(UInt8(ascii: "+"))] = 1
        table[Int(UInt8(ascii: "/"))] = 1
        table[Int(UInt8(ascii: "-"))] = 2
        table[Int(UInt8(ascii: "_"))] = 2
        return table
    }()

    static func decode(_ chars: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var end = chars.count
        if end % 4 == 0 {
            // Padding only as a complete final quantum: "xx==" or "xxx=".
            if end >= 1, chars[end - 1] == UInt8(ascii: "=") { end -= 1 }
            if end >= 1, chars[end - 1] == UInt8(ascii: "=") { end -= 1 }
        }
        let rest = end % 4
        if rest == 1 { return nil }
        let count = end / 4 * 3 + (rest == 0 ? 0 : rest - 1)
        var seen: UInt8 = 0
        var canonical = true
        let out = values.withUnsafeBufferPointer { values in
            classes.withUnsafeBufferPointer { classes in
                [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                    var i = 0, o = 0
                    while i + 4 <= end {
                        let c0 = Int(chars[i]), c1 = Int(chars[i + 1]), c2 = Int(chars[i + 2]), c3 = Int(chars[i + 3])
                        seen |= classes[c0] | classes[c1] | classes[c2] | classes[c3]
                        let n = UInt32(values[c0]) << 18 | UInt32(values[c1]) << 12 | UInt32(values[c2]) << 6 | UInt32(values[c3])
                        buffer[o] = UInt8(truncatingIfNeeded: n >> 16)
                        buffer[o + 1] = UInt8(truncatingIfNeeded: n >> 8)
                        buffer[o + 2] = UInt8(truncatingIfNeeded: n)
                        i += 4; o += 3
                    }
                    if rest >= 2 {
                        let c0 = Int(chars[i]), c1 = Int(chars[i + 1])
                        let c2 = rest == 3 ? Int(chars[i + 2]) : Int(UInt8(ascii: "A"))
                        seen |= classes[c0] | classes[c1] | classes[c2]
                        let n = UInt32(values[c0]) << 18 | UInt32(values[c1]) << 12 | UInt32(values[c2]) << 6
                        buffer[o] = UInt8(truncatingIfNeeded: n >> 16)
                        if rest == 3 { buffer[o + 1] = UInt8(truncatingIfNeeded: n >> 8) }
                        // Canonical: the bits left over in the last character are zero.
                        canonical = (rest == 2 ? n & 0xFFFF : n & 0xFF) == 0
                    }
                    initialized = count
                }
            }
        }
        // Outside both alphabets (4), or both alphabets mixed (1 | 2).
        guard seen & 4 == 0, seen & 3 != 3, canonical else { return nil }
        return out
    }
}
