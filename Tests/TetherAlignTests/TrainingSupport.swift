import Foundation
import Tether
import TetherAlign
import TetherLM
import TetherNN

/// A tiny GPT-2 (vocab 16) for loop tests.
func tinyGPT2(seed: UInt64 = 1, vocab: Int = 16) -> CausalLM {
    CausalLM(config: .gpt2(vocabSize: vocab, hiddenSize: 16, layers: 1, heads: 2, maxPositions: 64), seed: seed)
}

/// Random token sequences with every token after the first trained, lengths 4...11.
func randomExamples(_ n: Int, seed: UInt64 = 3, vocab: Int = 16) -> [TokenizedExample] {
    var rng = RandomGenerator(seed: seed)
    return (0..<n).map { _ in
        let ids = (0..<(4 + rng.nextInt(below: 8))).map { _ in Int32(rng.nextInt(below: vocab - 1)) }
        return TokenizedExample(ids: ids, lossMask: ids.indices.map { $0 > 0 })
    }
}

/// Largest absolute difference between two lists of tensors' values (e.g. gradients or weights, in order).
func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
    zip(a, b).map { zip($0, $1).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
}

/// A small config writing into a fresh temporary folder.
func smallConfig(steps: Int, name: String = "run") -> TrainingConfig {
    var c = TrainingConfig()
    c.outputDir = tempDir().path
    c.runName = name
    c.maxSteps = steps
    c.microBatchSize = 2
    c.learningRate = 1e-2
    c.schedule = .cosine
    c.warmupSteps = 2
    c.saveSteps = nil
    c.maxLength = 32
    return c
}

/// An SFT trainer that prints nothing.
func quietSFT(_ config: TrainingConfig, model: CausalLM, train: [TokenizedExample], eval: [TokenizedExample]? = nil) throws -> SFTTrainer {
    let t = try SFTTrainer(config: SFTConfig(training: config), model: model, train: train, eval: eval)
    t.loop.progress = .silent
    return t
}

/// Metrics lines without the wall-clock fields.
func timeless(_ records: [MetricRecord]) -> [MetricRecord] {
    records.map { $0.filter { !Metrics.timingKeys.contains($0.key) } }
}

/// Wraps the causal-LM objective to inject faults.
final class FaultyObjective: TrainingObjective {
    let inner: CausalLMObjective
    /// Calls of `loss` so far.
    var calls = 0
    /// Returns a NaN loss on this call (1-based).
    var nanAtCall: Int?
    /// Returns a loss with zero gradient.
    var zeroGradient = false

    init(model: CausalLM) { inner = CausalLMObjective(model: model) }
    var module: Module { inner.module }
    func units(in batch: Batch) -> Int { inner.units(in: batch) }
    func describe(_ batch: Batch) -> String { inner.describe(batch) }
    func loss(_ batch: Batch) -> ObjectiveOutput {
        calls += 1
        var out = inner.loss(batch)
        if calls == nanAtCall { out.lossSum = out.lossSum * Float.nan }
        if zeroGradient { out.lossSum = out.lossSum * 0 }
        return out
    }
    func saveModel(to folder: URL) throws { try inner.saveModel(to: folder) }
    func loadModel(from folder: URL) throws { try inner.loadModel(from: folder) }
}

/// Training data of padded rows over `examples`.
func lmData(_ examples: [TokenizedExample]) -> TrainingData<Batch> {
    let rows = examples.enumerated().map { SequenceRow($1, index: $0) }
    return TrainingData(count: rows.count) { Collator(padId: 0)($0.map { rows[$0] }) }
}
