import Foundation
import Tether
import TetherNN
import Testing
@testable import TetherLM

/// The chunked log-prob path, packing, and a fresh model that learns.
@Suite struct HeadsTests {
    @Test(arguments: [1, 3, 7, 16, 100])
    func chunkedTokenLogProbsEqualFullLogitsWithGradients(_ chunk: Int) throws {
        let ref = try Parity.load("tiny-qwen2")
        let model = try CausalLM(contentsOf: fixture("tiny-qwen2"))
        let hidden = Tensor(noGrad { model.hidden(ref.ids) }.scalars(), shape: [2, 8, 32], requiresGrad: true)
        // Reference: the full (B, T, V) logits.
        let full = Tensor.tokenLogProbs(logits: model.logits(hidden: hidden), tokens: ref.targetIds)
        let weights = Tensor((0..<16).map { Float($0 % 5) - 2 }, shape: [2, 8])
        (full * weights).sum().backward()
        let fullHiddenGrad = hidden.grad!.scalars(), fullHeadGrad = model.outputWeight.grad!.scalars()
        hidden.grad = nil
        model.zeroGrad()
        let chunked = model.tokenLogProbs(hidden: hidden, tokens: ref.targetIds, chunkRows: chunk)
        #expect(chunked.shape == [2, 8])
        #expect(worstRatio(chunked.scalars(), full.scalars().map(Double.init), rtol: 1e-6, atol: 1e-6) <= 1)
        (chunked * weights).sum().backward()
        #expect(worstRatio(hidden.grad!.scalars(), fullHiddenGrad.map(Double.init), rtol: 1e-5, atol: 1e-6) <= 1)
        #expect(worstRatio(model.outputWeight.grad!.scalars(), fullHeadGrad.map(Double.init), rtol: 1e-5, atol: 1e-6) <= 1)
    }

    @Test(arguments: ["tiny-gpt2", "tiny-llama"])
    func packedSequencesEqualSeparateOnes(_ name: String) throws {
        let model = try CausalLM(contentsOf: fixture(name))
        let a: [Int32] = [4, 8, 15], b: [Int32] = [16, 23, 42, 9, 1]
        let packed = noGrad {
            model(IndexTensor(a + b, shape: [1, 8]), segments: IndexTensor([0, 0, 0, 1, 1, 1, 1, 1], shape: [1, 8]))
        }.scalars()
        let alone = noGrad { model(IndexTensor(a, shape: [1, 3])) }.scalars() + noGrad { model(IndexTensor(b, shape: [1, 5])) }.scalars()
        #expect(worstRatio(packed, alone.map(Double.init), rtol: 1e-5, atol: 1e-5) <= 1)
        // Without segments the second sequence sees the first: different logits.
        let unsegmented = noGrad { model(IndexTensor(a + b, shape: [1, 8])) }.scalars()
        #expect(worstRatio(unsegmented, alone.map(Double.init), rtol: 1e-5, atol: 1e-5) > 1)
    }

    @Test func freshModelIsSeededAndLearnsACopyTask() throws {
        let config = TransformerConfig.llama(vocabSize: 16, hiddenSize: 32, layers: 1, heads: 4, kvHeads: 2,
                                             intermediateSize: 64, maxPositions: 16)
        let model = CausalLM(config: config, seed: 3)
        #expect(CausalLM(config: config, seed: 3).outputWeight.scalars() == model.outputWeight.scalars())
        #expect(CausalLM(config: config, seed: 4).outputWeight.scalars() != model.outputWeight.scalars())
        // Sequences "x y x y ...": after two tokens the next one is a copy from two back.
        var rng = RandomGenerator(seed: 9)
        let pairs = Tensor.uniform([16, 2], low: 0, high: 16, rng: &rng).scalars().map { Int32($0) }
        let ids = IndexTensor((0..<16).flatMap { r in (0..<8).map { pairs[r * 2 + $0 % 2] } }, shape: [16, 8])
        let targets = IndexTensor((0..<16).flatMap { r in (0..<8).map { pairs[r * 2 + ($0 + 1) % 2] } }, shape: [16, 8])
        let optimizer = AdamW(model, learningRate: 1e-2, weightDecay: 0)
        var first: Float = 0, last: Float = 0
        for step in 0..<60 {
            let logp = model.tokenLogProbs(hidden: model.hidden(ids), tokens: targets)
            let loss = -logp.slice(axis: 1, 2..<8).mean()
            model.zeroGrad()
            loss.backward()
            optimizer.step()
            if step == 0 { first = loss.item }
            last = loss.item
        }
        #expect(first > 2 && last < 0.3, "loss \(first) → \(last)")
    }
}
