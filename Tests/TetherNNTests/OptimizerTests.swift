import Foundation
import Tether
import Testing
@testable import TetherNN

/// The paper's AdamW update (Loshchilov & Hutter, Algorithm 2, with PyTorch's λ = lr·wd),
/// in Double: the reference the Float32 optimizer is checked against.
func adamwReference(_ p0: [Double], grads: [[Double]], lr: Double, betas: (Double, Double),
                    eps: Double, weightDecay: Double) -> [Double] {
    var p = p0
    var m = [Double](repeating: 0, count: p.count), v = m
    for (k, g) in grads.enumerated() {
        let t = Double(k + 1)
        for i in p.indices {
            p[i] *= 1 - lr * weightDecay
            m[i] = betas.0 * m[i] + (1 - betas.0) * g[i]
            v[i] = betas.1 * v[i] + (1 - betas.1) * g[i] * g[i]
            let mHat = m[i] / (1 - pow(betas.0, t))
            let vHat = v[i] / (1 - pow(betas.1, t))
            p[i] -= lr * mHat / (vHat.squareRoot() + eps)
        }
    }
    return p
}

/// PyTorch's SGD with momentum (first step seeds the buffer with the gradient), in Double.
func sgdReference(_ p0: [Double], grads: [[Double]], lr: Double, momentum: Double,
                  nesterov: Bool, weightDecay: Double) -> [Double] {
    var p = p0
    var b = [Double](repeating: 0, count: p.count)
    for (k, g0) in grads.enumerated() {
        for i in p.indices {
            let g = g0[i] + weightDecay * p[i]
            b[i] = k == 0 ? g : momentum * b[i] + g
            p[i] -= lr * (nesterov ? g + momentum * b[i] : b[i])
        }
    }
    return p
}

@Suite struct OptimizerTests {
    let p0: [Float] = [0.5, -1.2, 2.0, 0.0]
    let grads: [[Float]] = [[0.1, -0.3, 0.02, 1.5], [0.2, 0.1, -0.05, 1.0], [-0.4, 0.2, 0.01, 0.5]]

    /// Runs `optimizer` over `p` for each gradient in `grads`, returning the values after each step.
    func run(_ optimizer: any Optimizer, _ p: Tensor, _ grads: [[Float]]) -> [[Float]] {
        grads.map { g in
            p.grad = Tensor(g, shape: p.shape)
            optimizer.step()
            return p.scalars()
        }
    }

    @Test func adamwMatchesThePaperForThreeSteps() {
        let p = Tensor(p0, shape: [2, 2], requiresGrad: true)
        let opt = AdamW([("w", p)], learningRate: 0.01, betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0.1)
        let after = run(opt, p, grads)
        // Step 1 by hand: m̂ = g and v̂ = g², so p₁ = p₀·(1 − lr·wd) − lr·sign(g).
        let byHand: [Double] = [0.4895, -1.1888, 1.988, -0.01]
        #expect(close(after[0], byHand))
        for k in 1...3 {
            let ref = adamwReference(p0.map(Double.init), grads: grads.prefix(k).map { $0.map(Double.init) },
                                     lr: 0.01, betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0.1)
            #expect(close(after[k - 1], ref), "step \(k): \(after[k - 1]) vs \(ref)")
        }
        #expect(opt.state().scalars["w.step"] == 3)
    }

    @Test func adamwWeightDecayIsDecoupled() {
        // A parameter whose gradient is zero only decays: p ← p·(1 − lr·wd). Adam with L2
        // folded into the gradient would instead move it by about lr·sign(p).
        let p = Tensor([1.0, -2.0, 4.0], shape: [3, 1], requiresGrad: true)
        let opt = AdamW([("w", p)], learningRate: 0.1, weightDecay: 0.5)
        p.grad = Tensor.zeros([3, 1])
        opt.step()
        #expect(close(p.scalars(), [0.95, -1.9, 3.8], rtol: 1e-6))
        opt.step()
        #expect(close(p.scalars(), [0.9025, -1.805, 3.61], rtol: 1e-6))
    }

    @Test func biasesAndNormGainsSkipDecayByDefault() {
        let w = Tensor([1, 1, 1, 1], shape: [2, 2], requiresGrad: true)
        let b = Tensor([1, 1], shape: [2], requiresGrad: true)
        let opt = AdamW([("w", w), ("b", b)], learningRate: 0.1, weightDecay: 0.5)
        w.grad = Tensor.zeros([2, 2])
        b.grad = Tensor.zeros([2])
        opt.step()
        #expect(w.scalars() == [0.95, 0.95, 0.95, 0.95])
        #expect(b.scalars() == [1, 1])
        let all = AdamW([("b", b)], learningRate: 0.1, weightDecay: 0.5, noDecay: { _, _ in false })
        all.step()
        #expect(close(b.scalars(), [0.95, 0.95]))
    }

