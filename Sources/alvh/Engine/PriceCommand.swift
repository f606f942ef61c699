import ArgumentParser
import ALVHEngine
import Foundation

extension PricingModel: ExpressibleByArgument {}
extension OptionRight: ExpressibleByArgument {}

struct PriceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "price",
        abstract: "Desk calculator: price and Greeks of European options (Black-Scholes-Merton or Black-76).",
        discussion: """
        One option from flags, or many from CSV on stdin (header model,type,underlying,strike,years,rate,dividend,vol). \
        Prints price, delta, gamma, vega (per vol point), theta (per calendar day), rho (per 1 %) as CSV, or --json. \
        With --implied PRICE, solves for the volatility instead (--vol is then not needed).
        Example: alvh price --model bsm --type call --underlying 42 --strike 40 --years 0.5 --rate 0.1 --vol 0.2
        """
    )

    @Option(help: "bsm (spot, dividend yield) or black76 (futures).") var model: PricingModel = .bsm
    @Option(help: "call or put.") var type: OptionRight = .call
    @Option(help: "Spot (bsm) or futures price (black76).") var underlying: Double?
    @Option(help: "Strike.") var strike: Double?
    @Option(help: "Years to expiry (ACT/365).") var years: Double?
    @Option(help: "Risk-free rate, continuously compounded (0.05 = 5 %).") var rate: Double?
    @Option(help: "Dividend yield (bsm only).") var dividend: Double = 0
    @Option(help: "Volatility (0.20 = 20 %).") var vol: Double?
    @Option(help: "Solve for the implied volatility of this price.") var implied: Double?
    @Flag(help: "Read options as CSV rows from stdin.") var csv = false
    @OptionGroup var output: OutputOptions

    struct Row: Encodable {
        let spec: OptionSpec
        let valuation: OptionValuation?
        let impliedVol: Double?
    }

    func run() async throws {
        try reportingErrors(json: output.json) {
            let specs: [OptionSpec]
            if csv || underlying == nil {
                specs = try PriceCSV.parse(FileHandle.standardInput.readDataToEndOfFile())
            } else {
                guard let underlying, let strike, let years, let rate else {
                    throw CLIError("usage", "give --underlying, --strike, --years and --rate (and --vol or --implied), or CSV on stdin with --csv")
                }
                guard vol != nil || implied != nil else { throw CLIError("usage", "give --vol, or --implied PRICE to solve for it", path: "--vol") }
                specs = [OptionSpec(model: model, right: type, underlying: underlying, strike: strike, years: years, rate: rate, dividend: dividend, vol: vol ?? 0.2)]
            }
            var rows: [Row] = []
            for (index, spec) in specs.enumerated() {
                let where_ = specs.count > 1 ? "stdin row \(index + 2)" : "option"
                if let implied {
                    do {
                        rows.append(Row(spec: spec, valuation: nil, impliedVol: try ImpliedVolatility.solve(price: implied, spec: spec)))
                    } catch var error as EngineError {
                        error.path = where_
                        throw error
                    }
                } else {
                    try spec.validate(path: where_)
                    rows.append(Row(spec: spec, valuation: Pricer.valueUnchecked(spec), impliedVol: nil))
                }
            }
            if output.json { try Console.json(rows); return }
            if implied != nil {
                Console.out("model,type,underlying,strike,years,rate,dividend,implied_vol")
                for row in rows { Console.out(PriceCSV.prefix(row.spec) + "," + PriceCSV.number(row.impliedVol!)) }
            } else {
                Console.out("model,type,underlying,strike,years,rate,dividend,vol,price,delta,gamma,vega,theta,rho")
                for row in rows {
                    let v = row.valuation!
                    Console.out(PriceCSV.prefix(row.spec) + "," + [row.spec.vol, v.price, v.delta, v.gamma, v.vega, v.theta, v.rho].map(PriceCSV.number).joined(separator: ","))
                }
            }
        }
    }
}

extension EngineError: ReportableError {
    var reportCode: String { code.rawValue }
    var reportReason: String { reason }
    var reportPath: String? { path }
    var reportDetail: String? { nil }
}

enum PriceCSV {
    static let header = ["model", "type", "underlying", "strike", "years", "rate", "dividend", "vol"]
    /// At most this many rows from stdin.
    static let maxRows = 1_000_000

    static func parse(_ data: Data) throws -> [OptionSpec] {
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError("invalid-csv", "stdin is not UTF-8", path: "stdin") }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let first = lines.first else { throw CLIError("invalid-csv", "no CSV on stdin; header: \(header.joined(separator: ","))", path: "stdin") }
        let columns = first.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard columns == header else {
            throw CLIError("invalid-csv", "header must be \(header.joined(separator: ",")) (got \(first))", path: "stdin:1")
        }
        guard lines.count - 1 <= maxRows else { throw CLIError("invalid-csv", "more than \(maxRows) rows", path: "stdin") }
        return try lines.dropFirst().enumerated().map { offset, line in
            let number = offset + 2
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == header.count else {
                throw CLIError("invalid-csv", "expected \(header.count) fields, found \(fields.count)", path: "stdin:\(number)")
            }
            guard let model = PricingModel(rawValue: fields[0].lowercased()) else {
                throw CLIError("invalid-csv", "model must be bsm or black76", path: "stdin:\(number):1")
            }
            guard let right = OptionRight(rawValue: fields[1].lowercased()) else {
                throw CLIError("invalid-csv", "type must be call or put", path: "stdin:\(number):2")
            }
            var numbers: [Double] = []
            for column in 2..<8 {
                guard let value = Double(fields[column]) else {
                    throw CLIError("invalid-csv", "'\(fields[column])' is not a number (\(header[column]))", path: "stdin:\(number):\(column + 1)")
                }
                numbers.append(value)
            }
            return OptionSpec(model: model, right: right, underlying: numbers[0], strike: numbers[1], years: numbers[2], rate: numbers[3], dividend: numbers[4], vol: numbers[5])
        }
    }

    static func prefix(_ s: OptionSpec) -> String {
        "\(s.model.rawValue),\(s.right.rawValue)," + [s.underlying, s.strike, s.years, s.rate, s.dividend].map(number).joined(separator: ",")
    }

    static func number(_ value: Double) -> String {
        var text = String(format: "%.10g", value)
        if text == "-0" { text = "0" }
        return text
    }
}
