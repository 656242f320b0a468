import Foundation
import Testing
import Tether
import TetherAlign
import TetherLM

/// Packed sequences must not see each other: a packed batch gives each sequence the losses it gets alone.
@Suite struct PackingIsolationTests {
    let model = CausalLM(config: .llama(vocabSize: 40, hiddenSize: 16, layers: 2, heads: 2, kvHeads: 1,
                                               intermediateSize: 32, maxPositions: 64), seed: 5)

    /// Per-target losses of each row member, in order: [example index: losses].
    func memberLosses(_ batch: Batch) -> [Int: [Float]] {
        let logits = model(batch.ids, attentionMask: batch.attentionMask, positions: batch.positions, segments: batch.segments)
        let loss = Tensor.crossEntropy(logits: logits, targets: batch.labels, reduction: .none).scalars()
        let width = batch.ids.shape[1]
        var out: [Int: [Float]] = [:]
        for (r, members) in batch.members.enumerated() {
            for t in 0..<width where batch.labels.values[r * width + t] != -100 {
                let seg = Int(batch.segments.values[r * width + t])
                out[members[seg], default: []].append(loss[r * width + t])
            }
        }
        return out
    }

    @Test func packedLossesEqualLossesAlone() {
        var rng = RandomGenerator(seed: 9)
        let examples = (0..<7).map { i -> TokenizedExample in
            let n = 3 + rng.nextInt(below: 9)
            let ids = (0..<n).map { _ in Int32(1 + rng.nextInt(below: 39)) }
            return TokenizedExample(ids: ids, lossMask: ids.indices.map { $0 >= i % 3 })
        }
        let rows = Packing.pack(examples, maxLength: 16)
        #expect(rows.contains { $0.members.count > 1 })  // the test packs something
        let packed = memberLosses(Collator(padId: 0)(rows))
        for (i, e) in examples.enumerated() {
            let alone = memberLosses(Collator(padId: 0).batch([e], indices: [i]))[i] ?? []
            let together = packed[i] ?? []
            #expect(alone.count == e.trainedTokens && together.count == alone.count, "example \(i)")
            for (a, b) in zip(alone, together) { #expect(abs(a - b) <= 1e-5 * max(1, abs(a)), "example \(i): \(a) vs \(b)") }
        }
    }
}
