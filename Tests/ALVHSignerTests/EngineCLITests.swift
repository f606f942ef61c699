import Foundation
import Testing
import ALVHTestSupport

/// The engine's commands through the real binary: price, risk, stress, propose without a ledger.
@Suite("Engine commands")
struct EngineCLITests {
    static let examples = TestProcess.packageRoot.appendingPathComponent("Examples").path

    func alvh(_ arguments: [String], input: String? = nil) throws -> TestProcess.Output {
        try TestProcess.run(TestProcess.alvh, arguments, input: input.map { Array($0.utf8) })
    }

    func json(_ output: TestProcess.Output) throws -> Any { try JSONSerialization.jsonObject(with: Data(output.stdout)) }

    @Test("price: Hull's call from flags, its implied vol back, and CSV rows from stdin")
    func price() throws {
        let flags = ["--model", "bsm", "--type", "call", "--underlying", "42", "--strike", "40", "--years", "0.5", "--rate", "0.1"]
        let priced = try alvh(["price"] + flags + ["--vol", "0.2"])
        #expect(priced.status == 0)
        let row = priced.text.split(separator: "\n")[1].split(separator: ",")
        #expect(abs(Double(row[8])! - 4.7594) < 1e-4) // Hull: 4.76
        let implied = try alvh(["price"] + flags + ["--implied", "4.759422392871532", "--json"])
        let vol = ((try json(implied) as? [[String: Any]])?.first?["impliedVol"] as? Double) ?? 0
        #expect(abs(vol - 0.2) < 1e-9)
        let csv = try alvh(["price"], input: "model,type,underlying,strike,years,rate,dividend,vol\nbsm,put,42,40,0.5,0.1,0,0.2\nblack76,call,20,20,0.3333333333,0.09,0,0.25\n")
        let lines = csv.text.split(separator: "\n")
        #expect(csv.status == 0 && lines.count == 3)
        #expect(abs(Double(lines[1].split(separator: ",")[8])! - 0.8086) < 1e-4) // Hull: 0.81
        #expect(abs(Double(lines[2].split(separator: ",")[8])! - 1.1166) < 1e-4) // Hull, Black-76: 1.1166
    }

    @Test("price: an impossible price and a bad field are errors naming the field, exit 1 / 64")
    func priceErrors() throws {
        let flags = ["--model", "bsm", "--type", "call", "--underlying", "42", "--strike", "40", "--years", "0.5", "--rate", "0.1"]
        let impossible = try alvh(["price"] + flags + ["--implied", "50"])
        #expect(impossible.status == 1 && impossible.stderr.contains("above the most the option is worth"))
        let badRow = try alvh(["price"], input: "model,type,underlying,strike,years,rate,dividend,vol\nbsm,put,42,40,0.5,0.1,0,-0.2\n")
        #expect(badRow.status == 1 && badRow.stderr.contains("vol"))
    }

    @Test("risk and stress: per-layer Greeks, the named stresses, a grid")
    func riskAndStress() throws {
        let risk = try alvh(["risk", "--market", "\(Self.examples)/market/calm.json", "--book", "\(Self.examples)/book/condor.json", "--json"])
        #expect(risk.status == 0)
        let report = try #require(try json(risk) as? [String: Any])
        let layers = (report["layers"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        #expect(layers.contains("condor") && layers.contains("backstop"))
        #expect((report["stressPnL"] as? [String: Double])?.keys.sorted() == ["covid-2020", "oct-1987-style", "oct-2008", "tariff-2025", "us-downgrade-2011", "volmageddon-2018", "yen-carry-2024"])
        let stress = try alvh(["stress", "--market", "\(Self.examples)/market/spike.json", "--book", "\(Self.examples)/book/condor.json",
                               "--grid-spx", "5", "--grid-vix", "3", "--json"])
        let grid = try #require(try json(stress) as? [String: Any])
        #expect((grid["gridPnL"] as? [[Double]])?.count == 5 && (grid["gridPnL"] as? [[Double]])?.first?.count == 3)
        let text = try alvh(["risk", "--market", "\(Self.examples)/market/calm.json", "--book", "\(Self.examples)/book/condor.json"])
        #expect(text.text.contains("covid-2020") && text.text.contains("backstop"))
        // P&L attribution of the move from calm to the spike; the parts add up to the actual P&L.
        let since = try alvh(["risk", "--market", "\(Self.examples)/market/spike.json", "--since", "\(Self.examples)/market/calm.json",
                              "--book", "\(Self.examples)/book/condor.json", "--json"])
        #expect(since.status == 0, "\(since.stderr)")
        let total = try #require(((try json(since) as? [String: Any])?["attribution"] as? [String: Any])?["total"] as? [String: Any])
        let parts = ["delta", "gamma", "vega", "theta", "residual"].map { total[$0] as? Double ?? .nan }.reduce(0, +)
        #expect(abs(parts - (total["actual"] as? Double ?? .nan)) < 0.05)
        let backwards = try alvh(["risk", "--market", "\(Self.examples)/market/calm.json", "--since", "\(Self.examples)/market/spike.json",
                                  "--book", "\(Self.examples)/book/condor.json"])
        #expect(backwards.status == 1 && backwards.stderr.contains("must not be before"))
    }

    @Test("propose without a ledger writes a signed, unbound draft envelope that alvh verify reads")
    func proposeDraft() throws {
        var template = Array("/tmp/alvh-propose-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try alvh(["keys", "generate", "trader", "--dir", "\(root)/Keys"]).status == 0)
        let out = try alvh(["propose", "--market", "\(Self.examples)/market/calm.json", "--book", "\(Self.examples)/book/condor.json",
                            "--key", "\(root)/Keys/private/trader.key.pem", "--out", "\(root)/proposals", "--workspace", root, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let outcome = try #require((try json(out) as? [[String: Any]])?.first)
        #expect(outcome["rule"] as? String == "coverage" && outcome["queued"] as? Bool == false)
        let file = try #require(outcome["file"] as? String)
        let envelope = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        #expect(envelope["payloadType"] as? String == "application/vnd.alvh.proposal+json;version=1")
        #expect((envelope["signatures"] as? [Any])?.count == 1)
    }
}
