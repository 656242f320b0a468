import Foundation
import Testing
import TetherAlign

@Suite struct EvaluationTests {
    /// 40 examples over two tasks, from the generator.
    func examples() throws -> [EvalExample] {
        let specs = [TaskSpec(.addition, digitsA: 3, digitsB: 3, trainCount: 0, testCount: 30, seed: 1),
                     TaskSpec(.multiplication, digitsA: 2, digitsB: 1, trainCount: 0, testCount: 10, seed: 2)]
        return try ArithmeticData.generate(specs: specs).test.map(EvalExample.init)
    }

    /// The gold answer of each prompt, looked up by prompt.
    func answers(_ xs: [EvalExample]) -> [String: Int] {
        Dictionary(xs.map { ($0.prompt, $0.gold) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func alwaysRightAlwaysWrongAndHalf() throws {
        let xs = try examples()
        let gold = answers(xs)
        let right = try ExactMatchEvaluator.evaluate(xs, batchSize: 7) { $0.map { "The answer is \(gold[$0]!).\nQ: 5 + 5" } }
        #expect(right.accuracy == 1.0 && right.records.count == 40)
        let wrong = try ExactMatchEvaluator.evaluate(xs) { $0.map { "\(gold[$0]! + 1)" } }
        #expect(wrong.accuracy == 0.0)
        // Half: right on every other example in input order, nonsense on the rest.
        var calls = 0
        let half = try ExactMatchEvaluator.evaluate(xs, batchSize: 6) { prompts in
            defer { calls += prompts.count }
            return prompts.enumerated().map { (calls + $0.offset) % 2 == 0 ? "\(gold[$0.element]!)" : "I don't know" }
        }
        #expect(half.accuracy == 0.5)
        #expect(half.records[1].extracted == nil && !half.records[1].correct && half.records[0].correct)
        #expect(half.records.map(\.prompt) == xs.map(\.prompt))
    }

    @Test func perTaskBreakdown() throws {
        let xs = try examples()
        let gold = answers(xs)
        // Right on all additions, wrong on all multiplications.
        let r = try ExactMatchEvaluator.evaluate(xs) { $0.map { $0.contains("*") ? "-1" : "\(gold[$0]!)" } }
        #expect(r.perTask["add_3x3"] == TaskAccuracy(correct: 30, total: 30))
        #expect(r.perTask["mul_2x1"]?.total == 10 && r.perTask["mul_2x1"]?.accuracy == 0)
        #expect(r.perTask.count == 2 && r.accuracy == 0.75)
    }

    @Test func recordsAreWrittenAsJSONLAndNeverOverwrite() throws {
        let xs = [EvalExample(prompt: "What is 2 + 2?", gold: 4, task: "add_1x1"),
                  EvalExample(prompt: "Say \"hi\"", gold: -3, task: "odd")]
        let r = try ExactMatchEvaluator.evaluate(xs) { _ in ["4\n", "nothing"] }
        let url = tempDir().appendingPathComponent("records.jsonl")
        try r.writeRecords(to: url)
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let decoded = try lines.map { try JSONDecoder().decode(EvalRecord.self, from: Data($0.utf8)) }
        #expect(decoded == r.records)
        #expect(decoded[0].output == "4\n" && decoded[0].correct && decoded[1].extracted == nil)
        #expect(datasetError { try r.writeRecords(to: url) }?.file == url.path)
    }

    @Test func modelReturningTheWrongCountIsAnError() throws {
        let xs = try examples()
        #expect(throws: ExactMatchEvaluator.CountMismatch.self) {
            _ = try ExactMatchEvaluator.evaluate(xs) { Array($0.dropFirst()) }
        }
    }

    @Test func loadsTheTestFileMakeWrites() throws {
        let specs = [TaskSpec(.subtraction, digitsA: 2, digitsB: 2, trainCount: 10, testCount: 12, seed: 1,
                              allowNegative: true)]
        let urls = try ArithmeticData.make(specs: specs, into: tempDir(), completionPrefix: " ")
        let loaded = try EvalExample.load(urls[1])
        #expect(loaded == (try ArithmeticData.generate(specs: specs)).test.map(EvalExample.init))
        #expect(loaded.contains { $0.gold < 0 } && loaded.allSatisfy { $0.task == "sub_2x2" })
        let bad = write("bad.jsonl", [#"{"prompt": "What is 1 + 1?", "completion": "two"}"#])
        #expect(datasetError { _ = try EvalExample.load(bad) }?.field == "completion")
    }
}
