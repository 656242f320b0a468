import Tether
import Testing
@testable import TetherNN

/// A weight packed by ``WeightPackCache`` is packed again after every writer of parameters:
/// optimizer steps, state dict loads, LoRA merges. Results equal an uncached forward.
@Suite struct WeightPackInvalidationTests {
    /// A forward of 8 rows (the packed path) with the cache of the current scope.
    func forward(_ layer: Linear, _ x: Tensor) -> [UInt32] { bits(noGrad { layer(x) }) }

    /// The same forward with no cache.
    func uncached(_ layer: Linear, _ x: Tensor) -> [UInt32] {
        WeightPackCache.$current.withValue(nil) { forward(layer, x) }
    }

    func train(_ layer: Linear, _ x: Tensor, _ optimizer: Optimizer) {
        optimizer.zeroGrad()
        (layer(x) * layer(x)).mean().backward()
        optimizer.step()
    }

    @Test func optimizerStepsRepack() {
        var rng = RandomGenerator(seed: 1)
        let layer = Linear(in: 32, out: 48, rng: &rng)
        let x = Tensor.normal([8, 32], mean: 0, std: 1, rng: &rng)
        let optimizers: [Optimizer] = [AdamW(layer, learningRate: 0.1), SGD(layer, learningRate: 0.1, momentum: 0.9)]
        for optimizer in optimizers {
            WeightPackCache.withCache {
                let cache = WeightPackCache.current!
                let before = forward(layer, x)
                #expect(before == uncached(layer, x))
                let packs = cache.packCount
                train(layer, x, optimizer)
                let after = forward(layer, x)
                #expect(cache.packCount == packs + 1)
                #expect(after != before)
                #expect(after == uncached(layer, x))
            }
        }
    }

    @Test func stateDictLoadAndLoRAMergeRepack() throws {
        var rng = RandomGenerator(seed: 2)
        let layer = Linear(in: 32, out: 48, rng: &rng)
        let other = Linear(in: 32, out: 48, rng: &rng)
        let x = Tensor.normal([8, 32], mean: 0, std: 1, rng: &rng)
        try WeightPackCache.withCache {
            let before = forward(layer, x)
            try layer.load(stateDict: other.stateDict())
            let loaded = forward(layer, x)
            #expect(loaded != before)
            #expect(loaded == uncached(other, x))
            layer.attachLoRA(rank: 2, alpha: 4, dropout: 0, useRSLoRA: false, rng: &rng)
            layer.lora!.b.weight.assign(Tensor.full(layer.lora!.b.weight.shape, 0.5))
            layer.mergeLoRA()
            let merged = forward(layer, x)
            #expect(merged != loaded)
            #expect(merged == uncached(layer, x))
        }
    }
}
