import Foundation
import Testing
import Tether
import TetherAlign

/// The PRM-vs-ORM experiment end to end on a tiny config: the table's and the JSON's shape, and its invariants.
@Suite struct PRMvsORMTests {
    @Test func dataSetsShareNoProblem() {
        let (test, policy, reward) = PRMvsORMExperiment.data(PRMvsORMConfig.tiny)
        #expect(test.count == 4 && policy.count == 64 && reward.count == 64)
        #expect(test.allSatisfy { $0.wrongStep == nil })
        let t = Set(test.map(\.prompt)), p = Set(policy.map(\.prompt)), r = Set(reward.map(\.prompt))
        #expect(t.isDisjoint(with: p) && t.isDisjoint(with: r) && p.isDisjoint(with: r))
    }

    @Test func tinyRunWritesTheTableAndJSON() throws {
        let folder = tempDir().appendingPathComponent("prm-vs-orm")
        let e = PRMvsORMExperiment(config: .tiny, folder: folder)
        e.progress = .silent
        let result = try e.run()
        let names = ["orm", "prm_min", "prm_product", "majority", "random", "oracle"]
        #expect(result.methods == names && result.budgets == [1, 2, 4])
        for m in names {
            let a = try #require(result.accuracy[m])
            #expect(a.count == 3 && a.allSatisfy { (0...1).contains($0) }, "\(m)")
            #expect(a[0] == result.sampleAccuracy, "\(m): with N = 1 every selector takes the only sample")
            for i in 0..<3 { #expect(a[i] <= result.accuracy["oracle"]![i] + 1e-12, "\(m) beats pass@N") }
        }
        let oracle = result.accuracy["oracle"]!
        #expect(oracle[0] <= oracle[1] && oracle[1] <= oracle[2])
        #expect(result.table.split(separator: "\n").count == 2 + names.count)
        #expect(result.table.hasPrefix("| selector | N=1 | N=2 | N=4 |"))
        // summary.json round-trips; every sample is written with its scores.
        let decoded = try JSONDecoder().decode(PRMvsORMResult.self, from: Data(contentsOf: folder.appendingPathComponent("summary.json")))
        #expect(decoded.accuracy == result.accuracy && decoded.config == .tiny)
        let json = try JSONSerialization.jsonObject(with: result.json()) as! [String: Any]
        #expect(Set(json.keys).isSuperset(of: ["accuracy", "budgets", "methods", "sample_accuracy", "config"]))
        let samples = try String(contentsOf: folder.appendingPathComponent("samples.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(samples.count == 4 * 4)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("report.md").path))
        #expect(throws: TrainingError.self) { try PRMvsORMExperiment(config: .tiny, folder: folder).run() }  // never overwrites
    }

    @Test func badConfigNamesTheField() {
        var c = PRMvsORMConfig.tiny
        c.budgets = [3]
        #expect(throws: TrainingError.self) { try c.validate() }
        do { try c.validate() } catch { #expect("\(error)".contains("budgets")) }
    }
}
