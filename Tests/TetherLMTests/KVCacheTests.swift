import Foundation
import Tether
import Testing
@testable import TetherLM

/// Incremental forward with a KV cache equals one forward over the whole sequence.
@Suite struct KVCacheTests {
    /// Feeds the fixture batch (one row left-padded) in pieces of `steps` tokens.
    func check(_ name: String, steps: [Int], withGrad: Bool = false) throws {
        let ref = try Parity.load(name)
        let model = try CausalLM(contentsOf: fixture(name))
        let (b, t, v) = (2, 8, model.config.vocabSize)
        let full = noGrad { model(ref.ids, attentionMask: ref.mask) }.scalars()   // (B, T, V)
        let cache = model.makeCache()
        var pieces: [[Float]] = []
        var start = 0
        for n in steps {
            let ids = IndexTensor((0..<b).flatMap { row in ref.input_ids[row][start..<(start + n)] }, shape: [b, n])
            let mask = Tensor((0..<b).flatMap { row in ref.attention_mask[row][start..<(start + n)] }, shape: [b, n])
            let logits = withGrad ? model(ids, attentionMask: mask, cache: cache)
                : noGrad { model(ids, attentionMask: mask, cache: cache) }
            pieces.append(logits.scalars())  // (B, n, V)
            start += n
            #expect(cache.length == start)
            #expect(cache.keys[0]!.shape == [b, model.config.kvHeads, start, model.config.headDim])
        }
        #expect(start == t)
        // Reassemble (B, T, V) from the (B, n, V) pieces and compare row by row.
        var incremental = [Float](repeating: 0, count: b * t * v)
        start = 0
        for (n, piece) in zip(steps, pieces) {
            for row in 0..<b {
                for j in 0..<n {
                    for k in 0..<v { incremental[(row * t + start + j) * v + k] = piece[(row * n + j) * v + k] }
                }
            }
            start += n
        }
        let r = worstRatio(incremental, full.map(Double.init), rtol: 1e-5, atol: 1e-5)
        #expect(r <= 1, "\(name): cached forward differs from full forward, worst ratio \(r)")
        #expect(cache.nextPositions == [8, 5])
    }

    @Test func gpt2() throws { try check("tiny-gpt2", steps: [5, 1, 2]) }

    @Test func qwen2() throws { try check("tiny-qwen2", steps: [4, 1, 1, 2]) }

    @Test func llamaOneTokenAtATime() throws { try check("tiny-llama", steps: [1, 1, 1, 1, 1, 1, 1, 1]) }

    @Test func withGradientsTheCacheConcatenates() throws {
        try check("tiny-qwen2", steps: [3, 2, 3], withGrad: true)
    }

    @Test func buffersGrowByDoublingAndKeepEarlierTokens() throws {
        let model = try CausalLM(contentsOf: fixture("tiny-llama"))
        let cache = model.makeCache()
        var capacities: [Int] = []
        for id: Int32 in [5, 9, 2, 7, 1] {
            _ = noGrad { model(IndexTensor([id], shape: [1, 1]), cache: cache) }
            capacities.append(cache.capacity(layer: 1))
        }
        #expect(capacities == [1, 2, 4, 4, 8])
        // With gradients the cache is a concatenation of graph tensors instead.
        let tracked = model.makeCache()
        _ = model(IndexTensor([5, 9], shape: [1, 2]), cache: tracked)
        #expect(tracked.capacity(layer: 0) == 0 && tracked.keys[0]!.requiresGrad)
    }

    @Test func positionsFollowTheMaskAsHuggingFaceDerivesThem() {
        // Left-padded, right-padded and full rows; continuing a row from position 4.
        let mask: [Float] = [0, 0, 1, 1, 1, /**/ 1, 1, 1, 0, 0, /**/ 1, 1, 1, 1, 1]
        let pos = Transformer.maskPositions(mask: mask, batch: 3, starts: [0, 0, 4])
        #expect(pos.values == [0, 0, 0, 1, 2, /**/ 0, 1, 2, 2, 2, /**/ 4, 5, 6, 7, 8])
        let packed = Transformer.segmentPositions(IndexTensor([0, 0, 1, 1, 1, 2], shape: [1, 6]))
        #expect(packed.values == [0, 1, 0, 1, 2, 0])
    }

    @Test func resetEmptiesTheCache() throws {
        let model = try CausalLM(contentsOf: fixture("tiny-qwen2"))
        let cache = model.makeCache()
        let ids = IndexTensor([1, 2, 3], shape: [1, 3])
        let first = noGrad { model(ids, cache: cache) }.scalars()
        cache.reset()
        #expect(cache.length == 0 && cache.keys.allSatisfy { $0 == nil })
        let again = noGrad { model(ids, cache: cache) }.scalars()
        #expect(first == again)
    }
}
