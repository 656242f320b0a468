import Foundation
import Tether
import Testing
@testable import TetherLM

/// Logits and loss gradients of tiny random HF models equal those transformers computed.
@Suite struct ParityTests {
    /// Loads `name`, runs the fixture batch and checks logits at real tokens and the
    /// gradients of Σ log p(target) over real tokens, both to 1e-4.
    func check(_ name: String) throws {
        let ref = try Parity.load(name)
        let model = try CausalLM(contentsOf: fixture(name))
        let (b, t) = (ref.input_ids.count, ref.input_ids[0].count)
        let vocab = model.config.vocabSize
        // Positions come from the mask inside the model; the reference passed them explicitly.
        let logits = model(ref.ids, attentionMask: ref.mask)                 // (B, T, V)
        #expect(logits.shape == ref.logits_shape!)
        let ours = logits.scalars()
        var mine: [Float] = [], theirs: [Double] = []
        for row in 0..<b {
            for j in 0..<t where ref.attention_mask[row][j] != 0 {
                let base = (row * t + j) * vocab
                mine += ours[base..<(base + vocab)]
                theirs += ref.logits![base..<(base + vocab)]
            }
        }
        let ratio = worstRatio(mine, theirs)
        #expect(ratio <= 1, "\(name): logits differ, worst ratio \(ratio)")

        // Loss: Σ log p(target) at real tokens, through the chunked log-prob path.
        let hidden = model.hidden(ref.ids, attentionMask: ref.mask)
        let logp = model.tokenLogProbs(hidden: hidden, tokens: ref.targetIds, chunkRows: 5)  // (B, T)
        let loss = (logp * ref.mask).sum()
        #expect(abs(Double(loss.item) - ref.loss!) <= 1e-4 * abs(ref.loss!), "\(name): loss \(loss.item) vs \(ref.loss!)")
        loss.backward()
        let params = Dictionary(model.namedParameters(), uniquingKeysWith: { a, _ in a })
        for (key, grad) in ref.grads! {
            let p = try #require(params[key], "\(name): no parameter \(key)")
            let g = try #require(p.grad, "\(name): no gradient for \(key)")
            let hf = Checkpoint.isConv1D(key, family: model.config.family) ? g.transpose().contiguousData() : g
            #expect(hf.shape == grad.shape, "\(name): \(key) grad shape \(hf.shape) vs \(grad.shape)")
            let scale = grad.values.map(abs).max() ?? 1
            let r = worstRatio(hf.scalars(), grad.values, rtol: 1e-4, atol: 1e-4 * Swift.max(scale, 1))
            #expect(r <= 1, "\(name): gradient of \(key) differs, worst ratio \(r)")
        }
    }

    @Test func gpt2() throws { try check("tiny-gpt2") }

    @Test func qwen2WithBiasAndUntiedHead() throws { try check("tiny-qwen2") }

    @Test func llamaTiedWithLlama3RopeScaling() throws { try check("tiny-llama") }

    @Test func explicitPositionsMatchMaskDerivedOnes() throws {
        let ref = try Parity.load("tiny-qwen2")
        let model = try CausalLM(contentsOf: fixture("tiny-qwen2"))
        let positions = IndexTensor(ref.position_ids!.flatMap { $0 }, shape: ref.ids.shape)
        let a = model(ref.ids, attentionMask: ref.mask).scalars()
        let b = model(ref.ids, attentionMask: ref.mask, positions: positions).scalars()
        #expect(a == b)
        // Without the mask-derived positions the left-padded row would be shifted: different.
        let shifted = model(ref.ids, attentionMask: ref.mask,
                            positions: IndexTensor((0..<16).map { Int32($0 % 8) }, shape: [2, 8])).scalars()
        #expect(Array(shifted[(8 + 5) * 64..<(8 + 6) * 64]) != Array(a[(8 + 5) * 64..<(8 + 6) * 64]))
    }

    @Test func scoreHeadReadsLastNonPadToken() throws {
        let ref = try Parity.load("tiny-qwen2-score")
        let model = try ScoreModel(contentsOf: fixture("tiny-qwen2-score"))
        let scores = model(ref.ids, attentionMask: ref.mask)                     // (B, 1)
        #expect(scores.shape == [2, 1])
        let r = worstRatio(scores.scalars(), ref.scores!)
        #expect(r <= 1, "scores \(scores.scalars()) vs \(ref.scores!)")
        // The right-padded row is read at index 4, its last real token.
        #expect(ScoreModel.lastTokenIndices(attentionMask: ref.mask, batch: 2, length: 8) == [7, 4])
        let perToken = model.tokenScores(ref.ids, attentionMask: ref.mask).scalars()  // (B, T, 1)
        // Equal up to summation order (the score of 2 rows and of all 16 take different GEMM paths).
        #expect(Swift.abs(perToken[8 + 4] - scores.scalars()[1]) < 1e-5)
        #expect(Swift.abs(perToken[8 + 7] - scores.scalars()[1]) > 1e-3)
    }
}
