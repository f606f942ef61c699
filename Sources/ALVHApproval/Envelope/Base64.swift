import Foundation

/// Base64 as DSSE allows it: standard or URL-safe alphabet, padded or not, on input;
/// standard and padded on output.
public enum Base64 {
    /// Standard, padded.
    public static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Decodes standard or URL-safe base64, with or without padding. No whitespace, no mixing
    /// of the two alphabets, no bits left over.
    public static func decode(_ text: String) -> [UInt8]? {
        var chars = Array(text.utf8)
        let hasStandard = chars.contains(UInt8(ascii: "+")) || chars.contains(UInt8(ascii: "/"))
        let hasURLSafe = chars.contains(UInt8(ascii: "-")) || chars.contains(UInt8(ascii: "_"))
        if hasStandard && hasURLSafe { return nil }
        for i in chars.indices {
            if chars[i] == UInt8(ascii: "-") { chars[i] = UInt8(ascii: "+") }
            if chars[i] == UInt8(ascii: "_") { chars[i] = UInt8(ascii: "/") }
        }
        if chars.count % 4 == 1 { return nil }
        if chars.count % 4 != 0 {
            if chars.contains(UInt8(ascii: "=")) { return nil } // padding but wrong length
            chars += Array(repeating: UInt8(ascii: "="), count: 4 - chars.count % 4)
        }
        guard let data = Data(base64Encoded: Data(chars)) else { return nil }
        let bytes = [UInt8](data)
        // Canonical check: re-encoding gives the same text (no stray low bits in the last char).
        var canonical = Array(Data(bytes).base64EncodedString().utf8)
        if canonical != chars {
            // Foundation may reject/accept differently; compare without padding too.
            while canonical.last == UInt8(ascii: "=") { canonical.removeLast() }
            var stripped = chars
            while stripped.last == UInt8(ascii: "=") { stripped.removeLast() }
            if canonical != stripped { return nil }
        }
        return bytes
    }
}
