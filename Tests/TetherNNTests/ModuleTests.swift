import Tether
import Testing
@testable import TetherNN

@Suite struct ModuleTests {
    @Test func parameterNamesFollowHuggingFaceLayout() {
        var rng = RandomGenerator(seed: 1)
        let model = TinyTransformer(vocab: 10, dim: 4, layers: 2, rng: &rng)
        let block = ["ln_1.weight", "ln_1.bias",
                     "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
                     "ln_2.weight", "ln_2.bias"]
        let expected = ["wte.weight"] + block.map { "h.0." + $0 } + block.map { "h.1." + $0 }
            + ["ln_f.weight", "ln_f.bias"]
        #expect(model.namedParameters().map(\.0) == expected)
        // The tied head is reachable under its own name too, but counted once.
        #expect(model.allNamedParameters().map(\.0) == expected + ["lm_head.weight"])
        #expect(model.parameterCount == 10 * 4 + 2 * (2 * (4 + 4) + 12 * 4 + 12 + 16 + 4) + 8)
        #expect(model.namedParameters()[3].1.shape == [12, 4])
    }

    @Test func namesAreStableAcrossCalls() {
        var rng = RandomGenerator(seed: 1)
        let model = TinyTransformer(vocab: 5, dim: 2, layers: 3, rng: &rng)
        let a = model.namedParameters(), b = model.namedParameters()
        #expect(a.map(\.0) == b.map(\.0))
        #expect(zip(a, b).allSatisfy { $0.1 === $1.1 })
    }

    @Test func modulePathsAndNamedModules() {
        var rng = RandomGenerator(seed: 1)
        let model = TinyTransformer(vocab: 5, dim: 2, layers: 2, rng: &rng)
        #expect(model.module(at: "h.1.attn.c_proj") === model.h[1].attn.cProj)
        #expect(model.module(at: "h.2") == nil)
        let names = model.namedModules().map(\.0)
        #expect(names.prefix(3) == ["", "wte", "h"])
        #expect(names.contains("h.0.attn.c_attn") && names.contains("h.1.dropout"))
    }

    @Test func sequentialNamesChildrenByIndex() {
        var rng = RandomGenerator(seed: 3)
        let mlp = Sequential([Linear(in: 3, out: 5, rng: &rng), Lambda { $0.relu() }, Linear(in: 5, out: 2, rng: &rng)])
        #expect(mlp.namedParameters().map(\.0) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        let y = mlp(Tensor.ones([4, 3]))
        #expect(y.shape == [4, 2])
        let list = ModuleList([LayerNorm(dim: 2), RMSNorm(dim: 2)])
        #expect(list.namedParameters().map(\.0) == ["0.weight", "0.bias", "1.weight"])
    }

    @Test func freezeLeavesNothingTrainable() {
        var rng = RandomGenerator(seed: 1)
        let model = TinyTransformer(vocab: 5, dim: 2, layers: 2, rng: &rng)
        #expect(model.trainableParameters.count == model.parameters().count)
        model.freeze()
        #expect(model.trainableParameters.isEmpty)
        #expect(model.trainableParameterCount == 0)
        #expect(AdamW(model).namedParameters.isEmpty)
        model.unfreeze()
        model.module(at: "h.0")!.freeze()
        let trainable = model.trainableNamedParameters.map(\.0)
        #expect(!trainable.contains { $0.hasPrefix("h.0.") })
        #expect(trainable.contains("h.1.attn.c_attn.weight"))
    }

    @Test func evalModeReachesEveryChildAndDisablesDropout() {
        var rng = RandomGenerator(seed: 1)
        let model = TinyTransformer(vocab: 5, dim: 2, layers: 2, rng: &rng)
        let x = Tensor.ones([64])
        let dropout = model.h[1].dropout
        #expect(dropout.isTraining)
        #expect(dropout(x).scalars().contains(0))
        model.eval()
        #expect(model.namedModules().allSatisfy { !$0.1.isTraining })
        #expect(dropout(x) === x)
        model.train()
        #expect(model.h[0].attn.isTraining)
    }

    @Test func dropoutIsDeterministicForASeedAndScalesKeptValues() {
        let x = Tensor.ones([1000])
        let a = Dropout(p: 0.25, seed: 42)(x).scalars()
        let b = Dropout(p: 0.25, seed: 42)(x).scalars()
        #expect(a == b)
        #expect(a.allSatisfy { $0 == 0 || $0 == Float(1) * (1 / Float(0.75)) })
        let dropped = a.filter { $0 == 0 }.count
        #expect(dropped > 180 && dropped < 320)
    }

    @Test func zeroGradClearsEveryGradient() {
        var rng = RandomGenerator(seed: 1)
        let layer = Linear(in: 3, out: 2, rng: &rng)
        layer(Tensor.ones([1, 3])).sum().backward()
        #expect(layer.weight.grad != nil && layer.bias?.grad != nil)
        layer.zeroGrad()
        #expect(layer.weight.grad == nil && layer.bias?.grad == nil)
    }

    @Test func linearInitializationBounds() {
        var rng = RandomGenerator(seed: 9)
        let pt = Linear(in: 16, out: 64, rng: &rng)
        #expect(pt.weight.shape == [64, 16] && pt.bias!.shape == [64])
        #expect(pt.weight.scalars().allSatisfy { abs($0) <= 0.25 })
        #expect(pt.weight.scalars().contains { abs($0) > 0.2 })
        let gpt = Linear(in: 64, out: 64, bias: true, initialization: .normal(std: 0.02), rng: &rng)
        let w = gpt.weight.scalars()
        let std = (w.map { Double($0 * $0) }.reduce(0, +) / Double(w.count)).squareRoot()
        #expect(abs(std - 0.02) < 0.002)
        #expect(gpt.bias!.scalars().allSatisfy { $0 == 0 })
        let noBias = Linear(in: 2, out: 2, bias: false, rng: &rng)
        #expect(noBias.namedParameters().map(\.0) == ["weight"])
    }
}
