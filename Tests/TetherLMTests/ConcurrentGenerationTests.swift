import Foundation
import Tether
import Testing
@testable import TetherLM

/// One model shared by concurrent tasks (`CausalLM` is `Sendable`): generation from each
/// equals the same generation run alone.
@Suite struct ConcurrentGenerationTests {
    /// Eight prompts, so decoding multiplies 8 rows by each weight (the packed-weight path).
    static let prompts: [[Int32]] = (0..<8).map { (i: Int) -> [Int32] in
        (0..<(3 + i % 4)).map { (j: Int) -> Int32 in Int32((i * 7 + j * 3) % 39) }
    }

    @Test(arguments: ["gpt2", "llama"]) func twoTasksOnOneModelMatchSequentialRuns(_ name: String) async throws {
        let model = peakedModel(name)
        let configs = [SamplingConfig(temperature: 1, maxNewTokens: 10, stopTokenIds: [], seed: 5),
                       SamplingConfig(temperature: 0.8, topK: 8, maxNewTokens: 10, stopTokenIds: [], seed: 6)]
        let sequential = try configs.map { try generate(model: model, prompts: Self.prompts, config: $0) }
        for _ in 0..<2 {
            let concurrent = try await withThrowingTaskGroup(of: (Int, [GeneratedSample]).self) { group in
                for (i, config) in configs.enumerated() {
                    group.addTask { (i, try generate(model: model, prompts: Self.prompts, config: config)) }
                }
                var out = [[GeneratedSample]](repeating: [], count: configs.count)
                for try await (i, samples) in group { out[i] = samples }
                return out
            }
            #expect(concurrent == sequential)
        }
    }

    /// The packed-weight cache changes no float: generation with it equals generation
    /// without it, bit for bit (log-probs included).
    @Test(arguments: ["gpt2", "llama"]) func packedWeightsGiveTheSameSamples(_ name: String) throws {
        let model = peakedModel(name)
        let config = SamplingConfig(temperature: 1, maxNewTokens: 10, stopTokenIds: [], seed: 7)
        var with = try Generation(model: model, prompts: Self.prompts, config: config, hasDecode: false)
        var without = with
        with.packWeights = true
        without.packWeights = false
        let a = with.run(decode: nil, cancelled: { false }, onToken: { _ in }, progress: nil)
        let b = without.run(decode: nil, cancelled: { false }, onToken: { _ in }, progress: nil)
        #expect(a == b)
        #expect(a.flatMap(\.logprobs).map(\.bitPattern) == b.flatMap(\.logprobs).map(\.bitPattern))
    }

    /// Scoring with a shared reward model from concurrent tasks equals scoring alone.
    @Test func scoreModelIsSharedAcrossTasks() async {
        let config = TransformerConfig.gpt2(vocabSize: 40, hiddenSize: 32, layers: 2, heads: 4, maxPositions: 64)
        let scorer = ScoreModel(config: config, seed: 3)
        let ids = IndexTensor((0..<(8 * 6)).map { Int32($0 % 40) }, shape: [8, 6])
        let alone = noGrad { scorer(ids) }.scalars()
        let shared = await withTaskGroup(of: [Float].self) { group in
            for _ in 0..<3 { group.addTask { noGrad { scorer(ids) }.scalars() } }
            return await group.reduce(into: [[Float]]()) { $0.append($1) }
        }
        #expect(shared.allSatisfy { $0 == alone })
    }
}
