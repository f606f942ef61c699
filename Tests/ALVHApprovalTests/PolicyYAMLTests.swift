import Foundation
import Testing
import ALVHSigning
@testable import ALVHApproval

/// YAML expansion: anchors and aliases are refused before composing, however the text is quoted.
@Suite("Policy YAML: anchors, aliases, excerpts")
struct PolicyYAMLTests {
    static let ws: Workspace = try! Workspace().makeKeys(["a", "b"])

    /// Nine levels of nine-fold aliases, each line starting with a plain scalar holding a stray `'`
    /// (which a line scanner takes for an opening quote), and the last alias used as a mapping key:
    /// hashing that key walks 9^9 nodes.
    static func aliasKeyAttack() -> String {
        var text = "version: 1\nl0: [x', &a0 [l, l, l, l, l, l, l, l, l]]\n"
        for level in 1...8 {
            text += "l\(level): [x', &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", "))]]\n"
        }
        return text + "? [x', *a8]\n: 1\n"
    }

    static func billionLaughs() -> String {
        var text = "version: 1\nlol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...8 { text += "lol\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", "))]\n" }
        return text
    }

    func refusal(_ text: String) -> ApprovalError? {
        do { _ = try Self.ws.policy(text); return nil } catch let error as ApprovalError { return error } catch { return nil }
    }

    @Test("an alias as a mapping key behind a stray quote is refused at once")
    func aliasKeyBehindStrayQuote() {
        let text = Self.aliasKeyAttack()
        #expect(text.utf8.count < 600)
        let started = Date()
        let error = refusal(text)
        #expect(Date().timeIntervalSince(started) < 2)
        #expect(error?.code == .invalidPolicy)
        #expect(error?.reason.contains("YAML anchors and aliases are not allowed in a policy") == true, "\(String(describing: error))")
    }

    @Test("billion laughs, and anchors hidden after a quote in a comment or plain scalar, are refused")
    func billionLaughs() {
        #expect(refusal(Self.billionLaughs())?.reason.contains("anchor '&a0' at line 2") == true)
        #expect(refusal("version: 1 # it's\nname: &n desk\n")?.reason.contains("anchor '&n'") == true)
        #expect(refusal("version: 1\nname: it's\nother: [a', *n]\n")?.reason.contains("alias '*n'") == true)
    }

    @Test("a huge line in an error is clipped to about 120 characters")
    func clipped() {
        let long = String(repeating: "z", count: 1000)
        let unknown = refusal("version: 1\n\(long): 1\n")
        #expect(unknown?.reason.contains("unknown field 'zzz") == true)
        #expect((unknown?.reason.count ?? .max) < 400, "\(unknown?.reason.count ?? 0) characters")
        let syntax = refusal("version: 1\nname: \"" + String(repeating: "y", count: 240_000) + "\n")
        #expect(syntax?.reason.hasPrefix("not valid YAML") == true)
        #expect((syntax?.reason.count ?? .max) < 400, "\(syntax?.reason.count ?? 0) characters")
    }

    @Test("quotes, & and * inside quoted strings, comments and block scalars are still accepted")
    func legitimate() throws {
        let ws = Self.ws
        let text = """
        version: 1   # the desk's policy & *notes* 'here'
        name: 'desk''s & *main* book'
        signers:
        \(ws.signer("alice", key: "a", roles: ["risk-officer"]))
        \(ws.signer("bob", key: "b", roles: ["cro"]))
        rules:
          - name: "all \\"kinds\\" & *more*"
            kinds: ['*']
            threshold: 1
        """
        let policy = try ws.policy(text)
        #expect(policy.name == "desk's & *main* book")
        #expect(policy.rules[0].name == "all \"kinds\" & *more*")
    }
}
