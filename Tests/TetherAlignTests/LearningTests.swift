import Foundation
import Testing
import Tether
import TetherAlign
import TetherLM

/// A tiny GPT-2 really learns through the loop: held-out greedy accuracy on a rule it must generalise.
extension LoopTests {
    /// "k x0 x1 ...": token 10+k (k in 1...3), then digits x_{i+1} = (x_i + k) mod 10, 10 digits.
    static func counting(k: Int, start: Int) -> TokenizedExample {
        let ids = [Int32(10 + k)] + (0..<10).map { Int32((start + $0 * k) % 10) }
        return TokenizedExample(ids: ids, lossMask: ids.indices.map { $0 > 0 })
    }

    /// Greedy next-token accuracy on the predictable targets (every digit after the first).
    static func greedyAccuracy(_ model: CausalLM, _ examples: [TokenizedExample]) -> Double {
        var correct = 0, total = 0
        for e in examples {
            let logits = model(IndexTensor(e.ids, shape: [1, e.ids.count])).scalars()  // (1, T, V)
            let v = model.config.vocabSize
            for t in 1..<(e.ids.count - 1) {
                let row = logits[(t * v)..<((t + 1) * v)]
                if row.firstIndex(of: row.max()!)! - t * v == Int(e.ids[t + 1]) { correct += 1 }
                total += 1
            }
        }
        return Double(correct) / Double(total)
    }

    @Test func aTinyModelLearnsAHeldOutRule() throws {
        // Hold out one start per step size (never seen as a whole sequence in training).
        let heldOut = [(1, 7), (2, 4), (3, 1)]
        var train: [TokenizedExample] = [], eval: [TokenizedExample] = []
        for k in 1...3 { for s in 0..<10 {
            (heldOut.contains { $0 == (k, s) } ? { eval.append($0) } : { train.append($0) })(Self.counting(k: k, start: s))
        } }
        let model = CausalLM(config: .gpt2(vocabSize: 16, hiddenSize: 32, layers: 2, heads: 4, maxPositions: 16), seed: 1)
        let before = Self.greedyAccuracy(model, eval)
        var c = smallConfig(steps: 150)
        c.microBatchSize = 9
        c.learningRate = 3e-3
        c.warmupSteps = 10
        c.evalSteps = 50
        let t = try quietSFT(c, model: model, train: train, eval: eval)
        t.loop.extraEvaluation = { ["greedy_accuracy": Self.greedyAccuracy(model, eval)] }
        try t.train()
        model.eval()
        let after = Self.greedyAccuracy(model, eval)
        let lines = try Metrics.read(t.loop.runDirectory.appendingPathComponent("metrics.jsonl"))
        let finalLoss = lines.last!["loss"]!
        // The first digit is random (log 10 / 10 targets ≈ 0.23 nats floor); the rest is determined.
        #expect(finalLoss < 0.6, "final train loss \(finalLoss)")
        #expect(before < 0.3, "held-out accuracy before training \(before)")
        #expect(after > 0.9, "held-out accuracy after training \(after)")
        #expect(lines.last!["eval_loss"]! < lines.first { $0["eval_loss"] != nil }!["eval_loss"]!)
        // The extra evaluation ran in eval mode at each evaluation and is logged with the eval_ prefix.
        #expect(lines.compactMap { $0["eval_greedy_accuracy"] }.count == 3)
        #expect(lines.last!["eval_greedy_accuracy"] == after)
    }
}