    @Test func parametersWithoutGradientAreSkipped() {
        let a = Tensor([1, 2], shape: [1, 2], requiresGrad: true)
        let b = Tensor([3, 4], shape: [1, 2], requiresGrad: true)
        let opt = AdamW([("a", a), ("b", b)], learningRate: 0.1, weightDecay: 0.1)
        a.grad = Tensor([1, 1], shape: [1, 2])
        opt.step()
        #expect(b.scalars() == [3, 4])
        #expect(a.scalars() != [1, 2])
        #expect(opt.state().scalars["a.step"] == 1 && opt.state().scalars["b.step"] == 0)
        opt.zeroGrad()
        #expect(a.grad == nil)
    }

    @Test func sgdMomentumMatchesReference() {
        for nesterov in [false, true] {
            let p = Tensor(p0, shape: [4], requiresGrad: true)
            let opt = SGD([("w", p)], learningRate: 0.1, momentum: 0.9, nesterov: nesterov, weightDecay: 0.01)
            let after = run(opt, p, grads)
            // Step 1 by hand: the buffer starts as g + wd·p, so p₁ = p₀ − lr·(g + wd·p₀)·(1 + μ·[nesterov]).
            let f: Float = nesterov ? 1.9 : 1
            #expect(close(after[0], zip(p0, grads[0]).map { Double($0 - 0.1 * f * ($1 + 0.01 * $0)) }))
            let ref = sgdReference(p0.map(Double.init), grads: grads.map { $0.map(Double.init) },
                                   lr: 0.1, momentum: 0.9, nesterov: nesterov, weightDecay: 0.01)
            #expect(close(after[2], ref), "nesterov \(nesterov): \(after[2]) vs \(ref)")
        }
    }

    @Test func plainSGDIsGradientDescent() {
        let p = Tensor([1, 2], shape: [2], requiresGrad: true)
        let opt = SGD([("w", p)], learningRate: 0.5)
        p.grad = Tensor([0.2, -0.4], shape: [2])
        opt.step()
        #expect(p.scalars() == [0.9, 2.2])
        #expect(opt.state().tensors.isEmpty)
    }

    @Test func largeParametersUpdateLikeSmallOnes() {
        // Big enough to be split over the thread pool; each element, updated in a vector lane, must match a lone
        // update (the scalar tail) bit for bit.
        let n = 200_003
        var rng = RandomGenerator(seed: 5)
        let big = Tensor.normal([n], rng: &rng, requiresGrad: true)
        let g = Tensor.normal([n], rng: &rng)
        let values = big.scalars(), gv = g.scalars()
        let opt = AdamW([("big", big)], learningRate: 0.01, weightDecay: 0.1, noDecay: { _, _ in false })
        big.grad = g
        opt.step()
        let out = big.scalars()
        for i in Array(stride(from: 0, to: n, by: 997)) + [1, 7, 32767, 32768, 100_000, n - 1] {
            let one = Tensor([values[i]], shape: [1], requiresGrad: true)
            let o = AdamW([("one", one)], learningRate: 0.01, weightDecay: 0.1, noDecay: { _, _ in false })
            one.grad = Tensor([gv[i]], shape: [1])
            o.step()
            #expect(one.item.bitPattern == out[i].bitPattern, "element \(i)")
        }
    }

    @Test func loadingStateChecksKeysAndShapes() throws {
        let p = Tensor([1, 2], shape: [2], requiresGrad: true)
        let opt = AdamW([("w", p)])
        var state = opt.state()
        state.tensors["w.exp_avg"] = Tensor.zeros([3])
        #expect(throws: OptimizerStateError.shapeMismatch(key: "w.exp_avg", expected: [2], found: [3])) {
            try opt.load(state: state)
        }
        state.tensors["w.exp_avg"] = nil
        #expect(throws: OptimizerStateError.missing(key: "w.exp_avg")) { try opt.load(state: state) }
        let scalars = try OptimizerState.scalars(fromMetadata: OptimizerState(scalars: ["lr": 3e-4, "w.step": 7]).metadata)
        #expect(scalars == ["lr": 3e-4, "w.step": 7])
        #expect(throws: OptimizerStateError.self) { try OptimizerState.scalars(fromMetadata: ["lr": "fast"]) }
    }
}
