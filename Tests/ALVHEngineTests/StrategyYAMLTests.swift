import Foundation
import Testing
@testable import ALVHEngine

/// YAML expansion in strategy files: anchors and aliases are refused before composing.
@Suite("Strategy YAML: anchors, aliases, excerpts")
struct StrategyYAMLTests {
    static func aliasKeyAttack() -> String {
        var text = "event-days-ahead: 14\nl0: [x', &a0 [l, l, l, l, l, l, l, l, l]]\n"
        for level in 1...8 {
            text += "l\(level): [x', &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", "))]]\n"
        }
        return text + "? [x', *a8]\n: 1\n"
    }

    func reason(_ text: String) -> String? {
        do { _ = try Strategy.parse(text); return nil } catch let error as EngineError {
            return error.code == .invalidStrategy ? error.reason : "\(error)"
        } catch { return "\(error)" }
    }

    @Test("an alias as a mapping key behind a stray quote is refused at once; so is billion laughs")
    func refused() {
        let started = Date()
        #expect(reason(Self.aliasKeyAttack())?.contains("YAML anchors and aliases are not allowed in a strategy") == true)
        #expect(Date().timeIntervalSince(started) < 2)
        var laughs = "lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...8 { laughs += "lol\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", "))]\n" }
        #expect(reason(laughs)?.contains("anchor '&a0'") == true)
    }

    @Test("a huge line in an error is clipped; quoted & and * and comments are accepted")
    func clippedAndLegitimate() throws {
        let syntax = reason("event-days-ahead: \"" + String(repeating: "y", count: 200_000) + "\n")
        #expect(syntax?.hasPrefix("not valid YAML") == true)
        #expect((syntax?.count ?? .max) < 400)
        let strategy = try Strategy.parse("# the desk's strategy & *notes*\nevent-days-ahead: 10  # it's '&a'\nlayers:\n  event:\n    design-scenario: { name: \"it's & *x*\", spxMovePercent: -3, vixShockPoints: 8, days: 1 }\n    target-coverage-fraction: 0.2\n    min-expiry-days: 1\n    max-expiry-days: 40\n    strike-offsets: [0, 2]\n    roll-below-days: 0\n")
        #expect(strategy.eventDaysAhead == 10)
        #expect(strategy.layers["event"]?.designScenario.name == "it's & *x*")
    }

    @Test("a misspelt field is refused naming it and the known ones, at the top, in a layer and in the scenario model — never silently defaulted")
    func unknownFields() throws {
        func failure(_ text: String) -> EngineError? {
            do { _ = try Strategy.parse(text, path: "s.yaml"); return nil } catch { return error as? EngineError }
        }
        let top = try #require(failure("budget-fraction-of-credt: 0.2\n"))
        #expect(top.path == "s.yaml: budget-fraction-of-credt" && top.reason.contains("unknown field") && top.reason.contains("budget-fraction-of-credit"))
        let layer = try #require(failure("layers:\n  event:\n    design-scenario: { name: e, spxMovePercent: -3, vixShockPoints: 8, days: 1 }\n    target-coverage-fraction: 0.2\n    min-expiry-days: 1\n    max-expiry-days: 40\n    strike-offsets: [0, 2]\n    roll-below-days: 0\n    roll-below: 3\n"))
        #expect(layer.path == "s.yaml: layers.event.roll-below" && layer.reason.contains("unknown field"))
        let model = try #require(failure("scenario-model: { termBetaDays: 100, spxSmile: sticky-moneyness, crashVIX: 40 }\n"))
        #expect(model.path == "s.yaml: scenario-model.crashVIX" && model.reason.contains("unknown field"))
        // Known fields alone still merge over the defaults.
        let partial = try Strategy.parse("scenario-model: { termBetaDays: 100, spxSmile: sticky-moneyness }\n")
        #expect(partial.scenarioModel.termBetaDays == 100 && partial.scenarioModel.spxSmile == .stickyMoneyness
                && partial.scenarioModel.vixVolPerVixPoint == ScenarioModel.standard.vixVolPerVixPoint)
        #expect(partial.layers == Strategy.standard.layers)
    }
}
