import Foundation
import Testing
import ALVHSigning
@testable import ALVHApproval

/// The hand-written JSON paths (strict reader, envelope writer, base64) against Foundation's,
/// which they replaced for speed: same values and bytes on everything alvh writes, and refusals
/// where the strict reader is stricter on purpose.
@Suite("Strict JSON")
struct StrictJSONTests {
    /// A deterministic generator (SplitMix64), so a failure replays.
    struct Rand: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
        mutating func bool() -> Bool { next() & 1 == 1 }
        /// Doubles across magnitudes, signs, integers, tiny and huge values, and negative zero.
        mutating func double() -> Double {
            switch int(0...5) {
            case 0: return Double(int(-1_000_000...1_000_000))
            case 1: return Double(bitPattern: next() & ~(0x7FF << 52) | (UInt64(int(900...1150)) << 52))
            case 2: return -Double(bitPattern: next() & ~(0x7FF << 52) | (UInt64(int(1...2040)) << 52))
            case 3: return Double(int(-99_999...99_999)) / 100
            case 4: return -0.0
            default: return Double.random(in: -1e6...1e6, using: &self)
            }
        }
        /// Strings with quotes, backslashes, slashes, control characters, DEL and non-ASCII.
        mutating func string() -> String {
            let pieces = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1f}", "\u{7f}", "é", "€", "𝄞", "\u{2028}", "layer", "-"]
            return (0..<int(0...12)).map { _ in pieces[int(0...(pieces.count - 1))] }.joined()
        }
        mutating func hex64() -> String { (0..<4).map { _ in String(format: "%016llx", next()) }.joined() }
    }

    static func greeks(_ r: inout Rand) -> ProposalDocument.Greeks {
        .init(delta: r.double(), gamma: r.double(), vega: r.double(), theta: r.double(), rho: r.double())
    }

    static func risk(_ r: inout Rand) -> ProposalDocument.Risk {
        var layers: [String: ProposalDocument.Greeks] = [:]
        for _ in 0..<r.int(0...4) { layers[r.string()] = greeks(&r) }
        var stress: [String: Double] = [:]
        for _ in 0..<r.int(0...5) { stress[r.string()] = r.double() }
        return .init(layers: layers, total: greeks(&r), stressPnL: stress)
    }

    /// A random document of any shape the schema allows (validation is not the point here).
    static func document(_ r: inout Rand) -> ProposalDocument {
        let created = Date(timeIntervalSince1970: Double(r.int(1_700_000_000...1_900_000_000)))
        let kind = ChangeKind.allCases[r.int(0...4)]
        let change: ProposalDocument.Change
        if kind == .policyChange {
            change = .init(kind: kind, policy: .init(bytes: Array(r.string().utf8), version: r.int(-5...1_000_000)))
        } else {
            let legs = (0..<r.int(0...4)).map { _ in
                ProposalDocument.Leg(instrument: r.string(), right: r.bool() ? "call" : "put", expiry: r.string(),
                                     strike: r.double(), quantity: Int(truncatingIfNeeded: r.next()), limitPrice: r.double())
            }
            change = .init(kind: kind, layer: .init(layer: r.string(), legs: legs))
        }
        let rationale = (0..<r.int(0...3)).map { _ in
            ProposalDocument.Signal(name: r.string(), value: r.double(), threshold: r.bool() ? r.double() : nil, note: r.bool() ? r.string() : nil)
        }
        return ProposalDocument(
            ledger: LedgerBinding(ledgerID: r.hex64(), base: r.hex64(), sequence: r.next(), policyHash: r.hex64()),
            created: created, expires: created.addingTimeInterval(Double(r.int(1...86_400))),
            proposer: KeyID(hex: r.hex64())!, change: change, rationale: rationale,
            riskBefore: r.bool() ? risk(&r) : nil, riskAfter: r.bool() ? risk(&r) : nil, costDollars: r.double(),
            market: r.bool() ? .init(snapshotHash: r.hex64(), asOf: r.string(), spx: r.double(), vix: r.double(),
                                     vixFront: r.bool() ? r.double() : nil) : nil)
    }

    static func strictRead(_ bytes: [UInt8]) throws -> ProposalDocument {
        try StrictJSONReader.read(bytes) { try ProposalDocument.read(&$0) }
    }

    @Test("2,000 random proposals: the strict reader and JSONDecoder read the same document from the canonical bytes")
    func proposalsAgreeWithFoundation() throws {
        var r = Rand(state: 20261127)
        for _ in 0..<2_000 {
            let document = Self.document(&r)
            let bytes = try document.encoded()
            let strict = try Self.strictRead(bytes)
            let foundation = try JSONDecoder().decode(ProposalDocument.self, from: Data(bytes))
            #expect(strict == document)
            #expect(strict == foundation)
            // Pretty, unsorted, escaped-slash output reads the same too.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted]
            #expect(try Self.strictRead(Array(try encoder.encode(document))) == document)
        }
    }

    @Test("escapes, surrogate pairs and number forms read as Foundation reads them")
    func lexicalForms() throws {
        let text = #"{"s":"a\u00e9\ud834\udd1e\/\b\f\n\r\t\"\\","d":[0,-0,1.5e3,-2E-2,1e308,4.9e-324,123456789012345678901234567890]}"#
        struct Wire: Decodable, Equatable { let s: String; let d: [Double] }
        let foundation = try JSONDecoder().decode(Wire.self, from: Data(text.utf8))
        var s = "", d: [Double] = []
        try StrictJSONReader.read(Array(text.utf8)) { r in
            try r.readObject { r, key in
                switch key {
                case "s": s = try r.readString()
                default: try r.readArray { r, _ in d.append(try r.readDouble()) }
                }
            }
        }
        #expect(Wire(s: s, d: d) == foundation)
    }

    @Test("refusals name the field", arguments: [
        // (mutation of a valid document's JSON text, expected reason fragment, expected path suffix)
        (#""costDollars":"#, #""costDollars":1,"costDollars":"#, "duplicate key 'costDollars'", "costDollars"),
        (#""layer":{"#, #""layer":{"extra":1,"#, "unknown field 'extra'", "change.layer.extra"),
        (#""schema":1"#, #""schema":2"#, "schema 2 is not supported", "schema"),
        (#""schema":1"#, #""schema":1.0"#, "expected an integer", "schema"),
        (#""quantity":"#, #""quantity":"3","unused":"#, "expected a number, found a string", "legs[0].quantity"),
        (#""costDollars":"#, #""costDollars":1e400,"x":"#, "out of range", "costDollars"),
        (#""proposer":""#, #""proposer":"\ud800"#, "not JSON: lone high surrogate", ""),
        (#""kind":"add-layer""#, #""kind":"add-layers""#, "unknown change kind 'add-layers'", "change.kind"),
    ])
    func refusals(find: String, replace: String, reason: String, path: String) throws {
        var r = Rand(state: 7)
        var document = Self.document(&r)
        document.change = .init(kind: .addLayer, layer: .init(layer: "event", legs: [
            .init(instrument: "VIX", right: "call", expiry: "2026-12-16", strike: 25, quantity: 10, limitPrice: 1.5)]))
        let text = String(decoding: try document.encoded(), as: UTF8.self)
        #expect(text.contains(find))
        let bad = text.replacingOccurrences(of: find, with: replace)
        #expect {
            try ProposalDocument.decode(Array(bad.utf8), path: "p.json")
        } throws: { error in
            guard let error = error as? ApprovalError, error.code == .malformedPayload else { return false }
            return error.reason.contains(reason) && (error.path ?? "").hasSuffix(path)
        }
    }

    @Test("not JSON: trailing bytes, invalid UTF-8, control characters, leading zeros, truncation; deep nesting bounded")
    func syntax() throws {
        var seven = Rand(state: 7)
        let valid = try Self.document(&seven).encoded()
        let cases: [[UInt8]] = [
            valid + Array(" x".utf8),
            Array(String(decoding: valid, as: UTF8.self).replacingOccurrences(of: "\"created\"", with: "\"cr\u{1}eated\"").utf8),
            Array(#"{"schema":01}"#.utf8),
            Array(#"{"schema":1"#.utf8),
            Array(#"{"proposer":"ab"#.utf8) + [0xC3, 0x28, 0x22, 0x7D],
            Array(valid.dropLast(7)),
        ]
        for bytes in cases {
            #expect {
                try ProposalDocument.decode(bytes, path: "p.json")
            } throws: { error in
                (error as? ApprovalError)?.reason.hasPrefix("not JSON") == true
            }
        }
        // Deep nesting: refused at once where the schema wants an object, and bounded where an
        // unknown envelope field may nest.
        #expect {
            try ProposalDocument.decode(Array(repeating: UInt8(ascii: "["), count: 100_000), path: "p.json")
        } throws: { error in
            (error as? ApprovalError)?.reason == "expected an object, found an array"
        }
        let deep = "{\"x\":" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        #expect(throws: ApprovalError.self) { try Envelope.decode(Array(deep.utf8)) }
    }

    @Test("the envelope writer is byte for byte JSONEncoder's pretty, sorted output, 0 to 4 signatures")
    func envelopeBytesMatchFoundation() throws {
        struct Wire: Encodable {
            struct Sig: Encodable { let keyid: String; let sig: String }
            let payload: String
            let payloadType: String
            let signatures: [Sig]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var r = Rand(state: 42)
        for _ in 0..<1_000 {
            let payload = (0..<r.int(0...300)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            let signatures = (0..<r.int(0...4)).map { _ in
                Envelope.Signature(keyid: r.bool() ? r.string() : nil, sig: (0..<r.int(0...72)).map { _ in UInt8(truncatingIfNeeded: r.next()) })
            }
            let envelope = Envelope(payload: payload, payloadType: r.string(), signatures: signatures)
            let wire = Wire(payload: Data(payload).base64EncodedString(), payloadType: envelope.payloadType,
                            signatures: signatures.map { .init(keyid: $0.keyid ?? "", sig: Data($0.sig).base64EncodedString()) })
            let expected = Array(try encoder.encode(wire)) + [UInt8(ascii: "\n")]
            let written = try envelope.encoded()
            #expect(written == expected)
            let back = try Envelope.decode(written)
            #expect(back.payload == payload && back.payloadType == envelope.payloadType)
            #expect(back.signatures.map(\.sig) == signatures.map(\.sig))
        }
    }

    @Test("base64 agrees with Foundation on every length 0…200; non-canonical and malformed texts are refused")
    func base64AgreesWithFoundation() {
        var r = Rand(state: 64)
        for count in 0...200 {
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            let text = Base64.encode(bytes)
            #expect(text == Data(bytes).base64EncodedString())
            #expect(Base64.decode(text) == bytes)
            let urlSafe = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Base64.decode(urlSafe) == bytes)
        }
        for bad in ["QR==", "QUI=QUI=", "Q===", "====", "QQ=", "QQ==QQ==", " QQ==", "QQ\u{0}=", "Q", "QUJD+-==", "é"] {
            #expect(Base64.decode(bad) == nil, "\(bad)")
        }
    }
}

extension StrictJSONTests {
    @Test("objects of many keys: a duplicate is found past the first 16, and 100,000 keys read in linear time")
    func manyKeys() throws {
        func object(_ count: Int, duplicateAt: Int? = nil) -> [UInt8] {
            var keys = (0..<count).map { "k\($0)" }
            if let duplicateAt { keys.append(keys[duplicateAt]) }
            return Array(("{" + keys.map { "\"\($0)\":\($0.count)" }.joined(separator: ",") + "}").utf8)
        }
        for (count, duplicate) in [(10, 3), (16, 15), (17, 2), (40, 39)] {
            #expect(throws: StrictJSONReader.Failure.self) {
                try StrictJSONReader.read(object(count, duplicateAt: duplicate)) { r in try r.readObject { r, _ in try r.skipValue() } }
            }
        }
        var read = 0
        try StrictJSONReader.read(object(100_000)) { r in try r.readObject { r, _ in try r.skipValue(); read += 1 } }
        #expect(read == 100_000)
        // As an unknown envelope field too (DSSE readers skip them).
        let envelope = Array("{\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[],\"x\":".utf8) + object(60_000) + Array("}".utf8)
        #expect(try Envelope.decode(envelope).payloadType == "t")
    }
}

extension StrictJSONTests {
    @Test("more signatures than an envelope may carry: too-large, naming the first one over")
    func tooManySignatures() {
        let signatures = Array(repeating: "{\"sig\":\"AA==\"}", count: Envelope.maxSignatures + 1).joined(separator: ",")
        let json = "{\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[\(signatures)]}"
        #expect {
            try Envelope.decode(Array(json.utf8), path: "e.json")
        } throws: { error in
            guard let error = error as? ApprovalError else { return false }
            return error.code == .tooLarge && error.path == "e.json: signatures[\(Envelope.maxSignatures)]"
        }
    }
}
