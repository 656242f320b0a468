import Foundation
import Testing
import Tether
import TetherLM
import TetherNN
import TetherTestSupport

/// The scorer's token verifier: r = score(h_last) + Σ_t [a(h_{t−1})·log p(x_t | h_{t−1}) + b(h_{t−1})].
@Suite struct ScoreVerifierTests {
    static let config = TransformerConfig.gpt2(vocabSize: 12, hiddenSize: 8, layers: 1, heads: 2, maxPositions: 16)

    /// A scorer with a verifier whose weights are not zero.
    static func scorer() -> ScoreModel {
        let model = ScoreModel(config: config, verifier: true, seed: 4)
        let v = model.verifier!.weight
        noGrad { Strided.copy(testTensor(v.shape, seed: 5, low: -0.5, high: 0.5), into: v.data) }
        return model
    }

    @Test func rewardIsTheLastTokenScorePlusTheFormulaWorkedOutByHand() throws {
        let model = Self.scorer()
        let ids = IndexTensor([3, 7, 1, 9, 4, 2, 5, 8, 0, 0], shape: [2, 5])
        let mask = Tensor([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], shape: [2, 5])            // the second row: 3 tokens
        let rewards = noGrad { model(ids, attentionMask: mask).scalars() }
        let hidden = noGrad { model.transformer(ids, attentionMask: mask) }.scalars()  // (2, 5, 8)
        let e = model.transformer.tokenEmbedding.weight.scalars()                    // (12, 8), tied head
        let s = model.score.weight.scalars(), v = model.verifier!.weight.scalars()   // (1, 8), (2, 8)
        func h(_ row: Int, _ t: Int) -> ArraySlice<Float> { hidden[(row * 5 + t) * 8..<(row * 5 + t + 1) * 8] }
        func dot(_ x: ArraySlice<Float>, _ w: ArraySlice<Float>) -> Double {
            zip(x, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        for (row, length) in [(0, 5), (1, 3)] {
            var expected = dot(h(row, length - 1), s[0..<8])
            for t in 1..<length {
                let state = h(row, t - 1)
                let logits = (0..<12).map { dot(state, e[$0 * 8..<($0 + 1) * 8]) }
                let top = logits.max()!
                let logZ = top + log(logits.reduce(0.0) { $0 + exp($1 - top) })
                let logp = logits[Int(ids.values[row * 5 + t])] - logZ
                expected += dot(state, v[0..<8]) * logp + dot(state, v[8..<16])
            }
            #expect(abs(Double(rewards[row]) - expected) < 1e-4, "row \(row): \(rewards[row]) vs \(expected)")
        }
    }

    @Test func gradientsThroughTheVerifierMatchFiniteDifferences() {
        let model = Self.scorer()
        let ids = IndexTensor([3, 7, 1, 9, 4, 2, 5, 8], shape: [2, 4])
        let mask = Tensor([1, 1, 1, 1, 1, 1, 1, 0], shape: [2, 4])
        // The embedding reaches the reward through the inputs and the tied LM head of the log-probs; its small
        // values (std 0.02) make LayerNorm curve sharply, so its step is 1e-3 (the plain scorer needs the same).
        for (input, eps) in [(model.verifier!.weight, Float(1e-2)), (model.transformer.tokenEmbedding.weight, 1e-3)] {
            let check = gradCheck([input], eps: eps) { _ in model(ids, attentionMask: mask) }
            #expect(check.passed, "\(input.shape): \(check)")
        }
    }

    @Test func aZeroVerifierIsThePlainScorerAndACheckpointKeepsIt() throws {
        let plain = ScoreModel(config: Self.config, seed: 4)
        let fresh = ScoreModel(config: Self.config, verifier: true, seed: 4)
        let ids = IndexTensor([3, 7, 1, 9, 4, 2], shape: [2, 3])
        #expect(noGrad { fresh(ids).scalars() } == noGrad { plain(ids).scalars() })

        let model = Self.scorer()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("verifier-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try model.save(to: folder)
        let again = try ScoreModel(contentsOf: folder)                               // verifier: as the checkpoint says
        #expect(again.verifier?.weight.scalars() == model.verifier!.weight.scalars())
        #expect(noGrad { again(ids).scalars() } == noGrad { model(ids).scalars() })
        let without = try ScoreModel(contentsOf: folder, verifier: false)
        #expect(without.verifier == nil)
        #expect(noGrad { without(ids).scalars() } == noGrad { plain(ids).scalars() })
    }
}
