import Foundation
import Testing
@testable import ALVHSigner

/// YAML expansion in signer limits files: anchors and aliases are refused before composing.
@Suite("Limits YAML: anchors, aliases, excerpts")
struct LimitsYAMLTests {
    static func aliasKeyAttack() -> String {
        var text = "max-abs-delta-vega: 1\nl0: [x', &a0 [l, l, l, l, l, l, l, l, l]]\n"
        for level in 1...8 {
            text += "l\(level): [x', &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", "))]]\n"
        }
        return text + "? [x', *a8]\n: 1\n"
    }

    func reason(_ text: String) -> String? {
        do { _ = try SignerLimits.parse(text); return nil } catch let error as SignerError {
            return error.code == .invalidLimits ? error.reason : "\(error)"
        } catch { return "\(error)" }
    }

    @Test("an alias as a mapping key behind a stray quote is refused at once; so is billion laughs")
    func refused() {
        let started = Date()
        #expect(reason(Self.aliasKeyAttack())?.contains("YAML anchors and aliases are not allowed in a limits file") == true)
        #expect(Date().timeIntervalSince(started) < 2)
        var laughs = "lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...8 { laughs += "lol\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", "))]\n" }
        #expect(reason(laughs)?.contains("anchor '&a0'") == true)
        #expect(reason(String(repeating: "# padding\n", count: 7000))?.contains("over the 65536-byte limit") == true)
    }

    @Test("a huge unknown field name or broken line is clipped; quoted & and * and comments are accepted")
    func clippedAndLegitimate() throws {
        let unknown = reason(String(repeating: "q", count: 1000) + ": 1\n")
        #expect(unknown?.contains("unknown field 'qqq") == true)
        #expect((unknown?.count ?? .max) < 600)
        let syntax = reason("max-abs-delta-vega: '" + String(repeating: "y", count: 50_000) + "\n")
        #expect(syntax?.hasPrefix("not valid YAML") == true)
        #expect((syntax?.count ?? .max) < 400)
        let limits = try SignerLimits.parse("# the bot's limits & *notes* 'x'\nmax-abs-delta-vega: 20000  # it's &a\nallowed-hours-utc: \"13:30-20:00\" # *b\n")
        #expect(limits.maxAbsDeltaVega == 20000)
    }
}
