import Foundation
import Tether
import Testing
@testable import TetherNN

@Suite struct LoRALayerTests {
    /// A 5 → 3 layer with an r-2 adapter whose B is random.
    func adapted(alpha: Float = 6, dropout: Float = 0, rsLoRA: Bool = false) -> (Linear, LoRA) {
        var rng = RandomGenerator(seed: 7)
        let linear = Linear(in: 5, out: 3, rng: &rng)
        let lora = linear.attachLoRA(rank: 2, alpha: alpha, dropout: dropout, useRSLoRA: rsLoRA, rng: &rng)
        Strided.copy(Tensor.normal([3, 2], std: 1, rng: &rng), into: lora.b.weight.data)
        return (linear, lora)
    }

    /// W x + b + scale · B A x, in Double from the raw values.
    func reference(_ linear: Linear, _ lora: LoRA, _ x: [Float], scale: Double) -> [Double] {
        let (w, b, a, bb) = (linear.weight.scalars(), linear.bias!.scalars(), lora.a.weight.scalars(), lora.b.weight.scalars())
        let ax = (0..<2).map { i in (0..<5).reduce(0.0) { $0 + Double(a[i * 5 + $1]) * Double(x[$1]) } }
        return (0..<3).map { o in
            let base = (0..<5).reduce(Double(b[o])) { $0 + Double(w[o * 5 + $1]) * Double(x[$1]) }
            return base + scale * (0..<2).reduce(0.0) { $0 + Double(bb[o * 2 + $1]) * ax[$1] }
        }
    }

    @Test func forwardAddsScaledLowRankTerm() {
        let x: [Float] = [0.5, -1, 2, 0.25, -0.75]
        for rs in [false, true] {
            let (linear, lora) = adapted(rsLoRA: rs)
            let scale = rs ? 6 / 2.0.squareRoot() : 3
            #expect(abs(Double(lora.scale) - scale) < 1e-6)
            let y = linear(Tensor(x, shape: [1, 5])).scalars()
            #expect(zip(y, reference(linear, lora, x, scale: scale)).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        }
    }

    @Test func namesFollowPEFT() {
        let (linear, _) = adapted()
        #expect(linear.namedParameters().map(\.0) == ["weight", "bias", "lora_A.weight", "lora_B.weight"])
        #expect(linear.namedModules().map(\.0) == ["", "lora_A", "lora_B", "lora_dropout"])
        #expect(LoRA.isAdapterParameter("h.0.attn.c_attn.lora_A.weight") && LoRA.isAdapterParameter("lora_B.weight"))
        #expect(!LoRA.isAdapterParameter("h.0.attn.c_attn.weight") && !LoRA.isAdapterParameter("lora_A"))
    }

    @Test func dropoutActsOnlyOnTheAdapterInTraining() {
        let (linear, _) = adapted(dropout: 0.5)
        let x = Tensor.ones([64, 5])
        let base = Tensor.linear(x, weight: linear.weight, bias: linear.bias).scalars()
        let trained = linear(x).scalars()
        linear.eval()
        let evaluated = linear(x).scalars()
        #expect(trained != evaluated)  // some rows lost part of the adapter's input
        linear.withAdaptersDisabled { #expect(linear(x).scalars() == base) }
        linear.train()
        linear.withAdaptersDisabled { #expect(linear(x).scalars() == base) }
    }

    @Test func mergeFoldsTheTermIntoTheWeight() {
        let (linear, lora) = adapted()
        let x = Tensor([0.5, -1, 2, 0.25, -0.75], shape: [1, 5])
        let before = linear(x).scalars()
        let w = linear.weight.scalars()
        linear.mergeLoRA()
        #expect(lora.isMerged && linear.weight.scalars() != w)
        #expect(zip(linear(x).scalars(), before).allSatisfy { abs($0 - $1) < 1e-5 })
        linear.unmergeLoRA()
        #expect(zip(linear.weight.scalars(), w).allSatisfy { abs($0 - $1) < 1e-6 })
        linear.detachLoRA(merge: true)
        #expect(linear.lora == nil && linear.namedParameters().count == 2)
        #expect(zip(linear(x).scalars(), before).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
