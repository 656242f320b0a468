import Foundation
import Testing
import Tether
import TetherAlign
import TetherLM
import TetherTokenizers

/// A process reward model learns a per-step rule and scores each step.
@Suite struct PRMTests {
    /// Prompt tokens, then steps [k, r, separator] with k 12 (a correct step) or 13 (a wrong one).
    static func examples(_ n: Int, seed: UInt64) -> [PRMTokens] {
        var rng = RandomGenerator(seed: seed)
        return (0..<n).map { _ in
            var ids = (0..<(2 + rng.nextInt(below: 3))).map { _ in Int32(1 + rng.nextInt(below: 9)) }
            var ends: [Int] = [], labels: [Bool] = []
            for _ in 0..<(1 + rng.nextInt(below: 3)) {
                let good = rng.nextInt(below: 2) == 0
                ids += [good ? 12 : 13, Int32(1 + rng.nextInt(below: 9)), 15]
                ends.append(ids.count - 1)
                labels.append(good)
            }
            return PRMTokens(ids: ids, stepEnds: ends, labels: labels)
        }
    }

    @Test func learnsPerStepLabelsOnHeldOutExamples() throws {
        let model = ScoreModel(config: .gpt2(vocabSize: 16, hiddenSize: 32, layers: 2, heads: 4, maxPositions: 32), labels: 2, seed: 1)
        var c = PRMConfig(training: smallConfig(steps: 50))
        c.training.microBatchSize = 8
        c.training.learningRate = 1e-2
        let eval = Self.examples(24, seed: 2)
        let t = try PRMTrainer(config: c, model: model, train: Self.examples(64, seed: 1), eval: eval)
        t.loop.progress = .silent
        try t.train()
        let last = try Metrics.read(t.loop.runDirectory.appendingPathComponent("metrics.jsonl")).last!
        #expect(last["eval_accuracy"]! > 0.9, "held-out step accuracy \(last["eval_accuracy"]!)")
        let scores = prmStepScores(model: model, examples: eval)
        var right = 0, total = 0
        for (s, e) in zip(scores, eval) {
            #expect(s.count == e.labels.count)
            for (p, l) in zip(s, e.labels) { right += (p > 0.5) == l ? 1 : 0; total += 1 }
        }
        #expect(Double(right) / Double(total) > 0.9)
    }

    @Test func stepwiseRecordsTokenizeWithTheSeparatorEndingEachStep() throws {
        let tok = try Tokenizer(tokenizerJSON: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TetherTokenizersTests/Fixtures/gpt2.json"))
        let e = StepwiseSupervisionExample(prompt: "2+2*3?", completions: ["2*3=6", "2+6=8"], labels: [true, true])
        let t = PRMTokens(e, tokenizer: tok, separator: "\n", maxLength: 64)
        #expect(t.stepEnds.count == 2 && t.ids.count == t.stepEnds[1] + 1)
        #expect(tok.decode(Array(t.ids[...t.stepEnds[0]])).hasSuffix("6\n"))
        // Steps past max_length are dropped.
        #expect(PRMTokens(e, tokenizer: tok, separator: "\n", maxLength: t.stepEnds[0] + 2).stepEnds.count == 1)
    }
}
