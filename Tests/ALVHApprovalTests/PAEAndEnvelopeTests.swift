import Foundation
import Testing
import ALVHSigning
@testable import ALVHApproval

@Suite("DSSE PAE and envelope encoding")
struct PAEAndEnvelopeTests {
    @Test("the DSSE spec's PAE example")
    func paeSpecExample() {
        let bytes = PAE.encode(payloadType: "http://example.com/HelloWorld", payload: Array("hello world".utf8))
        #expect(String(decoding: bytes, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    }

    @Test("PAE counts bytes, not characters, and handles empty fields")
    func paeByteLengths() {
        #expect(String(decoding: PAE.encode(payloadType: "", payload: []), as: UTF8.self) == "DSSEv1 0  0 ")
        let bytes = PAE.encode(payloadType: "é", payload: Array("€".utf8))
        #expect(bytes == Array("DSSEv1 2 é 3 €".utf8))
    }

    @Test("standard and URL-safe base64, padded or not, are accepted; mixtures and junk are not")
    func base64Forms() {
        let bytes: [UInt8] = [0xfb, 0xff, 0xfe, 0x01]
        #expect(Base64.encode(bytes) == "+//+AQ==")
        #expect(Base64.decode("+//+AQ==") == bytes)
        #expect(Base64.decode("-__-AQ==") == bytes)
        #expect(Base64.decode("-__-AQ") == bytes)
        #expect(Base64.decode("+//+AQ") == bytes)
        #expect(Base64.decode("+/_-AQ==") == nil)
        #expect(Base64.decode("AQ=") == nil)
        #expect(Base64.decode("A") == nil)
        #expect(Base64.decode("AQ==\n") == nil)
        #expect(Base64.decode("AR==") == nil) // non-zero leftover bits
        #expect(Base64.decode("") == [])
    }

    @Test("envelope JSON round trip keeps payload bytes and signatures; unknown fields are ignored")
    func envelopeRoundTrip() throws {
        let key = try PrivateKey.generate(.ed25519)
        var envelope = Envelope(payload: Array("{\"a\":1}".utf8), payloadType: PayloadTypes.proposal)
        try envelope.addSignature(using: key)
        let decoded = try Envelope.decode(try envelope.encoded())
        #expect(decoded == envelope)
        #expect(decoded.id == envelope.id)
        #expect(key.publicKey.isValidSignature(decoded.signatures[0].sig, for: decoded.pae))

        let extra = """
        {"payload":"eyJhIjoxfQ","payloadType":"\(PayloadTypes.proposal)","future":true,
         "signatures":[{"keyid":"x","sig":"\(Base64.encode(envelope.signatures[0].sig).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"))","extra":1}]}
        """
        let lenient = try Envelope.decode(Array(extra.utf8))
        #expect(lenient.payload == envelope.payload)
        #expect(lenient.signatures[0].sig == envelope.signatures[0].sig)
    }

    @Test("malformed envelopes name the field", arguments: [
        ("not json", "e.json"),
        ("[]", "e.json"),
        ("{\"payloadType\":\"t\",\"signatures\":[]}", "payload"),
        ("{\"payload\":\"%%%\",\"payloadType\":\"t\",\"signatures\":[]}", "payload"),
        ("{\"payload\":\"\",\"payloadType\":5,\"signatures\":[]}", "payloadType"),
        ("{\"payload\":\"\",\"payloadType\":\"t\"}", "signatures"),
        ("{\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[{\"keyid\":\"k\"}]}", "signatures[0].sig"),
        ("{\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"@@\"}]}", "signatures[0].sig"),
        ("{\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"AA==\",\"keyid\":7}]}", "signatures[0].keyid"),
        ("{\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[5]}", "signatures[0]"),
    ])
    func malformedEnvelope(json: String, field: String) {
        #expect {
            try Envelope.decode(Array(json.utf8), path: "e.json")
        } throws: { error in
            guard let error = error as? ApprovalError else { return false }
            return error.code == .malformedEnvelope && (error.path ?? "").hasSuffix(field)
        }
    }

    @Test("an oversized envelope is refused before parsing")
    func oversizedEnvelope() {
        let big = [UInt8](repeating: UInt8(ascii: " "), count: Envelope.maxEnvelopeBytes + 1)
        #expect(throws: ApprovalError.self) { try Envelope.decode(big) }
        #expect((try? Envelope.decode(big)) == nil)
    }

    @Test("combine merges signatures of one payload and refuses different payloads or types")
    func combine() throws {
        let desk = try Desk()
        let a = try desk.envelope(signedBy: ["tom", "alice"])
        let b = try desk.envelope(signedBy: ["carol", "alice", "p256-bob"])
        let merged = try EnvelopeMerge.combine([a, b])
        #expect(merged.signatures.count == 4) // alice's deterministic Ed25519 signature is kept once
        #expect(desk.evaluate(merged).commitReady)

        let other = try desk.envelope(desk.document(expiresIn: 1800), signedBy: ["p256-bob"])
        #expect { try EnvelopeMerge.combine([a, other]) } throws: { ($0 as? ApprovalError)?.code == .payloadMismatch }
        var retyped = b
        retyped.payloadType = PayloadTypes.rejection
        #expect { try EnvelopeMerge.combine([a, retyped]) } throws: { ($0 as? ApprovalError)?.code == .payloadMismatch }
    }
}

@Suite("RFC 3339")
struct RFC3339Tests {
    @Test("agrees with Foundation's ISO 8601 formatter on 20,000 random instants, both ways")
    func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let seconds = Double(Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator)) // 1900…2200
            let date = Date(timeIntervalSince1970: seconds)
            let ours = RFC3339.format(date)
            #expect(ours == formatter.string(from: date))
            #expect(RFC3339.parse(ours) == date)
        }
    }

    @Test("offsets, fractions, and refusals")
    func edges() {
        #expect(RFC3339.parse("2026-11-25T15:30:00+01:00") == RFC3339.parse("2026-11-25T14:30:00Z"))
        #expect(RFC3339.parse("2026-11-25T09:00:00-05:30") == RFC3339.parse("2026-11-25T14:30:00Z"))
        #expect(RFC3339.parse("2026-11-25t14:30:00.250z")!.timeIntervalSince(RFC3339.parse("2026-11-25T14:30:00Z")!) == 0.25)
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
        for bad in ["2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T14:60:00Z",
                    "2026-11-25T14:30:60Z", "2026-11-25 14:30:00Z", "2026-11-25T14:30:00", "2026-11-25T14:30:00+0100",
                    "2026-11-25T14:30:00.Z", "2026-11-25T14:30:00Zjunk", "２026-11-25T14:30:00Z", "", "2026-11-25"] {
            #expect(RFC3339.parse(bad) == nil, "\(bad) should be refused")
        }
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1.9)) == "1970-01-01T00:00:01Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59Z")
    }
}
