import Testing
import Tether
import TetherTestSupport

/// Every differentiable op against central finite differences.
@Suite struct GradCheckTests {
    func check(_ inputs: [Tensor], eps: Float = 1e-2, _ f: ([Tensor]) -> Tensor,
               sourceLocation: SourceLocation = #_sourceLocation) {
        let r = gradCheck(inputs, eps: eps, f)
        #expect(r.passed, "\(r)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [BinaryOp.add, .sub, .mul, .div, .minimum, .maximum])
    func binaryBroadcasting(op: BinaryOp) {
        // (2, 3, 4) with (3, 1): broadcast on two axes; divisors kept away from zero.
        let a = testTensor([2, 3, 4], seed: 1)
        let b = testTensor([3, 1], seed: 2, low: 0.5, high: 1.5)
        check([a, b]) { Tensor.binary($0[0], $0[1], op) }
        let c = testTensor([4], seed: 3, low: 0.5, high: 1.5)
        check([a, c]) { Tensor.binary($0[0], $0[1], op) }
    }

    @Test func scalarOverloads() {
        let a = testTensor([3, 2], seed: 4, low: 0.5, high: 2)
        check([a]) { (2 - $0[0] * 3 + 1) / 4 }
        check([a]) { 1 / $0[0] }
        check([a]) { -$0[0] }
    }

    @Test(arguments: [UnaryOp.exp, .log, .sqrt, .rsqrt, .abs, .tanh, .sigmoid, .relu, .silu,
                      .geluTanh, .geluErf, .pow(3), .pow(0.5), .affine(scale: -2, shift: 1),
                      .clamp(low: -0.3, high: 0.4)])
    func unary(op: UnaryOp) {
        let positiveOnly: [UnaryOp] = [.log, .sqrt, .rsqrt, .pow(0.5)]
        let low: Float = positiveOnly.contains(op) ? 0.3 : -2
        // Values are kept away from kinks (0 for abs/relu, the clamp bounds) by the grid.
        let x = testTensor([5, 7], seed: 5, low: low, high: 2)
        check([x], eps: 1e-3) { $0[0].unary(op) }
    }

    @Test func reductions() {
        let x = testTensor([3, 4, 5], seed: 6)
        check([x]) { $0[0].sum(axes: [0, 2], keepDim: true) }
        check([x]) { $0[0].sum() }
        check([x]) { $0[0].mean(axis: 1) }
        check([x]) { $0[0].mean(axes: [-1, 0]) }
        check([x]) { $0[0].max(axis: 2) }
        check([x]) { $0[0].min(axis: 0, keepDim: true) }
        check([x]) { $0[0].max() }
    }

    @Test func matmulEveryTransposeAndBatch() {
        let a = testTensor([4, 3], seed: 7), b = testTensor([3, 5], seed: 8)
        check([a, b]) { $0[0].matmul($0[1]) }
        let at = testTensor([3, 4], seed: 9), bt = testTensor([5, 3], seed: 10)
        check([at, b]) { $0[0].transpose().matmul($0[1]) }
        check([a, bt]) { $0[0].matmul($0[1].transpose()) }
        check([at, bt]) { $0[0].transpose().matmul($0[1].transpose()) }
        let x = testTensor([2, 3, 4, 3], seed: 11)
        check([x, b]) { $0[0].matmul($0[1]) }  // broadcast over leading dims
        let y = testTensor([2, 3, 3, 2], seed: 12)
        check([x, y]) { $0[0].matmul($0[1]) }  // batched
        check([x, x]) { $0[0].matmul($0[1].transpose()) }  // batched, transposed view
    }

    @Test func linear() {
        let x = testTensor([2, 3, 4], seed: 13), w = testTensor([5, 4], seed: 14), b = testTensor([5], seed: 15)
        check([x, w, b]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        check([x, w]) { Tensor.linear($0[0], weight: $0[1], bias: nil) }
    }

    @Test func softmaxFamily() {
        let x = testTensor([3, 4, 5], seed: 16, low: -3, high: 3)
        check([x], eps: 1e-3) { $0[0].softmax(axis: -1) }
        check([x], eps: 1e-3) { $0[0].softmax(axis: 1) }
        check([x], eps: 1e-3) { $0[0].logSoftmax(axis: -1) }
        check([x], eps: 1e-3) { $0[0].logSoftmax(axis: 0) }
        check([x], eps: 1e-3) { $0[0].logSumExp(axis: -1) }
        check([x], eps: 1e-3) { $0[0].logSumExp(axis: 1, keepDim: true) }
    }

    @Test func crossEntropyAndTokenLogProbs() {
        let logits = testTensor([2, 3, 6], seed: 17, low: -3, high: 3)
        let targets = IndexTensor([0, 5, -100, 2, 2, 1], shape: [2, 3])
        for reduction in [LossReduction.mean, .sum, .none] {
            check([logits], eps: 1e-3) { Tensor.crossEntropy(logits: $0[0], targets: targets, reduction: reduction) }
        }
        let tokens = IndexTensor([0, 5, 3, 2, 2, 1], shape: [2, 3])
        check([logits], eps: 1e-3) { Tensor.tokenLogProbs(logits: $0[0], tokens: tokens) }
    }

    @Test func fusedLinearTokenLogProbs() {
        let h = testTensor([7, 5], seed: 30), w = testTensor([9, 5], seed: 31)
        let tokens = IndexTensor([0, 8, 3, 3, 1, 7, 2], shape: [7])
        // Chunks of 3 rows: the last chunk is short; the backward recomputes each chunk.
        check([h, w], eps: 1e-3) { Tensor.linearTokenLogProbs(hidden: $0[0], weight: $0[1], tokens: tokens, chunkRows: 3) }
        let fused = Tensor.linearTokenLogProbs(hidden: h, weight: w, tokens: tokens, chunkRows: 3).scalars()
        let plain = Tensor.tokenLogProbs(logits: h.matmul(w.transpose()), tokens: tokens).scalars()
        for (a, b) in zip(fused, plain) { #expect(Swift.abs(a - b) < 1e-5) }
    }

    @Test func norms() {
        let x = testTensor([3, 2, 8], seed: 18, low: -2, high: 2)
        let w = testTensor([8], seed: 19, low: 0.5, high: 1.5), b = testTensor([8], seed: 20)
        check([x, w, b], eps: 1e-3) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
        check([x], eps: 1e-3) { $0[0].layerNorm(weight: nil, bias: nil) }
        check([x, w], eps: 1e-3) { $0[0].rmsNorm(weight: $0[1]) }
    }

    @Test func embeddingScatterAdd() {
        let w = testTensor([6, 3], seed: 21)
        let ids = IndexTensor([1, 4, 1, 0, 5, 1], shape: [2, 3])  // 1 repeats: gradients add up
        check([w]) { Tensor.embedding($0[0], ids) }
    }

    @Test func movement() {
        let x = testTensor([2, 3, 4], seed: 22)
        check([x]) { $0[0].reshape([4, -1]) }
        check([x]) { $0[0].permute([2, 0, 1]).reshape([4, 6]) }
        check([x]) { $0[0].transpose(0, 2).contiguous() }
        check([x]) { $0[0].slice(axis: 1, 1..<3) }
        check([x]) { $0[0].slice(axis: 2, 0..<2).expand(to: [5, 2, 3, 2]) }
        let y = testTensor([2, 1, 4], seed: 23)
        check([x, y]) { Tensor.concat([$0[0], $0[1]], axis: 1) }
        check([x]) { Tensor.concat($0[0].split([1, 3], axis: 2).reversed(), axis: 2) }
        check([x]) { $0[0].chunk(2, axis: 0)[1] }
        let z = testTensor([2, 3, 4], seed: 24)
        check([x, z]) { Tensor.stack([$0[0], $0[1]], axis: 1) }
    }

    @Test func whereMaskedFillMinimumMaximum() {
        let a = testTensor([3, 4], seed: 25), b = testTensor([3, 4], seed: 26)
        let mask = Tensor([1, 0, 0, 1], shape: [4])
        check([a, b]) { Tensor.where(mask, $0[0], $0[1]) }
        check([a]) { $0[0].maskedFill(mask, -5) }
        check([a, b]) { Tensor.minimum($0[0], $0[1]) + Tensor.maximum($0[0], $0[1]) * 2 }
    }

    @Test func dropout() {
        let x = testTensor([4, 6], seed: 29)
        // The same seed each call gives the same mask, so finite differences see one function.
        check([x]) { t in
            var rng = RandomGenerator(seed: 3)
            return t[0].dropout(p: 0.4, rng: &rng)
        }
        var rng = RandomGenerator(seed: 3)
        let y = Tensor.ones([1000]).dropout(p: 0.25, rng: &rng).scalars()
        let kept = y.filter { $0 != 0 }
        #expect(kept.allSatisfy { Swift.abs($0 - 4.0 / 3) < 1e-6 })
        #expect(Swift.abs(Float(kept.count) / 1000 - 0.75) < 0.05)
    }

    @Test func nonContiguousLeafInputs() {
        // A leaf that is itself a transposed view of its storage.
        let base = testTensor([4, 3], seed: 27, requiresGrad: false)
        let view = Tensor(storage: base.storage, shape: [3, 4], strides: [1, 3], requiresGrad: true)
        let w = testTensor([4, 2], seed: 28)
        check([view, w]) { ($0[0].exp() * 2).matmul($0[1]).softmax(axis: 0) }
    }
}
