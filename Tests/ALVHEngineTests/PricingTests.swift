import Foundation
import Testing
@testable import ALVHEngine

@Suite("Pricing")
struct PricingTests {
    @Test("Hull: S=42, K=40, r=10%, σ=20%, T=0.5 → call 4.76, put 0.81")
    func hullBSM() throws {
        let call = try Pricer.value(OptionSpec(model: .bsm, right: .call, underlying: 42, strike: 40, years: 0.5, rate: 0.10, vol: 0.20))
        let put = try Pricer.value(OptionSpec(model: .bsm, right: .put, underlying: 42, strike: 40, years: 0.5, rate: 0.10, vol: 0.20))
        #expect(Fixtures.close(call.price, 4.7594, 5e-5))
        #expect(Fixtures.close(put.price, 0.8086, 5e-5))
        #expect(Fixtures.close(call.delta, 0.7791, 5e-5))
    }

    @Test("Hull: Black-76 on a future, F=20, K=20, r=9%, σ=25%, T=4/12 → 1.1166 call and put")
    func hullBlack76() throws {
        let call = try Pricer.value(OptionSpec(model: .black76, right: .call, underlying: 20, strike: 20, years: 4.0 / 12, rate: 0.09, vol: 0.25))
        let put = try Pricer.value(OptionSpec(model: .black76, right: .put, underlying: 20, strike: 20, years: 4.0 / 12, rate: 0.09, vol: 0.25))
        #expect(Fixtures.close(call.price, 1.1166, 5e-5))
        #expect(Fixtures.close(call.price, put.price, 1e-12)) // at the money forward
    }

    static let specs: [OptionSpec] = [
        OptionSpec(model: .bsm, right: .call, underlying: 6000, strike: 5700, years: 0.15, rate: 0.042, dividend: 0.013, vol: 0.18),
        OptionSpec(model: .bsm, right: .put, underlying: 6000, strike: 5500, years: 0.9, rate: 0.03, dividend: 0.02, vol: 0.25),
        OptionSpec(model: .bsm, right: .call, underlying: 100, strike: 130, years: 2, rate: 0.0, dividend: 0.0, vol: 0.4),
        OptionSpec(model: .black76, right: .call, underlying: 17.2, strike: 25, years: 0.08, rate: 0.042, vol: 0.95),
        OptionSpec(model: .black76, right: .put, underlying: 22, strike: 18, years: 0.4, rate: 0.05, vol: 0.7),
    ]

    @Test("put-call parity: C − P = S e^(−qT) − K e^(−rT) (bsm), e^(−rT)(F − K) (black76)", arguments: specs)
    func parity(spec: OptionSpec) {
        var call = spec, put = spec
        call.right = .call
        put.right = .put
        let lhs = Pricer.price(call) - Pricer.price(put)
        let t = spec.years
        let rhs = spec.model == .bsm ? spec.underlying * exp(-spec.dividend * t) - spec.strike * exp(-spec.rate * t)
                                     : exp(-spec.rate * t) * (spec.underlying - spec.strike)
        #expect(abs(lhs - rhs) < 1e-9 * max(1, spec.underlying))
    }

    @Test("Greeks agree with central finite differences", arguments: specs)
    func greeksVersusFiniteDifferences(spec: OptionSpec) {
        let v = Pricer.valueUnchecked(spec)
        func price(_ change: (inout OptionSpec) -> Void) -> Double { var s = spec; change(&s); return Pricer.price(s) }
        let h = spec.underlying * 1e-4
        let up = price { $0.underlying += h }, down = price { $0.underlying -= h }
        #expect(abs((up - down) / (2 * h) - v.delta) < 1e-6)
        #expect(abs((up - 2 * v.price + down) / (h * h) - v.gamma) < 1e-4 * max(1, v.gamma))
        let dv = 1e-5
        #expect(abs((price { $0.vol += dv } - price { $0.vol -= dv }) / (2 * dv) / 100 - v.vega) < 1e-7 * max(1, spec.underlying))
        let dt = 1e-6
        #expect(abs(-(price { $0.years += dt } - price { $0.years -= dt }) / (2 * dt) / 365 - v.theta) < 1e-6 * max(1, spec.underlying))
        let dr = 1e-6
        #expect(abs((price { $0.rate += dr } - price { $0.rate -= dr }) / (2 * dr) / 100 - v.rho) < 1e-6 * max(1, spec.underlying))
    }

    @Test("Black-76 identities: equals BSM with S = F and q = r (price, delta, gamma, vega); rho = −T·V/100")
    func black76Identities() {
        for spec in Self.specs where spec.model == .black76 {
            let b = Pricer.valueUnchecked(spec)
            var asBSM = spec
            asBSM.model = .bsm
            asBSM.dividend = spec.rate
            let m = Pricer.valueUnchecked(asBSM)
            #expect(abs(b.price - m.price) < 1e-12)
            #expect(abs(b.delta - m.delta) < 1e-12)
            #expect(abs(b.gamma - m.gamma) < 1e-12)
            #expect(abs(b.vega - m.vega) < 1e-12)
            #expect(abs(b.rho - (-spec.years * b.price / 100)) < 1e-12)
        }
    }

    @Test("implied vol round-trips, and an impossible price is a clear error", arguments: specs)
    func impliedVol(spec: OptionSpec) throws {
        let price = Pricer.price(spec)
        #expect(abs(try ImpliedVolatility.solve(price: price, spec: spec) - spec.vol) < 1e-7)
        #expect { try ImpliedVolatility.solve(price: -1, spec: spec) } throws: { ($0 as? EngineError)?.code == .noSolution }
        #expect { try ImpliedVolatility.solve(price: spec.underlying * 2, spec: spec) } throws: { ($0 as? EngineError)?.code == .noSolution }
    }

    @Test("out-of-domain inputs name the field", arguments: [
        ("underlying", OptionSpec(model: .bsm, right: .call, underlying: 0, strike: 1, years: 1, rate: 0, vol: 0.2)),
        ("strike", OptionSpec(model: .bsm, right: .call, underlying: 1, strike: -1, years: 1, rate: 0, vol: 0.2)),
        ("years", OptionSpec(model: .bsm, right: .call, underlying: 1, strike: 1, years: 0, rate: 0, vol: 0.2)),
        ("vol", OptionSpec(model: .bsm, right: .call, underlying: 1, strike: 1, years: 1, rate: 0, vol: .nan)),
    ])
    func domain(field: String, spec: OptionSpec) {
        #expect { try Pricer.value(spec) } throws: { ($0 as? EngineError)?.path == "option.\(field)" }
    }
}

extension OptionSpec: CustomTestStringConvertible {
    public var testDescription: String { "\(model) \(right) \(underlying)/\(strike) T=\(years)" }
}
