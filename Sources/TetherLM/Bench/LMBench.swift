import Foundation
import Tether
import TetherNN

/// Speed of whole language models: forward passes (and, in training benchmarks, full
/// steps) in tokens/s, each quoted against what the FMA peak of the same run allows.
public enum LMBench {
    /// A named model size for benchmarks.
    public struct Size: Sendable {
        public var name: String
        public var config: TransformerConfig

        /// 4 layers, d 256, 4 heads, vocab 4096, context 256 (GPT-2 style).
        public static let tiny = Size(name: "tiny", config: .gpt2(vocabSize: 4096, hiddenSize: 256, layers: 4, heads: 4, maxPositions: 256))
        /// 6 layers, d 384, 6 heads, vocab 8192, context 512 (GPT-2 style).
        public static let small = Size(name: "small", config: .gpt2(vocabSize: 8192, hiddenSize: 384, layers: 6, heads: 6, maxPositions: 512))
    }

    /// Useful forward FLOPs per token at context length `t`: 2 per weight of every matrix
    /// product (blocks and LM head; embedding lookups are free) plus the causal attention
    /// (scores and value mix over t/2 keys on average: 2·t·d per layer).
    public static func forwardFlopsPerToken(_ c: TransformerConfig, context t: Int) -> Double {
        let d = Double(c.hiddenSize), kv = Double(c.kvHeads * c.hiddenSize / c.heads)
        let attention = d * d * 2 + 2 * d * kv          // q, o and k, v projections
        let mlp = Double(c.activation == .silu ? 3 : 2) * d * Double(c.intermediateSize)
        let perLayer = 2 * (attention + mlp) + 2 * Double(t) * d
        return Double(c.layers) * perLayer + 2 * d * Double(c.vocabSize)
    }

    /// Deterministic token ids (B, T) for benchmarks.
    public static func ids(batch: Int, length: Int, vocab: Int, seed: UInt64 = 0) -> IndexTensor {
        var rng = RandomGenerator(seed: seed)
        return IndexTensor((0..<(batch * length)).map { _ in Int32(rng.nextInt(below: vocab)) }, shape: [batch, length])
    }

    /// Forward tokens/s (logits for every position, no graph) of `model` on (batch, length) ids.
    public static func forwardTokensPerSecond(_ model: CausalLM, batch: Int, length: Int) -> Double {
        let x = ids(batch: batch, length: length, vocab: model.config.vocabSize)
        let seconds = KernelBench.bestTime(reps: 3, minSeconds: 0.5) { _ = noGrad { model(x) } }
        return Double(batch * length) / seconds
    }

    /// Generated tokens/s when sampling `newTokens` tokens for `batch` prompts of
    /// `promptLength` tokens (prefill included), with no stop token so every row runs full length.
    /// `packWeights: false` turns off the packed-weight cache (to measure what it buys).
    public static func generationTokensPerSecond(_ model: CausalLM, batch: Int, promptLength: Int = 16,
                                                 newTokens: Int = 64, packWeights: Bool = true,
                                                 reps: Int = 2) throws -> Double {
        let prompts = ids(batch: batch, length: promptLength, vocab: model.config.vocabSize, seed: 1)
        let rows = (0..<batch).map { Array(prompts.values[($0 * promptLength)..<(($0 + 1) * promptLength)]) }
        let config = SamplingConfig(temperature: 1, maxNewTokens: newTokens, stopTokenIds: [], seed: 0)
        var generation = try Generation(model: model, prompts: rows, config: config, hasDecode: false)
        generation.packWeights = packWeights
        let seconds = KernelBench.bestTime(reps: reps, minSeconds: 0.5) {
            _ = generation.run(decode: nil, cancelled: { false }, onToken: { _ in }, progress: nil)
        }
        return Double(batch * newTokens) / seconds
    }

    /// Training tokens/s of full steps (forward, next-token loss through the fused log-prob
    /// head, backward, AdamW) on (batch, length) ids. A step costs 3x the forward FLOPs.
    public static func trainTokensPerSecond(_ model: CausalLM, batch: Int, length: Int) -> Double {
        let x = ids(batch: batch, length: length, vocab: model.config.vocabSize)
        // Targets: each row shifted by one (the last position predicts token 0).
        let targets = IndexTensor((0..<(batch * length)).map { i in
            i % length == length - 1 ? 0 : x.values[i + 1]
        }, shape: [batch, length])
        let optimizer = AdamW(model, learningRate: 1e-4)
        let seconds = KernelBench.bestTime(reps: 3, minSeconds: 1) {
            optimizer.zeroGrad()
            let logp = model.tokenLogProbs(hidden: model.hidden(x), tokens: targets)   // (B, T)
            (-logp).mean().backward()
            optimizer.step()
        }
        return Double(batch * length) / seconds
    }
}
