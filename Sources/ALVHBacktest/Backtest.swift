import Foundation
import ALVHEngine

/// `alvh backtest`'s one library call: the three strategies (and the calibration plans, and a sweep)
/// over the history, and the report.
///
/// ```swift
/// let history = try MarketHistory.load(vix: "../shared/data/vix-daily.csv", spx: "../shared/data/spx-daily.csv")
/// let report = try Backtest.run(history: history)
/// report.verdicts.map(\.sentence)
/// ```
public enum Backtest {
    /// A sensitivity sweep: one ALVH run per value of one strategy parameter.
    public struct Sweep: Sendable, Equatable {
        public enum Parameter: String, Sendable, CaseIterable {
            /// budget-fraction-of-credit.
            case budget
            /// max-hedge-stress-multiple.
            case stressCap = "stress-cap"
            /// The layer set: names joined by '+', e.g. short-term+backstop.
            case layers
        }

        public var parameter: Parameter
        public var values: [String]

        /// Parses `budget=0,0.1,0.2` (the `--sweep` value).
        public static func parse(_ text: String) throws -> Sweep {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            let names = Parameter.allCases.map(\.rawValue).joined(separator: ", ")
            guard parts.count == 2, let parameter = Parameter(rawValue: parts[0].trimmingCharacters(in: .whitespaces)) else {
                throw BacktestError(.invalidArgument, "expected PARAMETER=V1,V2,… with PARAMETER one of \(names) (got '\(text)')", path: "--sweep")
            }
            let values = parts[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !values.isEmpty, values.count <= 12, !values.contains(where: \.isEmpty) else {
                throw BacktestError(.invalidArgument, "give 1 to 12 comma-separated values (got '\(parts[1])')", path: "--sweep")
            }
            return Sweep(parameter: parameter, values: values)
        }

        /// The strategy with the parameter set to `value`.
        func apply(_ value: String, to base: Strategy) throws -> Strategy {
            var s = base
            switch parameter {
            case .budget, .stressCap:
                guard let number = Double(value), number.isFinite else {
                    throw BacktestError(.invalidArgument, "'\(value)' is not a number", path: "--sweep \(parameter.rawValue)")
                }
                if parameter == .budget { s.budgetFractionOfCredit = number } else { s.maxHedgeStressMultiple = number }
            case .layers:
                let names = Set(value.split(separator: "+").map(String.init))
                let unknown = names.subtracting(base.layers.keys).sorted()
                guard unknown.isEmpty else {
                    throw BacktestError(.invalidArgument, "no layer named \(unknown.joined(separator: ", ")) in the strategy (it has \(base.layers.keys.sorted().joined(separator: ", ")))",
                                        path: "--sweep layers")
                }
                s.layers = base.layers.filter { names.contains($0.key) }
            }
            do { try s.validate(path: "--sweep \(parameter.rawValue)=\(value)") } catch let error as EngineError { throw BacktestError(error) }
            return s
        }
    }

    /// Runs naked / one-layer / alvh (with `strategy`), the calibration plans and the sweep.
    public static func run(history: MarketHistory, configuration: BacktestConfiguration = BacktestConfiguration(),
                           strategy: Strategy = .standard, sweep: Sweep? = nil, calibration: Bool = true) throws -> BacktestReport {
        let backtester = try Backtester(history: history, configuration: configuration, scenario: strategy.scenarioModel)
        var plans: [StrategyPlan] = [.naked, .oneLayer, .alvh(strategy)]
        if calibration { plans += [.cndrReplica, .vxthReplica, .sp500] }
        var sweepStrategies: [Strategy] = []
        if let sweep {
            for value in sweep.values {
                sweepStrategies.append(try sweep.apply(value, to: strategy))
                var plan = StrategyPlan.alvh(sweepStrategies.last!, name: "sweep \(sweep.parameter.rawValue)=\(value)")
                plan.sweepValue = value
                plans.append(plan)
            }
        }
        let runs = try backtester.run(plans)
        return ReportBuilder(backtester: backtester).report(runs: runs, sweep: sweep)
    }
}
